//! `IdempotencyStore`: the `Idempotency-Key`s of registrations, each kept with the answer it got,
//! so that a retry of `POST /connect/dcr` is answered with the client it registered.

use std::fmt;

use async_trait::async_trait;

use super::RegisteredClient;
use crate::error::StoreError;
use crate::ids::ClientId;
use crate::secrets::TokenHash;

/// A registration made with an `Idempotency-Key`, as stored for the idempotency window. The key
/// itself is never stored, nor is the answer in clear: it holds the client's credentials.
#[derive(Clone, PartialEq)]
pub struct IdempotencyRecord {
    /// The keyed hash of the caller's credential and the key: the record's primary key, so the
    /// same key sent by another credential is another record.
    pub key_hash: TokenHash,
    /// The keyed hash of the canonical request body, which a retry must repeat.
    pub request_hash: TokenHash,
    /// The client the request registered.
    pub client_id: ClientId,
    /// The `201` body, sealed by `token::SecretCipher` with the hex of `key_hash` as associated
    /// data, so it opens only for the record it was sealed for.
    pub sealed_response: String,
    /// When the client was registered, in seconds since the epoch.
    pub created_at: i64,
    /// When the record stops answering retries, in seconds since the epoch.
    pub expires_at: i64,
}

impl fmt::Debug for IdempotencyRecord {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("IdempotencyRecord")
            .field("client_id", &self.client_id)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Where idempotency records live. The insert is a client insert too: the record and the client
/// are one transaction, so the record's primary key decides between concurrent requests with one
/// key, and the loser stores nothing.
#[async_trait]
pub trait IdempotencyStore: Send + Sync + fmt::Debug {
    /// Inserts the client as [`ClientStore::insert_client`](super::ClientStore::insert_client)
    /// does (or, with `max_clients`,
    /// [`insert_client_within`](super::ClientStore::insert_client_within)), and `record` in the
    /// same transaction. When a record with the same `key_hash` exists that has not expired at
    /// `now`, nothing is inserted, no initial access token use is taken, and the error is
    /// `StoreError::Duplicate("idempotency_key")`; an expired one is replaced.
    async fn insert_client_with_idempotency_record(
        &self,
        client: &RegisteredClient,
        initial_token: Option<&TokenHash>,
        now: i64,
        max_clients: Option<u64>,
        record: &IdempotencyRecord,
    ) -> Result<(), StoreError>;

    /// The record with this key hash, unless it has expired at `now`.
    async fn find_idempotency_record(
        &self,
        key_hash: &TokenHash,
        now: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;

    /// Deletes the records expired at `now`; returns how many went.
    async fn purge_expired_idempotency_records(&self, now: i64) -> Result<u64, StoreError>;
}
