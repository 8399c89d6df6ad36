//! `SqliteStore`: the default backend, one SQLite file in WAL mode.
//!
//! SQLite lets one connection write at a time, so the store writes through a pool of exactly one
//! connection and reads through a pool of `PoolOptions::max_connections`.
//! Writers in this process then wait in the writer pool's queue, first come first served, and each
//! starts as soon as the one before it returns the connection.
//! Left to contend for the write lock, they would wait in SQLite's busy handler, which sleeps in
//! growing steps of up to 100 ms instead of waking when the lock is free: that was a p99 of about
//! 120 ms for registrations at 32 in flight (`docs/benchmarks.md`).
//! The busy timeout still covers writers in other processes, such as the `registrar` CLI.
//! A multi-statement write takes the lock up front with `BEGIN IMMEDIATE`, so it waits for another
//! process's lock instead of failing with `SQLITE_BUSY` when its read lock cannot be upgraded.
//! Client writes (registrations, updates, deletes, with their audit events) go through a group
//! commit (`group_commit`): every one waiting is run in a savepoint of one transaction, and all
//! are answered after its one fsync.

mod group_commit;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use registrar_core::error::StoreError;
use sqlx::Transaction;
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::{migration_error, store_error};
use crate::pool::PoolOptions;
use crate::prepared::PreparedWrite;
use crate::replay::PurgeSchedule;
use crate::store_impls::impl_store_traits;
use group_commit::GroupCommit;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Applies the migrations. SQLite has no advisory lock, so two processes opening a new file
/// together can both see a migration as pending; each migration commits with its bookkeeping row
/// in one transaction, so the loser fails (`table … already exists`) and, run again, finds the
/// migration applied.
async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    let deadline = tokio::time::Instant::now() + MIGRATION_RACE_WINDOW;
    let mut attempt: u64 = 1;
    loop {
        match MIGRATOR.run(pool).await {
            Ok(()) => return Ok(()),
            // SQLite answers a transaction that cannot take the write lock without waiting
            // (`database is locked`) when waiting could deadlock, so the busy timeout does not
            // cover the race: the loser waits here for the winner's migrations, however slow the
            // disk is.
            Err(error) if tokio::time::Instant::now() < deadline => {
                tracing::debug!(%error, attempt, "sqlite migration raced another process; retrying");
                tokio::time::sleep(Duration::from_millis((50 * attempt).min(500))).await;
                attempt += 1;
            }
            Err(error) => return Err(migration_error(error, is_unavailable)),
        }
    }
}

/// How long a statement waits for another connection's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a migration that lost a race with another process keeps retrying: the winner's
/// migrations commit with `synchronous = FULL`, which takes a while on a loaded machine.
const MIGRATION_RACE_WINDOW: Duration = Duration::from_secs(15);

/// A store on one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    /// Every read: `max_connections` connections that cannot write (`PRAGMA query_only`).
    readers: SqlitePool,
    /// Every write, and the migrations: one connection, handed to waiting writers in turn.
    writer: SqlitePool,
    /// The task that writes clients, their changes and events through `writer` in batches;
    /// `None` writes each in a transaction of its own.
    group_commit: Option<GroupCommit>,
    /// Shared by clones, so that they purge the replay cache as one store.
    purge_schedule: Arc<PurgeSchedule>,
}

