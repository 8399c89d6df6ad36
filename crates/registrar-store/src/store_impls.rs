//! The store traits, written once and implemented for each backend by `impl_store_traits!`.
//!
//! A backend's trait methods are thin wrappers around `queries`, the same on every backend but for
//! the concrete pool and the function that maps its errors. They are a macro rather than generic
//! code: the orphan rule forbids a blanket `impl<S: Backend> ClientStore for S` of the
//! `registrar-core` traits, and generic functions over `sqlx::Database` would need an executor and
//! an encoding bound for every type they bind.

pub(crate) mod audit;
pub(crate) mod authorization;
pub(crate) mod idempotency;

/// Implements `ClientStore`, `InitialAccessTokenStore`, `SigningKeyStore` and `ReplayCache` for
/// `$store` on the sqlx database `$database`, mapping every sqlx error with `$store_error`,
/// through `impl_authorization_traits!` `UserStore` and `AuthorizationStore`, and through
/// `impl_audit_traits!` `EventStore` and `RecordedClientStore`, and through
/// `impl_idempotency_traits!` `IdempotencyStore`. Every client write is one
/// transaction (`apply_with`), which takes the change's audit event along when there is one
/// (PostgreSQL writes most registrations in one statement instead, as atomic).
///
/// The store is defined in the calling module and provides what differs per backend:
/// - `fn reader(&self) -> &Pool<_>`, the sqlx pool every read runs on;
/// - `fn writer(&self) -> &Pool<_>`, the sqlx pool every write runs on, alone or in a transaction
///   (SQLite's has one connection, so that writers queue in the process; PostgreSQL's is the
///   reader's);
/// - a `purge_schedule: Arc<PurgeSchedule>` field, shared by clones;
/// - `async fn begin_write(&self) -> Result<Transaction<'static, _>, sqlx::Error>`, which begins a
///   transaction on the writer, the way the backend needs;
/// - `async fn commit_write(&self, write: PreparedWrite) -> Result<bool, StoreError>`, which
///   commits a client change with its event: `commit_alone` (a transaction of its own), or
///   SQLite's group commit, which runs it with `run_write` in a savepoint of a shared commit;
/// - `async fn lock_policy(connection, policy) -> Result<(), sqlx::Error>`, which makes
///   concurrent inserts under one policy wait for each other within their transactions, so that
///   a policy's count and insert are one atomic step.
macro_rules! impl_store_traits {
    ($store:ident, $database:ty, $store_error:path) => {
        // An unnamed constant scopes these imports, so that they clash with none of the backend's.
        const _: () = {
            use async_trait::async_trait;
            use registrar_core::audit::AuditEvent;
            use registrar_core::error::StoreError;
            use registrar_core::ids::ClientId;
            use registrar_core::lifecycle::{ClientState, ExpiredClient, ExpiryCutoffs};
            use registrar_core::secrets::TokenHash;
            use registrar_core::store::{
                ClientChange, ClientStore, ClientSummary, InitialAccessToken,
                InitialAccessTokenStore, PolicyCount, RegisteredClient, TokenCheck,
            };
            use registrar_core::token::{ReplayCache, SigningKeyStore, StoredSigningKey};

            use $crate::prepared::{PreparedChange, PreparedWrite};
            use $crate::queries::audit;
            use $crate::queries::authorization::{self, GrantsOf};
            use $crate::queries::lifecycle;
            use $crate::queries::{self, JtiRecord};
            use $crate::replay;
            use $crate::rows::{ClientRow, InitialTokenRow, SigningKeyRow};

            impl $store {
                /// Applies `change` with `event` when it applied: the change and its audit event
                /// commit together or not at all, through the backend's `commit_write`.
                async fn apply_with(
                    &self,
                    change: ClientChange<'_>,
                    event: Option<&AuditEvent>,
                ) -> Result<bool, StoreError> {
                    self.commit_write(PreparedWrite::new(change, event)?).await
                }

                /// `write` in a write transaction of its own.
                async fn commit_alone(&self, write: PreparedWrite) -> Result<bool, StoreError> {
                    let mut transaction = self.begin_write().await.map_err($store_error)?;
                    // An error drops the transaction, which rolls back what ran before it.
                    if !Self::run_write(&mut transaction, write).await? {
                        transaction.rollback().await.map_err($store_error)?;
                        return Ok(false);
                    }
                    transaction.commit().await.map_err($store_error)?;
                    Ok(true)
                }

                /// The statements of `write` on a connection inside a transaction: the change,
                /// then its event if it applied. Whether it applied is returned; a caller that
                /// gets `false` or an error rolls back what ran.
                pub(crate) async fn run_write(
                    connection: &mut <$database as sqlx::Database>::Connection,
                    write: PreparedWrite,
                ) -> Result<bool, StoreError> {
                    if !Self::apply_in(connection, write.change).await? {
                        return Ok(false);
                    }
                    if let Some(event) = &write.event {
                        Self::record_in(connection, event).await?;
                    }
                    Ok(true)
                }

                /// The statements of `change`: an insert takes the initial access token's use
                /// first, and counts its policy's clients in the insert itself under the
                /// policy's lock.
                async fn apply_in(
                    connection: &mut <$database as sqlx::Database>::Connection,
                    change: PreparedChange,
                ) -> Result<bool, StoreError> {
                    match change {
                        PreparedChange::Insert {
                            row,
                            cap,
                            initial_token,
                            now,
                            idempotency,
                        } => {
                            // The key's record first, so that the loser of a race waits there
                            // (PostgreSQL) or finds it (SQLite) before it has changed anything.
                            if let Some(record) = idempotency {
                                let recorded = queries::idempotency::record_key(record, now)
                                    .execute(&mut *connection)
                                    .await
                                    .map_err($store_error)?;
                                if recorded.rows_affected() != 1 {
                                    return Err(StoreError::Duplicate("idempotency_key"));
                                }
                            }
                            if let Some((policy, _)) = &cap {
                                Self::lock_policy(connection, policy)
                                    .await
                                    .map_err($store_error)?;
                            }
                            if let Some(token_hash) = initial_token {
                                let consumed = queries::consume_initial_token(token_hash, now)
                                    .execute(&mut *connection)
                                    .await
                                    .map_err($store_error)?;
                                if consumed.rows_affected() != 1 {
                                    return Err(StoreError::InitialTokenRejected);
                                }
                            }
                            let statement = match cap {
                                Some((_, max)) => queries::insert_client_within(
                                    row,
                                    i64::try_from(max).unwrap_or(i64::MAX),
                                ),
                                None => queries::insert_client(row),
                            };
                            let inserted = statement
                                .execute(&mut *connection)
                                .await
                                .map_err($store_error)?;
                            if inserted.rows_affected() != 1 {
                                return Err(StoreError::PolicyFull);
                            }
                            Ok(true)
                        }
                        PreparedChange::Replace(replacement) => {
                            let replaced = queries::replace_client(replacement)
                                .execute(&mut *connection)
                                .await
                                .map_err($store_error)?;
                            Ok(replaced.rows_affected() == 1)
                        }
                        PreparedChange::ReplaceKeepingToken(row) => {
                            let replaced = queries::replace_client_keeping_token(row)
                                .execute(&mut *connection)
                                .await
                                .map_err($store_error)?;
                            Ok(replaced.rows_affected() == 1)
                        }
                        PreparedChange::Delete(client_id) => {
                            let deleted = queries::delete_client(client_id.clone())
                                .execute(&mut *connection)
                                .await
                                .map_err($store_error)?;
                            Self::forget_client(connection, client_id).await?;
                            Ok(deleted.rows_affected() > 0)
                        }
                        PreparedChange::DeleteExpired { client_id, cutoffs } => {
                            let deleted =
                                lifecycle::delete_expired_client(client_id.clone(), &cutoffs)
                                    .execute(&mut *connection)
                                    .await
                                    .map_err($store_error)?;
                            if deleted.rows_affected() == 0 {
                                return Ok(false);
                            }
                            Self::forget_client(connection, client_id).await?;
                            Ok(true)
                        }
                        PreparedChange::SetBlocked {
                            client_id,
                            blocked_at,
                        } => {
                            let updated = lifecycle::set_blocked(client_id, blocked_at)
                                .execute(&mut *connection)
                                .await
                                .map_err($store_error)?;
                            Ok(updated.rows_affected() > 0)
                        }
                        PreparedChange::RecordUse { client_id, now } => {
                            lifecycle::record_use(client_id, now)
                                .execute(&mut *connection)
                                .await
                                .map_err($store_error)?;
                            Ok(true)
                        }
                        PreparedChange::Refusal { row, keep } => {
                            audit::insert_event(row)
                                .execute(&mut *connection)
                                .await
                                .map_err($store_error)?;
                            audit::drop_old_refusals(keep)
                                .execute(&mut *connection)
                                .await
                                .map_err($store_error)?;
                            Ok(true)
                        }
                        PreparedChange::EventOnly => Ok(true),
                    }
                }
            }

            impl $store {
                /// What goes with a deleted client: what users granted it (its grants with
                /// their codes and refresh tokens, every consent given to it) and its provenance.
                async fn forget_client(
                    connection: &mut <$database as sqlx::Database>::Connection,
                    client_id: String,
                ) -> Result<(), StoreError> {
                    for statement in
                        authorization::forget_grants(GrantsOf::Client, client_id.clone())
                    {
                        statement
                            .execute(&mut *connection)
                            .await
                            .map_err($store_error)?;
                    }
                    authorization::delete_client_consents(client_id.clone())
                        .execute(&mut *connection)
                        .await
                        .map_err($store_error)?;
                    audit::delete_provenance(client_id)
                        .execute(&mut *connection)
                        .await
                        .map_err($store_error)?;
                    Ok(())
                }
            }

            #[async_trait]
            impl ClientStore for $store {
                async fn insert_client(
                    &self,
                    client: &RegisteredClient,
                    initial_token: Option<&TokenHash>,
                    now: i64,
                ) -> Result<(), StoreError> {
                    let change = ClientChange::Insert {
                        client,
                        initial_token,
                        now,
                        max_clients: None,
                        idempotency: None,
                    };
                    self.apply_with(change, None).await.map(|_| ())
                }

                async fn insert_client_within(
                    &self,
                    client: &RegisteredClient,
                    initial_token: Option<&TokenHash>,
                    now: i64,
                    max_clients: u64,
                ) -> Result<(), StoreError> {
                    let change = ClientChange::Insert {
                        client,
                        initial_token,
                        now,
                        max_clients: Some(max_clients),
                        idempotency: None,
                    };
                    self.apply_with(change, None).await.map(|_| ())
                }

                async fn count_clients_with_policy(&self, policy: &str) -> Result<u64, StoreError> {
                    let count = queries::count_clients_with_policy(policy.to_owned())
                        .fetch_one(self.reader())
                        .await
                        .map_err($store_error)?;
                    Ok(u64::try_from(count).unwrap_or(0))
                }

                async fn count_clients_by_policy(&self) -> Result<Vec<PolicyCount>, StoreError> {
                    let rows = queries::count_clients_by_policy()
                        .fetch_all(self.reader())
                        .await
                        .map_err($store_error)?;
                    Ok(rows
                        .into_iter()
                        .map(|(policy, clients)| PolicyCount {
                            policy,
                            clients: u64::try_from(clients).unwrap_or(0),
                        })
                        .collect())
                }

                async fn replace_client_keeping_token(
                    &self,
                    client: &RegisteredClient,
                ) -> Result<bool, StoreError> {
                    self.apply_with(ClientChange::ReplaceKeepingToken { client }, None)
                        .await
                }

                async fn get_client(
                    &self,
                    client_id: &ClientId,
                ) -> Result<Option<RegisteredClient>, StoreError> {
                    queries::get_client(client_id.as_str().to_owned())
                        .fetch_optional(self.reader())
                        .await
                        .map_err($store_error)?
                        .map(ClientRow::into_client)
                        .transpose()
                }

                async fn find_client_by_registration_token(
                    &self,
                    check: TokenCheck<'_>,
                ) -> Result<Option<RegisteredClient>, StoreError> {
                    queries::find_client_by_registration_token(check.presented.to_hex(), check.now)
                        .fetch_optional(self.reader())
                        .await
                        .map_err($store_error)?
                        .map(ClientRow::into_client)
                        .transpose()
                }

                async fn replace_client(
                    &self,
                    client: &RegisteredClient,
                    check: TokenCheck<'_>,
                    previous_valid_until: i64,
                ) -> Result<bool, StoreError> {
                    let change = ClientChange::Replace {
                        client,
                        check,
                        previous_valid_until,
                    };
                    self.apply_with(change, None).await
                }

                async fn revoke_registration_token(
                    &self,
                    client_id: &ClientId,
                ) -> Result<(), StoreError> {
                    queries::revoke_registration_token(client_id.as_str().to_owned())
                        .execute(self.writer())
                        .await
                        .map_err($store_error)?;
                    Ok(())
                }

                async fn delete_client(&self, client_id: &ClientId) -> Result<bool, StoreError> {
                    self.apply_with(ClientChange::Delete { client_id }, None)
                        .await
                }

                async fn list_clients(&self) -> Result<Vec<ClientSummary>, StoreError> {
                    queries::list_clients()
                        .fetch_all(self.reader())
                        .await
                        .map_err($store_error)?
                        .into_iter()
                        .map(|row| row.into_summary())
                        .collect()
                }

                async fn record_client_use(
                    &self,
                    client_id: &ClientId,
                    now: i64,
                ) -> Result<(), StoreError> {
                    let change = PreparedChange::RecordUse {
                        client_id: client_id.as_str().to_owned(),
                        now,
                    };
                    self.commit_write(PreparedWrite::of(change)).await?;
                    Ok(())
                }

                async fn set_client_blocked(
                    &self,
                    client_id: &ClientId,
                    blocked_at: Option<i64>,
                ) -> Result<bool, StoreError> {
                    let change = ClientChange::SetBlocked {
                        client_id,
                        blocked_at,
                    };
                    self.apply_with(change, None).await
                }

                async fn expired_clients(
                    &self,
                    cutoffs: &ExpiryCutoffs,
                    limit: u32,
                ) -> Result<Vec<ExpiredClient>, StoreError> {
                    if cutoffs.is_empty() {
                        return Ok(Vec::new());
                    }
                    let rows = lifecycle::expired_clients(cutoffs, i64::from(limit))
                        .fetch_all(self.reader())
                        .await
                        .map_err($store_error)?;
                    let mut expired = Vec::with_capacity(rows.len());
                    for (client_id, issued_at, last_used_at) in rows {
                        let state = ClientState {
                            last_used_at,
                            blocked_at: None,
                        };
                        // The SQL selected it by the same rule, so it always has an expiry.
                        if let Some(expiry) = cutoffs.expiry(issued_at, &state) {
                            expired.push(ExpiredClient {
                                client_id: $crate::rows::parse_client_id(&client_id)?,
                                expiry,
                            });
                        }
                    }
                    Ok(expired)
                }

                async fn delete_expired_client(
                    &self,
                    client_id: &ClientId,
                    cutoffs: &ExpiryCutoffs,
                ) -> Result<bool, StoreError> {
                    self.apply_with(ClientChange::DeleteExpired { client_id, cutoffs }, None)
                        .await
                }

                async fn ping(&self) -> Result<(), StoreError> {
                    // The writer, because it runs out first: a store that cannot write cannot
                    // register, and is not ready.
                    queries::ping()
                        .execute(self.writer())
                        .await
                        .map_err($store_error)?;
                    Ok(())
                }
            }

            #[async_trait]
            impl InitialAccessTokenStore for $store {
                async fn insert_initial_token(
                    &self,
                    token: &InitialAccessToken,
                ) -> Result<(), StoreError> {
                    queries::insert_initial_token(InitialTokenRow::from_token(token))
                        .execute(self.writer())
                        .await
                        .map_err($store_error)?;
                    Ok(())
                }

                async fn find_initial_token(
                    &self,
                    token_hash: &TokenHash,
                ) -> Result<Option<InitialAccessToken>, StoreError> {
                    queries::find_initial_token(token_hash.to_hex())
                        .fetch_optional(self.reader())
                        .await
                        .map_err($store_error)?
                        .map(InitialTokenRow::into_token)
                        .transpose()
                }

                async fn list_initial_tokens(&self) -> Result<Vec<InitialAccessToken>, StoreError> {
                    queries::list_initial_tokens()
                        .fetch_all(self.reader())
                        .await
                        .map_err($store_error)?
                        .into_iter()
                        .map(InitialTokenRow::into_token)
                        .collect()
                }

                async fn revoke_initial_token(&self, id: &str) -> Result<bool, StoreError> {
                    let revoked = queries::revoke_initial_token(id.to_owned())
                        .execute(self.writer())
                        .await
                        .map_err($store_error)?;
                    Ok(revoked.rows_affected() > 0)
                }

                async fn consume_initial_token(
                    &self,
                    token_hash: &TokenHash,
                    now: i64,
                ) -> Result<bool, StoreError> {
                    let consumed = queries::consume_initial_token(token_hash.to_hex(), now)
                        .execute(self.writer())
                        .await
                        .map_err($store_error)?;
                    Ok(consumed.rows_affected() == 1)
                }
            }

            #[async_trait]
            impl SigningKeyStore for $store {
                async fn insert_signing_key(
                    &self,
                    key: &StoredSigningKey,
                ) -> Result<(), StoreError> {
                    queries::insert_signing_key(SigningKeyRow::from_key(key)?)
                        .execute(self.writer())
                        .await
                        .map_err($store_error)?;
                    Ok(())
                }

                async fn list_signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
                    queries::list_signing_keys()
                        .fetch_all(self.reader())
                        .await
                        .map_err($store_error)?
                        .into_iter()
                        .map(SigningKeyRow::into_key)
                        .collect()
                }

                async fn retire_signing_key(
                    &self,
                    kid: &str,
                    retired_at: i64,
                ) -> Result<bool, StoreError> {
                    let retired = queries::retire_signing_key(kid.to_owned(), retired_at)
                        .execute(self.writer())
                        .await
                        .map_err($store_error)?;
                    Ok(retired.rows_affected() == 1)
                }
            }

            #[async_trait]
            impl ReplayCache for $store {
                async fn record_jti(
                    &self,
                    client_id: &str,
                    jti: &str,
                    expires_at: i64,
                ) -> Result<bool, StoreError> {
                    let forget_before = replay::forget_before(expires_at);
                    let record = JtiRecord {
                        client_id: client_id.to_owned(),
                        jti: jti.to_owned(),
                        expires_at,
                        forget_before,
                    };
                    let recorded = queries::record_jti(record)
                        .execute(self.writer())
                        .await
                        .map_err($store_error)?;
                    if self.purge_schedule.is_due() {
                        // Housekeeping only: the answer above stands whether or not the purge
                        // succeeds.
                        let purged = queries::purge_jtis(forget_before)
                            .execute(self.writer())
                            .await;
                        if let Err(error) = purged {
                            let error = $store_error(error);
                            tracing::warn!(%error, "cannot purge expired assertion jtis");
                        }
                    }
                    Ok(recorded.rows_affected() == 1)
                }

                async fn is_jti_recorded(
                    &self,
                    client_id: &str,
                    jti: &str,
                    expires_at: i64,
                ) -> Result<bool, StoreError> {
                    let record = JtiRecord {
                        client_id: client_id.to_owned(),
                        jti: jti.to_owned(),
                        expires_at,
                        forget_before: replay::forget_before(expires_at),
                    };
                    let recorded = queries::count_recorded_jtis(record)
                        .fetch_one(self.reader())
                        .await
                        .map_err($store_error)?;
                    Ok(recorded > 0)
                }
            }
        };

        $crate::store_impls::authorization::impl_authorization_traits!($store, $store_error);
        $crate::store_impls::idempotency::impl_idempotency_traits!($store, $store_error);
        $crate::store_impls::audit::impl_audit_traits!($store, $database, $store_error);
    };
}

pub(crate) use impl_store_traits;
