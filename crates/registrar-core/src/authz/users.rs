//! End users: the built-in user store, argon2id password hashes, and the trait through which a
//! library user plugs in their own authentication.

use std::fmt::Debug;
use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;

use crate::error::StoreError;
use crate::secrets::SecretGenerator;

/// An end user as the built-in store holds them. Its `Debug` leaves out the password hash.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// The stable, opaque subject identifier (`sub`), issued once; never the username, which a
    /// user may share with a former account.
    pub id: String,
    /// What the user types on the login page; unique.
    pub username: String,
    /// The argon2id PHC string. Never logged: it costs an attacker a slow offline search, but
    /// a weak password falls to one.
    pub password_hash: String,
    /// When the user was added, in seconds since the epoch.
    pub created_at: i64,
    /// `name` for the `profile` scope.
    pub name: Option<String>,
    /// `email` for the `email` scope.
    pub email: Option<String>,
    /// `email_verified` for the `email` scope.
    pub email_verified: bool,
}

impl Debug for User {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password_hash", &format_args!("<redacted>"))
            .field("created_at", &self.created_at)
            .field("name", &self.name)
            .field("email", &self.email)
            .field("email_verified", &self.email_verified)
            .finish()
    }
}

/// Where end users live (`registrar users …`).
#[async_trait]
pub trait UserStore: Send + Sync + Debug {
    /// Adds a user; `StoreError::Duplicate("username")` when the username is taken.
    async fn insert_user(&self, user: &User) -> Result<(), StoreError>;
    /// The user with that username.
    async fn find_user_by_username(&self, username: &str) -> Result<Option<User>, StoreError>;
    /// The user with that subject identifier.
    async fn get_user(&self, id: &str) -> Result<Option<User>, StoreError>;
    /// Every user, oldest first.
    async fn list_users(&self) -> Result<Vec<User>, StoreError>;
    /// Sets a new password hash, ends the user's sessions and revokes their grants; false when
    /// there is no such user.
    async fn set_password(&self, username: &str, password_hash: &str) -> Result<bool, StoreError>;
    /// Removes the user with their sessions, consents and grants; false when there was none.
    async fn remove_user(&self, username: &str) -> Result<bool, StoreError>;
}

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// An empty password, or one longer than [`MAX_PASSWORD_BYTES`].
    #[error("a password must be 1 to {MAX_PASSWORD_BYTES} bytes")]
    Length,
    /// The hasher failed (never for valid parameters).
    #[error("the password could not be hashed")]
    Hash,
}

/// Longer passwords are refused rather than hashed: argon2 would take them, but a megabyte
/// password is a denial of service, not a credential.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// OWASP Password Storage Cheat Sheet: argon2id, 19 MiB of memory, 2 iterations, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None)
        .unwrap_or_else(|_| unreachable!("the OWASP parameters are valid"));
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with argon2id and a fresh 128-bit salt from `generator`, as a PHC string.
pub fn hash_password(
    password: &str,
    generator: &dyn SecretGenerator,
) -> Result<String, PasswordError> {
    if password.is_empty() || password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::Length);
    }
    let mut salt = [0u8; 16];
    generator.fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|_| PasswordError::Hash)?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|_| PasswordError::Hash)
}

/// Whether `password` matches the PHC string `hash`; false for a malformed hash. The comparison
/// inside argon2 is constant-time.
pub fn verify_password(password: &str, hash: &str) -> bool {
    if password.is_empty() || password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// How the login page checks a username and password, and how userinfo finds a subject's claims.
/// The default, [`StoreUserAuthenticator`], uses the built-in [`UserStore`]; a library user
/// implements this to log people in against an existing user database.
#[async_trait]
pub trait UserAuthenticator: Send + Sync + Debug {
    /// The user whose password this is, or `None`: unknown user and wrong password alike, so the
    /// page cannot tell which. Should take as long for an unknown user as for a wrong password.
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<User>, StoreError>;
    /// The user with that subject identifier, for userinfo and for sessions; `None` once removed.
    async fn find(&self, id: &str) -> Result<Option<User>, StoreError>;
}

/// [`UserAuthenticator`] over a [`UserStore`] with argon2id hashes.
#[derive(Debug, Clone)]
pub struct StoreUserAuthenticator {
    users: Arc<dyn UserStore>,
    /// Verified against when the username is unknown, so that answer takes as long as a wrong
    /// password (no username enumeration by timing).
    dummy_hash: String,
}

impl StoreUserAuthenticator {
    /// The authenticator over `users`.
    pub fn new(users: Arc<dyn UserStore>) -> Self {
        Self {
            users,
            // A fixed salt is fine here: nothing is ever accepted against this hash.
            dummy_hash: argon2()
                .hash_password(
                    b"no such user",
                    &SaltString::encode_b64(b"registrar-dummy!")
                        .unwrap_or_else(|_| unreachable!("16 bytes encode")),
                )
                .map(|hash| hash.to_string())
                .unwrap_or_default(),
        }
    }
}

#[async_trait]
impl UserAuthenticator for StoreUserAuthenticator {
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<User>, StoreError> {
        let user = self.users.find_user_by_username(username).await?;
        let hash = user
            .as_ref()
            .map_or(self.dummy_hash.clone(), |user| user.password_hash.clone());
        let password = password.to_owned();
        // argon2 takes tens of milliseconds of CPU: off the async workers.
        let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .map_err(|_| StoreError::Backend("the password check did not finish".to_owned()))?;
        Ok(user.filter(|_| matches))
    }

    async fn find(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.users.get_user(id).await
    }
}
