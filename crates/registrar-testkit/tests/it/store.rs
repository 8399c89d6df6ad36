//! The store contract on every backend: SQLite always, PostgreSQL when `REGISTRAR_TEST_POSTGRES`
//! names a server.

use std::sync::Arc;

use registrar_store::{PgStore, SqliteStore};
use registrar_testkit::store_contract::check_all;
use registrar_testkit::{Backend, create_postgres_database, drop_postgres_database};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_passes_the_contract() {
    let folder = tempfile::TempDir::new().expect("temporary folder");
    let url = format!("sqlite://{}", folder.path().join("registrar.db").display());
    let store = SqliteStore::open(&url)
        .await
        .expect("open the SQLite store");

    check_all(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_passes_the_contract() {
    // Without a PostgreSQL server the SQLite run stands alone.
    let Some(Backend::Postgres(server_url)) = Backend::postgres() else {
        return;
    };
    let database_url = create_postgres_database(&server_url).await;
    let store = Arc::new(
        PgStore::open(&database_url)
            .await
            .expect("open the PostgreSQL store"),
    );

    // The suite runs in its own task so that the database is dropped even when a check fails.
    let outcome = tokio::spawn(check_all(store.clone())).await;
    store.close().await;
    drop_postgres_database(&server_url, &database_url).await;

    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}
