//! What a running server does on its own: deleting expired sessions, codes, refresh tokens,
//! revocations and dead grants, so the tables of the authorization code flow do not grow forever,
//! and registrations' expired `Idempotency-Key` records.

use std::time::Duration;

use crate::state::AppState;

/// How often [`purge_expired_periodically`] runs in the binary.
pub const PURGE_INTERVAL: Duration = Duration::from_secs(600);

/// Runs `AuthorizationStore::purge_expired` and
/// `IdempotencyStore::purge_expired_idempotency_records` every `interval` until the task is dropped. Several
/// instances may run it at once: each purge deletes only what has expired, so they never
/// disagree. A failure is logged and retried at the next tick.
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
    }
}
