//! The row of a registration's `Idempotency-Key` record.

use registrar_core::error::StoreError;
use registrar_core::store::IdempotencyRecord;

use super::{parse_client_id, parse_hash};

/// One row of `idempotency_keys`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct IdempotencyRow {
    pub key_hash: String,
    pub request_hash: String,
    pub client_id: String,
    pub sealed_response: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl IdempotencyRow {
    pub fn from_record(record: &IdempotencyRecord) -> Self {
        Self {
            key_hash: record.key_hash.to_hex(),
            request_hash: record.request_hash.to_hex(),
            client_id: record.client_id.as_str().to_owned(),
            sealed_response: record.sealed_response.clone(),
            created_at: record.created_at,
            expires_at: record.expires_at,
        }
    }

    pub fn into_record(self) -> Result<IdempotencyRecord, StoreError> {
        Ok(IdempotencyRecord {
            key_hash: parse_hash(&self.key_hash, "key_hash")?,
            request_hash: parse_hash(&self.request_hash, "request_hash")?,
            client_id: parse_client_id(&self.client_id)?,
            sealed_response: self.sealed_response,
            created_at: self.created_at,
            expires_at: self.expires_at,
        })
    }
}
