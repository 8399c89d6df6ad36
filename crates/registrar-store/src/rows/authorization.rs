//! Rows of the authorization code flow's tables (migration 0005) and their conversion to and
//! from the `registrar_core::authz` types.
//!
//! Scopes and resources are JSON arrays of strings, as `grant_types` is on `clients`; hashes are
//! lowercase hex and flags `0` or `1`, as everywhere.

use registrar_core::authz::{
    AuthorizationCode, Consent, Grant, RefreshToken, Session, StoredCode, User,
};
use registrar_core::error::StoreError;

use super::{from_json, parse_client_id, parse_hash, to_json};

/// One row of `users`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRow {
    pub id: String,
    pub username: String,
    pub password_hash: String,
    pub created_at: i64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub email_verified: i64,
}

impl UserRow {
    pub fn from_user(user: &User) -> Self {
        Self {
            id: user.id.clone(),
            username: user.username.clone(),
            password_hash: user.password_hash.clone(),
            created_at: user.created_at,
            name: user.name.clone(),
            email: user.email.clone(),
            email_verified: i64::from(user.email_verified),
        }
    }

    pub fn into_user(self) -> User {
        User {
            id: self.id,
            username: self.username,
            password_hash: self.password_hash,
            created_at: self.created_at,
            name: self.name,
            email: self.email,
            email_verified: self.email_verified != 0,
        }
    }
}

/// One row of `sessions`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub id_hash: String,
    pub user_id: String,
    pub auth_time: i64,
    pub expires_at: i64,
}

impl SessionRow {
    pub fn from_session(session: &Session) -> Self {
        Self {
            id_hash: session.id_hash.to_hex(),
            user_id: session.user_id.clone(),
            auth_time: session.auth_time,
            expires_at: session.expires_at,
        }
    }

    pub fn into_session(self) -> Result<Session, StoreError> {
        Ok(Session {
            id_hash: parse_hash(&self.id_hash, "id_hash")?,
            user_id: self.user_id,
            auth_time: self.auth_time,
            expires_at: self.expires_at,
        })
    }
}

/// One row of `consents`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ConsentRow {
    pub user_id: String,
    pub client_id: String,
    pub scopes: String,
    pub resources: String,
    pub granted_at: i64,
    pub expires_at: Option<i64>,
}

impl ConsentRow {
    pub fn from_consent(consent: &Consent) -> Result<Self, StoreError> {
        Ok(Self {
            user_id: consent.user_id.clone(),
            client_id: consent.client_id.as_str().to_owned(),
            scopes: to_json(&consent.scopes, "scopes")?,
            resources: to_json(&consent.resources, "resources")?,
            granted_at: consent.granted_at,
            expires_at: consent.expires_at,
        })
    }

    pub fn into_consent(self) -> Result<Consent, StoreError> {
        Ok(Consent {
            client_id: parse_client_id(&self.client_id)?,
            scopes: from_json(&self.scopes, "scopes")?,
            resources: from_json(&self.resources, "resources")?,
            user_id: self.user_id,
            granted_at: self.granted_at,
            expires_at: self.expires_at,
        })
    }
}

/// One row of `grants`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct GrantRow {
    pub id: String,
    pub client_id: String,
    pub user_id: String,
    pub scopes: String,
    pub resources: String,
    pub auth_time: i64,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked: i64,
}

impl GrantRow {
    pub fn from_grant(grant: &Grant) -> Result<Self, StoreError> {
        Ok(Self {
            id: grant.id.clone(),
            client_id: grant.client_id.as_str().to_owned(),
            user_id: grant.user_id.clone(),
            scopes: to_json(&grant.scopes, "scopes")?,
            resources: to_json(&grant.resources, "resources")?,
            auth_time: grant.auth_time,
            created_at: grant.created_at,
            expires_at: grant.expires_at,
            revoked: i64::from(grant.revoked),
        })
    }

    pub fn into_grant(self) -> Result<Grant, StoreError> {
        Ok(Grant {
            client_id: parse_client_id(&self.client_id)?,
            scopes: from_json(&self.scopes, "scopes")?,
            resources: from_json(&self.resources, "resources")?,
            id: self.id,
            user_id: self.user_id,
            auth_time: self.auth_time,
            created_at: self.created_at,
            expires_at: self.expires_at,
            revoked: self.revoked != 0,
        })
    }
}

/// One row of `authorization_codes`, without `used`, which only the queries read and write.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CodeRow {
    pub code_hash: String,
    pub grant_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// A code row with its `used` flag, as `find_code` reads it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct FoundCodeRow {
    #[sqlx(flatten)]
    pub code: CodeRow,
    pub used: i64,
}

impl FoundCodeRow {
    pub fn into_stored_code(self) -> Result<StoredCode, StoreError> {
        Ok(StoredCode {
            code: self.code.into_code()?,
            used: self.used != 0,
        })
    }
}

impl CodeRow {
    pub fn from_code(code: &AuthorizationCode) -> Self {
        Self {
            code_hash: code.code_hash.to_hex(),
            grant_id: code.grant_id.clone(),
            client_id: code.client_id.as_str().to_owned(),
            redirect_uri: code.redirect_uri.clone(),
            code_challenge: code.code_challenge.clone(),
            nonce: code.nonce.clone(),
            issued_at: code.issued_at,
            expires_at: code.expires_at,
        }
    }

    pub fn into_code(self) -> Result<AuthorizationCode, StoreError> {
        Ok(AuthorizationCode {
            code_hash: parse_hash(&self.code_hash, "code_hash")?,
            client_id: parse_client_id(&self.client_id)?,
            grant_id: self.grant_id,
            redirect_uri: self.redirect_uri,
            code_challenge: self.code_challenge,
            nonce: self.nonce,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
        })
    }
}

/// One row of `refresh_tokens`, without `used`, which only the queries read and write.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RefreshTokenRow {
    pub token_hash: String,
    pub grant_id: String,
    pub client_id: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

impl RefreshTokenRow {
    pub fn from_token(token: &RefreshToken) -> Self {
        Self {
            token_hash: token.token_hash.to_hex(),
            grant_id: token.grant_id.clone(),
            client_id: token.client_id.as_str().to_owned(),
            issued_at: token.issued_at,
            expires_at: token.expires_at,
        }
    }

    pub fn into_token(self) -> Result<RefreshToken, StoreError> {
        Ok(RefreshToken {
            token_hash: parse_hash(&self.token_hash, "token_hash")?,
            client_id: parse_client_id(&self.client_id)?,
            grant_id: self.grant_id,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
        })
    }
}
