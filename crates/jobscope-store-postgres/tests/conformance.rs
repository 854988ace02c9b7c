//! Runs the store conformance suite on PostgreSQL, every case on a database of its own.
//!
//! The server comes from `JOBSCOPE_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each case creates a uniquely named database
//! there and drops it afterwards. `JOBSCOPE_TEST_POSTGRES=skip` skips these tests; otherwise an
//! unreachable server fails them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures::FutureExt;
use jobscope_store::Store;
use jobscope_store::conformance::{CASES, import_unsalted, round_trip, run_case};
use jobscope_store_postgres::PgStore;

async fn open(url: &str) -> PgStore {
    PgStore::open(url).await.expect("open the PostgreSQL store")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite_on_postgres() {
    if common::skipped() {
        return;
    }
    common::require_server().await;
    let mut failed = Vec::new();
    for case in CASES {
        let started = Instant::now();
        let outcome = AssertUnwindSafe(common::with_database(move |url| async move {
            let store = open(&url).await;
            let dynamic: &dyn Store = &store;
            run_case(case, dynamic).await;
            store.close().await;
        }))
        .catch_unwind()
        .await;
        let took = started.elapsed();
        match outcome {
            Ok(()) => eprintln!("conformance case {case}: ok ({took:.2?})"),
            Err(_) => {
                eprintln!("conformance case {case}: FAILED ({took:.2?})");
                failed.push(*case);
            }
        }
    }
    assert!(
        failed.is_empty(),
        "conformance cases failed on PostgreSQL: {failed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_import_round_trip_on_postgres() {
    if common::skipped() {
        return;
    }
    common::with_two_databases(|a, b| async move {
        let a = open(&a).await;
        let b = open(&b).await;
        round_trip(&a, &b).await;
        a.close().await;
        b.close().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsalted_export_imports_on_postgres() {
    if common::skipped() {
        return;
    }
    common::with_two_databases(|a, b| async move {
        let a = open(&a).await;
        let b = open(&b).await;
        import_unsalted(&a, &b).await;
        a.close().await;
        b.close().await;
    })
    .await;
}
