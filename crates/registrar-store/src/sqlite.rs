//! `SqliteStore`: the default backend, one SQLite file in WAL mode.
//!
//! Writers serialize on SQLite's single write lock: a multi-statement write takes it up front with
//! `BEGIN IMMEDIATE`, so it waits for the lock (up to the busy timeout) instead of failing with
//! `SQLITE_BUSY` when its read lock cannot be upgraded.

#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use registrar_core::error::StoreError;
use registrar_core::ids::ClientId;
use registrar_core::secrets::TokenHash;
use registrar_core::store::{
    ClientStore, ClientSummary, InitialAccessToken, InitialAccessTokenStore, RegisteredClient,
    TokenCheck,
};
use registrar_core::token::{ReplayCache, SigningKeyStore, StoredSigningKey};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::PoolOptions;
use crate::error::{migration_error, store_error};
use crate::queries::{self, JtiRecord, Replacement};
use crate::replay::{self, PurgeSchedule};
use crate::rows::{ClientRow, InitialTokenRow, SigningKeyRow};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Applies the migrations. SQLite has no advisory lock, so two processes opening a new file
/// together can both see a migration as pending; each migration commits with its bookkeeping row
/// in one transaction, so the loser fails (`table … already exists`) and, run again, finds the
/// migration applied.
async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    let mut attempt = 1;
    loop {
        match MIGRATOR.run(pool).await {
            Ok(()) => return Ok(()),
            Err(error) if attempt < MIGRATION_ATTEMPTS => {
                tracing::debug!(%error, attempt, "sqlite migration raced another process; retrying");
                tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
                attempt += 1;
            }
            Err(error) => return Err(migration_error(error, is_unavailable)),
        }
    }
}

/// How long a statement waits for another connection's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How often a migration that lost a race with another process is retried.
const MIGRATION_ATTEMPTS: u32 = 5;

/// A store on one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Shared by clones, so that they purge the replay cache as one store.
    purge_schedule: Arc<PurgeSchedule>,
}

impl SqliteStore {
    /// Opens (creating it if missing) the database at `url`, such as `sqlite://registrar.db`, and
    /// brings its schema up to date.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, PoolOptions::default()).await
    }

    /// [`SqliteStore::open`] with pool limits.
    pub async fn open_with(url: &str, pool_options: PoolOptions) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|error| StoreError::Backend(format!("invalid sqlite url: {error}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A 201 promises the client exists: the commit must survive a power cut, which WAL's
            // `NORMAL` does not guarantee.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(pool_options.max_connections)
            .acquire_timeout(pool_options.acquire_timeout)
            .connect_with(options)
            .await
            .map_err(sqlite_error)?;
        migrate(&pool).await?;
        tracing::debug!("sqlite store open, migrations applied");
        Ok(Self {
            pool,
            purge_schedule: Arc::default(),
        })
    }

    /// The connection pool, for what the store traits do not cover (such as inspecting pragmas).
    pub fn pool(&self) -> &SqlitePool {
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
        let mut transaction = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(sqlite_error)?;
        let consumed = queries::consume_initial_token(token_hash.to_hex(), now)
            .execute(&mut *transaction)
            .await
            .map_err(sqlite_error)?;
        if consumed.rows_affected() != 1 {
            transaction.rollback().await.map_err(sqlite_error)?;
            return Err(StoreError::InitialTokenRejected);
        }
        // A failed insert drops the transaction, which rolls back the use with it.
        queries::insert_client(row)
            .execute(&mut *transaction)
            .await
            .map_err(sqlite_error)?;
        transaction.commit().await.map_err(sqlite_error)
    }
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SqliteStore")
            .field("connections", &self.pool.size())
            .finish_non_exhaustive()
    }
}

fn sqlite_error(error: sqlx::Error) -> StoreError {
    store_error(error, is_unavailable)
}

/// `SQLITE_BUSY` and `SQLITE_LOCKED`, with any extended code: another writer held the lock past
/// the busy timeout.
fn is_unavailable(code: &str) -> bool {
    code.parse::<i64>()
        .is_ok_and(|code| matches!(code & 0xff, 5 | 6))
}

