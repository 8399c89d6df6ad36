//! The SQL every backend runs, each statement beside the binds that fill it.
//!
//! Placeholders are `$N`, which PostgreSQL requires and SQLite accepts, so one text serves both and
//! a backend module only chooses how to run it (its transaction, its error codes).
//! Every compare-and-set is one statement whose `WHERE` clause is the check, never a read followed
//! by a write.
//! The statements of users, of the authorization code flow, of idempotency keys and of audit
//! events are in `users`, `authorization`, `idempotency` and `audit`; PostgreSQL's registration
//! in one statement, which SQLite cannot run, is in `registration`.

use sqlx::query::{Query, QueryAs};
use sqlx::{Database, Encode, FromRow, Type};

use crate::rows::{ClientRow, InitialTokenRow, SigningKeyRow, SummaryRow};

pub(crate) mod audit;
pub(crate) mod authorization;
pub(crate) mod idempotency;
pub(crate) mod lifecycle;
pub(crate) mod users;

type Statement<'q, DB> = Query<'q, DB, <DB as Database>::Arguments<'q>>;
type Select<'q, DB, Row> = QueryAs<'q, DB, Row, <DB as Database>::Arguments<'q>>;

/// The columns of `ClientRow`, in its order.
macro_rules! client_columns {
    () => {
        "client_id, client_id_issued_at, updated_at, client_name, grant_types, metadata, \
         secret_hash, secret_expires_at, rat_hash, initial_token_id, secret_ciphertext, extensions, \
         registered_anonymously, policy, last_used_at, blocked_at"
    };
}

/// The columns of `InitialTokenRow`, in its order.
macro_rules! token_columns {
    () => {
        "id, token_hash, created_at, expires_at, max_uses, uses, note, policy"
    };
}

/// The columns of `SigningKeyRow`, in its order.
macro_rules! signing_key_columns {
    () => {
        "kid, algorithm, encrypted_private_key, public_jwk, created_at, retired_at"
    };
}

// After `client_columns!`, which it uses: a macro is seen only below its definition.
pub(crate) mod registration;

/// Binds a client row to `$1` … `$16`, in the order of `client_columns!`.
fn bind_client_row<'q, DB: Database>(query: Statement<'q, DB>, row: ClientRow) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    query
        .bind(row.client_id)
        .bind(row.client_id_issued_at)
        .bind(row.updated_at)
        .bind(row.client_name)
        .bind(row.grant_types)
        .bind(row.metadata)
        .bind(row.secret_hash)
        .bind(row.secret_expires_at)
        .bind(row.rat_hash)
        .bind(row.initial_token_id)
        .bind(row.secret_ciphertext)
        .bind(row.extensions)
        .bind(row.registered_anonymously)
        .bind(row.policy)
        .bind(row.last_used_at)
        .bind(row.blocked_at)
}

pub(crate) fn insert_client<'q, DB: Database>(row: ClientRow) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    let query = sqlx::query(concat!(
        "INSERT INTO clients (",
        client_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    ));
    bind_client_row(query, row)
}

/// Inserts a client only while its policy holds fewer than `max_clients`; affects no row when it
/// is full. The count and the insert are one statement, so within one transaction of a single
/// writer (SQLite) or under the policy's advisory lock (PostgreSQL) the cap is exact.
pub(crate) fn insert_client_within<'q, DB: Database>(
    row: ClientRow,
    max_clients: i64,
) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    let query = sqlx::query(concat!(
        "INSERT INTO clients (",
        client_columns!(),
        ") SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16 \
         WHERE (SELECT COUNT(*) FROM clients WHERE policy = $14) < $17"
    ));
    bind_client_row(query, row).bind(max_clients)
}

/// How many clients were registered under a policy.
pub(crate) fn count_clients_with_policy<'q, DB: Database>(
    policy: String,
) -> sqlx::query::QueryScalar<'q, DB, i64, <DB as Database>::Arguments<'q>>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: for<'r> sqlx::Decode<'r, DB> + Type<DB>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_scalar("SELECT COUNT(*) FROM clients WHERE policy = $1").bind(policy)
}

/// How many clients each policy holds, clients registered before policies existed under
/// `NULL`: one scan of the table, for the metrics' client gauge.
pub(crate) fn count_clients_by_policy<'q, DB: Database>() -> Select<'q, DB, (Option<String>, i64)>
where
    (Option<String>, i64): for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as("SELECT policy, COUNT(*) FROM clients GROUP BY policy ORDER BY policy")
}

