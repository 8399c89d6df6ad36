//! The scale runs' filler clients, on a real Registrar's store (SQLite, and PostgreSQL when
//! `REGISTRAR_TEST_POSTGRES` is set): each copy has its own id and hashes and the template's
//! audit event and provenance, and the server goes on working over the grown store.

use std::sync::Arc;

use registrar_bench::generator::{self, Plan, Stop, Target};
use registrar_bench::scenarios::Read;
use registrar_bench::seed::SeedStore;
use registrar_bench::session::Session;
use registrar_core::initial_token::InitialTokenOptions;
use registrar_testkit::{Backend, TestServer};

/// More than one batch of the seeder, so batches follow each other.
const FILLER: usize = registrar_bench::seed::BATCH + 1_234;

/// A bench session registering with an initial access token of its own.
async fn fresh_session(server: &TestServer) -> Session {
    let token = server.initial_token(InitialTokenOptions::default()).await;
    Session::new(
        "Registrar in-process",
        "testkit",
        Target {
            address: server.address,
        },
        Some(vec![token]),
        false,
    )
}

async fn seeds_copies_of_a_registered_client(backend: Backend) {
    let server = TestServer::spawn(backend).await;
    let mut session = fresh_session(&server).await;
    let pool = session.register_pool(2).await.expect("register the pool");
    let seeder = SeedStore::open(&server.database.url)
        .await
        .expect("open the store");
    let before = seeder.size().await.expect("size before");
    assert_eq!(before.clients, 2);

    seeder
        .seed(&pool[0].client_id, FILLER)
        .await
        .expect("seed the filler clients");
    let after = seeder.size().await.expect("size after");
    assert_eq!(after.clients, 2 + FILLER as u64);
    assert!(after.bytes > before.bytes, "{before:?} then {after:?}");

    // Every copy has the template's event and provenance, and hashes of its own.
    let counts = match &seeder {
        SeedStore::Sqlite(pool) => sqlx::query_as::<_, (i64, i64, i64, i64)>(
            "SELECT (SELECT count(*) FROM audit_events), (SELECT count(*) FROM client_provenance), \
             (SELECT count(DISTINCT rat_hash) FROM clients), (SELECT count(DISTINCT secret_hash) FROM clients)",
        )
        .fetch_one(pool)
        .await
        .expect("count"),
        SeedStore::Postgres(pool) => sqlx::query_as::<_, (i64, i64, i64, i64)>(
            "SELECT (SELECT count(*) FROM audit_events), (SELECT count(*) FROM client_provenance), \
             (SELECT count(DISTINCT rat_hash) FROM clients), (SELECT count(DISTINCT secret_hash) FROM clients)",
        )
        .fetch_one(pool)
        .await
        .expect("count"),
    };
    let clients = 2 + FILLER as i64;
    assert_eq!(counts, (clients, clients, clients, clients));
    seeder.close().await;

    // The registered clients are still read over HTTP, and registration goes on.
    let read = Arc::new(Read::new(pool));
    let outcome = generator::run(
        &Target {
            address: server.address,
        },
        read,
        &Plan {
            concurrency: 2,
            stop: Stop::Requests(20),
            sources: None,
        },
    )
    .await;
    assert_eq!(outcome.tally.statuses.get(&200), Some(&20), "{outcome:?}");
    // A session takes its tokens in blocks: a fresh one for the next registrations.
    let mut session = fresh_session(&server).await;
    let more = session
        .register_pool(3)
        .await
        .expect("register after seeding");
    assert_eq!(more.len(), 3);
}

#[tokio::test]
async fn seeding_copies_a_registered_client_on_sqlite() {
    seeds_copies_of_a_registered_client(Backend::Sqlite).await;
}

#[tokio::test]
async fn seeding_copies_a_registered_client_on_postgres() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    seeds_copies_of_a_registered_client(backend).await;
}
