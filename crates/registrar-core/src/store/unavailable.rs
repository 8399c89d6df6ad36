//! `Unavailable`: a store that holds nothing, for running steps without a backend.

use async_trait::async_trait;

use super::{
    ClientStore, ClientSummary, InitialAccessToken, InitialAccessTokenStore, RegisteredClient,
    Stores, TokenCheck,
};
use crate::error::StoreError;
use crate::ids::ClientId;
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
}
