//! The store backends: `SqliteStore` (the default, one file) and `PgStore` (PostgreSQL, for
//! several instances behind a load balancer), both implementing the `registrar-core` store traits.
//!
//! Both run the same SQL (`queries`), store the same rows (`rows`), forget recorded jtis on the
//! same schedule (`replay`), map errors the same way (`error`) and implement the store traits with
//! the same code (`store_impls`); a backend module holds only what differs: how to connect, which
//! pools reads and writes use, how to begin a write transaction, and which error codes mean
//! "unavailable".
//! Each backend embeds its migrations (`migrations/sqlite`, `migrations/postgres`) and runs them
//! when it opens.
//!
//! **Invariant:** no credential is stored in clear (a secret that must be recoverable and a private
//! signing key are stored only sealed by `SecretCipher`, whose key is not in the database), and no
//! value or hash is ever logged or put in an error message.

#![warn(missing_docs)]

mod error;
pub mod postgres;
mod queries;
mod replay;
mod rows;
pub mod sqlite;
mod store_impls;

use std::sync::Arc;
use std::time::Duration;

use registrar_core::error::StoreError;
use registrar_core::store::Store;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Connection pool limits (`database_pool` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// Connections for reads and writes on PostgreSQL; on SQLite, connections for reads, beside
    /// the one connection every write goes through.
    pub max_connections: u32,
    /// How long a request waits for a connection before the store counts as unavailable and the
    /// request is answered `503`, rather than hanging.
    pub acquire_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

/// Opens the store a database URL names: `sqlite://path/to.db` (created if missing) or
/// `postgres://…` (the database must exist). Migrations run before this returns.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    connect_with(url, PoolOptions::default()).await
}

/// [`connect`] with pool limits.
pub async fn connect_with(url: &str, pool: PoolOptions) -> Result<Arc<dyn Store>, StoreError> {
    // Only the scheme is ever echoed: the rest of a URL can hold a password.
    let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
    match scheme {
        "sqlite" => Ok(Arc::new(SqliteStore::open_with(url, pool).await?)),
        "postgres" | "postgresql" => Ok(Arc::new(PgStore::open_with(url, pool).await?)),
        _ => Err(StoreError::Backend(format!(
            "unsupported database url scheme {scheme:?}: expected sqlite:// or postgres://"
        ))),
    }
}
