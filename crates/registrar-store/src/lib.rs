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

mod connect;
mod error;
mod pool;
pub mod postgres;
mod prepared;
mod queries;
mod replay;
mod rows;
pub mod sqlite;
mod store_impls;

pub use connect::{StoreCloser, connect, connect_with, connect_with_closer};
pub use pool::PoolOptions;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
