//! A live jobscope (in this process, on 127.0.0.1:0) and the CLI run against it in process,
//! with its output captured.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use clap::Parser;
use jobscope_client::Client;
use jobscope_server::config::ServerConfig;
use jobscope_server::state::AppState;

pub const ROOT_TOKEN: &str = "glpat-cli-test-root-token";

/// What a run printed, and its exit code.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// Standard output parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }

    /// Panics unless the run succeeded.
    pub fn ok(self) -> Outcome {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

#[derive(Parser)]
#[command(name = "jobscope")]
struct TestCli {
    #[command(subcommand)]
    command: jobscope_cli::Command,
}

/// Runs the CLI with exactly these arguments and environment (nothing from the real one).
pub async fn run_with_env(args: &[&str], env: HashMap<String, String>) -> Outcome {
    let mut argv = vec!["jobscope"];
    argv.extend_from_slice(args);
    let cli = match TestCli::try_parse_from(&argv) {
        Ok(c) => c,
        Err(e) => {
            return Outcome {
                code: e.exit_code(),
                stdout: String::new(),
                stderr: e.render().to_string(),
            };
        }
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut io = jobscope_cli::Io {
        out: &mut out,
        err: &mut err,
        interactive: false,
    };
    let code = jobscope_cli::run(cli.command, &env, &mut io).await;
    Outcome {
        code: code as i32,
        stdout: String::from_utf8(out).unwrap(),
        stderr: String::from_utf8(err).unwrap(),
    }
}

/// A running jobscope with root's token.
pub struct Live {
    pub url: String,
    pub state: AppState,
    pub dir: tempfile::TempDir,
}

pub async fn spawn() -> Live {
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
        dir,
    }
}

impl Live {
    /// The environment a run gets: this server, root's token, and a HOME without a config
    /// file.
    pub fn env(&self) -> HashMap<String, String> {
        HashMap::from([
            ("JOBSCOPE_HOST".to_owned(), self.url.clone()),
            ("JOBSCOPE_TOKEN".to_owned(), ROOT_TOKEN.to_owned()),
            ("HOME".to_owned(), self.dir.path().display().to_string()),
        ])
    }

    /// Runs the CLI as root.
    pub async fn run(&self, args: &[&str]) -> Outcome {
        run_with_env(args, self.env()).await
    }

    /// Runs the CLI as root with extra environment variables.
    pub async fn run_env(&self, args: &[&str], extra: &[(&str, &str)]) -> Outcome {
        let mut env = self.env();
        for (k, v) in extra {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        run_with_env(args, env).await
    }

    /// A client as root, for fixtures.
    pub fn root(&self) -> Client {
        Client::builder(&self.url)
            .private_token(ROOT_TOKEN)
            .build()
            .unwrap()
    }

    /// Makes a group (with `parent`) and returns its id.
    pub async fn group(&self, path: &str, parent: Option<i64>) -> i64 {
        let mut g = jobscope_client::endpoints::groups::CreateGroup::new(path, path);
        if let Some(p) = parent {
            g = g.parent(p.into());
        }
        let v: serde_json::Value = self.root().query(&g).await.unwrap();
        v["id"].as_i64().unwrap()
    }

    /// Makes a project in a namespace and returns its id.
    pub async fn project(&self, namespace: i64, path: &str) -> i64 {
        let v: serde_json::Value = self
            .root()
            .query(
                &jobscope_client::endpoints::projects::CreateProject::new(path)
                    .path(path)
                    .namespace(namespace.into()),
            )
            .await
            .unwrap();
        v["id"].as_i64().unwrap()
    }
}

/// insta settings that hide what changes between runs (times, the server's port).
pub fn redactions() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(
        r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?Z?",
        "[time]",
    );
    s.add_filter(r"127\.0\.0\.1:\d+", "[server]");
    s.set_prepend_module_to_snapshot(false);
    s
}
