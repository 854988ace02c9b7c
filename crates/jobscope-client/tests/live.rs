//! The client against a live jobscope server (in this process, on 127.0.0.1:0, over real
//! HTTP): every handle, paging over more than one page, errors, jobs and the decision.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;

use futures::TryStreamExt;
use http::StatusCode;
use jobscope_client::endpoints::ci::CreateJob;
use jobscope_client::endpoints::groups::CreateGroup;
use jobscope_client::endpoints::projects::CreateProject;
use jobscope_client::endpoints::settings::UpdateSettings;
use jobscope_client::endpoints::tokens::{CreatePersonalAccessToken, TokenRef};
use jobscope_client::endpoints::users::{CreateUser, UserAction};
use jobscope_client::types::api::{Group, MatchedEntry, Project};
use jobscope_client::types::{AccessLevel, NamespaceId, ProjectId, Visibility};
use jobscope_client::{
    AllowlistItem, Client, Decision, Error, JobOutcome, Permissions, RetryPolicy, Target,
};
use jobscope_server::config::ServerConfig;
use jobscope_server::state::AppState;

const ROOT_TOKEN: &str = "glpat-client-live-root-token";

struct Live {
    url: String,
    state: AppState,
    _dir: tempfile::TempDir,
}

async fn spawn() -> Live {
    let dir = tempfile::tempdir().unwrap();
    let store = jobscope_store_sqlite::SqliteStore::open_path(&dir.path().join("db.sqlite3"))
        .await
        .unwrap();
    let state = AppState::new(Arc::new(store), ServerConfig::default())
        .await
        .expect("server state");
    jobscope_server::bootstrap::ensure_root(&state, Some(ROOT_TOKEN))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = jobscope_server::app(state.clone());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Live {
        url: format!("http://{addr}"),
        state,
        _dir: dir,
    }
}

impl Live {
    fn root(&self) -> Client {
        Client::builder(&self.url)
            .private_token(ROOT_TOKEN)
            .retry(RetryPolicy::none())
            .build()
            .unwrap()
    }

    async fn group(&self, path: &str, parent: Option<NamespaceId>) -> Group {
        let mut g = CreateGroup::new(path, path).visibility(Visibility::Private);
        if let Some(p) = parent {
            g = g.parent(p);
        }
        self.root().query(&g).await.unwrap()
    }

