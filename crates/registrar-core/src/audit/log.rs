//! The structured log line of an event.

use super::event::AuditEvent;

/// Emits `event` at `INFO` with target `registrar::audit`, every part a field of its own, so
/// that `log.format = json` gives one machine-readable object per event; `changes` is the diff
/// as JSON text.
pub fn log_event(event: &AuditEvent) {
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
