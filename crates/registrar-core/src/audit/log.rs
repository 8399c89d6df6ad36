//! The structured log line of an event, and its count in the metrics.

use super::event::AuditEvent;

/// Emits `event` at `INFO` with target `registrar::audit`, every part a field of its own, so
/// that `log.format = json` gives one machine-readable object per event; `changes` is the diff
/// as JSON text. The event is counted in [`AUDIT_EVENTS`] too.
pub fn log_event(event: &AuditEvent) {
    count_event(event.action.as_str(), event.outcome.as_str());
    let changes = (!event.changes.is_empty())
        .then(|| serde_json::to_string(&event.changes).ok())
        .flatten();
    tracing::info!(
        target: "registrar::audit",
        time = event.time,
        action = event.action.as_str(),
        outcome = event.outcome.as_str(),
        client_id = event.client_id.as_deref(),
        route = event.route.as_deref(),
        credential_id = event.credential_id.as_deref(),
        credential_issuer = event.credential_issuer.as_deref(),
        software_id = event.software_id.as_deref(),
        source_ip = event.source_ip.as_deref(),
        user_agent = event.user_agent.as_deref(),
        error = event.error.as_deref(),
        changes = changes.as_deref(),
        "audit event"
    );
}

/// The counter of audit events, by `action` and `outcome`: every event logged, stored or not.
pub const AUDIT_EVENTS: &str = "registrar_audit_events_total";

/// Counts one audit event in [`AUDIT_EVENTS`] through the `metrics` facade (nothing without a
/// recorder); both labels come from fixed sets.
pub fn count_event(action: &'static str, outcome: &'static str) {
    metrics::counter!(AUDIT_EVENTS, "action" => action, "outcome" => outcome).increment(1);
}
