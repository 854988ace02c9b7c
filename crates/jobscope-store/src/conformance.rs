//! The conformance suite: behaviour every [`Store`] backend must show. Each backend's test
//! target calls [`run_all`] (or the single cases) on a fresh, empty store.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::future::Future;
use std::pin::Pin;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use jobscope_types::{AccessLevel, NamespaceId, ProjectId, UserId, Visibility};

use crate::*;

/// A backend-provided factory: a fresh, empty, migrated store per case.
pub type Factory<'a> =
    &'a (dyn Fn() -> Pin<Box<dyn Future<Output = Box<dyn Store>> + Send>> + Send + Sync);

/// Every case, by name, so a backend can run them as one test with clear failure messages.
pub const CASES: &[&str] = &[
    "users",
    "groups_and_paths",
    "projects",
    "memberships",
    "member_listing",
    "tokens",
    "token_salt",
    "scope_flag",
    "project_links",
    "group_links",
    "cascades",
    "listing_visibility",
    "audit_events",
    "link_updates_and_change_sets",
    "admissions",
    "jobs",
    "authorization_log",
    "authorization_log_large_batch",
    "concurrent_adds",
    "change_announcements",
    "web_sessions",
];

pub async fn run_case(name: &str, store: &dyn Store) {
    match name {
        "users" => users(store).await,
        "groups_and_paths" => groups_and_paths(store).await,
        "projects" => projects(store).await,
        "memberships" => memberships(store).await,
        "member_listing" => member_listing(store).await,
        "tokens" => tokens(store).await,
        "token_salt" => token_salt(store).await,
        "scope_flag" => scope_flag(store).await,
        "project_links" => project_links(store).await,
        "group_links" => group_links(store).await,
        "cascades" => cascades(store).await,
        "listing_visibility" => listing_visibility(store).await,
        "audit_events" => audit_events(store).await,
        "link_updates_and_change_sets" => link_updates_and_change_sets(store).await,
        "admissions" => admissions(store).await,
        "jobs" => jobs(store).await,
        "authorization_log" => authorization_log(store).await,
        "authorization_log_large_batch" => authorization_log_large_batch(store).await,
        "concurrent_adds" => concurrent_adds(store).await,
        "change_announcements" => change_announcements(store).await,
        "web_sessions" => web_sessions(store).await,
        other => panic!("unknown conformance case {other}"),
    }
}

pub async fn run_all(factory: Factory<'_>) {
    for name in CASES {
        let store = factory().await;
        run_case(name, store.as_ref()).await;
    }
}

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        username: name.to_owned(),
        email: format!("{name}@example.com"),
        name: format!("User {name}"),
        admin: false,
        external: false,
        bot: false,
        can_create_group: true,
        projects_limit: 100,
        created_at: t0(),
    }
}

async fn user(store: &dyn Store, name: &str) -> User {
    store.create_user(new_user(name)).await.unwrap()
}

async fn group(
    store: &dyn Store,
    path: &str,
    parent: Option<NamespaceId>,
    v: Visibility,
) -> Namespace {
    store
        .create_group(NewGroup {
            name: path.to_uppercase(),
            path: path.to_owned(),
            parent_id: parent,
            visibility: v,
            description: String::new(),
            creator: None,
            created_at: t0(),
        })
        .await
        .unwrap()
}

async fn project(store: &dyn Store, ns: NamespaceId, path: &str, v: Visibility) -> Project {
    store
        .create_project(NewProject {
            name: path.to_owned(),
            path: path.to_owned(),
            namespace_id: ns,
            description: None,
            visibility: v,
            default_branch: Some("main".into()),
            topics: vec!["b".into(), "a".into()],
            creator_id: None,
            add_creator_as: None,
            created_at: t0(),
        })
        .await
        .unwrap()
}

/// An audit event for a change on `project`.
pub fn audit(project: ProjectId, name: &str) -> NewAuditEvent {
    NewAuditEvent {
        author_id: None,
        entity_type: "Project".into(),
        entity_id: project.get(),
        entity_path: format!("p{project}"),
        event_name: name.into(),
        target_type: None,
        target_id: None,
        details: serde_json::json!({"custom_message": name}),
        created_at: t0(),
    }
}

fn link<T>(source: ProjectId, target: T, by: Option<UserId>) -> NewLink<T> {
    NewLink {
        source_project_id: source,
        target,
        added_by: by,
        created_at: t0(),
        job_token_policies: Vec::new(),
        default_permissions: true,
        autopopulated: false,
    }
}

