//! What only the PostgreSQL backend promises: how it reports a server it cannot use, and how its
//! pool deals with a connection the server closed.
//! The behaviour every backend shares is `registrar_testkit::store_contract`.

use super::*;

#[tokio::test]
async fn open_does_not_echo_an_invalid_url() {
    let result = PgStore::open("postgres://registrar:hunter2@[bad/registrar").await;

    let Err(StoreError::Backend(message)) = result else {
        panic!("expected Backend, got {result:?}");
    };
    assert_eq!(message, "invalid postgres url");
}

#[test]
fn connection_and_shutdown_codes_mean_unavailable() {
    let cases = [
        ("08006", true),  // connection_failure
        ("08001", true),  // sqlclient_unable_to_establish_sqlconnection
        ("53300", true),  // too_many_connections
        ("57P01", true),  // admin_shutdown
        ("57P03", true),  // cannot_connect_now
        ("23505", false), // unique_violation
        ("28P01", false), // invalid_password: a configuration error, not an outage
        ("42P01", false), // undefined_table
    ];
    for (code, expected) in cases {
        assert_eq!(is_unavailable(code), expected, "code {code}");
    }
}

/// A pool of one connection on `REGISTRAR_TEST_POSTGRES`, pinging connections idle for
/// `ping_idle_after`, with the server-side process id of its connection; `None` without a server.
async fn one_connection_pool(ping_idle_after: Duration) -> Option<(PgPool, i32)> {
    let url = std::env::var("REGISTRAR_TEST_POSTGRES").ok()?;
    let limits = PoolOptions {
        max_connections: 1,
        ..PoolOptions::default()
    };
    let pool = pool_options_pinging_after(limits, ping_idle_after)
        .connect(&url)
        .await
        .expect("connect to REGISTRAR_TEST_POSTGRES");
    let pid = backend_pid(&pool).await.expect("pg_backend_pid");
    Some((pool, pid))
}

async fn backend_pid(pool: &PgPool) -> Result<i32, StoreError> {
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(pool)
        .await
        .map_err(postgres_error)
}

/// Closes the server's end of the connection `pid`, as an administrator or an idle timeout
/// would, and waits until the server has let it go.
async fn terminate(pool: &PgPool, pid: i32) {
    let url = std::env::var("REGISTRAR_TEST_POSTGRES").expect("REGISTRAR_TEST_POSTGRES");
    let mut admin = PgConnection::connect(&url).await.expect("connect");
    let terminated: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1, 5000)")
        .bind(pid)
        .fetch_one(&mut admin)
        .await
        .expect("pg_terminate_backend");
    assert!(terminated, "the connection's process must end");
    assert_eq!(
        pool.num_idle(),
        1,
        "the pool still holds the closed connection"
    );
}

#[tokio::test]
async fn a_connection_closed_while_idle_is_pinged_and_replaced_without_an_error() {
    let Some((pool, pid)) = one_connection_pool(Duration::ZERO).await else {
        return;
    };
    terminate(&pool, pid).await;

    let replaced = backend_pid(&pool).await;

    let replaced = replaced.expect("the ping finds the closed connection and opens another");
    assert_ne!(replaced, pid);
}

/// The trade-off of pinging only connections idle for a while: one closed since its last use
/// fails its statement as unavailable, and the next statement gets a new connection.
#[tokio::test]
async fn a_connection_closed_since_its_last_use_fails_once_as_unavailable() {
    let Some((pool, pid)) = one_connection_pool(Duration::from_secs(3600)).await else {
        return;
    };
    terminate(&pool, pid).await;

    let failed = backend_pid(&pool).await;
    let next = backend_pid(&pool).await;

    assert!(
        matches!(failed, Err(StoreError::Unavailable(_))),
        "expected Unavailable, got {failed:?}"
    );
    let next = next.expect("the broken connection is discarded and another opened");
    assert_ne!(next, pid);
}
