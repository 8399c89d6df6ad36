//! Rows as both backends store them, and their conversion to and from the `registrar-core` types.
//!
//! Hashes are lowercase hex, metadata, grant types and public keys are JSON text, sealed secrets are
//! the `SecretCipher` text, and every timestamp and count is an `i64`, so one row type fits SQLite
//! and PostgreSQL alike.
//! The rows of the authorization code flow are in `authorization`, those of audit events in
//! `audit`.

use registrar_core::error::StoreError;
use registrar_core::ids::ClientId;
use registrar_core::lifecycle::ClientState;
use registrar_core::secrets::TokenHash;
use registrar_core::store::{ClientSummary, InitialAccessToken, RegisteredClient, StoredSecret};
use registrar_core::token::{SigningAlgorithm, StoredSigningKey};

mod audit;
mod authorization;
mod idempotency;

pub(crate) use audit::{EventRow, ProvenanceRow};
pub(crate) use authorization::{
    CodeRow, ConsentRow, FoundCodeRow, GrantRow, RefreshTokenRow, SessionRow, UserRow,
};
pub(crate) use idempotency::IdempotencyRow;

/// One row of `clients`, without the previous registration access token, which only queries read.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ClientRow {
    pub client_id: String,
    pub client_id_issued_at: i64,
    pub updated_at: i64,
    pub client_name: Option<String>,
    pub grant_types: String,
    pub metadata: String,
    pub secret_hash: Option<String>,
    pub secret_expires_at: Option<i64>,
    pub rat_hash: Option<String>,
    pub initial_token_id: Option<String>,
    pub secret_ciphertext: Option<String>,
    pub extensions: String,
    pub registered_anonymously: i64,
    pub policy: Option<String>,
    pub last_used_at: Option<i64>,
    pub blocked_at: Option<i64>,
}

impl ClientRow {
    pub fn from_client(client: &RegisteredClient) -> Result<Self, StoreError> {
        let (secret_hash, secret_expires_at, secret_ciphertext) = match &client.secret {
            Some(secret) => (
                Some(secret.hash.to_hex()),
                Some(secret.expires_at),
                secret.encrypted.clone(),
            ),
            None => (None, None, None),
        };
        Ok(Self {
            client_id: client.client_id.as_str().to_owned(),
            client_id_issued_at: client.client_id_issued_at,
            updated_at: client.updated_at,
            client_name: client.metadata.client_name.clone(),
            grant_types: to_json(&client.metadata.grant_types, "grant_types")?,
            metadata: to_json(&client.metadata, "metadata")?,
            secret_hash,
            secret_expires_at,
            rat_hash: client.registration_token.as_ref().map(TokenHash::to_hex),
            initial_token_id: client.initial_token_id.clone(),
            secret_ciphertext,
            extensions: to_json(&client.extensions, "extensions")?,
            registered_anonymously: i64::from(client.registered_anonymously),
            policy: client.policy.clone(),
            last_used_at: client.state.last_used_at,
            blocked_at: client.state.blocked_at,
        })
    }

    pub fn into_client(self) -> Result<RegisteredClient, StoreError> {
        let secret = match (
            self.secret_hash,
            self.secret_expires_at,
            self.secret_ciphertext,
        ) {
            (Some(hash), Some(expires_at), encrypted) => Some(StoredSecret {
                hash: parse_hash(&hash, "secret_hash")?,
                expires_at,
                encrypted,
            }),
            (None, _, None) => None,
            (None, _, Some(_)) => return Err(corrupt("secret_ciphertext without secret_hash")),
            (Some(_), None, _) => return Err(corrupt("secret_hash without secret_expires_at")),
        };
        let registration_token = match self.rat_hash {
            Some(hash) => Some(parse_hash(&hash, "rat_hash")?),
            None => None,
        };
        Ok(RegisteredClient {
            client_id: parse_client_id(&self.client_id)?,
            client_id_issued_at: self.client_id_issued_at,
            secret,
            registration_token,
            metadata: from_json(&self.metadata, "metadata")?,
            initial_token_id: self.initial_token_id,
            updated_at: self.updated_at,
            extensions: from_json(&self.extensions, "extensions")?,
            registered_anonymously: self.registered_anonymously != 0,
            policy: self.policy,
            state: ClientState {
                last_used_at: self.last_used_at,
                blocked_at: self.blocked_at,
            },
        })
    }
}

