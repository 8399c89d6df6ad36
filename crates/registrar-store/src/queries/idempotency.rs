//! The SQL of `IdempotencyStore`: a registration's key record, inserted in the client's
//! transaction, found while its window lasts, and purged after.

use sqlx::{Database, Encode, FromRow, Type};

use super::{Select, Statement};
use crate::rows::IdempotencyRow;

/// The columns of `IdempotencyRow`, in its order.
macro_rules! idempotency_columns {
    () => {
        "key_hash, request_hash, client_id, sealed_response, created_at, expires_at"
    };
}

/// Records a key, affecting one row when it is fresh or its record expired by `now`, and none
/// when a live record holds it. The primary key decides: of concurrent inserts one wins, the
/// others wait for its transaction and then find the conflict (PostgreSQL), or run after it on
/// the one writer (SQLite).
pub(crate) fn record_key<'q, DB: Database>(row: IdempotencyRow, now: i64) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(concat!(
        "INSERT INTO idempotency_keys (",
        idempotency_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (key_hash) DO UPDATE SET \
         request_hash = excluded.request_hash, client_id = excluded.client_id, \
         sealed_response = excluded.sealed_response, created_at = excluded.created_at, \
         expires_at = excluded.expires_at \
         WHERE idempotency_keys.expires_at <= $7"
    ))
    .bind(row.key_hash)
    .bind(row.request_hash)
    .bind(row.client_id)
    .bind(row.sealed_response)
    .bind(row.created_at)
    .bind(row.expires_at)
    .bind(now)
}

/// The live record of a key hash.
pub(crate) fn find_key<'q, DB: Database>(
    key_hash: String,
    now: i64,
) -> Select<'q, DB, IdempotencyRow>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    IdempotencyRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(concat!(
        "SELECT ",
        idempotency_columns!(),
        " FROM idempotency_keys WHERE key_hash = $1 AND expires_at > $2"
    ))
    .bind(key_hash)
    .bind(now)
}

/// Deletes the records expired by `now`; the index on `expires_at` keeps it cheap.
pub(crate) fn purge_keys<'q, DB: Database>(now: i64) -> Statement<'q, DB>
where
    i64: Encode<'q, DB> + Type<DB>,
{
    sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= $1").bind(now)
}
