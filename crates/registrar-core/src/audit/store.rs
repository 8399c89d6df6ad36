//! `EventStore`: where audit events and client provenance are kept.

use std::fmt::Debug;

use async_trait::async_trait;

use super::event::{AuditEvent, Provenance};
use crate::error::StoreError;
use crate::ids::ClientId;

/// Which events [`EventStore::list_events`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter {
    /// Only the events of this client.
    pub client_id: Option<ClientId>,
    /// Only events at or after this time, in seconds since the epoch.
    pub since: Option<i64>,
    /// At most this many, the newest.
    pub limit: u32,
}

/// Where audit events live. The built-in SQL stores record a change's event in the same
/// transaction as the change (`store::RecordedClientStore`); a store of one's own gets each
/// event once its change committed, through [`EventStore::record_event`].
#[async_trait]
pub trait EventStore: Send + Sync + Debug {
    /// Records the event of a committed create, update or delete. A registration's event also
    /// keeps the client's [`Provenance`]; a delete's forgets it.
    async fn record_event(&self, event: &AuditEvent) -> Result<(), StoreError>;

    /// Records a refusal, then drops the oldest refusals beyond the newest `keep`, so that a
    /// flood of bad requests holds at most `keep` rows; `keep` 0 records nothing. Change events
    /// are never dropped this way.
    async fn record_refusal(&self, event: &AuditEvent, keep: u64) -> Result<(), StoreError>;

    /// The newest events that pass `filter`, newest first, with their ids.
    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<AuditEvent>, StoreError>;

    /// Deletes every event before `before` (seconds since the epoch); returns how many. The
    /// provenance of clients still registered stays.
    async fn purge_events(&self, before: i64) -> Result<u64, StoreError>;

    /// How the client was registered, while it is.
    async fn client_provenance(
        &self,
        client_id: &ClientId,
    ) -> Result<Option<Provenance>, StoreError>;
}

/// Records nothing: the event store of `Stores::with_events` for a host that keeps only the
/// log lines.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEvents;

#[async_trait]
impl EventStore for NoEvents {
    async fn record_event(&self, _event: &AuditEvent) -> Result<(), StoreError> {
        Ok(())
    }

    async fn record_refusal(&self, _event: &AuditEvent, _keep: u64) -> Result<(), StoreError> {
        Ok(())
    }

    async fn list_events(&self, _filter: &EventFilter) -> Result<Vec<AuditEvent>, StoreError> {
        Ok(Vec::new())
    }

    async fn purge_events(&self, _before: i64) -> Result<u64, StoreError> {
        Ok(0)
    }

    async fn client_provenance(
        &self,
        _client_id: &ClientId,
    ) -> Result<Option<Provenance>, StoreError> {
        Ok(None)
    }
}
