//! Turning sqlx errors into `StoreError`, the one error the store traits speak.
//!
//! Messages carry what the database said and which constraint failed, never a bound value: the
//! values are hashes and client metadata, and the database's own detail lines (which quote
//! values) are left out.

#[cfg(test)]
mod tests;

use registrar_core::error::StoreError;
use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::migrate::MigrateError;

/// Which database error codes mean "try again later" rather than "this failed"; each backend has
/// its own.
pub(crate) type IsUnavailable = fn(&str) -> bool;

pub(crate) fn store_error(error: sqlx::Error, is_unavailable: IsUnavailable) -> StoreError {
    match error {
        sqlx::Error::Database(database_error) => {
            database_store_error(&*database_error, is_unavailable)
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => StoreError::Unavailable(error.to_string()),
        sqlx::Error::Migrate(migrate_error) => migration_error(*migrate_error, is_unavailable),
        other => StoreError::Backend(other.to_string()),
    }
}

pub(crate) fn migration_error(error: MigrateError, is_unavailable: IsUnavailable) -> StoreError {
    match error {
        MigrateError::Execute(error) => store_error(error, is_unavailable),
        other => StoreError::Backend(format!("cannot migrate the database: {other}")),
    }
}

fn database_store_error(error: &dyn DatabaseError, is_unavailable: IsUnavailable) -> StoreError {
    match error.kind() {
        ErrorKind::UniqueViolation => StoreError::Duplicate(duplicate_name(error)),
        _ if error.code().is_some_and(|code| is_unavailable(&code)) => {
            StoreError::Unavailable(error.message().to_owned())
        }
        _ => StoreError::Backend(error.message().to_owned()),
    }
}

/// Names the unique key that was violated, from SQLite's message (`UNIQUE constraint failed:
/// clients.rat_hash`) or PostgreSQL's constraint name (`clients_rat_hash_key`, `signing_keys_pkey`).
fn duplicate_name(error: &dyn DatabaseError) -> &'static str {
    let text = error.constraint().unwrap_or(error.message());
    // The more specific names come first: `clients.rat_hash` also contains `clients`, and
    // `refresh_tokens.token_hash` contains `token_hash`.
    if text.contains("username") {
        "username"
    } else if text.contains("users") {
        "user_id"
    } else if text.contains("sessions") {
        "session_id"
    } else if text.contains("refresh_tokens") {
        "refresh_token"
    } else if text.contains("authorization_codes") {
        "authorization_code"
    } else if text.contains("grants") {
        "grant_id"
    } else if text.contains("rat_hash") {
        "registration_token"
    } else if text.contains("token_hash") {
        "initial_token_hash"
    } else if text.contains("signing_keys") {
        "kid"
    } else if text.contains("initial_access_tokens") {
        "initial_token_id"
    } else if text.contains("clients") {
        "client_id"
    } else {
        "key"
    }
}
