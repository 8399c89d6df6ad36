//! The SQL of `UserStore`: users by username or subject, and the statements that end a user's
//! sessions when their password changes.

use sqlx::{Database, Encode, FromRow, Type};

use super::{Select, Statement};
use crate::rows::UserRow;

/// The columns of `UserRow`, in its order.
macro_rules! user_columns {
    () => {
        "id, username, password_hash, created_at, name, email, email_verified"
    };
}

/// A taken `username` (or `id`) fails on its unique key, which `error.rs` names.
pub(crate) fn insert_user<'q, DB: Database>(row: UserRow) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(concat!(
        "INSERT INTO users (",
        user_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ))
    .bind(row.id)
    .bind(row.username)
    .bind(row.password_hash)
    .bind(row.created_at)
    .bind(row.name)
    .bind(row.email)
    .bind(row.email_verified)
}

pub(crate) fn find_user_by_username<'q, DB: Database>(username: String) -> Select<'q, DB, UserRow>
where
    String: Encode<'q, DB> + Type<DB>,
    UserRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE username = $1"
    ))
    .bind(username)
}

pub(crate) fn get_user<'q, DB: Database>(id: String) -> Select<'q, DB, UserRow>
where
    String: Encode<'q, DB> + Type<DB>,
    UserRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id = $1"
    ))
    .bind(id)
}

/// Oldest first, ties by id, the same on every backend.
pub(crate) fn list_users<'q, DB: Database>() -> Select<'q, DB, UserRow>
where
    UserRow: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users ORDER BY created_at, id"
    ))
}

/// Sets the password hash and yields the user's id, whose sessions must then end; no row when
/// there is no such user.
pub(crate) fn set_password<'q, DB: Database>(
    username: String,
    password_hash: String,
) -> Select<'q, DB, (String,)>
where
    String: Encode<'q, DB> + Type<DB>,
    (String,): for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as("UPDATE users SET password_hash = $1 WHERE username = $2 RETURNING id")
        .bind(password_hash)
        .bind(username)
}

/// Deletes the user and yields their id, whose sessions, consents and grants must go with them;
/// no row when there was no such user.
pub(crate) fn delete_user<'q, DB: Database>(username: String) -> Select<'q, DB, (String,)>
where
    String: Encode<'q, DB> + Type<DB>,
    (String,): for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as("DELETE FROM users WHERE username = $1 RETURNING id").bind(username)
}

/// Ends every session of the user.
pub(crate) fn delete_user_sessions<'q, DB: Database>(user_id: String) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
{
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id)
}

/// Forgets every consent the user gave.
pub(crate) fn delete_user_consents<'q, DB: Database>(user_id: String) -> Statement<'q, DB>
where
    String: Encode<'q, DB> + Type<DB>,
{
    sqlx::query("DELETE FROM consents WHERE user_id = $1").bind(user_id)
}
