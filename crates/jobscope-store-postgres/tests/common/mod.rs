//! Throwaway PostgreSQL databases for the tests: one per test case, created on a server given
//! by `JOBSCOPE_TEST_POSTGRES_URL` and dropped afterwards, also when the case panics.
//!
//! If the server cannot be reached the tests fail (CI has PostgreSQL), unless
//! `JOBSCOPE_TEST_POSTGRES=skip` is set.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::FutureExt;
use sqlx::{ConnectOptions, Connection, PgConnection};

pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The server URL (its database is only used to create and drop the test databases).
pub fn server_url() -> String {
    std::env::var("JOBSCOPE_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// True when the tests should not run (and say so).
pub fn skipped() -> bool {
    if std::env::var("JOBSCOPE_TEST_POSTGRES").is_ok_and(|v| v == "skip") {
        eprintln!("JOBSCOPE_TEST_POSTGRES=skip: PostgreSQL tests skipped");
        true
    } else {
        false
    }
}

/// The server's URL without its password, for messages.
fn shown(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "<unparsable URL>".to_owned(),
    }
}

/// Fails the test at once, with the message below, when the server cannot be reached.
pub async fn require_server() {
    let _ = admin_connection().await.close().await;
}

async fn admin_connection() -> PgConnection {
    let url = server_url();
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap_or_else(|e| {
        panic!(
            "JOBSCOPE_TEST_POSTGRES_URL {} is not a PostgreSQL URL: {e}",
            shown(&url)
        )
    });
    match tokio::time::timeout(Duration::from_secs(15), options.connect()).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => panic!(
            "PostgreSQL is not reachable at {} ({e}). Start it, point \
             JOBSCOPE_TEST_POSTGRES_URL at a server where this user may CREATE DATABASE, \
             or set JOBSCOPE_TEST_POSTGRES=skip to skip the PostgreSQL tests.",
            shown(&url)
        ),
        Err(_) => panic!(
            "PostgreSQL did not answer within 15 s at {}. Set JOBSCOPE_TEST_POSTGRES=skip to \
             skip the PostgreSQL tests.",
            shown(&url)
        ),
    }
}

/// A database created for one test; dropped by [`TestDb::drop_now`] or, failing that, when
/// the value is dropped (also while unwinding from a panic).
pub struct TestDb {
    pub name: String,
    pub url: String,
    dropped: bool,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    pub async fn create() -> TestDb {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "jobscope_test_{}_{}_{:08x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            nanos ^ 0x5bd1_e995
        );
        let mut admin = admin_connection().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let _ = admin.close().await;
        let mut url = url::Url::parse(&server_url()).expect("server URL");
        url.set_path(&format!("/{name}"));
        TestDb {
            name,
            url: url.to_string(),
            dropped: false,
        }
    }

    pub async fn drop_now(mut self) {
        drop_database(&self.name).await;
        self.dropped = true;
    }
}

async fn drop_database(name: &str) {
    let mut admin = admin_connection().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .unwrap_or_else(|e| panic!("DROP DATABASE {name}: {e}"));
    let _ = admin.close().await;
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Not dropped explicitly (a panic unwound through the test): drop the database on a
        // runtime of its own, in a thread of its own, so this works inside a runtime too.
        let name = self.name.clone();
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(drop_database(&name));
        })
        .join();
        if done.is_err() {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

/// Runs `test` with the URL of a fresh database, then drops the database whatever happened;
/// a panic in `test` is re-raised afterwards.
pub async fn with_database<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let db = TestDb::create().await;
    let outcome = AssertUnwindSafe(test(db.url.clone())).catch_unwind().await;
    db.drop_now().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Like [`with_database`] with two fresh databases.
pub async fn with_two_databases<F, Fut>(test: F)
where
    F: FnOnce(String, String) -> Fut,
    Fut: Future<Output = ()>,
{
    let a = TestDb::create().await;
    let b = TestDb::create().await;
    let outcome = AssertUnwindSafe(test(a.url.clone(), b.url.clone()))
        .catch_unwind()
        .await;
    a.drop_now().await;
    b.drop_now().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Whether a database of that name exists on the test server.
pub async fn database_exists(name: &str) -> bool {
    let mut admin = admin_connection().await;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut admin)
            .await
            .expect("query pg_database");
    let _ = admin.close().await;
    exists
}