/// One row of `registrar clients list`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SummaryRow {
    pub client_id: String,
    pub client_name: Option<String>,
    pub client_id_issued_at: i64,
    pub grant_types: String,
    pub last_used_at: Option<i64>,
    pub blocked_at: Option<i64>,
}

impl SummaryRow {
    pub fn into_summary(self) -> Result<ClientSummary, StoreError> {
        Ok(ClientSummary {
            client_id: parse_client_id(&self.client_id)?,
            client_name: self.client_name,
            client_id_issued_at: self.client_id_issued_at,
            grant_types: from_json(&self.grant_types, "grant_types")?,
            state: ClientState {
                last_used_at: self.last_used_at,
                blocked_at: self.blocked_at,
            },
        })
    }
}

/// One row of `initial_access_tokens`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct InitialTokenRow {
    pub id: String,
    pub token_hash: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub max_uses: Option<i64>,
    pub uses: i64,
    pub note: Option<String>,
    pub policy: Option<String>,
}

impl InitialTokenRow {
    pub fn from_token(token: &InitialAccessToken) -> Self {
        Self {
            id: token.id.clone(),
            token_hash: token.token_hash.to_hex(),
            created_at: token.created_at,
            expires_at: token.expires_at,
            max_uses: token.max_uses.map(i64::from),
            uses: i64::from(token.uses),
            note: token.note.clone(),
            policy: token.policy.clone(),
        }
    }

    pub fn into_token(self) -> Result<InitialAccessToken, StoreError> {
        let max_uses = match self.max_uses {
            Some(max_uses) => Some(to_u32(max_uses, "max_uses")?),
            None => None,
        };
        Ok(InitialAccessToken {
            token_hash: parse_hash(&self.token_hash, "token_hash")?,
            id: self.id,
            created_at: self.created_at,
            expires_at: self.expires_at,
            max_uses,
            uses: to_u32(self.uses, "uses")?,
            note: self.note,
            policy: self.policy,
        })
    }
}

/// One row of `signing_keys`. No `Debug`: it holds the sealed private key.
#[derive(sqlx::FromRow)]
pub(crate) struct SigningKeyRow {
    pub kid: String,
    pub algorithm: String,
    pub encrypted_private_key: String,
    pub public_jwk: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

impl SigningKeyRow {
    pub fn from_key(key: &StoredSigningKey) -> Result<Self, StoreError> {
        Ok(Self {
            kid: key.kid.clone(),
            algorithm: key.algorithm.as_str().to_owned(),
            encrypted_private_key: key.encrypted_private_key.clone(),
            public_jwk: to_json(&key.public_jwk, "public_jwk")?,
            created_at: key.created_at,
            retired_at: key.retired_at,
        })
    }

    pub fn into_key(self) -> Result<StoredSigningKey, StoreError> {
        let algorithm = SigningAlgorithm::parse(&self.algorithm)
            .ok_or_else(|| corrupt("algorithm is not a known signing algorithm"))?;
        Ok(StoredSigningKey {
            public_jwk: from_json(&self.public_jwk, "public_jwk")?,
            kid: self.kid,
            algorithm,
            encrypted_private_key: self.encrypted_private_key,
            created_at: self.created_at,
            retired_at: self.retired_at,
        })
    }
}

fn to_json<T: serde::Serialize + ?Sized>(value: &T, column: &str) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|error| StoreError::Backend(format!("cannot encode {column} as json: {error}")))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str, column: &str) -> Result<T, StoreError> {
    // The serde error is left out: it can quote stored values.
    serde_json::from_str(text).map_err(|_| corrupt(&format!("{column} is not the expected json")))
}

fn parse_hash(hex: &str, column: &str) -> Result<TokenHash, StoreError> {
    TokenHash::from_hex(hex).ok_or_else(|| corrupt(&format!("{column} is not a hex hash")))
}

pub(crate) fn parse_client_id(text: &str) -> Result<ClientId, StoreError> {
    ClientId::parse(text).ok_or_else(|| corrupt("client_id is not a valid client identifier"))
}

fn to_u32(value: i64, column: &str) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| corrupt(&format!("{column} is out of range")))
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("corrupt stored row: {what}"))
}
