//! `IdempotencyStore`, written once and implemented for each backend by
//! `impl_idempotency_traits!`, which `impl_store_traits!` calls.
//!
//! The insert is one write transaction: the key's record first, so that the loser of a race
//! waits there (PostgreSQL) or finds it (SQLite) before it has changed anything, then the initial
//! access token's use, then the client, within its policy's cap when it has one.

/// Implements `IdempotencyStore` for `$store`, mapping every sqlx error with `$store_error`;
/// what the store must provide is listed at `impl_store_traits!`.
macro_rules! impl_idempotency_traits {
    ($store:ident, $store_error:path) => {
        // An unnamed constant scopes these imports, so that they clash with none of the backend's.
        const _: () = {
            use async_trait::async_trait;
            use registrar_core::error::StoreError;
            use registrar_core::secrets::TokenHash;
            use registrar_core::store::{IdempotencyRecord, IdempotencyStore, RegisteredClient};

            use $crate::queries::{self, idempotency};
            use $crate::rows::{ClientRow, IdempotencyRow};

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
                    let row = ClientRow::from_client(client)?;
                    let cap = match (max_clients, &client.policy) {
                        (Some(max), Some(policy)) => {
                            Some((policy.as_str(), i64::try_from(max).unwrap_or(i64::MAX)))
                        }
                        _ => None,
                    };
                    let mut transaction = self.begin_write().await.map_err($store_error)?;
                    let recorded =
                        idempotency::record_key(IdempotencyRow::from_record(record), now)
                            .execute(&mut *transaction)
                            .await
                            .map_err($store_error)?;
                    if recorded.rows_affected() != 1 {
                        transaction.rollback().await.map_err($store_error)?;
                        return Err(StoreError::Duplicate("idempotency_key"));
                    }
                    if let Some((policy, _)) = cap {
                        Self::lock_policy(&mut transaction, policy)
                            .await
                            .map_err($store_error)?;
                    }
                    if let Some(token_hash) = initial_token {
                        let consumed = queries::consume_initial_token(token_hash.to_hex(), now)
                            .execute(&mut *transaction)
                            .await
                            .map_err($store_error)?;
                        if consumed.rows_affected() != 1 {
                            transaction.rollback().await.map_err($store_error)?;
                            return Err(StoreError::InitialTokenRejected);
                        }
                    }
                    let insert = match cap {
                        Some((_, max)) => queries::insert_client_within(row, max),
                        None => queries::insert_client(row),
                    };
                    // A failed insert drops the transaction, which rolls back the key and the use.
                    let inserted = insert
                        .execute(&mut *transaction)
                        .await
                        .map_err($store_error)?;
                    if inserted.rows_affected() != 1 {
                        transaction.rollback().await.map_err($store_error)?;
                        return Err(StoreError::PolicyFull);
                    }
                    transaction.commit().await.map_err($store_error)
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
