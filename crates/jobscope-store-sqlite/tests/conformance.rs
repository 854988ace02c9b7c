//! Runs the store conformance suite on fresh SQLite files.

use jobscope_store::Store;
use jobscope_store::conformance::{CASES, import_unsalted, round_trip, run_case};
use jobscope_store_sqlite::SqliteStore;

async fn fresh(dir: &tempfile::TempDir, name: &str) -> SqliteStore {
    SqliteStore::open_path(&dir.path().join(name))
        .await
        .expect("open store")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite_on_sqlite() {
    for case in CASES {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = fresh(&dir, "jobscope.sqlite3").await;
        let dynamic: &dyn Store = &store;
        run_case(case, dynamic).await;
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_import_round_trip_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = fresh(&dir, "a.sqlite3").await;
    let b = fresh(&dir, "b.sqlite3").await;
    round_trip(&a, &b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsalted_export_imports_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = fresh(&dir, "a.sqlite3").await;
    let b = fresh(&dir, "b.sqlite3").await;
    import_unsalted(&a, &b).await;
}
