//! When the database is exhausted or gone, requests get a quick `503` instead of hanging,
//! `/readyz` says so, and the server recovers by itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use registrar_core::store::Store;
use registrar_store::{PgStore, PoolOptions, SqliteStore};
use registrar_testkit::tcp_proxy::TcpProxy;
use registrar_testkit::{Backend, TestDatabase, TestServer, backends};
use serde_json::json;

use crate::{expect_error, expect_json};

backends!(exhausted_pool_answers_503_and_recovers);

fn short_pool() -> PoolOptions {
    PoolOptions {
        max_connections: 1,
        acquire_timeout: Duration::from_secs(1),
    }
}

/// The concrete store, kept beside the server's `Arc<dyn Store>` so the test can reach its pool.
enum Concrete {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// A pooled connection the test holds, starving the server.
#[allow(dead_code)] // Held only to be dropped.
enum Held {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl Concrete {
    async fn open(backend: &Backend, url: &str) -> Self {
        match backend {
            Backend::Sqlite => {
                Self::Sqlite(SqliteStore::open_with(url, short_pool()).await.unwrap())
            }
            Backend::Postgres(_) => {
                Self::Postgres(PgStore::open_with(url, short_pool()).await.unwrap())
            }
        }
    }

    fn shared(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite(store) => Arc::new(store.clone()),
            Self::Postgres(store) => Arc::new(store.clone()),
        }
    }

    async fn hold(&self) -> Held {
        match self {
            Self::Sqlite(store) => Held::Sqlite(store.pool().acquire().await.unwrap()),
            Self::Postgres(store) => Held::Postgres(store.pool().acquire().await.unwrap()),
        }
    }
}

async fn exhausted_pool_answers_503_and_recovers(backend: Backend) {
    let database = TestDatabase::create(&backend).await;
    let concrete = Concrete::open(&backend, &database.url).await;
    let server = TestServer::spawn_on(database, concrete.shared(), |_| {}).await;
    let token = server.initial_token(Default::default()).await;
    let register = || {
        server
            .http()
            .post(server.url("/connect/dcr"))
            .bearer_auth(&token)
            .json(&json!({"redirect_uris": ["https://a.example/cb"]}))
            .send()
    };
    expect_json(register().await.unwrap(), 201).await;

    let held = concrete.hold().await;
    let started = Instant::now();
    let response = register().await.unwrap();
    assert_eq!(response.headers()["retry-after"], "1");
    expect_error(response, 503, "temporarily_unavailable").await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let ready = server
        .http()
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 503);

    drop(held);
    expect_json(register().await.unwrap(), 201).await;
    let ready = server
        .http()
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 200);
}

/// PostgreSQL goes away under a running server and comes back (through a proxy the test cuts).
/// Needs `REGISTRAR_TEST_POSTGRES`; SQLite has no connection to lose.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_answers_503_quickly_and_the_server_recovers() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let database = TestDatabase::create(&backend).await;
    let mut direct = url::Url::parse(&database.url).unwrap();
    let target = format!(
        "{}:{}",
        direct.host_str().unwrap(),
        direct.port().unwrap_or(5432)
    );
    let target = tokio::net::lookup_host(target)
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = TcpProxy::start(target).await;
    direct.set_host(Some("127.0.0.1")).unwrap();
    direct.set_port(Some(proxy.address().port())).unwrap();
    let pool = PoolOptions {
        max_connections: 4,
        acquire_timeout: Duration::from_secs(1),
    };
    let store = registrar_store::connect_with(direct.as_str(), pool)
        .await
        .unwrap();
    let server = TestServer::spawn_on(database, store, |_| {}).await;
    let token = server.initial_token(Default::default()).await;
    let register = || {
        server
            .http()
            .post(server.url("/connect/dcr"))
            .bearer_auth(&token)
            .json(&json!({"redirect_uris": ["https://a.example/cb"]}))
            .send()
    };
    expect_json(register().await.unwrap(), 201).await;

    proxy.cut();
    let started = Instant::now();
    let ready = server
        .http()
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    expect_error(register().await.unwrap(), 503, "temporarily_unavailable").await;
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let ready = server
            .http()
            .get(server.url("/readyz"))
            .send()
            .await
            .unwrap();
        if ready.status().as_u16() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the server did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    expect_json(register().await.unwrap(), 201).await;
}
