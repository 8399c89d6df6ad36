//! `connect`: the backend a database URL names, and the handle that closes it.

use std::sync::Arc;

use registrar_core::error::StoreError;
use registrar_core::store::Store;

use crate::pool::PoolOptions;
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;

/// Opens the store a database URL names: `sqlite://path/to.db` (created if missing) or
/// `postgres://…` (the database must exist). Migrations run before this returns.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    connect_with(url, PoolOptions::default()).await
}

/// [`connect`] with pool limits.
pub async fn connect_with(url: &str, pool: PoolOptions) -> Result<Arc<dyn Store>, StoreError> {
    let (store, _closer) = connect_with_closer(url, pool).await?;
    Ok(store)
}

/// [`connect_with`], and a [`StoreCloser`] for the end of the process: the store is shared as
/// `Arc<dyn Store>` by everything serving requests, so nothing but this handle can still reach
/// its pools when the server stops.
pub async fn connect_with_closer(
    url: &str,
    pool: PoolOptions,
) -> Result<(Arc<dyn Store>, StoreCloser), StoreError> {
    // Only the scheme is ever echoed: the rest of a URL can hold a password.
    let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
    match scheme {
        "sqlite" => {
            let store = SqliteStore::open_with(url, pool).await?;
            let closer = StoreCloser(Backend::Sqlite(store.clone()));
            Ok((Arc::new(store), closer))
        }
        "postgres" | "postgresql" => {
            let store = PgStore::open_with(url, pool).await?;
            let closer = StoreCloser(Backend::Postgres(store.clone()));
            Ok((Arc::new(store), closer))
        }
        _ => Err(StoreError::Backend(format!(
            "unsupported database url scheme {scheme:?}: expected sqlite:// or postgres://"
        ))),
    }
}

/// Closes the connection pools of a store opened by [`connect_with_closer`].
#[derive(Debug, Clone)]
pub struct StoreCloser(Backend);

/// A clone of the store: clones share their pools, so closing one closes them all.
#[derive(Debug, Clone)]
enum Backend {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl StoreCloser {
    /// Closes every connection, waiting for those in use to be returned. SQLite merges its
    /// write-ahead log into the database file and removes it when the last connection closes;
    /// PostgreSQL sessions end at once instead of when the server notices the dropped sockets.
    /// The store answers every later call as unavailable.
    pub async fn close(&self) {
        match &self.0 {
            Backend::Sqlite(store) => store.close().await,
            Backend::Postgres(store) => store.close().await,
        }
    }
}
