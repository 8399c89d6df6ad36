//! `Unavailable`: a store that holds nothing, for running steps without a backend.

use async_trait::async_trait;

use super::{
    ClientStore, ClientSummary, IdempotencyRecord, IdempotencyStore, InitialAccessToken,
    InitialAccessTokenStore, RecordedClientStore, RegisteredClient, Stores, TokenCheck,
};
use crate::audit::{AuditEvent, EventFilter, EventStore, Provenance};
use crate::authz::{
    AuthorizationCode, AuthorizationStore, CodeRedemption, Consent, Grant, RefreshRotation,
    RefreshToken, Session, StoredCode, User, UserStore,
};
use crate::error::StoreError;
use crate::ids::ClientId;
use crate::lifecycle::{ExpiredClient, ExpiryCutoffs};
use crate::secrets::TokenHash;
use crate::token::{ReplayCache, SigningKeyStore, StoredSigningKey};

/// Answers every call with [`StoreError::Unavailable`]: for validating requests or benchmarking
/// steps where no store is needed, never for serving.
#[derive(Debug, Default, Clone, Copy)]
pub struct Unavailable;

impl Stores {
    /// Stores that hold nothing and answer every call as unavailable.
    pub fn unavailable() -> Self {
        Self::from_backend(std::sync::Arc::new(Unavailable))
    }
}

fn unavailable<T>() -> Result<T, StoreError> {
    Err(StoreError::Unavailable("no store is configured".to_owned()))
}

#[async_trait]
impl ClientStore for Unavailable {
    async fn insert_client(
        &self,
        _client: &RegisteredClient,
        _initial_token: Option<&TokenHash>,
        _now: i64,
    ) -> Result<(), StoreError> {
        unavailable()
    }

    async fn count_clients_with_policy(&self, _policy: &str) -> Result<u64, StoreError> {
        unavailable()
    }

    async fn replace_client_keeping_token(
        &self,
        _client: &RegisteredClient,
    ) -> Result<bool, StoreError> {
        unavailable()
    }

    async fn get_client(
        &self,
        _client_id: &ClientId,
    ) -> Result<Option<RegisteredClient>, StoreError> {
        unavailable()
    }

    async fn find_client_by_registration_token(
        &self,
        _check: TokenCheck<'_>,
    ) -> Result<Option<RegisteredClient>, StoreError> {
        unavailable()
    }

    async fn replace_client(
        &self,
        _client: &RegisteredClient,
        _check: TokenCheck<'_>,
        _previous_valid_until: i64,
    ) -> Result<bool, StoreError> {
        unavailable()
    }

    async fn record_client_use(&self, _client_id: &ClientId, _now: i64) -> Result<(), StoreError> {
        unavailable()
    }

    async fn set_client_blocked(
        &self,
        _client_id: &ClientId,
        _blocked_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        unavailable()
    }

    async fn expired_clients(
        &self,
        _cutoffs: &ExpiryCutoffs,
        _limit: u32,
    ) -> Result<Vec<ExpiredClient>, StoreError> {
        unavailable()
    }

    async fn delete_expired_client(
        &self,
        _client_id: &ClientId,
        _cutoffs: &ExpiryCutoffs,
    ) -> Result<bool, StoreError> {
        unavailable()
    }

    async fn revoke_registration_token(&self, _client_id: &ClientId) -> Result<(), StoreError> {
        unavailable()
    }

    async fn delete_client(&self, _client_id: &ClientId) -> Result<bool, StoreError> {
        unavailable()
    }

    async fn list_clients(&self) -> Result<Vec<ClientSummary>, StoreError> {
        unavailable()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        unavailable()
    }
}

#[async_trait]
impl InitialAccessTokenStore for Unavailable {
    async fn insert_initial_token(&self, _token: &InitialAccessToken) -> Result<(), StoreError> {
        unavailable()
    }

    async fn find_initial_token(
        &self,
        _token_hash: &TokenHash,
    ) -> Result<Option<InitialAccessToken>, StoreError> {
        unavailable()
    }

    async fn list_initial_tokens(&self) -> Result<Vec<InitialAccessToken>, StoreError> {
        unavailable()
    }

    async fn revoke_initial_token(&self, _id: &str) -> Result<bool, StoreError> {
        unavailable()
    }

    async fn consume_initial_token(
        &self,
        _token_hash: &TokenHash,
        _now: i64,
    ) -> Result<bool, StoreError> {
        unavailable()
    }
}

#[async_trait]
impl IdempotencyStore for Unavailable {
    async fn insert_client_with_idempotency_record(
        &self,
        _client: &RegisteredClient,
        _initial_token: Option<&TokenHash>,
        _now: i64,
        _max_clients: Option<u64>,
        _record: &IdempotencyRecord,
    ) -> Result<(), StoreError> {
        unavailable()
    }

    async fn find_idempotency_record(
        &self,
        _key_hash: &TokenHash,
        _now: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        unavailable()
    }

