//! `PgStore`: the backend for several Registrar instances sharing one PostgreSQL database.
//!
//! It runs the same statements as `SqliteStore`, except that it writes a registration in one
//! statement (`queries::registration`). Concurrent writers need no explicit locking: under
//! `READ COMMITTED` an `UPDATE` waits for a row another transaction is changing and then re-checks
//! its `WHERE` clause against the committed row, which is what every compare-and-set relies on.

#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use registrar_core::audit::{Action, AuditEvent, Outcome};
use registrar_core::error::StoreError;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, Postgres};
use sqlx::{Connection, Row, Transaction};

use crate::error::{migration_error, store_error};
use crate::pool::PoolOptions;
use crate::prepared::{PreparedChange, PreparedWrite};
use crate::queries::registration::{self, Registration};
use crate::replay::PurgeSchedule;
use crate::rows::EventRow;
use crate::store_impls::impl_store_traits;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a connection may stay idle in the pool before it is pinged when handed out; under
/// load connections come back within milliseconds and are not.
const PING_IDLE_AFTER: Duration = Duration::from_secs(1);

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
        let pool = pool_options_pinging_after(pool_options, PING_IDLE_AFTER)
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

    /// The pool the store traits read from: the one pool, as for writes.
    fn reader(&self) -> &PgPool {
        &self.pool
    }

    /// The pool the store traits write through: the one pool, since PostgreSQL lets connections
    /// write concurrently and waits only for the rows they change.
    fn writer(&self) -> &PgPool {
        &self.pool
    }

    /// Begins a transaction that will write. The default `READ COMMITTED` is enough: each write is
    /// a compare-and-set that PostgreSQL re-checks after waiting for a row being changed.
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    /// Under `READ COMMITTED` two inserts would each count the other's row as absent: a
    /// transaction-scoped advisory lock on the policy's name makes them take turns.
    async fn lock_policy(connection: &mut PgConnection, policy: &str) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(policy)
            .execute(connection)
            .await
            .map(|_| ())
    }

    /// A client write and its event, in a transaction of their own: concurrent transactions
    /// commit side by side on PostgreSQL's connections. A registration with its event, without an
    /// idempotency key or a policy cap (the common one), is one statement instead
    /// (`queries::registration`), one round trip where the transaction takes six.
    async fn commit_write(&self, write: PreparedWrite) -> Result<bool, StoreError> {
        match write {
            PreparedWrite {
                change:
                    PreparedChange::Insert {
                        row,
                        cap: None,
                        initial_token,
                        now,
                        idempotency: None,
                    },
                event: Some(event),
            } if is_registration_of(&event, &row.client_id) => {
                let registration = Registration {
                    row,
                    initial_token,
                    now,
                    event: EventRow::from_event(&event)?,
                };
                self.register_in_one_statement(registration).await
            }
            write => self.commit_alone(write).await,
        }
    }

    /// Runs `registration` in autocommit: the statement is its own transaction.
    async fn register_in_one_statement(
        &self,
        registration: Registration,
    ) -> Result<bool, StoreError> {
        let inserted: bool = registration::register_client(registration)
            .fetch_one(&self.pool)
            .await
            .and_then(|row| row.try_get(0))
            .map_err(postgres_error)?;
        if !inserted {
            return Err(StoreError::InitialTokenRejected);
        }
        Ok(true)
    }
}

/// The pool's options: `pool_options`' limits, and a ping before handing out a connection that
/// has been idle for `ping_idle_after` or longer.
///
/// sqlx by default pings every connection it hands out (`test_before_acquire`), one more round
/// trip before every statement, and a registration is one statement. A connection handed out
/// again within moments of its last statement is alive but for an outage: the trade-off is that
/// a connection broken since then is found by the statement, which fails as unavailable (503),
/// and is discarded when it is returned (sqlx pings it then). One idle for longer is pinged,
/// and replaced at once if it is broken, as a database's idle timeout or a restart would leave it.
fn pool_options_pinging_after(
    pool_options: PoolOptions,
    ping_idle_after: Duration,
) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(pool_options.max_connections)
        .acquire_timeout(pool_options.acquire_timeout)
        .test_before_acquire(false)
        .before_acquire(move |connection, metadata| {
            Box::pin(async move {
                if metadata.idle_for >= ping_idle_after {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
}

impl fmt::Debug for PgStore {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PgStore")
            .field("connections", &self.pool.size())
            .finish_non_exhaustive()
    }
}

/// Whether `event` is the successful `Register` event of the client `client_id`, which
/// `record_in` would write with the client's provenance: what the one statement writes.
fn is_registration_of(event: &AuditEvent, client_id: &str) -> bool {
    matches!(
        (event.action, event.outcome),
        (Action::Register, Outcome::Success)
    ) && event.client_id.as_deref() == Some(client_id)
}

fn postgres_error(error: sqlx::Error) -> StoreError {
    store_error(error, is_unavailable)
}

/// SQLSTATE class 08 (connection exception), 53300 (too many connections) and 57P01–57P03
/// (the server is shutting down or starting up).
fn is_unavailable(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "53300" | "57P01" | "57P02" | "57P03")
}

impl_store_traits!(PgStore, Postgres, postgres_error);
