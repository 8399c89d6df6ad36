//! `PoolOptions`: the connection pool limits both backends take.

use std::time::Duration;

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