    async fn purge_expired_idempotency_records(&self, _now: i64) -> Result<u64, StoreError> {
        unavailable()
    }
}

#[async_trait]
impl SigningKeyStore for Unavailable {
    async fn insert_signing_key(&self, _key: &StoredSigningKey) -> Result<(), StoreError> {
        unavailable()
    }

    async fn list_signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        unavailable()
    }

    async fn retire_signing_key(&self, _kid: &str, _retired_at: i64) -> Result<bool, StoreError> {
        unavailable()
    }
}

#[async_trait]
impl ReplayCache for Unavailable {
    async fn record_jti(
        &self,
        _client_id: &str,
        _jti: &str,
        _expires_at: i64,
    ) -> Result<bool, StoreError> {
        unavailable()
    }

    async fn is_jti_recorded(
        &self,
        _client_id: &str,
        _jti: &str,
        _expires_at: i64,
    ) -> Result<bool, StoreError> {
        unavailable()
    }
}

#[async_trait]
impl UserStore for Unavailable {
    async fn insert_user(&self, _user: &User) -> Result<(), StoreError> {
        unavailable()
    }

    async fn find_user_by_username(&self, _username: &str) -> Result<Option<User>, StoreError> {
        unavailable()
    }

    async fn get_user(&self, _id: &str) -> Result<Option<User>, StoreError> {
        unavailable()
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        unavailable()
    }

    async fn set_password(&self, _username: &str, _hash: &str) -> Result<bool, StoreError> {
        unavailable()
    }

    async fn remove_user(&self, _username: &str) -> Result<bool, StoreError> {
        unavailable()
    }
}

#[async_trait]
impl AuthorizationStore for Unavailable {
    async fn insert_session(&self, _session: &Session) -> Result<(), StoreError> {
        unavailable()
    }

    async fn find_session(
        &self,
        _id_hash: &TokenHash,
        _now: i64,
    ) -> Result<Option<Session>, StoreError> {
        unavailable()
    }

    async fn delete_session(&self, _id_hash: &TokenHash) -> Result<(), StoreError> {
        unavailable()
    }

    async fn upsert_consent(&self, _consent: &Consent) -> Result<(), StoreError> {
        unavailable()
    }

    async fn find_consent(
        &self,
        _user_id: &str,
        _client_id: &ClientId,
    ) -> Result<Option<Consent>, StoreError> {
        unavailable()
    }

    async fn insert_grant_with_code(
        &self,
        _grant: &Grant,
        _code: &AuthorizationCode,
    ) -> Result<(), StoreError> {
        unavailable()
    }

    async fn redeem_code(&self, _code_hash: &TokenHash) -> Result<CodeRedemption, StoreError> {
        unavailable()
    }

    async fn find_code(&self, _code_hash: &TokenHash) -> Result<Option<StoredCode>, StoreError> {
        unavailable()
    }

    async fn get_grant(&self, _grant_id: &str) -> Result<Option<Grant>, StoreError> {
        unavailable()
    }

    async fn revoke_grant(&self, _grant_id: &str) -> Result<bool, StoreError> {
        unavailable()
    }

    async fn revoke_client_grants(&self, _client_id: &ClientId) -> Result<(), StoreError> {
        unavailable()
    }

    async fn insert_refresh_token(&self, _token: &RefreshToken) -> Result<(), StoreError> {
        unavailable()
    }

    async fn find_refresh_token(
        &self,
        _token_hash: &TokenHash,
        _now: i64,
    ) -> Result<Option<RefreshToken>, StoreError> {
        unavailable()
    }

    async fn rotate_refresh_token(
        &self,
        _old_hash: &TokenHash,
        _successor: &RefreshToken,
        _now: i64,
    ) -> Result<RefreshRotation, StoreError> {
        unavailable()
    }

    async fn revoke_access_token(&self, _jti: &str, _expires_at: i64) -> Result<(), StoreError> {
        unavailable()
    }

    async fn is_access_token_revoked(&self, _jti: &str) -> Result<bool, StoreError> {
        unavailable()
    }

    async fn purge_expired(&self, _now: i64) -> Result<u64, StoreError> {
        unavailable()
    }
}

#[async_trait]
impl EventStore for Unavailable {
    async fn record_event(&self, _: &AuditEvent) -> Result<(), StoreError> {
        unavailable()
    }

    async fn record_refusal(&self, _: &AuditEvent, _: u64) -> Result<(), StoreError> {
        unavailable()
    }

    async fn list_events(&self, _: &EventFilter) -> Result<Vec<AuditEvent>, StoreError> {
        unavailable()
    }

    async fn purge_events(&self, _: i64) -> Result<u64, StoreError> {
        unavailable()
    }

    async fn client_provenance(&self, _: &ClientId) -> Result<Option<Provenance>, StoreError> {
        unavailable()
    }
}

impl RecordedClientStore for Unavailable {}