/// An administrator's update: replaces the metadata, secret and extensions, leaving the
/// registration access token as it is; affects no row when the client is gone.
pub(crate) fn replace_client_keeping_token<'q, DB: Database>(row: ClientRow) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(
        "UPDATE clients SET \
         metadata = $1, client_name = $2, grant_types = $3, \
         secret_hash = $4, secret_expires_at = $5, secret_ciphertext = $6, updated_at = $7, \
         extensions = $8 \
         WHERE client_id = $9",
    )
    .bind(row.metadata)
    .bind(row.client_name)
    .bind(row.grant_types)
    .bind(row.secret_hash)
    .bind(row.secret_expires_at)
    .bind(row.secret_ciphertext)
    .bind(row.updated_at)
    .bind(row.extensions)
    .bind(row.client_id)
}

/// Takes one use of a usable initial access token; affects no row when it is unknown, expired or
/// used up. Concurrent callers serialize on the row, and each re-checks `uses` after the wait.
pub(crate) fn consume_initial_token<'q, DB: Database>(
    token_hash: String,
    now: i64,
) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(
        "UPDATE initial_access_tokens SET uses = uses + 1 \
         WHERE token_hash = $1 \
         AND (expires_at IS NULL OR expires_at > $2) \
         AND (max_uses IS NULL OR uses < max_uses)",
    )
    .bind(token_hash)
    .bind(now)
}

pub(crate) fn get_client<'q, DB: Database>(client_id: String) -> Select<'q, DB, ClientRow>
where
    String: Encode<'q, DB> + Type<DB>,
    ClientRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(concat!(
        "SELECT ",
        client_columns!(),
        " FROM clients WHERE client_id = $1"
    ))
    .bind(client_id)
}

/// The client whose current token, or previous token still in its grace period, has this hash.
pub(crate) fn find_client_by_registration_token<'q, DB: Database>(
    token_hash: String,
    now: i64,
) -> Select<'q, DB, ClientRow>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    ClientRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(concat!(
        "SELECT ",
        client_columns!(),
        " FROM clients \
         WHERE rat_hash = $1 OR (rat_prev_hash = $1 AND rat_prev_expires_at > $2)"
    ))
    .bind(token_hash)
    .bind(now)
}

/// What `replace_client` binds.
#[derive(Debug)]
pub(crate) struct Replacement {
    pub row: ClientRow,
    pub presented: String,
    pub now: i64,
    pub previous_valid_until: i64,
}

/// Replaces the client and rotates its registration access token, only while the presented token
/// is still the current one or the previous one within its grace period.
/// Every `SET` expression reads the row as it was, so `rat_prev_hash` gets the replaced token.
pub(crate) fn replace_client<'q, DB: Database>(replacement: Replacement) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    let Replacement {
        row,
        presented,
        now,
        previous_valid_until,
    } = replacement;
    sqlx::query(
        "UPDATE clients SET \
         metadata = $1, client_name = $2, grant_types = $3, \
         secret_hash = $4, secret_expires_at = $5, secret_ciphertext = $6, updated_at = $7, \
         rat_prev_hash = CASE WHEN $8 > $9 THEN rat_hash ELSE NULL END, \
         rat_prev_expires_at = CASE WHEN $8 > $9 THEN $8 ELSE NULL END, \
         rat_hash = $10, extensions = $13 \
         WHERE client_id = $11 \
         AND (rat_hash = $12 OR (rat_prev_hash = $12 AND rat_prev_expires_at > $9))",
    )
    .bind(row.metadata)
    .bind(row.client_name)
    .bind(row.grant_types)
    .bind(row.secret_hash)
    .bind(row.secret_expires_at)
    .bind(row.secret_ciphertext)
    .bind(row.updated_at)
    .bind(previous_valid_until)
    .bind(now)
    .bind(row.rat_hash)
    .bind(row.client_id)
    .bind(presented)
    .bind(row.extensions)
}

/// RFC 7592 §2.1: forgets the current and the previous registration access token.
pub(crate) fn revoke_registration_token<'q, DB: Database>(client_id: String) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(
        "UPDATE clients SET rat_hash = NULL, rat_prev_hash = NULL, rat_prev_expires_at = NULL \
         WHERE client_id = $1",
    )
    .bind(client_id)
}

pub(crate) fn delete_client<'q, DB: Database>(client_id: String) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
{
    sqlx::query("DELETE FROM clients WHERE client_id = $1").bind(client_id)
}

/// Oldest first; clients issued in the same second are ordered by id, the same on every backend.
pub(crate) fn list_clients<'q, DB: Database>() -> Select<'q, DB, SummaryRow>
where
    SummaryRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(
        "SELECT client_id, client_name, client_id_issued_at, grant_types, last_used_at, \
         blocked_at FROM clients \
         ORDER BY client_id_issued_at, client_id",
    )
}