#[async_trait]
impl ClientStore for SqliteStore {
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
                    .map_err(sqlite_error)?;
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
            .map_err(sqlite_error)?
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
            .map_err(sqlite_error)?
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
            .map_err(sqlite_error)?;
        Ok(replaced.rows_affected() == 1)
    }

    async fn revoke_registration_token(&self, client_id: &ClientId) -> Result<(), StoreError> {
        queries::revoke_registration_token(client_id.as_str().to_owned())
            .execute(&self.pool)
            .await
            .map_err(sqlite_error)?;
        Ok(())
    }

    async fn delete_client(&self, client_id: &ClientId) -> Result<bool, StoreError> {
        let deleted = queries::delete_client(client_id.as_str().to_owned())
            .execute(&self.pool)
            .await
            .map_err(sqlite_error)?;
        Ok(deleted.rows_affected() > 0)
    }

    async fn list_clients(&self) -> Result<Vec<ClientSummary>, StoreError> {
        queries::list_clients()
            .fetch_all(&self.pool)
            .await
            .map_err(sqlite_error)?
            .into_iter()
            .map(|row| row.into_summary())
            .collect()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        queries::ping()
            .execute(&self.pool)
            .await
            .map_err(sqlite_error)?;
        Ok(())
    }
}

#[async_trait]
impl InitialAccessTokenStore for SqliteStore {
    async fn insert_initial_token(&self, token: &InitialAccessToken) -> Result<(), StoreError> {
        queries::insert_initial_token(InitialTokenRow::from_token(token))
            .execute(&self.pool)
            .await
            .map_err(sqlite_error)?;
        Ok(())
    }

    async fn find_initial_token(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<InitialAccessToken>, StoreError> {
        queries::find_initial_token(token_hash.to_hex())
            .fetch_optional(&self.pool)
            .await
            .map_err(sqlite_error)?
            .map(InitialTokenRow::into_token)
            .transpose()
    }

    async fn list_initial_tokens(&self) -> Result<Vec<InitialAccessToken>, StoreError> {
        queries::list_initial_tokens()
            .fetch_all(&self.pool)
            .await
            .map_err(sqlite_error)?
            .into_iter()
            .map(InitialTokenRow::into_token)
            .collect()
    }

    async fn revoke_initial_token(&self, id: &str) -> Result<bool, StoreError> {
        let revoked = queries::revoke_initial_token(id.to_owned())
            .execute(&self.pool)
            .await
            .map_err(sqlite_error)?;
        Ok(revoked.rows_affected() > 0)
    }
}

#[async_trait]
impl SigningKeyStore for SqliteStore {
    async fn insert_signing_key(&self, key: &StoredSigningKey) -> Result<(), StoreError> {
        queries::insert_signing_key(SigningKeyRow::from_key(key)?)
            .execute(&self.pool)
            .await
            .map_err(sqlite_error)?;
        Ok(())
    }

    async fn list_signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        queries::list_signing_keys()
            .fetch_all(&self.pool)
            .await
            .map_err(sqlite_error)?
            .into_iter()
            .map(SigningKeyRow::into_key)
            .collect()
    }

    async fn retire_signing_key(&self, kid: &str, retired_at: i64) -> Result<bool, StoreError> {
        let retired = queries::retire_signing_key(kid.to_owned(), retired_at)
            .execute(&self.pool)
            .await
            .map_err(sqlite_error)?;
        Ok(retired.rows_affected() == 1)
    }
}

#[async_trait]
impl ReplayCache for SqliteStore {
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
            .map_err(sqlite_error)?;
        if self.purge_schedule.is_due() {
            // Housekeeping only: the answer above stands whether or not the purge succeeds.
            let purged = queries::purge_jtis(forget_before).execute(&self.pool).await;
            if let Err(error) = purged {
                tracing::warn!(error = %sqlite_error(error), "cannot purge expired assertion jtis");
            }
        }
        Ok(recorded.rows_affected() == 1)
    }
}
