//! `UserStore` and `AuthorizationStore`, written once and implemented for each backend by
//! `impl_authorization_traits!`, which `impl_store_traits!` calls.
//!
//! Each step that changes more than one row runs in one write transaction (`begin_write`): a
//! grant with its first code, a revocation with the refresh tokens and codes it ends, a rotation
//! with its successor, a user's removal with everything that was theirs, a purge.

/// Implements `UserStore` and `AuthorizationStore` for `$store`, mapping every sqlx error with
/// `$store_error`; what the store must provide is listed at `impl_store_traits!`.
macro_rules! impl_authorization_traits {
    ($store:ident, $store_error:path) => {
        // An unnamed constant scopes these imports, so that they clash with none of the backend's.
        const _: () = {
            use async_trait::async_trait;
            use registrar_core::authz::{
                AuthorizationCode, AuthorizationStore, CodeRedemption, Consent, Grant,
                RefreshRotation, RefreshToken, Session, StoredCode, User, UserStore,
            };
            use registrar_core::error::StoreError;
            use registrar_core::ids::ClientId;
            use registrar_core::secrets::TokenHash;

            use $crate::queries::authorization::{self, GrantsOf};
            use $crate::queries::users;
            use $crate::rows::{
                CodeRow, ConsentRow, FoundCodeRow, GrantRow, RefreshTokenRow, SessionRow, UserRow,
            };

            #[async_trait]
            impl UserStore for $store {
                async fn insert_user(&self, user: &User) -> Result<(), StoreError> {
                    users::insert_user(UserRow::from_user(user))
                        .execute(self.writer())
                        .await
                        .map_err($store_error)?;
                    Ok(())
                }

                async fn find_user_by_username(
                    &self,
                    username: &str,
                ) -> Result<Option<User>, StoreError> {
                    Ok(users::find_user_by_username(username.to_owned())
                        .fetch_optional(self.reader())
                        .await
                        .map_err($store_error)?
                        .map(UserRow::into_user))
                }

                async fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
                    Ok(users::get_user(id.to_owned())
                        .fetch_optional(self.reader())
                        .await
                        .map_err($store_error)?
                        .map(UserRow::into_user))
                }

                async fn list_users(&self) -> Result<Vec<User>, StoreError> {
                    Ok(users::list_users()
                        .fetch_all(self.reader())
                        .await
                        .map_err($store_error)?
                        .into_iter()
                        .map(UserRow::into_user)
                        .collect())
                }

                async fn set_password(
                    &self,
                    username: &str,
                    password_hash: &str,
                ) -> Result<bool, StoreError> {
                    let mut transaction = self.begin_write().await.map_err($store_error)?;
                    let updated =
                        users::set_password(username.to_owned(), password_hash.to_owned())
                            .fetch_optional(&mut *transaction)
                            .await
                            .map_err($store_error)?;
                    let Some((user_id,)) = updated else {
                        transaction.rollback().await.map_err($store_error)?;
                        return Ok(false);
                    };
                    // A new password ends every session the old one opened, and every grant
                    // made in them: a password reset after a phishing must cut the thief off.
                    users::delete_user_sessions(user_id.clone())
                        .execute(&mut *transaction)
                        .await
                        .map_err($store_error)?;
                    for statement in authorization::revoke_grants(GrantsOf::User, user_id) {
                        statement
                            .execute(&mut *transaction)
                            .await
                            .map_err($store_error)?;
                    }
                    transaction.commit().await.map_err($store_error)?;
                    Ok(true)
                }

                async fn remove_user(&self, username: &str) -> Result<bool, StoreError> {
                    let mut transaction = self.begin_write().await.map_err($store_error)?;
                    let deleted = users::delete_user(username.to_owned())
                        .fetch_optional(&mut *transaction)
                        .await
                        .map_err($store_error)?;
                    let Some((user_id,)) = deleted else {
                        transaction.rollback().await.map_err($store_error)?;
                        return Ok(false);
                    };
                    users::delete_user_sessions(user_id.clone())
                        .execute(&mut *transaction)
                        .await
                        .map_err($store_error)?;
                    users::delete_user_consents(user_id.clone())
                        .execute(&mut *transaction)
                        .await
                        .map_err($store_error)?;
                    for statement in authorization::forget_grants(GrantsOf::User, user_id) {
                        statement
                            .execute(&mut *transaction)
                            .await
                            .map_err($store_error)?;
                    }
                    transaction.commit().await.map_err($store_error)?;
                    Ok(true)
                }
            }

            #[async_trait]
            impl AuthorizationStore for $store {
                async fn insert_session(&self, session: &Session) -> Result<(), StoreError> {
                    authorization::insert_session(SessionRow::from_session(session))
                        .execute(self.writer())
                        .await
                        .map_err($store_error)?;
                    Ok(())
                }

                async fn find_session(
                    &self,
                    id_hash: &TokenHash,
                    now: i64,
                ) -> Result<Option<Session>, StoreError> {
                    authorization::find_session(id_hash.to_hex(), now)
                        .fetch_optional(self.reader())
                        .await
                        .map_err($store_error)?
                        .map(SessionRow::into_session)
                        .transpose()
                }

                async fn delete_session(&self, id_hash: &TokenHash) -> Result<(), StoreError> {
                    authorization::delete_session(id_hash.to_hex())
                        .execute(self.writer())
                        .await
                        .map_err($store_error)?;
                    Ok(())
                }

                async fn upsert_consent(&self, consent: &Consent) -> Result<(), StoreError> {
                    authorization::upsert_consent(ConsentRow::from_consent(consent)?)
                        .execute(self.writer())
                        .await
                        .map_err($store_error)?;
                    Ok(())
                }

                async fn find_consent(
                    &self,
                    user_id: &str,
                    client_id: &ClientId,
                ) -> Result<Option<Consent>, StoreError> {
                    authorization::find_consent(user_id.to_owned(), client_id.as_str().to_owned())
                        .fetch_optional(self.reader())
                        .await
                        .map_err($store_error)?
                        .map(ConsentRow::into_consent)
                        .transpose()
                }

                async fn insert_grant_with_code(
                    &self,
                    grant: &Grant,
                    code: &AuthorizationCode,
                ) -> Result<(), StoreError> {
                    let grant_row = GrantRow::from_grant(grant)?;
                    let mut transaction = self.begin_write().await.map_err($store_error)?;
                    authorization::insert_grant(grant_row)
                        .execute(&mut *transaction)
                        .await
                        .map_err($store_error)?;
                    // A failed insert drops the transaction, which rolls back the grant with it.
                    authorization::insert_code(CodeRow::from_code(code))
                        .execute(&mut *transaction)
                        .await
                        .map_err($store_error)?;
                    transaction.commit().await.map_err($store_error)
                }

                async fn redeem_code(
                    &self,
                    code_hash: &TokenHash,
                ) -> Result<CodeRedemption, StoreError> {
                    let redeemed = authorization::redeem_code(code_hash.to_hex())
                        .fetch_optional(self.writer())
                        .await
                        .map_err($store_error)?;
                    if let Some(row) = redeemed {
                        return Ok(CodeRedemption::Redeemed(row.into_code()?));
                    }
                    // A code is never unused again, so the compare-and-set that failed above
                    // failed for good: the code is used, purged or was never issued.
                    let used = authorization::used_code_grant(code_hash.to_hex())
                        .fetch_optional(self.reader())
                        .await
                        .map_err($store_error)?;
                    Ok(match used {
                        Some((grant_id,)) => CodeRedemption::AlreadyUsed { grant_id },
                        None => CodeRedemption::Unknown,
                    })
                }

                async fn find_code(
                    &self,
                    code_hash: &TokenHash,
                ) -> Result<Option<StoredCode>, StoreError> {
                    authorization::find_code(code_hash.to_hex())
                        .fetch_optional(self.reader())
                        .await
                        .map_err($store_error)?
                        .map(FoundCodeRow::into_stored_code)
                        .transpose()
                }

                async fn get_grant(&self, grant_id: &str) -> Result<Option<Grant>, StoreError> {
                    authorization::get_grant(grant_id.to_owned())
                        .fetch_optional(self.reader())
                        .await
                        .map_err($store_error)?
                        .map(GrantRow::into_grant)
                        .transpose()
                }

                async fn revoke_grant(&self, grant_id: &str) -> Result<bool, StoreError> {
                    let mut transaction = self.begin_write().await.map_err($store_error)?;
                    let [revoke, refresh_tokens, unused_codes] =
                        authorization::revoke_grants(GrantsOf::Grant, grant_id.to_owned());
                    let revoked = revoke
                        .execute(&mut *transaction)
                        .await
                        .map_err($store_error)?;
                    if revoked.rows_affected() == 0 {
                        transaction.rollback().await.map_err($store_error)?;
                        return Ok(false);
                    }
                    for statement in [refresh_tokens, unused_codes] {
                        statement
                            .execute(&mut *transaction)
                            .await
                            .map_err($store_error)?;
                    }
                    transaction.commit().await.map_err($store_error)?;
                    Ok(true)
                }

                async fn revoke_client_grants(
                    &self,
                    client_id: &ClientId,
                ) -> Result<(), StoreError> {
                    let client_id = client_id.as_str().to_owned();
                    let mut transaction = self.begin_write().await.map_err($store_error)?;
                    for statement in
                        authorization::revoke_grants(GrantsOf::Client, client_id.clone())
                    {
                        statement
                            .execute(&mut *transaction)
                            .await
                            .map_err($store_error)?;
                    }
                    authorization::delete_client_consents(client_id)
                        .execute(&mut *transaction)
                        .await
                        .map_err($store_error)?;
                    transaction.commit().await.map_err($store_error)
                }

                async fn insert_refresh_token(
                    &self,
                    token: &RefreshToken,
                ) -> Result<(), StoreError> {
                    authorization::insert_refresh_token(RefreshTokenRow::from_token(token))
                        .execute(self.writer())
                        .await
                        .map_err($store_error)?;
                    Ok(())
                }

                async fn find_refresh_token(
                    &self,
                    token_hash: &TokenHash,
                    now: i64,
                ) -> Result<Option<RefreshToken>, StoreError> {
                    authorization::find_refresh_token(token_hash.to_hex(), now)
                        .fetch_optional(self.reader())
                        .await
                        .map_err($store_error)?
                        .map(RefreshTokenRow::into_token)
                        .transpose()
                }

                async fn rotate_refresh_token(
                    &self,
                    old_hash: &TokenHash,
                    successor: &RefreshToken,
                    now: i64,
                ) -> Result<RefreshRotation, StoreError> {
                    let mut transaction = self.begin_write().await.map_err($store_error)?;
                    let marked = authorization::use_refresh_token(old_hash.to_hex(), now)
                        .fetch_optional(&mut *transaction)
                        .await
                        .map_err($store_error)?;
                    let Some(old) = marked else {
                        // Nothing changed; what is left is telling a replay from a stranger.
                        let used = authorization::used_refresh_token_grant(old_hash.to_hex())
                            .fetch_optional(&mut *transaction)
                            .await
                            .map_err($store_error)?;
                        transaction.rollback().await.map_err($store_error)?;
                        return Ok(match used {
                            Some((grant_id,)) => RefreshRotation::Reused { grant_id },
                            None => RefreshRotation::Unknown,
                        });
                    };
                    // A corrupt row or a failed insert drops the transaction, which rolls back
                    // the mark with it.
                    let old = old.into_token()?;
                    authorization::insert_refresh_token(RefreshTokenRow::from_token(successor))
                        .execute(&mut *transaction)
                        .await
                        .map_err($store_error)?;
                    transaction.commit().await.map_err($store_error)?;
                    Ok(RefreshRotation::Rotated(old))
                }

                async fn revoke_access_token(
                    &self,
                    jti: &str,
                    expires_at: i64,
                ) -> Result<(), StoreError> {
                    authorization::revoke_access_token(jti.to_owned(), expires_at)
                        .execute(self.writer())
                        .await
                        .map_err($store_error)?;
                    Ok(())
                }

                async fn is_access_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
                    let revocations = authorization::count_access_token_revocations(jti.to_owned())
                        .fetch_one(self.reader())
                        .await
                        .map_err($store_error)?;
                    Ok(revocations > 0)
                }

                async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
                    let mut transaction = self.begin_write().await.map_err($store_error)?;
                    let mut purged = 0;
                    for statement in authorization::purge(now) {
                        purged += statement
                            .execute(&mut *transaction)
                            .await
                            .map_err($store_error)?
                            .rows_affected();
                    }
                    transaction.commit().await.map_err($store_error)?;
                    Ok(purged)
                }
            }
        };
    };
}

pub(crate) use impl_authorization_traits;
