//! The SQL of `AuthorizationStore`: sessions, consents, grants, codes, refresh tokens and revoked
//! access tokens.
//!
//! No table has a foreign key (migration 0005 says why), so the rows that hang off a grant are
//! deleted here, by the grants they belong to: [`GrantsOf`] names which grants, and each
//! statement finds them through `grants`' indexes on `client_id` and `user_id`. A step that
//! takes several statements returns them as an array, which the store runs in one transaction.
//! Redeeming a code and rotating a refresh token are compare-and-sets on `used`, each one
//! `UPDATE … WHERE used = 0 RETURNING …`: of concurrent callers, the one whose update matched is
//! the only one to get the row.

use sqlx::{Database, Encode, FromRow, Type};

use super::{Select, Statement};
use crate::rows::{CodeRow, ConsentRow, FoundCodeRow, GrantRow, RefreshTokenRow, SessionRow};

/// The columns of `SessionRow`, in its order.
macro_rules! session_columns {
    () => {
        "id_hash, user_id, auth_time, expires_at"
    };
}

/// The columns of `ConsentRow`, in its order.
macro_rules! consent_columns {
    () => {
        "user_id, client_id, scopes, resources, granted_at, expires_at"
    };
}

/// The columns of `GrantRow`, in its order.
macro_rules! grant_columns {
    () => {
        "id, client_id, user_id, scopes, resources, auth_time, created_at, expires_at, revoked"
    };
}

/// The columns of `CodeRow`, in its order.
macro_rules! code_columns {
    () => {
        "code_hash, grant_id, client_id, redirect_uri, code_challenge, nonce, issued_at, expires_at"
    };
}

/// The columns of `RefreshTokenRow`, in its order.
macro_rules! refresh_token_columns {
    () => {
        "token_hash, grant_id, client_id, issued_at, expires_at"
    };
}

/// Which grants a statement acts on, by the key bound to `$1`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum GrantsOf {
    /// The one grant with that id.
    Grant,
    /// Every grant of the client with that id.
    Client,
    /// Every grant of the user with that id.
    User,
}

pub(crate) fn insert_session<'q, DB: Database>(row: SessionRow) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(concat!(
        "INSERT INTO sessions (",
        session_columns!(),
        ") VALUES ($1, $2, $3, $4)"
    ))
    .bind(row.id_hash)
    .bind(row.user_id)
    .bind(row.auth_time)
    .bind(row.expires_at)
}

/// The session with that id hash, while `now` is before its end.
pub(crate) fn find_session<'q, DB: Database>(
    id_hash: String,
    now: i64,
) -> Select<'q, DB, SessionRow>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    SessionRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(concat!(
        "SELECT ",
        session_columns!(),
        " FROM sessions WHERE id_hash = $1 AND expires_at > $2"
    ))
    .bind(id_hash)
    .bind(now)
}

pub(crate) fn delete_session<'q, DB: Database>(id_hash: String) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
{
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash)
}

/// One statement, so two concurrent consents of one user to one client leave one row.
pub(crate) fn upsert_consent<'q, DB: Database>(row: ConsentRow) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(concat!(
        "INSERT INTO consents (",
        consent_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (user_id, client_id) DO UPDATE SET \
         scopes = excluded.scopes, resources = excluded.resources, \
         granted_at = excluded.granted_at, expires_at = excluded.expires_at"
    ))
    .bind(row.user_id)
    .bind(row.client_id)
    .bind(row.scopes)
    .bind(row.resources)
    .bind(row.granted_at)
    .bind(row.expires_at)
}

pub(crate) fn find_consent<'q, DB: Database>(
    user_id: String,
    client_id: String,
) -> Select<'q, DB, ConsentRow>
where
    String: Encode<'q, DB> + Type<DB>,
    ConsentRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(concat!(
        "SELECT ",
        consent_columns!(),
        " FROM consents WHERE user_id = $1 AND client_id = $2"
    ))
    .bind(user_id)
    .bind(client_id)
}

/// Forgets every consent given to the client.
pub(crate) fn delete_client_consents<'q, DB: Database>(client_id: String) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
{
    sqlx::query("DELETE FROM consents WHERE client_id = $1").bind(client_id)
}

pub(crate) fn insert_grant<'q, DB: Database>(row: GrantRow) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(concat!(
        "INSERT INTO grants (",
        grant_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(row.id)
    .bind(row.client_id)
    .bind(row.user_id)
    .bind(row.scopes)
    .bind(row.resources)
    .bind(row.auth_time)
    .bind(row.created_at)
    .bind(row.expires_at)
    .bind(row.revoked)
}

pub(crate) fn get_grant<'q, DB: Database>(grant_id: String) -> Select<'q, DB, GrantRow>
where
    String: Encode<'q, DB> + Type<DB>,
    GrantRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(concat!(
        "SELECT ",
        grant_columns!(),
        " FROM grants WHERE id = $1"
    ))
    .bind(grant_id)
}

