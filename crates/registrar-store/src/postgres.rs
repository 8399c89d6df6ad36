//! `PgStore`: the backend for several Registrar instances sharing one PostgreSQL database.
//!
//! It runs the same statements as `SqliteStore`. Concurrent writers need no explicit locking: under
//! `READ COMMITTED` an `UPDATE` waits for a row another transaction is changing and then re-checks
//! its `WHERE` clause against the committed row, which is what every compare-and-set relies on.

#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use registrar_core::error::StoreError;
use registrar_core::ids::ClientId;
use registrar_core::secrets::TokenHash;
use registrar_core::store::{
    ClientStore, ClientSummary, InitialAccessToken, InitialAccessTokenStore, RegisteredClient,
    TokenCheck,
};
use registrar_core::token::{ReplayCache, SigningKeyStore, StoredSigningKey};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::PoolOptions;
use crate::error::{migration_error, store_error};
use crate::queries::{self, JtiRecord, Replacement};
use crate::replay::{self, PurgeSchedule};
use crate::rows::{ClientRow, InitialTokenRow, SigningKeyRow};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A store in one PostgreSQL database.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Shared by clones, so that they purge the replay cache as one store.
    purge_schedule: Arc<PurgeSchedule>,
}

impl PgStore {
    /// Connects to the database at `url`, such as `postgres://registrar@db.internal/registrar`,
    /// and brings its schema up to date. The database itself must exist.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, PoolOptions::default()).await
    }

    /// [`PgStore::open`] with pool limits. Migrations take PostgreSQL's advisory lock, so
    /// instances starting together apply each migration once.
    pub async fn open_with(url: &str, pool_options: PoolOptions) -> Result<Self, StoreError> {
        // The error is left out: it could quote the URL, and with it a password.
        let options = PgConnectOptions::from_str(url)
            .map_err(|_| StoreError::Backend("invalid postgres url".to_owned()))?;
        let pool = PgPoolOptions::new()
            .max_connections(pool_options.max_connections)
            .acquire_timeout(pool_options.acquire_timeout)
            .connect_with(options)
            .await
            .map_err(postgres_error)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|error| migration_error(error, is_unavailable))?;
        tracing::debug!("postgres store open, migrations applied");
        Ok(Self {
            pool,
            purge_schedule: Arc::default(),
        })
    }

    /// The connection pool, for what the store traits do not cover.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Inserts the client and takes one use of the initial access token, in one transaction.
    async fn insert_consuming(
        &self,
        row: ClientRow,
        token_hash: &TokenHash,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await.map_err(postgres_error)?;
        let consumed = queries::consume_initial_token(token_hash.to_hex(), now)
            .execute(&mut *transaction)
            .await
            .map_err(postgres_error)?;
        if consumed.rows_affected() != 1 {
            transaction.rollback().await.map_err(postgres_error)?;
            return Err(StoreError::InitialTokenRejected);
        }
        // A failed insert drops the transaction, which rolls back the use with it.
        queries::insert_client(row)
            .execute(&mut *transaction)
            .await
            .map_err(postgres_error)?;
        transaction.commit().await.map_err(postgres_error)
    }
}

impl fmt::Debug for PgStore {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PgStore")
            .field("connections", &self.pool.size())
            .finish_non_exhaustive()
    }
}

fn postgres_error(error: sqlx::Error) -> StoreError {
    store_error(error, is_unavailable)
}

/// SQLSTATE class 08 (connection exception), 53300 (too many connections) and 57P01–57P03
/// (the server is shutting down or starting up).
fn is_unavailable(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "53300" | "57P01" | "57P02" | "57P03")
}

#[async_trait]
impl ClientStore for PgStore {
    async fn insert_client(
        &self,
        client: &RegisteredClient,
        initial_token: Option<&TokenHash>,
        now: i64,
    ) -> Result<(), StoreError> {
        let row = ClientRow::from_client(client)?;
        match initial_token {
            Some(token_hash) => self.insert_consuming(row, token_hash, now).await,
            None => {
                queries::insert_client(row)
                    .execute(&self.pool)
                    .await
                    .map_err(postgres_error)?;
                Ok(())
            }
        }
    }

    async fn get_client(
        &self,
        client_id: &ClientId,
    ) -> Result<Option<RegisteredClient>, StoreError> {
        queries::get_client(client_id.as_str().to_owned())
            .fetch_optional(&self.pool)
            .await
            .map_err(postgres_error)?
            .map(ClientRow::into_client)
            .transpose()
    }

