//! Rows of `audit_events` and `client_provenance` (migration 0006) and their conversion to and
//! from the `registrar_core::audit` types.
//!
//! An event's action and outcome are their names (`Action::as_str`, `Outcome::as_str`), its
//! diff a JSON array.

use registrar_core::audit::{Action, AuditEvent, Outcome, Provenance};
use registrar_core::error::StoreError;

use super::{corrupt, from_json, to_json};

/// One row of `audit_events`; `id` is the store's, so an insert leaves it out.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EventRow {
    pub id: i64,
    pub time: i64,
    pub action: String,
    pub outcome: String,
    pub client_id: Option<String>,
    pub route: Option<String>,
    pub credential_id: Option<String>,
    pub credential_issuer: Option<String>,
    pub software_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub error: Option<String>,
    pub changes: String,
}

impl EventRow {
    pub fn from_event(event: &AuditEvent) -> Result<Self, StoreError> {
        Ok(Self {
            id: 0,
            time: event.time,
            action: event.action.as_str().to_owned(),
            outcome: event.outcome.as_str().to_owned(),
            client_id: event.client_id.clone(),
            route: event.route.clone(),
            credential_id: event.credential_id.clone(),
            credential_issuer: event.credential_issuer.clone(),
            software_id: event.software_id.clone(),
            source_ip: event.source_ip.clone(),
            user_agent: event.user_agent.clone(),
            error: event.error.clone(),
            changes: to_json(&event.changes, "changes")?,
        })
    }

    pub fn into_event(self) -> Result<AuditEvent, StoreError> {
        Ok(AuditEvent {
            id: Some(self.id),
            time: self.time,
            action: Action::parse(&self.action)
                .ok_or_else(|| corrupt("action is not a known audit action"))?,
            outcome: Outcome::parse(&self.outcome)
                .ok_or_else(|| corrupt("outcome is not a known audit outcome"))?,
            client_id: self.client_id,
            route: self.route,
            credential_id: self.credential_id,
            credential_issuer: self.credential_issuer,
            software_id: self.software_id,
            source_ip: self.source_ip,
            user_agent: self.user_agent,
            error: self.error,
            changes: from_json(&self.changes, "changes")?,
        })
    }
}

/// One row of `client_provenance`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ProvenanceRow {
    pub client_id: String,
    pub registered_at: i64,
    pub route: Option<String>,
    pub credential_id: Option<String>,
    pub credential_issuer: Option<String>,
    pub software_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

impl ProvenanceRow {
    /// The provenance a registration's event records, for the client it names.
    pub fn from_event(client_id: &str, event: &AuditEvent) -> Self {
        let provenance = Provenance::of(event);
        Self {
            client_id: client_id.to_owned(),
            registered_at: provenance.registered_at,
            route: provenance.route,
            credential_id: provenance.credential_id,
            credential_issuer: provenance.credential_issuer,
            software_id: provenance.software_id,
            source_ip: provenance.source_ip,
            user_agent: provenance.user_agent,
        }
    }

    pub fn into_provenance(self) -> Provenance {
        Provenance {
            registered_at: self.registered_at,
            route: self.route,
            credential_id: self.credential_id,
            credential_issuer: self.credential_issuer,
            software_id: self.software_id,
            source_ip: self.source_ip,
            user_agent: self.user_agent,
        }
    }
}