pub(crate) fn ping<'q, DB: Database>() -> Statement<'q, DB> {
    sqlx::query("SELECT 1")
}

pub(crate) fn insert_initial_token<'q, DB: Database>(row: InitialTokenRow) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(concat!(
        "INSERT INTO initial_access_tokens (",
        token_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(row.id)
    .bind(row.token_hash)
    .bind(row.created_at)
    .bind(row.expires_at)
    .bind(row.max_uses)
    .bind(row.uses)
    .bind(row.note)
    .bind(row.policy)
}

pub(crate) fn find_initial_token<'q, DB: Database>(
    token_hash: String,
) -> Select<'q, DB, InitialTokenRow>
where
    String: Encode<'q, DB> + Type<DB>,
    InitialTokenRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(concat!(
        "SELECT ",
        token_columns!(),
        " FROM initial_access_tokens WHERE token_hash = $1"
    ))
    .bind(token_hash)
}

pub(crate) fn list_initial_tokens<'q, DB: Database>() -> Select<'q, DB, InitialTokenRow>
where
    InitialTokenRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(concat!(
        "SELECT ",
        token_columns!(),
        " FROM initial_access_tokens ORDER BY created_at, id"
    ))
}

/// Revoking deletes the row: the token is then unknown, which is all a revoked token needs to be.
pub(crate) fn revoke_initial_token<'q, DB: Database>(id: String) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
{
    sqlx::query("DELETE FROM initial_access_tokens WHERE id = $1").bind(id)
}

pub(crate) fn insert_signing_key<'q, DB: Database>(row: SigningKeyRow) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(concat!(
        "INSERT INTO signing_keys (",
        signing_key_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6)"
    ))
    .bind(row.kid)
    .bind(row.algorithm)
    .bind(row.encrypted_private_key)
    .bind(row.public_jwk)
    .bind(row.created_at)
    .bind(row.retired_at)
}

/// Oldest first, ties by kid, the same on every backend.
pub(crate) fn list_signing_keys<'q, DB: Database>() -> Select<'q, DB, SigningKeyRow>
where
    SigningKeyRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(concat!(
        "SELECT ",
        signing_key_columns!(),
        " FROM signing_keys ORDER BY created_at, kid"
    ))
}

/// Retires a key once: affects no row when the kid is unknown or the key is already retired.
pub(crate) fn retire_signing_key<'q, DB: Database>(
    kid: String,
    retired_at: i64,
) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE kid = $2 AND retired_at IS NULL")
        .bind(retired_at)
        .bind(kid)
}

/// What `record_jti` binds.
#[derive(Debug)]
pub(crate) struct JtiRecord {
    pub client_id: String,
    pub jti: String,
    pub expires_at: i64,
    /// Rows that expired before this are forgotten (`replay::forget_before`).
    pub forget_before: i64,
}

/// Records a jti, affecting one row when it is fresh and none when it is a replay.
/// The primary key decides, so concurrent callers with the same pair have one winner: the others
/// wait for its row and then find the conflict. A conflicting row that is long expired is taken
/// over, so a recorded jti never needs a purge to be usable again.
pub(crate) fn record_jti<'q, DB: Database>(record: JtiRecord) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    let JtiRecord {
        client_id,
        jti,
        expires_at,
        forget_before,
    } = record;
    sqlx::query(
        "INSERT INTO assertion_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = excluded.expires_at \
         WHERE assertion_jtis.expires_at < $4",
    )
    .bind(client_id)
    .bind(jti)
    .bind(expires_at)
    .bind(forget_before)
}

/// How many rows would make `record_jti` with this record refuse the jti: 0 or 1. A read: the
/// token endpoint asks before it verifies a signature, and records only afterwards.
pub(crate) fn count_recorded_jtis<'q, DB: Database>(
    record: JtiRecord,
) -> sqlx::query::QueryScalar<'q, DB, i64, <DB as Database>::Arguments<'q>>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    let JtiRecord {
        client_id,
        jti,
        forget_before,
        ..
    } = record;
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM assertion_jtis \
         WHERE client_id = $1 AND jti = $2 AND expires_at >= $3",
    )
    .bind(client_id)
    .bind(jti)
    .bind(forget_before)
}

/// Deletes the rows that expired before `forget_before`; the index on `expires_at` keeps it cheap.
pub(crate) fn purge_jtis<'q, DB: Database>(forget_before: i64) -> Statement<'q, DB>
where
    i64: Encode<'q, DB> + Type<DB>,
{
    sqlx::query("DELETE FROM assertion_jtis WHERE expires_at < $1").bind(forget_before)
}
