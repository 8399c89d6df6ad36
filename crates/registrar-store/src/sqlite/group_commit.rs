//! Group commit: the SQLite writer takes every client write that is waiting, runs each in a
//! savepoint of one transaction and commits them with one fsync, answering each request only
//! once the commit that holds it is durable.
//!
//! A registration on SQLite with `synchronous = FULL` waits on the fsync of its commit, about
//! 0.2 ms on our machines, while the core idles; one commit for every write that arrived in the
//! meantime spends that wait once per batch instead of once per request. A write that fails, or
//! does not apply, is rolled back to its savepoint and fails alone; the others commit. Initial
//! access token uses stay exact: the writes of a batch run one after the other in the same
//! transaction, each seeing the uses taken before it.
//!
//! The writes run on a task of their own, so a request that goes away (its client hung up, the
//! request timeout answered it) cannot leave a write half done; a write whose request is gone
//! before its batch starts is dropped unwritten, as nobody would learn of it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use registrar_core::error::StoreError;
use sqlx::Connection as _;
use sqlx::sqlite::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use super::{SqliteStore, sqlite_error};
use crate::prepared::PreparedWrite;

/// The most writes one commit takes: a bound on the latency the first of them waits for the
/// last (each costs some tens of microseconds).
const MAX_BATCH: usize = 256;

/// How many writes may wait for the writer before senders wait for room.
const QUEUE: usize = 4 * MAX_BATCH;

/// One write and where its outcome goes.
struct Job {
    write: PreparedWrite,
    reply: Reply,
}

/// The handle requests hand their writes to; clones share the writer.
#[derive(Clone)]
pub(crate) struct GroupCommit {
    jobs: mpsc::Sender<Job>,
    stats: Arc<Stats>,
}

/// What the writer took, how many commits it made, and how many writes they held.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Writes taken from the queue into a batch.
    pub(crate) taken: AtomicU64,
    pub(crate) commits: AtomicU64,
    pub(crate) writes: AtomicU64,
}

impl GroupCommit {
    /// Starts the writer task on `writer`, the one-connection pool; it ends when the last
    /// handle is dropped.
    pub(crate) fn start(writer: SqlitePool) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let stats = Arc::new(Stats::default());
        tokio::spawn(run(writer, queue, Arc::clone(&stats)));
        Self { jobs, stats }
    }

    /// How many writes wait in the queue, not yet taken into a batch.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.jobs.max_capacity() - self.jobs.capacity()
    }

    /// The writer's counts so far.
    pub(crate) fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Runs `write` in the next batch; whether it applied, once its batch is committed.
    pub(crate) async fn commit(&self, write: PreparedWrite) -> Result<bool, StoreError> {
        let stopped = || StoreError::Unavailable("the sqlite writer did not answer".to_owned());
        let (reply, outcome) = oneshot::channel();
        self.jobs
            .send(Job { write, reply })
            .await
            .map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }
}

async fn run(writer: SqlitePool, mut queue: mpsc::Receiver<Job>, stats: Arc<Stats>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let taken = u64::try_from(batch.len()).unwrap_or(u64::MAX);
        stats.taken.fetch_add(taken, Ordering::Relaxed);
        batch.retain(|job| !job.reply.is_closed());
        if batch.is_empty() {
            continue;
        }
        // A batch on a task of its own: were it to panic, its writes are answered unavailable
        // (their replies dropped, the transaction rolled back) and the writer goes on, instead
        // of every later write failing with it.
        let jobs = std::mem::take(&mut batch);
        match tokio::spawn(commit_batch(writer.clone(), jobs)).await {
            Ok(0) => {}
            Ok(committed) => {
                stats.commits.fetch_add(1, Ordering::Relaxed);
                stats.writes.fetch_add(committed, Ordering::Relaxed);
            }
            Err(error) => tracing::error!(%error, "a sqlite group commit did not finish"),
        }
    }
}

type Reply = oneshot::Sender<Result<bool, StoreError>>;

/// Answers each of `replies` with `error`.
fn fail_all(replies: impl IntoIterator<Item = Reply>, error: &StoreError) {
    for reply in replies {
        // A request that went away needs no answer.
        let _ = reply.send(Err(error.clone()));
    }
}

/// Runs and commits `jobs`; how many writes the commit made durable.
async fn commit_batch(writer: SqlitePool, jobs: Vec<Job>) -> u64 {
    let mut transaction = match writer.begin_with("BEGIN IMMEDIATE").await {
        Ok(transaction) => transaction,
        Err(error) => {
            fail_all(jobs.into_iter().map(|job| job.reply), &sqlite_error(error));
            return 0;
        }
    };
    let size = jobs.len();
    // The jobs that applied, answered once the commit is durable.
    let mut applied = Vec::with_capacity(size);
    let mut jobs = jobs.into_iter();
    while let Some(job) = jobs.next() {
        let mut savepoint = match transaction.begin().await {
            Ok(savepoint) => savepoint,
            Err(error) => {
                let error = sqlite_error(error);
                let rest = jobs.map(|job| job.reply);
                fail_all(applied.into_iter().chain([job.reply]).chain(rest), &error);
                return 0;
            }
        };
        match SqliteStore::run_write(&mut savepoint, job.write).await {
            Ok(true) => match savepoint.commit().await {
                Ok(()) => applied.push(job.reply),
                Err(error) => {
                    // Past a failed release the transaction's state is unknown: nothing of it
                    // may commit.
                    let error = sqlite_error(error);
                    let _ = job.reply.send(Err(error.clone()));
                    fail_all(applied.into_iter().chain(jobs.map(|job| job.reply)), &error);
                    return 0;
                }
            },
            outcome => match savepoint.rollback().await {
                // Rolled back to its savepoint, it changed nothing: its answer can go now.
                Ok(()) => {
                    let _ = job.reply.send(outcome);
                }
                Err(error) => {
                    // SQLite rolls back the whole transaction on some errors (a full disk, an
                    // I/O error), which leaves no savepoint to return to.
                    let _ = job.reply.send(outcome);
                    let error = sqlite_error(error);
                    fail_all(applied.into_iter().chain(jobs.map(|job| job.reply)), &error);
                    return 0;
                }
            },
        }
    }
    match transaction.commit().await {
        Ok(()) => {
            tracing::trace!(size, committed = applied.len(), "sqlite group commit");
            let committed = applied.len();
            for reply in applied {
                let _ = reply.send(Ok(true));
            }
            u64::try_from(committed).unwrap_or(u64::MAX)
        }
        Err(error) => {
            fail_all(applied, &sqlite_error(error));
            0
        }
    }
}