impl SqliteStore {
    /// Opens (creating it if missing) the database at `url`, such as `sqlite://registrar.db`, and
    /// brings its schema up to date.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(url, PoolOptions::default()).await
    }

    /// [`SqliteStore::open`] with pool limits: `max_connections` for reads, plus one connection
    /// for writes. A request waits at most `acquire_timeout` for either, so a store whose writer is
    /// busy past it answers writes with `StoreError::Unavailable`.
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
        // The writer opens first: it creates the file, switches it to WAL and migrates it.
        let deadline = tokio::time::Instant::now() + MIGRATION_RACE_WINDOW;
        let writer = loop {
            let opened = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(pool_options.acquire_timeout)
                // The check is a round trip to the connection's thread in every writer's turn,
                // and guards against what a file cannot do: drop the connection like a server.
                .test_before_acquire(false)
                // The savepoint of each write in a group commit keeps a statement journal of
                // the pages it changes, only to roll back to within the open transaction: in
                // memory it costs a copy instead of a temporary file's writes. Commits and the
                // WAL are untouched.
                .connect_with(options.clone().pragma("temp_store", "MEMORY"))
                .await
                .map_err(sqlite_error);
            match opened {
                Ok(writer) => break writer,
                // Switching a new file to WAL needs it unlocked: another process creating and
                // migrating it at the same moment holds it for a while.
                Err(StoreError::Unavailable(error)) if tokio::time::Instant::now() < deadline => {
                    tracing::debug!(%error, "the sqlite file is locked while opening; retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => return Err(error),
            }
        };
        migrate(&writer).await?;
        // A write that slipped onto a reader would contend for the lock in the busy handler
        // again; `query_only` makes it fail instead.
        let readers = SqlitePoolOptions::new()
            .max_connections(pool_options.max_connections)
            .acquire_timeout(pool_options.acquire_timeout)
            .connect_with(options.pragma("query_only", "ON"))
            .await
            .map_err(sqlite_error)?;
        tracing::debug!("sqlite store open, migrations applied");
        Ok(Self {
            readers,
            group_commit: Some(GroupCommit::start(writer.clone())),
            writer,
            purge_schedule: Arc::default(),
        })
    }

    /// This store writing each client change in a transaction of its own, waiting on one fsync
    /// per change as stores without group commit do: for benchmarks that measure what group
    /// commit gains, side by side in one run. Clones taken before keep their group commit.
    pub fn without_group_commit(mut self) -> Self {
        self.group_commit = None;
        self
    }

    /// The writer pool, for what the store traits do not cover (such as inspecting pragmas or
    /// changing rows in tests). It has one connection: while a caller holds it, every write and
    /// `ping` of the store waits, and after `acquire_timeout` fails as unavailable; reads go on.
    pub fn pool(&self) -> &SqlitePool {
        &self.writer
    }

    /// Closes every connection, waiting for those in use to be returned, after merging the
    /// write-ahead log into the database file.
    ///
    /// SQLite merges it when the last connection closes, but sqlx closes a connection on that
    /// connection's own thread, which the process does not wait for; an explicit checkpoint once
    /// the readers are gone leaves an empty log whatever happens next.
    pub async fn close(&self) {
        self.readers.close().await;
        if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.writer)
            .await
        {
            tracing::warn!(%error, "cannot merge the write-ahead log before closing");
        }
        self.writer.close().await;
    }

    /// The pool the store traits read from.
    fn reader(&self) -> &SqlitePool {
        &self.readers
    }

    /// The pool the store traits write through.
    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// Begins a transaction that will write, taking the write lock up front (`BEGIN IMMEDIATE`): a
    /// deferred transaction that has read cannot wait for the lock, and fails with `SQLITE_BUSY`.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }

    /// Nothing to do: `BEGIN IMMEDIATE` on the one writer already makes write transactions take
    /// turns.
    async fn lock_policy(
        _connection: &mut SqliteConnection,
        _policy: &str,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }

    /// A client write and its event: in the writer's next group commit.
    async fn commit_write(&self, write: PreparedWrite) -> Result<bool, StoreError> {
        match &self.group_commit {
            Some(group_commit) => group_commit.commit(write).await,
            None => self.commit_alone(write).await,
        }
    }
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SqliteStore")
            .field("readers", &self.readers.size())
            .field("writer", &self.writer.size())
            .field(
                "group_commit",
                &self.group_commit.as_ref().map(GroupCommit::stats),
            )
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

impl_store_traits!(SqliteStore, Sqlite, sqlite_error);
