//! `connect`: the backend a database URL names.

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