pub async fn users(store: &dyn Store) {
    assert_eq!(store.count_users().await.unwrap(), 0);
    let alice = user(store, "alice").await;
    assert_eq!(alice.username, "alice");
    assert!(alice.is_active());
    let ns = store.namespace(alice.namespace_id).await.unwrap().unwrap();
    assert_eq!(ns.kind, NamespaceKind::User);
    assert_eq!(ns.full_path, "alice");
    assert_eq!(ns.owner_id, Some(alice.id));

    let mut same_username = new_user("ALICE");
    same_username.email = "someone-else@example.com".into();
    let dup = store.create_user(same_username).await;
    assert!(matches!(dup, Err(StoreError::Conflict(Conflict::Username))));
    let mut same_mail = new_user("bob");
    same_mail.email = "Alice@Example.com".into();
    assert!(matches!(
        store.create_user(same_mail).await,
        Err(StoreError::Conflict(Conflict::Email))
    ));

    let bob = user(store, "bob").await;
    assert_eq!(
        store.user_by_username("BOB").await.unwrap().map(|u| u.id),
        Some(bob.id)
    );
    let listed = store
        .list_users(&UserQuery::default(), PageRequest::new(1, 10))
        .await
        .unwrap();
    assert_eq!(listed.total, 2);
    assert_eq!(listed.items[0].id, bob.id, "newest first");

    store
        .set_user_state(bob.id, UserState::Blocked)
        .await
        .unwrap();
    assert_eq!(
        store.user(bob.id).await.unwrap().unwrap().state,
        UserState::Blocked
    );
    let blocked = store
        .list_users(
            &UserQuery {
                state: Some(UserState::Blocked),
                ..Default::default()
            },
            PageRequest::new(1, 10),
        )
        .await
        .unwrap();
    assert_eq!(blocked.total, 1);

    let patched = store
        .update_user(
            bob.id,
            UserPatch {
                name: Some("Robert".into()),
                admin: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(patched.name, "Robert");
    assert!(patched.admin);

    store.delete_user(bob.id).await.unwrap();
    assert!(store.user(bob.id).await.unwrap().is_none());
    assert!(matches!(
        store.delete_user(bob.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.users_by_ids(&[alice.id, bob.id]).await.unwrap().len(),
        1
    );
}

pub async fn groups_and_paths(store: &dyn Store) {
    let owner = user(store, "owner").await;
    let root = store
        .create_group(NewGroup {
            name: "Acme".into(),
            path: "acme".into(),
            parent_id: None,
            visibility: Visibility::Private,
            description: "d".into(),
            creator: Some(owner.id),
            created_at: t0(),
        })
        .await
        .unwrap();
    assert_eq!(root.traversal_ids, vec![root.id]);
    assert_eq!(root.full_name, "Acme");
    let sub = group(store, "tools", Some(root.id), Visibility::Private).await;
    assert_eq!(sub.full_path, "acme/tools");
    assert_eq!(sub.full_name, "Acme / TOOLS");
    assert_eq!(sub.traversal_ids, vec![root.id, sub.id]);
    assert_eq!(
        sub.ancestor_ids_nearest_first().collect::<Vec<_>>(),
        vec![root.id]
    );

    // Creator became an Owner.
    let m = store
        .member(MemberSource::Namespace(root.id), owner.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.access_level, AccessLevel::Owner);
    assert_eq!(store.count_namespace_owners(root.id).await.unwrap(), 1);

    // Paths are unique across namespaces and projects, case-insensitively.
    let clash = store
        .create_group(NewGroup {
            name: "x".into(),
            path: "ACME".into(),
            parent_id: None,
            visibility: Visibility::Public,
            description: String::new(),
            creator: None,
            created_at: t0(),
        })
        .await;
    assert!(matches!(clash, Err(StoreError::Conflict(Conflict::Path))));
    let clash_user = store
        .create_group(NewGroup {
            name: "o".into(),
            path: "owner".into(),
            parent_id: None,
            visibility: Visibility::Public,
            description: String::new(),
            creator: None,
            created_at: t0(),
        })
        .await;
    assert!(matches!(
        clash_user,
        Err(StoreError::Conflict(Conflict::Path))
    ));
    let p = project(store, root.id, "tools2", Visibility::Private).await;
    let clash_project = store
        .create_group(NewGroup {
            name: "t".into(),
            path: "tools2".into(),
            parent_id: Some(root.id),
            visibility: Visibility::Private,
            description: String::new(),
            creator: None,
            created_at: t0(),
        })
        .await;
    assert!(matches!(
        clash_project,
        Err(StoreError::Conflict(Conflict::Path))
    ));
    assert_eq!(p.full_path, "acme/tools2");

    let missing_parent = store
        .create_group(NewGroup {
            name: "o".into(),
            path: "orphan".into(),
            parent_id: Some(NamespaceId(999_999)),
            visibility: Visibility::Public,
            description: String::new(),
            creator: None,
            created_at: t0(),
        })
        .await;
    assert!(matches!(missing_parent, Err(StoreError::NotFound)));

    assert_eq!(
        store
            .namespace_by_full_path("Acme/TOOLS")
            .await
            .unwrap()
            .map(|n| n.id),
        Some(sub.id)
    );
    let children = store
        .list_groups(
            &GroupQuery {
                parent: Some(root.id),
                ..GroupQuery::new(Viewer::Admin)
            },
            PageRequest::new(1, 20),
        )
        .await
        .unwrap();
    assert_eq!(
        children.items.iter().map(|g| g.id).collect::<Vec<_>>(),
        vec![sub.id]
    );
    let deep = group(store, "deep", Some(sub.id), Visibility::Private).await;
    let descendants = store
        .list_groups(
            &GroupQuery {
                descendants_of: Some(root.id),
                order_by: GroupOrder::Id,
                ..GroupQuery::new(Viewer::Admin)
            },
            PageRequest::new(1, 20),
        )
        .await
        .unwrap();
    assert_eq!(
        descendants.items.iter().map(|g| g.id).collect::<Vec<_>>(),
        vec![sub.id, deep.id]
    );
    // Personal namespaces are not groups.
    let all = store
        .list_groups(&GroupQuery::new(Viewer::Admin), PageRequest::new(1, 100))
        .await
        .unwrap();
    assert_eq!(all.total, 3);
}

pub async fn projects(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let g = group(store, "g", None, Visibility::Public).await;
    let p = project(store, g.id, "app", Visibility::Internal).await;
    assert_eq!(p.full_path, "g/app");
    assert_eq!(p.namespace.id, g.id);
    assert_eq!(p.name_with_namespace(), "G / app");
    assert!(
        p.inbound_scope_enabled,
        "new projects have the allowlist enabled"
    );
    assert!(!p.outbound_scope_enabled);
    assert_eq!(p.topics, vec!["b".to_string(), "a".to_string()]);
    assert_eq!(
        store
            .project_by_full_path("G/App")
            .await
            .unwrap()
            .map(|x| x.id),
        Some(p.id)
    );
    let dup_path = store
        .create_project(NewProject {
            name: "other name".into(),
            path: "APP".into(),
            namespace_id: g.id,
            description: None,
            visibility: Visibility::Private,
            default_branch: None,
            topics: vec![],
            creator_id: None,
            add_creator_as: None,
            created_at: t0(),
        })
        .await;
    assert!(matches!(
        dup_path,
        Err(StoreError::Conflict(Conflict::Path))
    ));
    let dup_name = store
        .create_project(NewProject {
            name: "app".into(),
            path: "app2".into(),
            namespace_id: g.id,
            description: None,
            visibility: Visibility::Private,
            default_branch: None,
            topics: vec![],
            creator_id: None,
            add_creator_as: None,
            created_at: t0(),
        })
        .await;
    assert!(matches!(
        dup_name,
        Err(StoreError::Conflict(Conflict::ProjectName))
    ));
    let mine = store
        .create_project(NewProject {
            name: "mine".into(),
            path: "mine".into(),
            namespace_id: alice.namespace_id,
            description: Some("desc".into()),
            visibility: Visibility::Private,
            default_branch: None,
            topics: vec![],
            creator_id: Some(alice.id),
            add_creator_as: Some((alice.id, AccessLevel::Maintainer)),
            created_at: t0() + Duration::seconds(5),
        })
        .await
        .unwrap();
    assert_eq!(mine.full_path, "alice/mine");
    assert_eq!(
        store
            .member(MemberSource::Project(mine.id), alice.id)
            .await
            .unwrap()
            .map(|m| m.access_level),
        Some(AccessLevel::Maintainer)
    );
    let listed = store
        .list_projects(&ProjectQuery::new(Viewer::Admin), PageRequest::new(1, 10))
        .await
        .unwrap();
    assert_eq!(listed.total, 2);
    assert_eq!(listed.items[0].id, mine.id, "newest first by default");
    let by_ids = store.projects_by_ids(&[p.id, mine.id]).await.unwrap();
    assert_eq!(by_ids.len(), 2);
    store.delete_project(p.id).await.unwrap();
    assert!(store.project(p.id).await.unwrap().is_none());
    // The path is free again.
    project(store, g.id, "app", Visibility::Private).await;
}

pub async fn memberships(store: &dyn Store) {
    let u = user(store, "u").await;
    let root = group(store, "root", None, Visibility::Private).await;
    let sub = group(store, "sub", Some(root.id), Visibility::Private).await;
    let p = project(store, sub.id, "p", Visibility::Private).await;
    store
        .add_member(NewMember {
            source: MemberSource::Namespace(root.id),
            user_id: u.id,
            access_level: AccessLevel::Developer,
            expires_at: None,
            created_by: None,
            created_at: t0(),
        })
        .await
        .unwrap();
    store
        .add_member(NewMember {
            source: MemberSource::Project(p.id),
            user_id: u.id,
            access_level: AccessLevel::Maintainer,
            expires_at: None,
            created_by: None,
            created_at: t0(),
        })
        .await
        .unwrap();
    let again = store
        .add_member(NewMember {
            source: MemberSource::Project(p.id),
            user_id: u.id,
            access_level: AccessLevel::Guest,
            expires_at: None,
            created_by: None,
            created_at: t0(),
        })
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(Conflict::Member))));
    // An expired membership does not count.
    let expired_group = group(store, "old", None, Visibility::Private).await;
    store
        .add_member(NewMember {
            source: MemberSource::Namespace(expired_group.id),
            user_id: u.id,
            access_level: AccessLevel::Owner,
            expires_at: Some(NaiveDate::from_ymd_opt(2000, 1, 1).unwrap()),
            created_by: None,
            created_at: t0(),
        })
        .await
        .unwrap();

    let mut ms = store.memberships_of(u.id).await.unwrap();
    ms.sort_by_key(|m| match m {
        Membership::Namespace { .. } => 0,
        Membership::Project { .. } => 1,
    });
    assert_eq!(
        ms,
        vec![
            Membership::Namespace {
                id: root.id,
                traversal_ids: vec![root.id],
                level: AccessLevel::Developer
            },
            Membership::Project {
                id: p.id,
                namespace_traversal_ids: vec![root.id, sub.id],
                level: AccessLevel::Maintainer
            },
        ]
    );

    let updated = store
        .update_member(
            MemberSource::Project(p.id),
            u.id,
            AccessLevel::Reporter,
            None,
        )
        .await
        .unwrap();
    assert_eq!(updated.access_level, AccessLevel::Reporter);
    assert!(matches!(
        store
            .update_member(
                MemberSource::Project(ProjectId(424242)),
                u.id,
                AccessLevel::Reporter,
                None
            )
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .remove_member(MemberSource::Project(p.id), u.id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .remove_member(MemberSource::Project(p.id), u.id)
            .await
            .unwrap()
    );
}

pub async fn member_listing(store: &dyn Store) {
    let a = user(store, "a").await;
    let b = user(store, "b").await;
    let c = user(store, "c").await;
    let root = group(store, "root", None, Visibility::Private).await;
    let p = project(store, root.id, "p", Visibility::Private).await;
    let add = |source, user: UserId, level| NewMember {
        source,
        user_id: user,
        access_level: level,
        expires_at: None,
        created_by: None,
        created_at: t0(),
    };
    store
        .add_member(add(
            MemberSource::Namespace(root.id),
            a.id,
            AccessLevel::Owner,
        ))
        .await
        .unwrap();
    store
        .add_member(add(
            MemberSource::Namespace(root.id),
            b.id,
            AccessLevel::Guest,
        ))
        .await
        .unwrap();
    store
        .add_member(add(
            MemberSource::Project(p.id),
            b.id,
            AccessLevel::Developer,
        ))
        .await
        .unwrap();
    store
        .add_member(add(
            MemberSource::Project(p.id),
            c.id,
            AccessLevel::Reporter,
        ))
        .await
        .unwrap();

    let direct = store
        .list_members(
            MemberSource::Project(p.id),
            &MemberQuery::default(),
            PageRequest::new(1, 20),
        )
        .await
        .unwrap();
    assert_eq!(
        direct.items.iter().map(|m| m.user.id).collect::<Vec<_>>(),
        vec![b.id, c.id]
    );

    let all = store
        .list_members_of_any(
            &[
                MemberSource::Project(p.id),
                MemberSource::Namespace(root.id),
            ],
            &MemberQuery::default(),
            PageRequest::new(1, 20),
        )
        .await
        .unwrap();
    assert_eq!(all.total, 3);
    let levels: Vec<_> = all
        .items
        .iter()
        .map(|m| (m.user.id, m.access_level, m.source))
        .collect();
    assert_eq!(
        levels,
        vec![
            (a.id, AccessLevel::Owner, MemberSource::Namespace(root.id)),
            (b.id, AccessLevel::Developer, MemberSource::Project(p.id)),
            (c.id, AccessLevel::Reporter, MemberSource::Project(p.id)),
        ]
    );
    let page2 = store
        .list_members_of_any(
            &[
                MemberSource::Project(p.id),
                MemberSource::Namespace(root.id),
            ],
            &MemberQuery::default(),
            PageRequest::new(2, 2),
        )
        .await
        .unwrap();
    assert_eq!(page2.total, 3);
    assert_eq!(page2.items.len(), 1);
    let searched = store
        .list_members(
            MemberSource::Namespace(root.id),
            &MemberQuery {
                query: Some("B".into()),
                user_ids: None,
            },
            PageRequest::new(1, 20),
        )
        .await
        .unwrap();
    assert_eq!(searched.items.len(), 1);
}

/// Changes to what authentication and decisions read are announced to watchers; recording a
/// token's use is not (it happens on the request path and must not empty caches).
pub async fn change_announcements(store: &dyn Store) {
    let announced = std::time::Duration::from_secs(5);
    let quiet = std::time::Duration::from_millis(300);
    let mut watch = store.watch_changes().await.unwrap();
    let u = user(store, "watched").await;
    tokio::time::timeout(announced, watch.changed())
        .await
        .expect("a new user is announced")
        .unwrap();
    let tok = store
        .create_personal_access_token(NewPersonalAccessToken {
            user_id: u.id,
            name: "ci".into(),
            description: None,
            scopes: vec!["api".into()],
            expires_at: None,
            token_digest: "watched-digest".into(),
            created_at: t0(),
        })
        .await
        .unwrap();
    tokio::time::timeout(announced, watch.changed())
        .await
        .expect("a new token is announced")
        .unwrap();
    store
        .touch_personal_access_token(tok.id, t0() + Duration::hours(1))
        .await
        .unwrap();
    assert!(
        tokio::time::timeout(quiet, watch.changed()).await.is_err(),
        "recording a token's use must not be announced"
    );
    store.revoke_personal_access_token(tok.id).await.unwrap();
    tokio::time::timeout(announced, watch.changed())
        .await
        .expect("a revoked token is announced")
        .unwrap();
    store
        .set_user_state(u.id, UserState::Blocked)
        .await
        .unwrap();
    tokio::time::timeout(announced, watch.changed())
        .await
        .expect("a blocked user is announced")
        .unwrap();
}

pub async fn tokens(store: &dyn Store) {
    let u = user(store, "u").await;
    let tok = store
        .create_personal_access_token(NewPersonalAccessToken {
            user_id: u.id,
            name: "ci".into(),
            description: None,
            scopes: vec!["api".into(), "read_api".into()],
            expires_at: Some(NaiveDate::from_ymd_opt(2030, 1, 1).unwrap()),
            token_digest: "d1".into(),
            created_at: t0(),
        })
        .await
        .unwrap();
    assert_eq!(tok.scopes, vec!["api".to_string(), "read_api".to_string()]);
    let found = store
        .personal_access_token_by_digest("d1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, tok);
    assert!(
        store
            .personal_access_token_by_digest("nope")
            .await
            .unwrap()
            .is_none()
    );
    let dup = store
        .create_personal_access_token(NewPersonalAccessToken {
            user_id: u.id,
            name: "x".into(),
            description: None,
            scopes: vec![],
            expires_at: None,
            token_digest: "d1".into(),
            created_at: t0(),
        })
        .await;
    assert!(matches!(
        dup,
        Err(StoreError::Conflict(Conflict::TokenDigest))
    ));

    let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    assert!(tok.is_active(today));
    assert!(tok.is_expired(NaiveDate::from_ymd_opt(2030, 1, 1).unwrap()));

    let rotated = store
        .rotate_personal_access_token(
            tok.id,
            NewPersonalAccessToken {
                user_id: u.id,
                name: "ci".into(),
                description: None,
                scopes: tok.scopes.clone(),
                expires_at: None,
                token_digest: "d2".into(),
                created_at: t0(),
            },
            today,
        )
        .await
        .unwrap();
    assert!(
        store
            .personal_access_token(tok.id)
            .await
            .unwrap()
            .unwrap()
            .revoked
    );
    assert!(!rotated.revoked);
    assert!(matches!(
        store
            .rotate_personal_access_token(
                tok.id,
                NewPersonalAccessToken {
                    user_id: u.id,
                    name: "again".into(),
                    description: None,
                    scopes: vec![],
                    expires_at: None,
                    token_digest: "d3".into(),
                    created_at: t0(),
                },
                today
            )
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .revoke_personal_access_token(rotated.id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_personal_access_token(rotated.id)
            .await
            .unwrap()
    );
    store
        .touch_personal_access_token(rotated.id, t0() + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(
        store
            .personal_access_token(rotated.id)
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        Some(t0() + Duration::hours(1))
    );
    let listed = store
        .list_personal_access_tokens(
            &TokenQuery {
                user_id: Some(u.id),
                ..Default::default()
            },
            PageRequest::new(1, 20),
        )
        .await
        .unwrap();
    assert_eq!(listed.total, 2);
    let active = store
        .list_personal_access_tokens(
            &TokenQuery {
                active: Some((true, today)),
                ..Default::default()
            },
            PageRequest::new(1, 20),
        )
        .await
        .unwrap();
    assert_eq!(active.total, 0);
}

pub async fn scope_flag(store: &dyn Store) {
    let g = group(store, "g", None, Visibility::Private).await;
    let p = project(store, g.id, "p", Visibility::Private).await;
    assert!(
        store
            .set_inbound_scope_enabled(p.id, false, None)
            .await
            .unwrap()
    );
    assert!(
        !store
            .project(p.id)
            .await
            .unwrap()
            .unwrap()
            .inbound_scope_enabled
    );
    assert!(
        !store
            .set_inbound_scope_enabled(p.id, true, None)
            .await
            .unwrap()
    );
    assert!(matches!(
        store
            .set_inbound_scope_enabled(ProjectId(987_654), true, None)
            .await,
        Err(StoreError::NotFound)
    ));
    let s = store.instance_settings().await.unwrap();
    assert!(!s.enforce_ci_inbound_job_token_scope_enabled);
    let s = store
        .update_instance_settings(
            InstanceSettingsPatch {
                enforce_ci_inbound_job_token_scope_enabled: Some(true),
                ..Default::default()
            },
            t0(),
        )
        .await
        .unwrap();
    assert!(s.enforce_ci_inbound_job_token_scope_enabled);
}

pub async fn project_links(store: &dyn Store) {
    let u = user(store, "u").await;
    let g = group(store, "g", None, Visibility::Private).await;
    let src = project(store, g.id, "src", Visibility::Private).await;
    let mut targets = Vec::new();
    for i in 0..5 {
        targets.push(project(store, g.id, &format!("t{i}"), Visibility::Private).await);
    }
    // Only the project itself at first.
    let list = store
        .allowlist_projects(src.id, PageRequest::new(1, 20))
        .await
        .unwrap();
    assert_eq!(list.total, 1);
    assert_eq!(list.items[0].id, src.id);

    let l = store
        .add_project_link(
            link(src.id, targets[2].id, Some(u.id)),
            3,
            audit(src.id, "add"),
        )
        .await
        .unwrap();
    assert_eq!(l.added_by, Some(u.id));
    assert_eq!(l.created_at, t0());
    assert_eq!(l.direction, LinkDirection::Inbound);
    assert!(matches!(
        store
            .add_project_link(link(src.id, targets[2].id, None), 3, audit(src.id, "add"))
            .await,
        Err(StoreError::Conflict(Conflict::Link))
    ));
    store
        .add_project_link(link(src.id, targets[0].id, None), 3, audit(src.id, "add"))
        .await
        .unwrap();
    store
        .add_project_link(link(src.id, targets[1].id, None), 3, audit(src.id, "add"))
        .await
        .unwrap();
    assert!(matches!(
        store
            .add_project_link(link(src.id, targets[3].id, None), 3, audit(src.id, "add"))
            .await,
        Err(StoreError::LimitReached)
    ));
    // At the limit, a duplicate reports the limit (GitLab validates before inserting).
    assert!(matches!(
        store
            .add_project_link(link(src.id, targets[0].id, None), 3, audit(src.id, "add"))
            .await,
        Err(StoreError::LimitReached)
    ));
    let stored = store
        .project_link(src.id, targets[2].id, LinkDirection::Inbound)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, l);
    assert!(
        store
            .project_link(src.id, targets[2].id, LinkDirection::Outbound)
            .await
            .unwrap()
            .is_none()
    );

    let list = store
        .allowlist_projects(src.id, PageRequest::new(1, 20))
        .await
        .unwrap();
    assert_eq!(list.total, 4);
    let ids: Vec<_> = list.items.iter().map(|p| p.id).collect();
    let mut expected = vec![src.id, targets[0].id, targets[1].id, targets[2].id];
    expected.sort();
    assert_eq!(ids, expected, "ordered by id, self included");
    let page2 = store
        .allowlist_projects(src.id, PageRequest::new(2, 3))
        .await
        .unwrap();
    assert_eq!(page2.total, 4);
    assert_eq!(page2.items.len(), 1);
    let beyond = store
        .allowlist_projects(src.id, PageRequest::new(9, 3))
        .await
        .unwrap();
    assert!(beyond.items.is_empty());

    assert_eq!(
        store
            .project_links(src.id, LinkDirection::Inbound)
            .await
            .unwrap()
            .len(),
        3
    );
    let removed = store
        .remove_project_link(src.id, targets[2].id, audit(src.id, "rm"))
        .await
        .unwrap();
    assert_eq!(removed.map(|l| l.target_project_id), Some(targets[2].id));
    assert!(
        store
            .remove_project_link(src.id, targets[2].id, audit(src.id, "rm"))
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn group_links(store: &dyn Store) {
    let g = group(store, "g", None, Visibility::Private).await;
    let src = project(store, g.id, "src", Visibility::Private).await;
    let a = group(store, "a", None, Visibility::Private).await;
    let b = group(store, "b", Some(a.id), Visibility::Private).await;
    assert!(
        store
            .allowlist_groups(src.id, PageRequest::new(1, 20))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    store
        .add_group_link(link(src.id, b.id, None), 2, audit(src.id, "add"))
        .await
        .unwrap();
    store
        .add_group_link(link(src.id, a.id, None), 2, audit(src.id, "add"))
        .await
        .unwrap();
    assert!(matches!(
        store
            .add_group_link(link(src.id, a.id, None), 3, audit(src.id, "add"))
            .await,
        Err(StoreError::Conflict(Conflict::Link))
    ));
    assert!(matches!(
        store
            .add_group_link(link(src.id, g.id, None), 2, audit(src.id, "add"))
            .await,
        Err(StoreError::LimitReached)
    ));
    let list = store
        .allowlist_groups(src.id, PageRequest::new(1, 20))
        .await
        .unwrap();
    assert_eq!(
        list.items.iter().map(|n| n.id).collect::<Vec<_>>(),
        vec![a.id, b.id]
    );
    assert!(store.group_link(src.id, a.id).await.unwrap().is_some());
    assert_eq!(store.group_links(src.id).await.unwrap().len(), 2);
    assert!(
        store
            .remove_group_link(src.id, a.id, audit(src.id, "rm"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .remove_group_link(src.id, a.id, audit(src.id, "rm"))
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn cascades(store: &dyn Store) {
    let u = user(store, "u").await;
    let root = group(store, "root", None, Visibility::Private).await;
    let sub = group(store, "sub", Some(root.id), Visibility::Private).await;
    let inner = project(store, sub.id, "inner", Visibility::Private).await;
    let other_g = group(store, "other", None, Visibility::Private).await;
    let src = project(store, other_g.id, "src", Visibility::Private).await;
    store
        .add_project_link(
            link(src.id, inner.id, Some(u.id)),
            200,
            audit(src.id, "add"),
        )
        .await
        .unwrap();
    store
        .add_group_link(link(src.id, sub.id, Some(u.id)), 200, audit(src.id, "add"))
        .await
        .unwrap();
    store
        .add_member(NewMember {
            source: MemberSource::Namespace(sub.id),
            user_id: u.id,
            access_level: AccessLevel::Developer,
            expires_at: None,
            created_by: None,
            created_at: t0(),
        })
        .await
        .unwrap();

    // Deleting the user keeps links but forgets who added them.
    let personal = project(store, u.namespace_id, "personal", Visibility::Private).await;
    store.delete_user(u.id).await.unwrap();
    assert!(store.project(personal.id).await.unwrap().is_none());
    let l = store
        .project_link(src.id, inner.id, LinkDirection::Inbound)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(l.added_by, None);

    // Deleting a group removes its subtree and every link naming anything in it.
    store.delete_group(root.id).await.unwrap();
    assert!(store.namespace(sub.id).await.unwrap().is_none());
    assert!(store.project(inner.id).await.unwrap().is_none());
    assert!(
        store
            .project_links(src.id, LinkDirection::Inbound)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.group_links(src.id).await.unwrap().is_empty());
    assert!(matches!(
        store.delete_group(root.id).await,
        Err(StoreError::NotFound)
    ));
    // Paths are free again.
    group(store, "root", None, Visibility::Private).await;
}

pub async fn listing_visibility(store: &dyn Store) {
    let member = user(store, "member").await;
    let outsider = user(store, "outsider").await;
    let private_g = group(store, "priv", None, Visibility::Private).await;
    let sub = group(store, "sub", Some(private_g.id), Visibility::Private).await;
    let public_g = group(store, "pub", None, Visibility::Public).await;
    let internal_g = group(store, "int", None, Visibility::Internal).await;
    let hidden = project(store, private_g.id, "hidden", Visibility::Private).await;
    let deep = project(store, sub.id, "deep", Visibility::Private).await;
    let open = project(store, public_g.id, "open", Visibility::Public).await;
    let inside = project(store, internal_g.id, "inside", Visibility::Internal).await;
    store
        .add_member(NewMember {
            source: MemberSource::Project(deep.id),
            user_id: member.id,
            access_level: AccessLevel::Guest,
            expires_at: None,
            created_by: None,
            created_at: t0(),
        })
        .await
        .unwrap();

    let ids = |paged: Paged<Project>| {
        let mut v: Vec<_> = paged.items.into_iter().map(|p| p.id).collect();
        v.sort();
        v
    };
    let page = PageRequest::new(1, 100);
    let anon = store
        .list_projects(&ProjectQuery::new(Viewer::Anonymous), page)
        .await
        .unwrap();
    assert_eq!(ids(anon), vec![open.id]);
    let out = store
        .list_projects(
            &ProjectQuery::new(Viewer::User {
                id: outsider.id,
                external: false,
            }),
            page,
        )
        .await
        .unwrap();
    assert_eq!(ids(out), vec![open.id, inside.id]);
    let ext = store
        .list_projects(
            &ProjectQuery::new(Viewer::User {
                id: outsider.id,
                external: true,
            }),
            page,
        )
        .await
        .unwrap();
    assert_eq!(ids(ext), vec![open.id]);
    let mem = store
        .list_projects(
            &ProjectQuery::new(Viewer::User {
                id: member.id,
                external: false,
            }),
            page,
        )
        .await
        .unwrap();
    assert_eq!(ids(mem), vec![deep.id, open.id, inside.id]);
    let admin = store
        .list_projects(&ProjectQuery::new(Viewer::Admin), page)
        .await
        .unwrap();
    assert_eq!(admin.total, 4);
    let _ = hidden;
    let min = store
        .list_projects(
            &ProjectQuery {
                min_access: Some((member.id, AccessLevel::Guest)),
                ..ProjectQuery::new(Viewer::Admin)
            },
            page,
        )
        .await
        .unwrap();
    assert_eq!(ids(min), vec![deep.id]);
    let in_tree = store
        .list_projects(
            &ProjectQuery {
                namespace: Some((private_g.id, true)),
                ..ProjectQuery::new(Viewer::Admin)
            },
            page,
        )
        .await
        .unwrap();
    assert_eq!(in_tree.total, 2);

    // Groups: a member of a project deep inside a private group may see the groups above it.
    let groups = store
        .list_groups(
            &GroupQuery::new(Viewer::User {
                id: member.id,
                external: false,
            }),
            page,
        )
        .await
        .unwrap();
    let mut gids: Vec<_> = groups.items.iter().map(|g| g.id).collect();
    gids.sort();
    assert_eq!(gids, vec![private_g.id, sub.id, public_g.id, internal_g.id]);
    let anon_groups = store
        .list_groups(&GroupQuery::new(Viewer::Anonymous), page)
        .await
        .unwrap();
    assert_eq!(
        anon_groups.items.iter().map(|g| g.id).collect::<Vec<_>>(),
        vec![public_g.id]
    );
}

fn audit_query(project: ProjectId) -> AuditQuery {
    AuditQuery {
        entity_type: "Project".into(),
        entity_id: project.get(),
        created_after: None,
        created_before: None,
        author_id: None,
        id: None,
    }
}

pub async fn audit_events(store: &dyn Store) {
    let g = group(store, "g", None, Visibility::Private).await;
    let src = project(store, g.id, "src", Visibility::Private).await;
    let t = project(store, g.id, "t", Visibility::Private).await;
    store
        .add_project_link(link(src.id, t.id, None), 200, audit(src.id, "first"))
        .await
        .unwrap();
    // A failed change writes no event.
    assert!(
        store
            .add_project_link(link(src.id, t.id, None), 200, audit(src.id, "dup"))
            .await
            .is_err()
    );
    // Removing nothing writes no event.
    assert!(
        store
            .remove_group_link(src.id, g.id, audit(src.id, "nothing"))
            .await
            .unwrap()
            .is_none()
    );
    // The inbound flag: only a change is audited.
    store
        .set_inbound_scope_enabled(src.id, true, Some(audit(src.id, "unchanged")))
        .await
        .unwrap();
    store
        .set_inbound_scope_enabled(src.id, false, Some(audit(src.id, "disabled")))
        .await
        .unwrap();
    let events = store
        .audit_events(&audit_query(src.id), PageRequest::new(1, 20))
        .await
        .unwrap();
    let names: Vec<_> = events.items.iter().map(|e| e.event_name.as_str()).collect();
    assert_eq!(names, vec!["disabled", "first"], "newest first");
    assert_eq!(events.items[1].details["custom_message"], "first");
    let one = store
        .audit_events(
            &AuditQuery {
                id: Some(events.items[1].id),
                ..audit_query(src.id)
            },
            PageRequest::new(1, 20),
        )
        .await
        .unwrap();
    assert_eq!(one.total, 1);
    // Events outlive their project.
    store.delete_project(src.id).await.unwrap();
    assert_eq!(
        store
            .audit_events(&audit_query(src.id), PageRequest::new(1, 20))
            .await
            .unwrap()
            .total,
        2
    );
}

pub async fn link_updates_and_change_sets(store: &dyn Store) {
    let u = user(store, "u").await;
    let g = group(store, "g", None, Visibility::Private).await;
    let src = project(store, g.id, "src", Visibility::Private).await;
    let a = project(store, g.id, "a", Visibility::Private).await;
    let b = project(store, g.id, "b", Visibility::Private).await;
    let sub = group(store, "sub", Some(g.id), Visibility::Private).await;
    store
        .add_project_link(link(src.id, a.id, None), 200, audit(src.id, "add"))
        .await
        .unwrap();
    store
        .add_group_link(link(src.id, sub.id, None), 200, audit(src.id, "add"))
        .await
        .unwrap();
    let updated = store
        .update_project_link(
            src.id,
            a.id,
            false,
            vec!["read_packages".into()],
            audit(src.id, "policies"),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(!updated.default_permissions);
    assert_eq!(
        updated.job_token_policies,
        vec!["read_packages".to_string()]
    );
    assert!(
        store
            .update_project_link(src.id, b.id, false, vec![], audit(src.id, "none"))
            .await
            .unwrap()
            .is_none()
    );
    let g_updated = store
        .update_group_link(
            src.id,
            sub.id,
            false,
            vec!["admin_jobs".into()],
            audit(src.id, "policies"),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(g_updated.job_token_policies, vec!["admin_jobs".to_string()]);

    // A change set is all or nothing: the second addition breaks the limit.
    let mut auto = link(src.id, b.id, Some(u.id));
    auto.autopopulated = true;
    let failing = ScopeChangeSet {
        remove_projects: vec![a.id],
        add_projects: vec![auto.clone(), link(src.id, a.id, None)],
        set_inbound: Some(false),
        audit: vec![audit(src.id, "batch")],
        ..Default::default()
    };
    assert!(matches!(
        store.apply_scope_changes(src.id, failing, 1, 200).await,
        Err(StoreError::LimitReached)
    ));
    assert!(
        store
            .project_link(src.id, a.id, LinkDirection::Inbound)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .project(src.id)
            .await
            .unwrap()
            .unwrap()
            .inbound_scope_enabled
    );
    let ok = ScopeChangeSet {
        remove_projects: vec![a.id],
        remove_groups: vec![sub.id],
        add_projects: vec![auto],
        set_inbound: Some(false),
        audit: vec![audit(src.id, "batch")],
        ..Default::default()
    };
    store
        .apply_scope_changes(src.id, ok, 200, 200)
        .await
        .unwrap();
    let links = store
        .project_links(src.id, LinkDirection::Inbound)
        .await
        .unwrap();
    assert_eq!(links.len(), 1);
    assert!(links[0].autopopulated);
    assert_eq!(links[0].added_by, Some(u.id));
    assert!(store.group_links(src.id).await.unwrap().is_empty());
    assert!(
        !store
            .project(src.id)
            .await
            .unwrap()
            .unwrap()
            .inbound_scope_enabled
    );
    let events = store
        .audit_events(&audit_query(src.id), PageRequest::new(1, 50))
        .await
        .unwrap();
    assert_eq!(
        events
            .items
            .iter()
            .filter(|e| e.event_name == "batch")
            .count(),
        1
    );
}

pub async fn admissions(store: &dyn Store) {
    let root = group(store, "root", None, Visibility::Private).await;
    let sub = group(store, "sub", Some(root.id), Visibility::Private).await;
    let origin = project(store, sub.id, "origin", Visibility::Private).await;
    let by_project = project(store, root.id, "a", Visibility::Private).await;
    let by_group = project(store, root.id, "b", Visibility::Private).await;
    let unrelated = project(store, root.id, "c", Visibility::Private).await;
    let src = by_project.clone();
    store
        .add_project_link(link(src.id, origin.id, None), 200, audit(src.id, "add"))
        .await
        .unwrap();
    let src = by_group.clone();
    store
        .add_group_link(link(src.id, root.id, None), 200, audit(src.id, "add"))
        .await
        .unwrap();
    let src = unrelated.clone();
    store
        .add_project_link(link(src.id, by_project.id, None), 200, audit(src.id, "add"))
        .await
        .unwrap();
    let found = store
        .admissions_of(origin.id, &origin.namespace.traversal_ids)
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    assert!(found.iter().any(|(p, a)| p.id == by_project.id
        && matches!(a, Admission::Project(l) if l.target_project_id == origin.id)));
    assert!(found.iter().any(|(p, a)| p.id == by_group.id
        && matches!(a, Admission::Group(l) if l.target_group_id == root.id)));
}

pub async fn jobs(store: &dyn Store) {
    let u = user(store, "u").await;
    let other = user(store, "other").await;
    let g = group(store, "g", None, Visibility::Private).await;
    let p = project(store, g.id, "p", Visibility::Private).await;
    let new_job = |user: UserId, digest: &str| NewJob {
        project_id: p.id,
        user_id: user,
        name: "test".into(),
        ref_name: "main".into(),
        token_digest: digest.into(),
        created_at: t0(),
    };
    let job = store.create_job(new_job(u.id, "j1")).await.unwrap();
    assert_eq!(job.status, JobStatus::Running);
    assert_eq!(store.job(job.id).await.unwrap(), Some(job.clone()));
    assert_eq!(
        store.job_by_token_digest("j1").await.unwrap().map(|j| j.id),
        Some(job.id)
    );
    assert!(store.job_by_token_digest("nope").await.unwrap().is_none());
    assert!(matches!(
        store.create_job(new_job(u.id, "j1")).await,
        Err(StoreError::Conflict(Conflict::TokenDigest))
    ));
    let done = store
        .finish_job(job.id, JobStatus::Success, t0() + Duration::seconds(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, JobStatus::Success);
    assert_eq!(done.finished_at, Some(t0() + Duration::seconds(30)));
    // A finished job cannot finish again.
    assert!(
        store
            .finish_job(job.id, JobStatus::Failed, t0())
            .await
            .unwrap()
            .is_none()
    );
    let j2 = store.create_job(new_job(u.id, "j2")).await.unwrap();
    let j3 = store.create_job(new_job(u.id, "j3")).await.unwrap();
    let theirs = store.create_job(new_job(other.id, "j4")).await.unwrap();
    assert_eq!(store.cancel_running_jobs_of(u.id, t0()).await.unwrap(), 2);
    for j in [j2.id, j3.id] {
        assert_eq!(
            store.job(j).await.unwrap().unwrap().status,
            JobStatus::Canceled
        );
    }
    assert_eq!(
        store.job(theirs.id).await.unwrap().unwrap().status,
        JobStatus::Running
    );
    // Deleting the project deletes its jobs (and so their tokens).
    store.delete_project(p.id).await.unwrap();
    assert!(store.job_by_token_digest("j4").await.unwrap().is_none());
}

pub async fn authorization_log(store: &dyn Store) {
    let g = group(store, "g", None, Visibility::Private).await;
    let b = project(store, g.id, "b", Visibility::Private).await;
    let a1 = project(store, g.id, "a1", Visibility::Private).await;
    let a2 = project(store, g.id, "a2", Visibility::Private).await;
    let rec = |origin: ProjectId, secs: i64, policies: &[&str]| AuthorizationRecord {
        accessed_project_id: b.id,
        origin_project_id: origin,
        at: t0() + Duration::seconds(secs),
        policies: policies.iter().map(|s| (*s).to_owned()).collect(),
    };
    store
        .record_authorizations(&[
            rec(a1.id, 10, &["read_packages"]),
            rec(a2.id, 5, &[]),
            rec(a1.id, 20, &["read_jobs"]),
            rec(a1.id, 15, &["read_packages"]),
            rec(ProjectId(999_999), 30, &[]),
        ])
        .await
        .unwrap();
    let logs = store
        .authorization_logs(b.id, PageRequest::new(1, 20))
        .await
        .unwrap();
    assert_eq!(logs.total, 2, "one row per origin; unknown origins skipped");
    assert_eq!(logs.items[0].origin.id, a1.id, "most recent first");
    assert_eq!(
        logs.items[0].last_authorized_at,
        t0() + Duration::seconds(20)
    );
    assert_eq!(
        logs.items[0].job_token_policies.get("read_packages"),
        Some(&(t0() + Duration::seconds(15)))
    );
    assert_eq!(
        logs.items[0].job_token_policies.get("read_jobs"),
        Some(&(t0() + Duration::seconds(20)))
    );
    // An older record does not move the time back.
    store
        .record_authorizations(&[rec(a2.id, 1, &[])])
        .await
        .unwrap();
    let logs = store
        .authorization_logs(b.id, PageRequest::new(1, 20))
        .await
        .unwrap();
    assert_eq!(
        logs.items[1].last_authorized_at,
        t0() + Duration::seconds(5)
    );
    store.delete_project(a2.id).await.unwrap();
    assert_eq!(
        store
            .authorization_logs(b.id, PageRequest::new(1, 20))
            .await
            .unwrap()
            .total,
        1
    );
}

/// A flush larger than one statement's worth of rows (backends write a batch in chunks):
/// every pair is written once, merged with what was there, and pairs naming a project that
/// no longer exists are skipped without losing the rest.
pub async fn authorization_log_large_batch(store: &dyn Store) {
    let g = group(store, "g", None, Visibility::Private).await;
    let mut projects = Vec::new();
    for i in 0..120 {
        projects.push(project(store, g.id, &format!("p{i}"), Visibility::Private).await);
    }
    let gone = projects.pop().unwrap();
    store.delete_project(gone.id).await.unwrap();
    let mut batch = Vec::new();
    for (i, accessed) in projects.iter().enumerate() {
        for (j, origin) in projects.iter().enumerate() {
            if i != j {
                batch.push(AuthorizationRecord {
                    accessed_project_id: accessed.id,
                    origin_project_id: origin.id,
                    at: t0() + Duration::seconds((i * 7 + j) as i64 % 50),
                    policies: if j % 2 == 0 {
                        vec!["read_jobs".into()]
                    } else {
                        vec![]
                    },
                });
            }
        }
        batch.push(AuthorizationRecord {
            accessed_project_id: accessed.id,
            origin_project_id: gone.id,
            at: t0(),
            policies: vec![],
        });
    }
    assert!(batch.len() > 14_000);
    store.record_authorizations(&batch).await.unwrap();
    // The same pairs again, a minute later, with another policy on the odd origins.
    let later: Vec<AuthorizationRecord> = batch
        .iter()
        .filter(|r| r.origin_project_id != gone.id)
        .map(|r| AuthorizationRecord {
            at: r.at + Duration::seconds(60),
            policies: vec!["read_packages".into()],
            ..r.clone()
        })
        .filter(|r| r.origin_project_id.get() % 2 == 1)
        .collect();
    store.record_authorizations(&later).await.unwrap();
    for (i, accessed) in projects.iter().enumerate().step_by(29) {
        let logs = store
            .authorization_logs(accessed.id, PageRequest::new(1, 200))
            .await
            .unwrap();
        assert_eq!(logs.total, projects.len() as u64 - 1, "one row per origin");
        for log in &logs.items {
            let j = projects.iter().position(|p| p.id == log.origin.id).unwrap();
            let first = t0() + Duration::seconds((i * 7 + j) as i64 % 50);
            let odd = log.origin.id.get() % 2 == 1;
            let expected = if odd {
                first + Duration::seconds(60)
            } else {
                first
            };
            assert_eq!(log.last_authorized_at, expected);
            assert_eq!(
                log.job_token_policies.get("read_jobs").copied(),
                (j % 2 == 0).then_some(first)
            );
            assert_eq!(
                log.job_token_policies.get("read_packages").copied(),
                odd.then_some(expected)
            );
        }
    }
}

/// Fills a store with one of everything (used by the export round trip).
pub async fn populate(store: &dyn Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    store
        .set_user_state(bob.id, UserState::Blocked)
        .await
        .unwrap();
    let root = store
        .create_group(NewGroup {
            name: "Root".into(),
            path: "root-group".into(),
            parent_id: None,
            visibility: Visibility::Internal,
            description: "the top".into(),
            creator: Some(alice.id),
            created_at: t0(),
        })
        .await
        .unwrap();
    let sub = group(store, "sub", Some(root.id), Visibility::Private).await;
    let src = project(store, sub.id, "src", Visibility::Private).await;
    let other = project(store, root.id, "other", Visibility::Internal).await;
    let personal = project(store, alice.namespace_id, "mine", Visibility::Public).await;
    store
        .add_member(NewMember {
            source: MemberSource::Project(src.id),
            user_id: bob.id,
            access_level: AccessLevel::Developer,
            expires_at: Some(NaiveDate::from_ymd_opt(2030, 5, 6).unwrap()),
            created_by: Some(alice.id),
            created_at: t0(),
        })
        .await
        .unwrap();
    store
        .create_personal_access_token(NewPersonalAccessToken {
            user_id: alice.id,
            name: "ci".into(),
            description: Some("for CI".into()),
            scopes: vec!["api".into(), "ci".into()],
            expires_at: Some(NaiveDate::from_ymd_opt(2031, 1, 1).unwrap()),
            token_digest: "abc123".into(),
            created_at: t0(),
        })
        .await
        .unwrap();
    let mut l = link(src.id, other.id, Some(alice.id));
    l.job_token_policies = vec!["read_jobs".into()];
    l.default_permissions = false;
    store
        .add_project_link(l, 200, audit(src.id, "add"))
        .await
        .unwrap();
    let mut gl = link(src.id, root.id, Some(alice.id));
    gl.autopopulated = true;
    store
        .add_group_link(gl, 200, audit(src.id, "add"))
        .await
        .unwrap();
    store
        .add_project_link(
            link(other.id, personal.id, None),
            200,
            audit(other.id, "add"),
        )
        .await
        .unwrap();
    store
        .set_inbound_scope_enabled(other.id, false, Some(audit(other.id, "off")))
        .await
        .unwrap();
    let job = store
        .create_job(NewJob {
            project_id: src.id,
            user_id: alice.id,
            name: "build".into(),
            ref_name: "main".into(),
            token_digest: "jobdigest".into(),
            created_at: t0(),
        })
        .await
        .unwrap();
    store
        .finish_job(job.id, JobStatus::Success, t0() + Duration::seconds(9))
        .await
        .unwrap();
    store
        .record_authorizations(&[AuthorizationRecord {
            accessed_project_id: other.id,
            origin_project_id: src.id,
            at: t0(),
            policies: vec!["read_jobs".into()],
        }])
        .await
        .unwrap();
    store
        .update_instance_settings(
            InstanceSettingsPatch {
                enforce_ci_inbound_job_token_scope_enabled: Some(true),
                max_personal_access_token_lifetime: Some(Some(90)),
                ..Default::default()
            },
            t0(),
        )
        .await
        .unwrap();
}

/// Export, import into an empty store of any backend, export again: the two documents are
/// equal, the copy works, and its id sequences continue after the imported ids.
pub async fn round_trip(source: &dyn Store, dest: &dyn Store) {
    populate(source).await;
    let snap = source.export().await.unwrap();
    assert_eq!(snap.format, snapshot::FORMAT);
    // The digests travel with the salt they were made with, and the copy takes it over.
    let salt = source.token_salt().await.unwrap();
    assert_eq!(snap.token_salt, salt);
    assert_ne!(dest.token_salt().await.unwrap(), salt);
    assert!(
        !snap.users.is_empty() && !snap.project_links.is_empty() && !snap.audit_events.is_empty()
    );
    // The document survives JSON.
    let text = serde_json::to_string(&snap).unwrap();
    let parsed: snapshot::Snapshot = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed, snap);
    dest.import(&parsed).await.unwrap();
    let again = dest.export().await.unwrap();
    assert_eq!(again, snap);
    assert_eq!(dest.token_salt().await.unwrap(), salt);
    // Importing twice is refused; nothing changes.
    assert!(dest.import(&parsed).await.is_err());
    assert_eq!(dest.export().await.unwrap(), snap);
    // The copy behaves: lookups, the decision data, and new ids after the imported ones.
    let alice = dest.user_by_username("alice").await.unwrap().unwrap();
    assert_eq!(
        dest.personal_access_token_by_digest("abc123")
            .await
            .unwrap()
            .map(|t| t.user_id),
        Some(alice.id)
    );
    let src = dest
        .project_by_full_path("root-group/sub/src")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(src.namespace.traversal_ids.len(), 2);
    let carol = user(dest, "carol").await;
    let max_user = snap.users.iter().map(|u| u.id).max().unwrap();
    assert!(carol.id.get() > max_user);
    let max_ns = snap.namespaces.iter().map(|n| n.id).max().unwrap();
    assert!(carol.namespace_id.get() > max_ns);
    let g = group(dest, "fresh", None, Visibility::Private).await;
    let p = project(dest, g.id, "fresh", Visibility::Private).await;
    assert!(p.id.get() > snap.projects.iter().map(|p| p.id).max().unwrap());
    let events = dest
        .audit_events(&audit_query(src.id), PageRequest::new(1, 10))
        .await
        .unwrap();
    assert_eq!(events.total, 2);
    // A document of another version is refused.
    let mut future = snap.clone();
    future.version = snapshot::VERSION + 1;
    assert!(matches!(
        dest.import(&future).await,
        Err(StoreError::Corrupt(_))
    ));
}

/// A version 1 document (from before token salts: no `token_salt`) imports with the empty
/// salt its digests were made with; a salt that is not 32 hexadecimal digits is refused
/// and leaves `dest` empty.
pub async fn import_unsalted(source: &dyn Store, dest: &dyn Store) {
    populate(source).await;
    let mut doc = serde_json::to_value(source.export().await.unwrap()).unwrap();
    let object = doc.as_object_mut().unwrap();
    object.remove("token_salt");
    object.insert("version".to_owned(), serde_json::json!(1));
    let old: snapshot::Snapshot = serde_json::from_value(doc).unwrap();
    assert_eq!(old.token_salt, "");
    let mut bad = old.clone();
    bad.version = snapshot::VERSION;
    bad.token_salt = "not-a-salt".to_owned();
    assert!(matches!(
        dest.import(&bad).await,
        Err(StoreError::Corrupt(_))
    ));
    assert_eq!(dest.count_users().await.unwrap(), 0);
    dest.import(&old).await.unwrap();
    assert_eq!(dest.token_salt().await.unwrap(), "");
    assert!(
        dest.personal_access_token_by_digest("abc123")
            .await
            .unwrap()
            .is_some()
    );
}

/// A new store has a random salt of 32 hexadecimal digits that stays the same.
async fn token_salt(store: &dyn Store) {
    let salt = store.token_salt().await.unwrap();
    assert!(
        crate::secrets::is_valid_salt(&salt) && !salt.is_empty(),
        "{salt:?}"
    );
    let alice = user(store, "alice").await;
    store
        .create_personal_access_token(NewPersonalAccessToken {
            user_id: alice.id,
            name: "t".to_owned(),
            description: None,
            scopes: vec!["api".to_owned()],
            expires_at: None,
            token_digest: crate::token_digest("glpat-abcdefghijklmnopqrst", &salt),
            created_at: Utc::now(),
        })
        .await
        .unwrap();
    assert_eq!(store.token_salt().await.unwrap(), salt);
}

/// 64 adds at once: never more entries than the limit, never a duplicate, and every caller
/// gets a clean answer (added, limit reached, or already there).
pub async fn concurrent_adds(store: &dyn Store) {
    let g = group(store, "g", None, Visibility::Private).await;
    let src = project(store, g.id, "src", Visibility::Private).await;
    let mut targets = Vec::new();
    for i in 0..64 {
        targets.push(project(store, g.id, &format!("t{i}"), Visibility::Private).await);
    }
    // Distinct targets racing for the last 10 places of a limit of 40 (30 taken).
    for t in &targets[..30] {
        store
            .add_project_link(link(src.id, t.id, None), 40, audit(src.id, "add"))
            .await
            .unwrap();
    }
    let results = futures::future::join_all(
        targets[30..]
            .iter()
            .map(|t| store.add_project_link(link(src.id, t.id, None), 40, audit(src.id, "race"))),
    )
    .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 10, "exactly the free places were taken");
    assert!(
        results
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(StoreError::LimitReached)))
    );
    assert_eq!(
        store
            .project_links(src.id, LinkDirection::Inbound)
            .await
            .unwrap()
            .len(),
        40
    );
    // The same target 64 times at once: one link.
    let other = project(store, g.id, "other-src", Visibility::Private).await;
    let results = futures::future::join_all((0..64).map(|_| {
        store.add_project_link(
            link(other.id, targets[0].id, None),
            200,
            audit(other.id, "race"),
        )
    }))
    .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(StoreError::Conflict(Conflict::Link))))
    );
    assert_eq!(
        store
            .project_links(other.id, LinkDirection::Inbound)
            .await
            .unwrap()
            .len(),
        1
    );
    // Groups likewise.
    let groups_src = project(store, g.id, "groups-src", Visibility::Private).await;
    let mut groups = Vec::new();
    for i in 0..20 {
        groups.push(group(store, &format!("cg{i}"), None, Visibility::Private).await);
    }
    let results = futures::future::join_all(groups.iter().map(|gr| {
        store.add_group_link(
            link(groups_src.id, gr.id, None),
            7,
            audit(groups_src.id, "race"),
        )
    }))
    .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 7);
    assert_eq!(store.group_links(groups_src.id).await.unwrap().len(), 7);
    // Exactly one audit event per successful add.
    let events = store
        .audit_events(&audit_query(other.id), PageRequest::new(1, 100))
        .await
        .unwrap();
    assert_eq!(events.total, 1);
}

/// Web UI sessions: stored by digest, read back exactly, touched, ended one by one or when
/// expired (absolute or idle), and gone with their user or token.
pub async fn web_sessions(store: &dyn Store) {
    let u = user(store, "websession").await;
    let other = user(store, "othersession").await;
    let token = |user: UserId, digest: &'static str| NewPersonalAccessToken {
        user_id: user,
        name: "ui".into(),
        description: None,
        scopes: vec!["api".into()],
        expires_at: None,
        token_digest: digest.into(),
        created_at: t0(),
    };
    let tok = store
        .create_personal_access_token(token(u.id, "ws-token-1"))
        .await
        .unwrap();
    let other_tok = store
        .create_personal_access_token(token(other.id, "ws-token-2"))
        .await
        .unwrap();
    let session =
        |digest: &str, user: UserId, token_id, created: chrono::DateTime<Utc>| WebSession {
            id_digest: digest.to_owned(),
            user_id: user,
            token_id,
            csrf_token: format!("csrf-{digest}"),
            created_at: created,
            last_seen_at: created,
            expires_at: created + Duration::hours(12),
        };
    let a = session("sa", u.id, tok.id, t0());
    store.create_web_session(a.clone()).await.unwrap();
    assert_eq!(store.web_session("sa").await.unwrap(), Some(a.clone()));
    assert_eq!(store.web_session("nope").await.unwrap(), None);
    assert!(
        store.create_web_session(a.clone()).await.is_err(),
        "a session id digest is unique"
    );

    // Touching moves last_seen_at only (microsecond precision survives the round trip).
    let later = t0() + Duration::minutes(5) + Duration::microseconds(123_456);
    store.touch_web_session("sa", later).await.unwrap();
    let touched = store.web_session("sa").await.unwrap().unwrap();
    assert_eq!(touched.last_seen_at, later);
    assert_eq!(touched.created_at, a.created_at);
    assert_eq!(touched.expires_at, a.expires_at);
    store.touch_web_session("gone", later).await.unwrap();

    // Ending a session.
    assert!(store.delete_web_session("sa").await.unwrap());
    assert!(!store.delete_web_session("sa").await.unwrap());
    assert_eq!(store.web_session("sa").await.unwrap(), None);

    // Expiry: absolute (expires_at) and idle (last_seen_at), in one sweep.
    let fresh = session("fresh", u.id, tok.id, t0() + Duration::hours(10));
    let idle = session("idle", u.id, tok.id, t0() + Duration::hours(1));
    let old = session("old", other.id, other_tok.id, t0() - Duration::hours(13));
    for s in [&fresh, &idle, &old] {
        store.create_web_session(s.clone()).await.unwrap();
    }
    let now = t0() + Duration::hours(11);
    let removed = store
        .delete_expired_web_sessions(now, now - Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(removed, 2, "the idle and the expired session");
    assert!(store.web_session("fresh").await.unwrap().is_some());
    assert!(store.web_session("idle").await.unwrap().is_none());
    assert!(store.web_session("old").await.unwrap().is_none());

    // Sessions go with their user.
    let other_session = session("other", other.id, other_tok.id, t0());
    store.create_web_session(other_session).await.unwrap();
    store.delete_user(other.id).await.unwrap();
    assert!(store.web_session("other").await.unwrap().is_none());
    assert!(store.web_session("fresh").await.unwrap().is_some());
    // A session must name an existing user and token.
    assert!(
        store
            .create_web_session(session("dangling", UserId(999_999), tok.id, t0()))
            .await
            .is_err()
    );
}