    async fn find_client_by_registration_token(
        &self,
        check: TokenCheck<'_>,
    ) -> Result<Option<RegisteredClient>, StoreError> {
        queries::find_client_by_registration_token(check.presented.to_hex(), check.now)
            .fetch_optional(&self.pool)
            .await
            .map_err(postgres_error)?
            .map(ClientRow::into_client)
            .transpose()
    }

    async fn replace_client(
        &self,
        client: &RegisteredClient,
        check: TokenCheck<'_>,
        previous_valid_until: i64,
    ) -> Result<bool, StoreError> {
        let replacement = Replacement {
            row: ClientRow::from_client(client)?,
            presented: check.presented.to_hex(),
            now: check.now,
            previous_valid_until,
        };
        let replaced = queries::replace_client(replacement)
            .execute(&self.pool)
            .await
            .map_err(postgres_error)?;
        Ok(replaced.rows_affected() == 1)
    }

    async fn revoke_registration_token(&self, client_id: &ClientId) -> Result<(), StoreError> {
        queries::revoke_registration_token(client_id.as_str().to_owned())
            .execute(&self.pool)
            .await
            .map_err(postgres_error)?;
        Ok(())
    }

    async fn delete_client(&self, client_id: &ClientId) -> Result<bool, StoreError> {
        let deleted = queries::delete_client(client_id.as_str().to_owned())
            .execute(&self.pool)
            .await
            .map_err(postgres_error)?;
        Ok(deleted.rows_affected() > 0)
    }

    async fn list_clients(&self) -> Result<Vec<ClientSummary>, StoreError> {
        queries::list_clients()
            .fetch_all(&self.pool)
            .await
            .map_err(postgres_error)?
            .into_iter()
            .map(|row| row.into_summary())
            .collect()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        queries::ping()
            .execute(&self.pool)
            .await
            .map_err(postgres_error)?;
        Ok(())
    }
}

#[async_trait]
impl InitialAccessTokenStore for PgStore {
    async fn insert_initial_token(&self, token: &InitialAccessToken) -> Result<(), StoreError> {
        queries::insert_initial_token(InitialTokenRow::from_token(token))
            .execute(&self.pool)
            .await
            .map_err(postgres_error)?;
        Ok(())
    }

    async fn find_initial_token(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<InitialAccessToken>, StoreError> {
        queries::find_initial_token(token_hash.to_hex())
            .fetch_optional(&self.pool)
            .await
            .map_err(postgres_error)?
            .map(InitialTokenRow::into_token)
            .transpose()
    }

    async fn list_initial_tokens(&self) -> Result<Vec<InitialAccessToken>, StoreError> {
        queries::list_initial_tokens()
            .fetch_all(&self.pool)
            .await
            .map_err(postgres_error)?
            .into_iter()
            .map(InitialTokenRow::into_token)
            .collect()
    }

    async fn revoke_initial_token(&self, id: &str) -> Result<bool, StoreError> {
        let revoked = queries::revoke_initial_token(id.to_owned())
            .execute(&self.pool)
            .await
            .map_err(postgres_error)?;
        Ok(revoked.rows_affected() > 0)
    }
}

#[async_trait]
impl SigningKeyStore for PgStore {
    async fn insert_signing_key(&self, key: &StoredSigningKey) -> Result<(), StoreError> {
        queries::insert_signing_key(SigningKeyRow::from_key(key)?)
            .execute(&self.pool)
            .await
            .map_err(postgres_error)?;
        Ok(())
    }

    async fn list_signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        queries::list_signing_keys()
            .fetch_all(&self.pool)
            .await
            .map_err(postgres_error)?
            .into_iter()
            .map(SigningKeyRow::into_key)
            .collect()
    }

    async fn retire_signing_key(&self, kid: &str, retired_at: i64) -> Result<bool, StoreError> {
        let retired = queries::retire_signing_key(kid.to_owned(), retired_at)
            .execute(&self.pool)
            .await
            .map_err(postgres_error)?;
        Ok(retired.rows_affected() == 1)
    }
}

#[async_trait]
impl ReplayCache for PgStore {
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
            .execute(&self.pool)
            .await
            .map_err(postgres_error)?;
        if self.purge_schedule.is_due() {
            // Housekeeping only: the answer above stands whether or not the purge succeeds.
            let purged = queries::purge_jtis(forget_before).execute(&self.pool).await;
            if let Err(error) = purged {
                tracing::warn!(error = %postgres_error(error), "cannot purge expired assertion jtis");
            }
        }
        Ok(recorded.rows_affected() == 1)
    }
}