    async fn project(&self, ns: NamespaceId, path: &str) -> Project {
        self.root()
            .query(
                &CreateProject::new(path)
                    .path(path)
                    .namespace(ns)
                    .visibility(Visibility::Private),
            )
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn managing_a_scope_end_to_end() {
    let live = spawn().await;
    let root = live.root();
    assert!(root.flavor().await.unwrap().is_jobscope());
    assert_eq!(root.current_user().await.unwrap().username, "root");
    let acme = live.group("acme", None).await;
    let tools = live.group("tools", Some(acme.id)).await;
    let deployer = live.project(acme.id, "deployer").await;
    let builder = live.project(acme.id, "builder").await;

    let scope = root.project("acme/deployer").job_token_scope();
    assert!(
        scope.get().await.unwrap().inbound_enabled,
        "new projects limit access"
    );
    assert!(!scope.set_enabled(false).await.unwrap().inbound_enabled);
    assert!(scope.set_enabled(true).await.unwrap().inbound_enabled);

    let created = scope.projects().add("acme/builder").await.unwrap();
    assert_eq!(created.target_id(), builder.basic.id.get());
    let created = scope
        .groups()
        .add_with(
            "acme/tools",
            Permissions {
                default_permissions: Some(false),
                job_token_policies: Some(vec!["read_packages".into()]),
            },
        )
        .await
        .unwrap();
    assert_eq!(created.target(), Target::Group(tools.id));

    // GitLab's list has the project itself; entries() leaves it out.
    let listed = scope.projects().list().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .any(|p| p.target_id() == deployer.basic.id.get())
    );
    let entries = scope.entries().await.unwrap();
    assert_eq!(entries.len(), 2, "{entries:?}");
    let b = entries
        .iter()
        .find(|e| e.target == Target::Project(builder.basic.id))
        .unwrap();
    assert_eq!(b.path, "acme/builder");
    assert!(b.default_permissions);
    assert_eq!(b.added_by.as_deref(), Some("root"));
    let t = entries.iter().find(|e| e.path == "acme/tools").unwrap();
    assert!(!t.default_permissions);
    assert_eq!(t.job_token_policies, ["read_packages"]);

    // Partial changes keep the rest.
    let e = scope
        .groups()
        .update(
            tools.id.get(),
            Permissions {
                default_permissions: None,
                job_token_policies: Some(vec!["read_packages".into(), "read_jobs".into()]),
            },
        )
        .await
        .unwrap();
    assert!(!e.default_permissions);
    assert_eq!(e.path, "acme/tools");
    assert_eq!(e.job_token_policies.len(), 2);
    let e = scope
        .projects()
        .update(
            "acme/builder",
            Permissions {
                default_permissions: Some(false),
                job_token_policies: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(e.target(), Target::Project(builder.basic.id));
    assert!(!e.default_permissions);

    // GitLab's errors arrive with their status and message.
    let err = scope.projects().add("acme/builder").await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
    assert!(
        err.api_message().unwrap().contains("already"),
        "{}",
        err.api_message().unwrap()
    );
    let err = scope.projects().add("acme/nope").await.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.api_message(), Some("404 Project Not Found"));
    let err = root
        .project("acme/nope")
        .job_token_scope()
        .get()
        .await
        .unwrap_err();
    assert!(err.is_not_found());

    scope.projects().remove("acme/builder").await.unwrap();
    scope.groups().remove(tools.id.get()).await.unwrap();
    assert!(scope.entries().await.unwrap().is_empty());
    let err = scope
        .projects()
        .remove(builder.basic.id.get())
        .await
        .unwrap_err();
    assert_eq!(
        err.api_message(),
        Some("400 Bad request - Target project is not in the job token scope")
    );

    // The audit trail saw every change.
    let events: Vec<_> = root
        .project(deployer.basic.id)
        .audit_events()
        .try_collect()
        .await
        .unwrap();
    assert!(events.len() >= 6, "{}", events.len());
}

#[tokio::test]
async fn lists_longer_than_a_page_come_whole() {
    let live = spawn().await;
    let root = live.root();
    let acme = live.group("acme", None).await;
    let target = live.project(acme.id, "target").await;
    let scope = root.project(target.basic.id).job_token_scope();
    let mut ids = Vec::new();
    for i in 0..130 {
        let p = live.project(acme.id, &format!("p{i:03}")).await;
        scope.projects().add(p.basic.id).await.unwrap();
        ids.push(p.basic.id);
    }
    let listed = scope.projects().list().await.unwrap();
    assert_eq!(listed.len(), 131);
    let streamed: Vec<_> = scope.projects().stream().try_collect().await.unwrap();
    assert_eq!(streamed.len(), 131);
    let mut got: Vec<ProjectId> = scope
        .entries()
        .await
        .unwrap()
        .iter()
        .map(|e| match e.target {
            Target::Project(p) => p,
            Target::Group(_) => panic!("no groups were added"),
        })
        .collect();
    got.sort();
    assert_eq!(got, ids);
}

#[tokio::test]
async fn jobs_decisions_the_auth_log_and_autopopulation() {
    let live = spawn().await;
    let root = live.root();
    let acme = live.group("acme", None).await;
    let deployer = live.project(acme.id, "deployer").await;
    let builder = live.project(acme.id, "builder").await;
    let alice = root
        .users()
        .create(&CreateUser::new("alice", "Alice", "alice@example.com"))
        .await
        .unwrap();
    root.project("acme/deployer")
        .members()
        .add(alice.id, AccessLevel::Reporter)
        .await
        .unwrap();
    root.project("acme/builder")
        .members()
        .add(alice.id, AccessLevel::Developer)
        .await
        .unwrap();
    let job = root
        .ci()
        .create_job(&CreateJob::new("acme/builder", alice.id).name("build"))
        .await
        .unwrap();
    let token = job.token.clone().expect("the token comes once");
    let ci = Client::builder(&live.url).job_token(token).build().unwrap();

    // Not on the allowlist: refused, with GitLab's message.
    match ci.ci().allowed("acme/deployer", None).await.unwrap() {
        Decision::Denied { status, message } => {
            assert_eq!(status, StatusCode::FORBIDDEN);
            assert!(
                message.contains("not allowed from builder to deployer"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    // The job's own project is always reachable.
    let Decision::Allowed(own) = ci.ci().allowed(builder.basic.id, None).await.unwrap() else {
        panic!("own project");
    };
    assert_eq!(own.matched, MatchedEntry::SameProject);

    let scope = root.project("acme/deployer").job_token_scope();
    scope.projects().add(builder.basic.id).await.unwrap();
    let Decision::Allowed(d) = ci
        .ci()
        .allowed("acme/deployer", Some("read_packages"))
        .await
        .unwrap()
    else {
        panic!("allowed after the add");
    };
    assert_eq!(d.target_project.id, deployer.basic.id);
    assert!(matches!(d.matched, MatchedEntry::Project { .. }));

    // The access is in the authentication log (the server writes it in batches).
    live.state.auth_log.flush().await.unwrap();
    let log = scope.auth_log().await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].origin_project_path, "acme/builder");
    assert!(log[0].job_token_policies.contains_key("read_packages"));

    // The reverse lookup: deployer admits builder.
    let reach = root
        .project("acme/builder")
        .job_token_scope()
        .reachable()
        .await
        .unwrap();
    assert_eq!(reach.len(), 1);
    assert_eq!(reach[0].project.id, deployer.basic.id);

    // Autopopulation: the builder is already covered, so nothing to add.
    scope.projects().remove(builder.basic.id).await.unwrap();
    let dry = scope.autopopulate(true).await.unwrap();
    assert!(dry.dry_run);
    assert_eq!(dry.added.len(), 1);
    assert_eq!(dry.added[0].path, "acme/builder");
    assert!(
        scope.entries().await.unwrap().is_empty(),
        "a dry run adds nothing"
    );
    let real = scope.autopopulate(false).await.unwrap();
    assert_eq!(real.added, dry.added);
    let entries = scope.entries().await.unwrap();
    assert!(entries[0].autopopulated);
    scope.clear_autopopulated().await.unwrap();
    assert!(scope.entries().await.unwrap().is_empty());

    // The job ends: its token stops working at once.
    let current = ci.ci().current_job().await.unwrap();
    assert_eq!(current["id"], job.id.get());
    root.ci()
        .finish_job(job.id, JobOutcome::Success)
        .await
        .unwrap();
    let err = ci.ci().allowed(builder.basic.id, None).await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED));
}

#[tokio::test]
async fn users_tokens_members_and_settings() {
    let live = spawn().await;
    let root = live.root();
    let bob = root
        .users()
        .create(&CreateUser::new("bob", "Bob", "bob@example.com"))
        .await
        .unwrap();
    assert_eq!(root.users().find("bob").await.unwrap().id, bob.id);
    assert_eq!(
        root.users()
            .find(&bob.id.to_string())
            .await
            .unwrap()
            .username,
        "bob"
    );
    assert!(
        root.users()
            .find("nobody")
            .await
            .unwrap_err()
            .is_not_found()
    );

    let token = root
        .tokens()
        .create(&CreatePersonalAccessToken::new(
            bob.id,
            "automation",
            vec!["api".into()],
        ))
        .await
        .unwrap();
    let secret = token.token.clone().unwrap();
    let as_bob = Client::builder(&live.url)
        .private_token(secret)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    assert_eq!(as_bob.current_user().await.unwrap().username, "bob");
    let me = as_bob.tokens().get(TokenRef::Current).await.unwrap();
    assert_eq!(me.id, token.id);

    let acme = live.group("acme", None).await;
    let app = live.project(acme.id, "app").await;
    root.group("acme")
        .members()
        .add(bob.id, AccessLevel::Maintainer)
        .await
        .unwrap();
    // Bob maintains the project through the group.
    let direct = root
        .project(app.basic.id)
        .members()
        .list(false)
        .await
        .unwrap();
    assert!(direct.iter().all(|m| m.id != bob.id));
    let all = root
        .project(app.basic.id)
        .members()
        .list(true)
        .await
        .unwrap();
    assert!(all.iter().any(|m| m.id == bob.id && m.access_level == 40));
    as_bob
        .project("acme/app")
        .job_token_scope()
        .set_enabled(false)
        .await
        .unwrap();
    root.group("acme")
        .members()
        .update(bob.id, AccessLevel::Developer)
        .await
        .unwrap();
    let err = as_bob
        .project("acme/app")
        .job_token_scope()
        .set_enabled(true)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::FORBIDDEN));

    // The instance setting makes every allowlist enforced.
    let settings = root
        .update_settings(&UpdateSettings::new().enforce_job_token_scope(true))
        .await
        .unwrap();
    assert!(settings.enforce_ci_inbound_job_token_scope_enabled);
    assert!(
        root.project("acme/app")
            .job_token_scope()
            .get()
            .await
            .unwrap()
            .inbound_enabled
    );

    root.users()
        .change_state(bob.id, UserAction::Block)
        .await
        .unwrap();
    let err = as_bob.current_user().await.unwrap_err();
    assert!(matches!(err, Error::Api { .. }));
    root.tokens().revoke(TokenRef::Id(token.id)).await.unwrap();
    root.users().delete(bob.id).await.unwrap();
}

#[tokio::test]
async fn an_unreachable_server_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::builder(format!("http://{addr}"))
        .retry(RetryPolicy {
            max_retries: 1,
            base_delay: std::time::Duration::from_millis(10),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let err = client.version().await.unwrap_err();
    match err {
        Error::Transport { url, message } => {
            assert_eq!(url, format!("http://{addr}/api/v4/version"));
            assert!(!message.is_empty());
        }
        other => panic!("{other:?}"),
    }
}
