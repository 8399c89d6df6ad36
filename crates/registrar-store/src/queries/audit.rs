//! The SQL of `EventStore`: audit events and client provenance.
//!
//! A refusal's insert is followed, in its transaction, by [`drop_old_refusals`], one statement
//! that keeps the newest refusals and deletes the rest through the partial index on them.

use sqlx::{Database, Encode, FromRow, Type};

use super::{Select, Statement};
use crate::rows::{EventRow, ProvenanceRow};

/// The columns of `EventRow`, in its order.
macro_rules! event_columns {
    () => {
        "id, time, action, outcome, client_id, route, credential_id, credential_issuer, \
         software_id, source_ip, user_agent, error, changes"
    };
}

pub(crate) fn insert_event<'q, DB: Database>(row: EventRow) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(
        "INSERT INTO audit_events (time, action, outcome, client_id, route, credential_id, \
         credential_issuer, software_id, source_ip, user_agent, error, changes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(row.time)
    .bind(row.action)
    .bind(row.outcome)
    .bind(row.client_id)
    .bind(row.route)
    .bind(row.credential_id)
    .bind(row.credential_issuer)
    .bind(row.software_id)
    .bind(row.source_ip)
    .bind(row.user_agent)
    .bind(row.error)
    .bind(row.changes)
}

/// Deletes every refusal older than the newest `keep`; nothing while there are no more.
pub(crate) fn drop_old_refusals<'q, DB: Database>(keep: i64) -> Statement<'q, DB>
where
    i64: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(
        "DELETE FROM audit_events WHERE outcome <> 'success' AND id <= \
         (SELECT id FROM audit_events WHERE outcome <> 'success' \
          ORDER BY id DESC LIMIT 1 OFFSET $1)",
    )
    .bind(keep)
}

/// The newest events at or after `since`, newest first.
pub(crate) fn list_events<'q, DB: Database>(since: i64, limit: i64) -> Select<'q, DB, EventRow>
where
    i64: Encode<'q, DB> + Type<DB>,
    EventRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(concat!(
        "SELECT ",
        event_columns!(),
        " FROM audit_events WHERE time >= $1 ORDER BY time DESC, id DESC LIMIT $2"
    ))
    .bind(since)
    .bind(limit)
}

/// The newest events of one client at or after `since`, newest first.
pub(crate) fn list_client_events<'q, DB: Database>(
    client_id: String,
    since: i64,
    limit: i64,
) -> Select<'q, DB, EventRow>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    EventRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(concat!(
        "SELECT ",
        event_columns!(),
        " FROM audit_events WHERE client_id = $1 AND time >= $2 \
         ORDER BY time DESC, id DESC LIMIT $3"
    ))
    .bind(client_id)
    .bind(since)
    .bind(limit)
}

pub(crate) fn purge_events<'q, DB: Database>(before: i64) -> Statement<'q, DB>
where
    i64: Encode<'q, DB> + Type<DB>,
{
    sqlx::query("DELETE FROM audit_events WHERE time < $1").bind(before)
}

/// Keeps a registration's provenance; a row left by a client of the same id that a store of
/// its own deleted is replaced.
pub(crate) fn upsert_provenance<'q, DB: Database>(row: ProvenanceRow) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(
        "INSERT INTO client_provenance (client_id, registered_at, route, credential_id, \
         credential_issuer, software_id, source_ip, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (client_id) DO UPDATE SET registered_at = excluded.registered_at, \
         route = excluded.route, credential_id = excluded.credential_id, \
         credential_issuer = excluded.credential_issuer, software_id = excluded.software_id, \
         source_ip = excluded.source_ip, user_agent = excluded.user_agent",
    )
    .bind(row.client_id)
    .bind(row.registered_at)
    .bind(row.route)
    .bind(row.credential_id)
    .bind(row.credential_issuer)
    .bind(row.software_id)
    .bind(row.source_ip)
    .bind(row.user_agent)
}

pub(crate) fn delete_provenance<'q, DB: Database>(client_id: String) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
{
    sqlx::query("DELETE FROM client_provenance WHERE client_id = $1").bind(client_id)
}

pub(crate) fn get_provenance<'q, DB: Database>(client_id: String) -> Select<'q, DB, ProvenanceRow>
where
    String: Encode<'q, DB> + Type<DB>,
    ProvenanceRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(
        "SELECT client_id, registered_at, route, credential_id, credential_issuer, software_id, \
         source_ip, user_agent FROM client_provenance WHERE client_id = $1",
    )
    .bind(client_id)
}
