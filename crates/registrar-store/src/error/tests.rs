//! Which sqlx errors count as an outage; unique violations are checked on real databases by the
//! backends' tests and the store contract.

use super::*;

fn never(_: &str) -> bool {
    false
}

fn check(error: sqlx::Error, expected: &str) {
    let mapped = store_error(error, never);
    let variant = match &mapped {
        StoreError::Duplicate(_) => "Duplicate",
        StoreError::InitialTokenRejected => "InitialTokenRejected",
        StoreError::PolicyFull => "PolicyFull",
        StoreError::Unavailable(_) => "Unavailable",
        StoreError::Backend(_) => "Backend",
    };
    assert_eq!(variant, expected, "{mapped:?}");
}

#[test]
fn connection_failures_are_unavailable_and_the_rest_is_a_backend_error() {
    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    check(sqlx::Error::Io(refused), "Unavailable");
    check(sqlx::Error::PoolTimedOut, "Unavailable");
    check(sqlx::Error::PoolClosed, "Unavailable");
    check(sqlx::Error::WorkerCrashed, "Unavailable");
    check(sqlx::Error::RowNotFound, "Backend");
    check(
        sqlx::Error::Protocol("unexpected message".to_owned()),
        "Backend",
    );
    check(
        sqlx::Error::Migrate(Box::new(MigrateError::VersionMissing(1))),
        "Backend",
    );
    check(
        sqlx::Error::Migrate(Box::new(MigrateError::Execute(sqlx::Error::PoolTimedOut))),
        "Unavailable",
    );
}
