//! What a running server does on its own: deleting expired sessions, codes, refresh tokens,
//! revocations and dead grants, so the tables of the authorization code flow do not grow forever,
//! registrations' expired `Idempotency-Key` records, audit events older than `audit.retention`,
//! and clients that outlived a `lifecycle.*` TTL.

use std::time::Duration;

use registrar_core::Pipeline;
use registrar_core::audit::{Action, AuditEvent, Outcome, log_event};
use registrar_core::error::StoreError;
use registrar_core::store::ClientChange;

use crate::state::AppState;

/// How many expired clients one scan selects; a run scans again while scans come back full,
/// up to [`MAX_EXPIRY_SCANS`] times, so one run has a bounded length and the next continues.
const EXPIRY_BATCH: u32 = 500;

/// The most scans of one run: 50,000 clients per [`PURGE_INTERVAL`].
const MAX_EXPIRY_SCANS: usize = 100;

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
        match expire_clients(&state.pipeline).await {
            Ok(0) => {}
            Ok(expired) => tracing::info!(expired, "deleted expired clients"),
            Err(error) => tracing::warn!(%error, "deleting expired clients failed"),
        }
    }
}

/// Deletes the clients that outlived `lifecycle.unused_ttl` or `lifecycle.inactive_ttl` (never
/// a blocked one), each with its grants, consents and provenance in one transaction with its
/// `expire` audit event (route: the setting). A client used since the scan selected it is
/// kept: the delete rechecks the rule. Returns how many were deleted; nothing runs while both
/// TTLs are off.
pub async fn expire_clients(pipeline: &Pipeline) -> Result<u64, StoreError> {
    let services = pipeline.services();
    let lifecycle = services.settings().lifecycle;
    if !lifecycle.is_enabled() {
        return Ok(0);
    }
    let stores = services.stores();
    let mut deleted = 0;
    for _ in 0..MAX_EXPIRY_SCANS {
        let now = services.clock().now();
        let cutoffs = lifecycle.cutoffs(now);
        let expired = stores
            .clients()
            .expired_clients(&cutoffs, EXPIRY_BATCH)
            .await?;
        for client in &expired {
            let event = AuditEvent {
                id: None,
                time: now,
                action: Action::Expire,
                outcome: Outcome::Success,
                client_id: Some(client.client_id.as_str().to_owned()),
                route: Some(client.expiry.setting().to_owned()),
                credential_id: None,
                credential_issuer: None,
                software_id: None,
                source_ip: None,
                user_agent: None,
                error: None,
                changes: Vec::new(),
            };
            let change = ClientChange::DeleteExpired {
                client_id: &client.client_id,
                cutoffs: &cutoffs,
            };
            if stores.apply_recorded(change, &event).await? {
                log_event(&event);
                deleted += 1;
            }
        }
        if expired.len() < EXPIRY_BATCH as usize {
            break;
        }
    }
    Ok(deleted)
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
