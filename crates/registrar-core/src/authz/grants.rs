//! What the authorization code flow stores: login sessions, remembered consent, one-time codes,
//! grants and their refresh tokens, and revoked access tokens. One trait, because the flow's
//! atomic steps (redeeming a code, rotating a refresh token) cross these records.

use std::fmt::Debug;

use async_trait::async_trait;

use crate::error::StoreError;
use crate::ids::ClientId;
use crate::secrets::TokenHash;

/// A logged-in browser. The cookie carries a random id; the store holds its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The hash of the session cookie's value.
    pub id_hash: TokenHash,
    /// The user's subject identifier.
    pub user_id: String,
    /// When the user entered their password (OIDC Core `auth_time`), seconds since the epoch.
    pub auth_time: i64,
    /// When the session ends, seconds since the epoch.
    pub expires_at: i64,
}

/// What a user allowed a client, remembered so the consent page is not shown every time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// The user's subject identifier.
    pub user_id: String,
    /// The client.
    pub client_id: ClientId,
    /// Every scope value consented to.
    pub scopes: Vec<String>,
    /// Every resource indicator (RFC 8707) consented to.
    pub resources: Vec<String>,
    /// When consent was given, seconds since the epoch.
    pub granted_at: i64,
    /// When it must be asked again; `None` for never.
    pub expires_at: Option<i64>,
}

impl Consent {
    /// Whether this consent covers `scopes` and `resources` at `now`.
    pub fn covers(&self, scopes: &[String], resources: &[String], now: i64) -> bool {
        self.expires_at.is_none_or(|expires_at| now < expires_at)
            && scopes.iter().all(|scope| self.scopes.contains(scope))
            && resources
                .iter()
                .all(|resource| self.resources.contains(resource))
    }
}

/// A grant: one approval of one authorization request, from which a code and then tokens are
/// issued. Revoking it revokes all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// A random identifier, written into every access token issued from the grant.
    pub id: String,
    /// The client it was granted to.
    pub client_id: ClientId,
    /// The user who approved it.
    pub user_id: String,
    /// The granted scope values.
    pub scopes: Vec<String>,
    /// The granted resource indicators (RFC 8707); the access tokens' `aud`.
    pub resources: Vec<String>,
    /// The user's `auth_time` when the grant was made.
    pub auth_time: i64,
    /// When the grant was made, seconds since the epoch.
    pub created_at: i64,
    /// When its refresh tokens stop working however they are used (the absolute refresh token
    /// lifetime); `None` when the grant issues no refresh token.
    pub expires_at: Option<i64>,
    /// Set once the grant is revoked; a revoked grant authorizes nothing.
    pub revoked: bool,
}

impl Grant {
    /// Whether tokens of this grant are still good at `now`: not revoked, and, for a grant with
    /// an absolute lifetime, within it.
    pub fn is_active(&self, now: i64) -> bool {
        !self.revoked && self.expires_at.is_none_or(|expires_at| now < expires_at)
    }
}

/// A one-time authorization code (RFC 6749 §4.1.2), bound to everything the token request must
/// repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    /// The hash of the code.
    pub code_hash: TokenHash,
    /// The grant the code was issued from (already stored).
    pub grant_id: String,
    /// The client the code was issued to.
    pub client_id: ClientId,
    /// The `redirect_uri` of the authorization request, exactly as sent (RFC 6749 §4.1.3).
    pub redirect_uri: String,
    /// The PKCE `code_challenge` (S256, RFC 7636 §4.2).
    pub code_challenge: String,
    /// The `nonce` of the authorization request, for the ID token (OIDC Core §3.1.2.1).
    pub nonce: Option<String>,
    /// When the code was issued, seconds since the epoch.
    pub issued_at: i64,
    /// When the code expires, seconds since the epoch.
    pub expires_at: i64,
}

/// A code as stored, with whether it was redeemed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    /// The code.
    pub code: AuthorizationCode,
    /// Whether a redemption already took it.
    pub used: bool,
}

/// What redeeming a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRedemption {
    /// The code was unused and is now used: this caller is the only one to get it.
    Redeemed(AuthorizationCode),
    /// The code was already redeemed: the caller must revoke this grant (RFC 6749 §4.1.2).
    AlreadyUsed {
        /// The grant the code was issued from.
        grant_id: String,
    },
    /// No such code (or it was purged).
    Unknown,
}

