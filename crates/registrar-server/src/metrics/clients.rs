//! The `registrar_clients` gauge: counted from the store when scraped, at most every few
//! seconds, never per request.

use std::collections::BTreeSet;

use tokio::sync::Mutex;

use super::record;
use crate::state::AppState;

/// Sets `registrar_clients{policy}` from `ClientStore::count_clients_by_policy`, reusing the
/// last count while it is younger than [`ClientGauge::MAX_AGE`], so that however often
/// `/metrics` is asked for, the store counts at most once per interval. A host application with
/// its own recorder keeps one and calls [`ClientGauge::refresh`] when it scrapes.
#[derive(Debug, Default)]
pub struct ClientGauge {
    last: Mutex<Counted>,
}

#[derive(Debug, Default)]
struct Counted {
    /// When the store was last asked, by the pipeline's clock.
    at: Option<i64>,
    /// The policies counted before, set to 0 when they no longer hold a client.
    policies: BTreeSet<String>,
}

impl ClientGauge {
    /// Seconds a count is reused.
    pub const MAX_AGE: i64 = 10;

    /// Counts the clients again unless the last count is younger than [`Self::MAX_AGE`] (by the
    /// pipeline's clock, so tests move it). Concurrent scrapes wait for one count. A store that
    /// fails is logged and asked again after the same interval; the gauge keeps its last value.
    pub async fn refresh(&self, state: &AppState) {
        let services = state.pipeline.services();
        let now = services.clock().now();
        let mut last = self.last.lock().await;
        if let Some(at) = last.at
            && (0..Self::MAX_AGE).contains(&now.saturating_sub(at))
        {
            return;
        }
        last.at = Some(now);
        let counts = match services.stores().clients().count_clients_by_policy().await {
            Ok(counts) => counts,
            Err(error) => {
                tracing::warn!(%error, "cannot count the clients for the metrics");
                return;
            }
        };
        let mut policies = BTreeSet::new();
        for count in counts {
            let policy = count.policy.unwrap_or_default();
            record::clients(policy.clone(), count.clients);
            policies.insert(policy);
        }
        for gone in last.policies.difference(&policies) {
            record::clients(gone.clone(), 0);
        }
        last.policies = policies;
    }
}