/// Revokes the grants, as three statements for one transaction: the first marks them revoked
/// (affecting no row when there are none), the others delete their refresh tokens and their
/// unused codes, which can then never be redeemed. Used codes stay until they expire, so that a
/// replay is still reported as one.
pub(crate) fn revoke_grants<'q, DB: Database>(of: GrantsOf, key: String) -> [Statement<'q, DB>; 3]
where
    String: Encode<'q, DB> + Type<DB>,
{
    let (revoke, refresh_tokens, unused_codes) = match of {
        GrantsOf::Grant => (
            "UPDATE grants SET revoked = 1 WHERE id = $1",
            "DELETE FROM refresh_tokens WHERE grant_id = $1",
            "DELETE FROM authorization_codes WHERE used = 0 AND grant_id = $1",
        ),
        GrantsOf::Client => (
            "UPDATE grants SET revoked = 1 WHERE client_id = $1",
            "DELETE FROM refresh_tokens \
             WHERE grant_id IN (SELECT id FROM grants WHERE client_id = $1)",
            "DELETE FROM authorization_codes WHERE used = 0 \
             AND grant_id IN (SELECT id FROM grants WHERE client_id = $1)",
        ),
        GrantsOf::User => (
            "UPDATE grants SET revoked = 1 WHERE user_id = $1",
            "DELETE FROM refresh_tokens \
             WHERE grant_id IN (SELECT id FROM grants WHERE user_id = $1)",
            "DELETE FROM authorization_codes WHERE used = 0 \
             AND grant_id IN (SELECT id FROM grants WHERE user_id = $1)",
        ),
    };
    [
        sqlx::query(revoke).bind(key.clone()),
        sqlx::query(refresh_tokens).bind(key.clone()),
        sqlx::query(unused_codes).bind(key),
    ]
}

/// Deletes the grants with their codes and refresh tokens, used or not, as three statements for
/// one transaction; the grants go last, since the others find their rows through them.
pub(crate) fn forget_grants<'q, DB: Database>(of: GrantsOf, key: String) -> [Statement<'q, DB>; 3]
where
    String: Encode<'q, DB> + Type<DB>,
{
    let (codes, refresh_tokens, grants) = match of {
        GrantsOf::Grant => (
            "DELETE FROM authorization_codes WHERE grant_id = $1",
            "DELETE FROM refresh_tokens WHERE grant_id = $1",
            "DELETE FROM grants WHERE id = $1",
        ),
        GrantsOf::Client => (
            "DELETE FROM authorization_codes \
             WHERE grant_id IN (SELECT id FROM grants WHERE client_id = $1)",
            "DELETE FROM refresh_tokens \
             WHERE grant_id IN (SELECT id FROM grants WHERE client_id = $1)",
            "DELETE FROM grants WHERE client_id = $1",
        ),
        GrantsOf::User => (
            "DELETE FROM authorization_codes \
             WHERE grant_id IN (SELECT id FROM grants WHERE user_id = $1)",
            "DELETE FROM refresh_tokens \
             WHERE grant_id IN (SELECT id FROM grants WHERE user_id = $1)",
            "DELETE FROM grants WHERE user_id = $1",
        ),
    };
    [
        sqlx::query(codes).bind(key.clone()),
        sqlx::query(refresh_tokens).bind(key.clone()),
        sqlx::query(grants).bind(key),
    ]
}

pub(crate) fn insert_code<'q, DB: Database>(row: CodeRow) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(concat!(
        "INSERT INTO authorization_codes (",
        code_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ))
    .bind(row.code_hash)
    .bind(row.grant_id)
    .bind(row.client_id)
    .bind(row.redirect_uri)
    .bind(row.code_challenge)
    .bind(row.nonce)
    .bind(row.issued_at)
    .bind(row.expires_at)
}

/// Marks an unused code used and yields it: the compare-and-set of a redemption. No row when the
/// code is unknown or already used. Expiry is the caller's check, so that a replay after expiry
/// is still seen.
pub(crate) fn redeem_code<'q, DB: Database>(code_hash: String) -> Select<'q, DB, CodeRow>
where
    String: Encode<'q, DB> + Type<DB>,
    CodeRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(concat!(
        "UPDATE authorization_codes SET used = 1 WHERE code_hash = $1 AND used = 0 RETURNING ",
        code_columns!()
    ))
    .bind(code_hash)
}

/// A code, used or not.
pub(crate) fn find_code<'q, DB: Database>(code_hash: String) -> Select<'q, DB, FoundCodeRow>
where
    String: Encode<'q, DB> + Type<DB>,
    FoundCodeRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(concat!(
        "SELECT ",
        code_columns!(),
        ", used FROM authorization_codes WHERE code_hash = $1"
    ))
    .bind(code_hash)
}

/// The grant of a code that was already redeemed.
pub(crate) fn used_code_grant<'q, DB: Database>(code_hash: String) -> Select<'q, DB, (String,)>
where
    String: Encode<'q, DB> + Type<DB>,
    (String,): for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as("SELECT grant_id FROM authorization_codes WHERE code_hash = $1 AND used = 1")
        .bind(code_hash)
}