/// A refresh token as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// The hash of the token.
    pub token_hash: TokenHash,
    /// The grant it belongs to.
    pub grant_id: String,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// When it was issued, seconds since the epoch.
    pub issued_at: i64,
    /// When it expires (the sliding lifetime, capped by the grant's absolute one).
    pub expires_at: i64,
}

/// What rotating a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshRotation {
    /// The token was current and unexpired; it is now used and its successor stored.
    Rotated(RefreshToken),
    /// The token had already been rotated: someone replays it, so the caller must revoke the
    /// grant (OAuth 2.0 Security BCP §4.14.2, reuse detection).
    Reused {
        /// The grant the token belongs to.
        grant_id: String,
    },
    /// No such token, or it expired; nothing changed.
    Unknown,
}

/// Where the authorization code flow keeps its state.
#[async_trait]
pub trait AuthorizationStore: Send + Sync + Debug {
    /// Stores a new session.
    async fn insert_session(&self, session: &Session) -> Result<(), StoreError>;
    /// The unexpired session whose id hashes to `id_hash`.
    async fn find_session(
        &self,
        id_hash: &TokenHash,
        now: i64,
    ) -> Result<Option<Session>, StoreError>;
    /// Ends a session (logout); nothing when there is none.
    async fn delete_session(&self, id_hash: &TokenHash) -> Result<(), StoreError>;

    /// Stores or replaces the user's consent for the client.
    async fn upsert_consent(&self, consent: &Consent) -> Result<(), StoreError>;
    /// The user's remembered consent for the client, expired or not.
    async fn find_consent(
        &self,
        user_id: &str,
        client_id: &ClientId,
    ) -> Result<Option<Consent>, StoreError>;

    /// Stores a grant and its first code in one transaction.
    async fn insert_grant_with_code(
        &self,
        grant: &Grant,
        code: &AuthorizationCode,
    ) -> Result<(), StoreError>;
    /// Marks the code used, as one compare-and-set: of concurrent redemptions exactly one gets
    /// [`CodeRedemption::Redeemed`]. An expired code is still redeemed here (the caller refuses
    /// it by `expires_at`), so a replay after expiry is still detected as reuse.
    async fn redeem_code(&self, code_hash: &TokenHash) -> Result<CodeRedemption, StoreError>;
    /// The code with that hash, used or not, left as it is. The token endpoint checks the
    /// client, the redirect URI and the PKCE verifier against it before it spends the code, so
    /// that whoever holds a leaked code but not its verifier cannot burn it (which would make the
    /// real client's redemption look like a replay and revoke the grant).
    async fn find_code(&self, code_hash: &TokenHash) -> Result<Option<StoredCode>, StoreError>;
    /// The grant with that id, revoked or not.
    async fn get_grant(&self, grant_id: &str) -> Result<Option<Grant>, StoreError>;
    /// Revokes the grant and deletes its refresh tokens; false when there was none.
    async fn revoke_grant(&self, grant_id: &str) -> Result<bool, StoreError>;
    /// Revokes every grant of the client and forgets every consent given to it: for a client
    /// deleted, or updated so that what users consented to changed.
    async fn revoke_client_grants(&self, client_id: &ClientId) -> Result<(), StoreError>;

    /// Stores a refresh token of a stored grant.
    async fn insert_refresh_token(&self, token: &RefreshToken) -> Result<(), StoreError>;
    /// The current (unrotated) refresh token with that hash, unexpired at `now`.
    async fn find_refresh_token(
        &self,
        token_hash: &TokenHash,
        now: i64,
    ) -> Result<Option<RefreshToken>, StoreError>;
    /// Rotation for public clients: marks `old_hash` used and stores `successor` in one
    /// transaction, only while `old_hash` is current and unexpired at `now`.
    async fn rotate_refresh_token(
        &self,
        old_hash: &TokenHash,
        successor: &RefreshToken,
        now: i64,
    ) -> Result<RefreshRotation, StoreError>;

    /// Records that the access token with this `jti` is revoked until it expires (RFC 7009).
    async fn revoke_access_token(&self, jti: &str, expires_at: i64) -> Result<(), StoreError>;
    /// Whether the access token with this `jti` was revoked.
    async fn is_access_token_revoked(&self, jti: &str) -> Result<bool, StoreError>;

    /// Deletes expired sessions, codes, refresh tokens and revocations, and revoked or expired
    /// grants, older than `now`; returns how many rows went.
    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError>;
}
