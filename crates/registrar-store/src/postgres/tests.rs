//! What only the PostgreSQL backend promises: how it reports a server it cannot use.
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
