//! PostgreSQL's registration in one statement: the initial access token's use, the client, its
//! `Register` event and its provenance, which `PgStore::commit_write` runs in autocommit instead of
//! the transaction of `run_write`.
//!
//! Why one statement: in a transaction the same writes are six round trips (`BEGIN`, the use, the
//! client, the event, the provenance, `COMMIT`), and a profile of registrations on PostgreSQL spent
//! 30% of the server core in socket I/O to the database.
//! A statement is atomic on its own, so a unique violation anywhere rolls back all of it, the use
//! included, and it needs no `BEGIN`.
//! Its data-modifying `WITH` parts run once each, on one snapshot, and see each other only
//! through `RETURNING`: the client is inserted only if the `UPDATE` returned the use, the event
//! only with the inserted client, the provenance from the inserted event.
//! Concurrent registrations on one token still take turns on its row: the `UPDATE` waits for the
//! row another statement is changing and then re-checks `uses` against the committed row, as the
//! `UPDATE` of `consume_initial_token` does alone.
//! SQLite has no data-modifying `WITH`, and batches its writes in its group commit instead.

use sqlx::Postgres;

use super::{Statement, bind_client_row};
use crate::rows::{ClientRow, EventRow};

/// What [`register_client`] binds: a registration without an idempotency key or a policy cap,
/// with its successful `Register` event, whose `client_id` is the client's.
#[derive(Debug)]
pub(crate) struct Registration {
    pub row: ClientRow,
    /// The hex hash of the initial access token to take a use of; none for an open registration.
    pub initial_token: Option<String>,
    pub now: i64,
    pub event: EventRow,
}

/// Registers a client in one statement, which returns one row of one boolean column: whether
/// the client was inserted, `false` only when the initial access token is unknown, expired or
/// used up, and then nothing was written.
/// A client id or registration access token already taken fails the statement with PostgreSQL's
/// unique violation, which leaves the token's use untaken.
pub(crate) fn register_client<'q>(registration: Registration) -> Statement<'q, Postgres> {
    let Registration {
        row,
        initial_token,
        now,
        event,
    } = registration;
    // `$17 IS NULL` lets a registration without a token insert: its `UPDATE` matches no row.
    let query = sqlx::query(concat!(
        "WITH consumed AS (\
             UPDATE initial_access_tokens SET uses = uses + 1 \
             WHERE token_hash = $17 \
             AND (expires_at IS NULL OR expires_at > $18) \
             AND (max_uses IS NULL OR uses < max_uses) \
             RETURNING 1\
         ), client AS (\
             INSERT INTO clients (",
        client_columns!(),
        ") SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16 \
             WHERE $17 IS NULL OR EXISTS (SELECT 1 FROM consumed) \
             RETURNING client_id\
         ), event AS (\
             INSERT INTO audit_events (time, action, outcome, client_id, route, credential_id, \
             credential_issuer, software_id, source_ip, user_agent, error, changes) \
             SELECT $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30 FROM client \
             RETURNING client_id, time, route, credential_id, credential_issuer, software_id, \
             source_ip, user_agent\
         ), provenance AS (\
             INSERT INTO client_provenance (client_id, registered_at, route, credential_id, \
             credential_issuer, software_id, source_ip, user_agent) \
             SELECT client_id, time, route, credential_id, credential_issuer, software_id, \
             source_ip, user_agent FROM event \
             ON CONFLICT (client_id) DO UPDATE SET registered_at = excluded.registered_at, \
             route = excluded.route, credential_id = excluded.credential_id, \
             credential_issuer = excluded.credential_issuer, software_id = excluded.software_id, \
             source_ip = excluded.source_ip, user_agent = excluded.user_agent\
         ) \
         SELECT EXISTS (SELECT 1 FROM client)"
    ));
    bind_client_row(query, row)
        .bind(initial_token)
        .bind(now)
        .bind(event.time)
        .bind(event.action)
        .bind(event.outcome)
        .bind(event.client_id)
        .bind(event.route)
        .bind(event.credential_id)
        .bind(event.credential_issuer)
        .bind(event.software_id)
        .bind(event.source_ip)
        .bind(event.user_agent)
        .bind(event.error)
        .bind(event.changes)
}