pub(crate) fn insert_refresh_token<'q, DB: Database>(row: RefreshTokenRow) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(concat!(
        "INSERT INTO refresh_tokens (",
        refresh_token_columns!(),
        ") VALUES ($1, $2, $3, $4, $5)"
    ))
    .bind(row.token_hash)
    .bind(row.grant_id)
    .bind(row.client_id)
    .bind(row.issued_at)
    .bind(row.expires_at)
}

/// A refresh token is current when it is unused, unexpired at `$2`, and its grant is active:
/// a token inserted for a grant that was revoked meanwhile (a race of redemption and revocation
/// on PostgreSQL, whose `READ COMMITTED` revocation cannot see a row committed after it began)
/// is then never current.
macro_rules! current_refresh_token {
    () => {
        "used = 0 AND expires_at > $2 AND EXISTS (SELECT 1 FROM grants \
         WHERE grants.id = refresh_tokens.grant_id AND grants.revoked = 0 \
         AND (grants.expires_at IS NULL OR grants.expires_at > $2))"
    };
}

/// The current refresh token with that hash.
pub(crate) fn find_refresh_token<'q, DB: Database>(
    token_hash: String,
    now: i64,
) -> Select<'q, DB, RefreshTokenRow>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    RefreshTokenRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(concat!(
        "SELECT ",
        refresh_token_columns!(),
        " FROM refresh_tokens WHERE token_hash = $1 AND ",
        current_refresh_token!()
    ))
    .bind(token_hash)
    .bind(now)
}

/// Marks a current refresh token used and yields it: the compare-and-set of a rotation. No row
/// when the token is unknown, used, expired or of an inactive grant.
pub(crate) fn use_refresh_token<'q, DB: Database>(
    token_hash: String,
    now: i64,
) -> Select<'q, DB, RefreshTokenRow>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    RefreshTokenRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(concat!(
        "UPDATE refresh_tokens SET used = 1 WHERE token_hash = $1 AND ",
        current_refresh_token!(),
        " RETURNING ",
        refresh_token_columns!()
    ))
    .bind(token_hash)
    .bind(now)
}

/// The grant of a refresh token that was already rotated.
pub(crate) fn used_refresh_token_grant<'q, DB: Database>(
    token_hash: String,
) -> Select<'q, DB, (String,)>
where
    String: Encode<'q, DB> + Type<DB>,
    (String,): for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as("SELECT grant_id FROM refresh_tokens WHERE token_hash = $1 AND used = 1")
        .bind(token_hash)
}

/// Records a revoked access token; a second revocation keeps the later expiry.
pub(crate) fn revoke_access_token<'q, DB: Database>(
    jti: String,
    expires_at: i64,
) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(
        "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) \
         ON CONFLICT (jti) DO UPDATE SET expires_at = excluded.expires_at \
         WHERE revoked_access_tokens.expires_at < excluded.expires_at",
    )
    .bind(jti)
    .bind(expires_at)
}

/// How many revocations the jti has: 0 or 1.
pub(crate) fn count_access_token_revocations<'q, DB: Database>(
    jti: String,
) -> sqlx::query::QueryScalar<'q, DB, i64, <DB as Database>::Arguments<'q>>
where
    String: Encode<'q, DB> + Type<DB>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_scalar("SELECT COUNT(*) FROM revoked_access_tokens WHERE jti = $1").bind(jti)
}

/// A purge at `now`, as statements for one transaction: the codes and refresh tokens of the
/// grants about to go, those grants (revoked and made before `now`, or past their absolute
/// lifetime), then whatever else expired. Each deletes what the `find_*` statements no longer
/// return at `now`; a grant revoked in the second it was made is kept to the next purge, so that
/// the request that revoked it still reads it as revoked.
pub(crate) fn purge<'q, DB: Database>(now: i64) -> [Statement<'q, DB>; 7]
where
    i64: Encode<'q, DB> + Type<DB>,
{
    [
        "DELETE FROM authorization_codes WHERE grant_id IN \
         (SELECT id FROM grants WHERE (revoked = 1 AND created_at < $1) OR expires_at <= $1)",
        "DELETE FROM refresh_tokens WHERE grant_id IN \
         (SELECT id FROM grants WHERE (revoked = 1 AND created_at < $1) OR expires_at <= $1)",
        "DELETE FROM grants WHERE (revoked = 1 AND created_at < $1) OR expires_at <= $1",
        "DELETE FROM sessions WHERE expires_at <= $1",
        "DELETE FROM authorization_codes WHERE expires_at <= $1",
        "DELETE FROM refresh_tokens WHERE expires_at <= $1",
        "DELETE FROM revoked_access_tokens WHERE expires_at <= $1",
    ]
    .map(|sql| sqlx::query(sql).bind(now))
}
