//! What a running server does on its own: deleting expired sessions, codes, refresh tokens,
//! revocations and dead grants, so the tables of the authorization code flow do not grow forever,
//! registrations' expired `Idempotency-Key` records, and audit events older than
//! `audit.retention`.

use std::time::Duration;

use crate::state::AppState;

/// How often [`purge_expired_periodically`] runs in the binary.
pub const PURGE_INTERVAL: Duration = Duration::from_secs(600);

/// Runs `AuthorizationStore::purge_expired`,
/// `IdempotencyStore::purge_expired_idempotency_records` and `EventStore::purge_events` every
/// `interval` until the task is dropped. Several instances may run it at once: each purge
/// deletes only what has expired, so they never disagree. A failure is logged and retried at
/// the next tick.
pub async fn purge_expired_periodically(state: AppState, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let services = state.pipeline.services();
        match services
            .stores()
            .authorizations()
            .purge_expired(services.clock().now())
            .await
        {
            Ok(0) => {}
            Ok(purged) => tracing::debug!(purged, "purged expired authorization rows"),
            Err(error) => tracing::warn!(%error, "purging expired authorization rows failed"),
        }
        // Expired Idempotency-Key records hold sealed credentials: they go at the same pace.
        if let Some(idempotency) = services.stores().idempotency() {
            match idempotency
                .purge_expired_idempotency_records(services.clock().now())
                .await
            {
                Ok(0) => {}
                Ok(purged) => tracing::debug!(purged, "purged expired idempotency keys"),
                Err(error) => tracing::warn!(%error, "purging expired idempotency keys failed"),
            }
        }
        purge_old_events(&state).await;
    }
}

/// Deletes the audit events older than `audit.retention` (0 keeps them); client provenance
/// stays while the client does.
async fn purge_old_events(state: &AppState) {
    let services = state.pipeline.services();
    let retention = services.settings().audit.retention;
    if retention == 0 {
        return;
    }
    let before = services
        .clock()
        .now()
        .saturating_sub(i64::try_from(retention).unwrap_or(i64::MAX));
    match services.stores().events().purge_events(before).await {
        Ok(0) => {}
        Ok(purged) => tracing::debug!(purged, "purged old audit events"),
        Err(error) => tracing::warn!(%error, "purging old audit events failed"),
    }
}
