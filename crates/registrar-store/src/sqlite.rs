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

use registrar_core::error::StoreError;
use sqlx::Transaction;
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

use crate::PoolOptions;
use crate::error::{migration_error, store_error};
use crate::replay::PurgeSchedule;
use crate::store_impls::impl_store_traits;

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

    /// Begins a transaction that will write, taking the write lock up front (`BEGIN IMMEDIATE`): a
    /// deferred transaction that has read cannot wait for the lock, and fails with `SQLITE_BUSY`.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
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

impl_store_traits!(SqliteStore, sqlite_error);
