//! The SQL of the client lifecycle: recording a use, blocking, and finding and deleting the
//! clients that outlived a `lifecycle.*` TTL.
//!
//! "Expired" is one `WHERE` clause, `expired!`, used by the scan and by the delete, so that the
//! delete rechecks what the scan found. A TTL that is off is bound as `i64::MIN`, which no
//! timestamp is at or before.

use registrar_core::lifecycle::ExpiryCutoffs;
use sqlx::{Database, Encode, FromRow, Type};

use super::{Select, Statement};

/// Not blocked, and never used since a registration at or before `$2`, or last active at or
/// before `$3` (`lifecycle::ExpiryCutoffs::expiry` in SQL).
macro_rules! expired {
    () => {
        "blocked_at IS NULL AND ((last_used_at IS NULL AND client_id_issued_at <= $2) \
         OR COALESCE(last_used_at, client_id_issued_at) <= $3)"
    };
}

/// `cutoffs` as the binds of `expired!`.
fn bounds(cutoffs: &ExpiryCutoffs) -> (i64, i64) {
    (
        cutoffs.unused_before.unwrap_or(i64::MIN),
        cutoffs.inactive_before.unwrap_or(i64::MIN),
    )
}

/// Sets the last use, never moving it back.
pub(crate) fn record_use<'q, DB: Database>(client_id: String, now: i64) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(
        "UPDATE clients SET last_used_at = $2 \
         WHERE client_id = $1 AND (last_used_at IS NULL OR last_used_at < $2)",
    )
    .bind(client_id)
    .bind(now)
}

pub(crate) fn set_blocked<'q, DB: Database>(
    client_id: String,
    blocked_at: Option<i64>,
) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    sqlx::query("UPDATE clients SET blocked_at = $2 WHERE client_id = $1")
        .bind(client_id)
        .bind(blocked_at)
}

/// Up to `$1` expired clients, oldest first, with what decides which TTL they outlived.
pub(crate) fn expired_clients<'q, DB: Database>(
    cutoffs: &ExpiryCutoffs,
    limit: i64,
) -> Select<'q, DB, (String, i64, Option<i64>)>
where
    i64: Encode<'q, DB> + Type<DB>,
    (String, i64, Option<i64>): for<'r> FromRow<'r, DB::Row>,
{
    let (unused, inactive) = bounds(cutoffs);
    sqlx::query_as(concat!(
        "SELECT client_id, client_id_issued_at, last_used_at FROM clients WHERE ",
        expired!(),
        " ORDER BY client_id_issued_at, client_id LIMIT $1"
    ))
    .bind(limit)
    .bind(unused)
    .bind(inactive)
}

/// Deletes the client only while it is still expired.
pub(crate) fn delete_expired_client<'q, DB: Database>(
    client_id: String,
    cutoffs: &ExpiryCutoffs,
) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    let (unused, inactive) = bounds(cutoffs);
    sqlx::query(concat!(
        "DELETE FROM clients WHERE client_id = $1 AND ",
        expired!()
    ))
    .bind(client_id)
    .bind(unused)
    .bind(inactive)
}
