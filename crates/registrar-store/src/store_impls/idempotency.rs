//! `IdempotencyStore`, written once and implemented for each backend by
//! `impl_idempotency_traits!`, which `impl_store_traits!` calls.
//!
//! The insert is the client insert of `impl_store_traits!` (`apply_with`) with the key's record:
//! one write transaction, the record first, so that the loser of a race waits there
//! (PostgreSQL) or finds it (SQLite) before it has changed anything, then the initial access
//! token's use, then the client, within its policy's cap when it has one.

/// Implements `IdempotencyStore` for `$store`, mapping every sqlx error with `$store_error`;
/// what the store must provide is listed at `impl_store_traits!`.
macro_rules! impl_idempotency_traits {
    ($store:ident, $store_error:path) => {
        // An unnamed constant scopes these imports, so that they clash with none of the backend's.
        const _: () = {
            use async_trait::async_trait;
            use registrar_core::error::StoreError;
            use registrar_core::secrets::TokenHash;
            use registrar_core::store::{
                ClientChange, IdempotencyRecord, IdempotencyStore, RegisteredClient,
            };

            use $crate::queries::idempotency;
            use $crate::rows::IdempotencyRow;

            #[async_trait]
            impl IdempotencyStore for $store {
                async fn insert_client_with_idempotency_record(
                    &self,
                    client: &RegisteredClient,
                    initial_token: Option<&TokenHash>,
                    now: i64,
                    max_clients: Option<u64>,
                    record: &IdempotencyRecord,
                ) -> Result<(), StoreError> {
                    let change = ClientChange::Insert {
                        client,
                        initial_token,
                        now,
                        max_clients,
                        idempotency: Some(record),
                    };
                    self.apply_with(change, None).await.map(|_| ())
                }

                async fn find_idempotency_record(
                    &self,
                    key_hash: &TokenHash,
                    now: i64,
                ) -> Result<Option<IdempotencyRecord>, StoreError> {
                    idempotency::find_key(key_hash.to_hex(), now)
                        .fetch_optional(self.reader())
                        .await
                        .map_err($store_error)?
                        .map(IdempotencyRow::into_record)
                        .transpose()
                }

                async fn purge_expired_idempotency_records(
                    &self,
                    now: i64,
                ) -> Result<u64, StoreError> {
                    let purged = idempotency::purge_keys(now)
                        .execute(self.writer())
                        .await
                        .map_err($store_error)?;
                    Ok(purged.rows_affected())
                }
            }
        };
    };
}

pub(crate) use impl_idempotency_traits;
