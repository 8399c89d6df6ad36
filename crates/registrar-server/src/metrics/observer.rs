//! `MetricsObserver`: counts the registrations the pipeline ran.

use std::sync::{Arc, LazyLock};

use registrar_core::validate::{find_policy, route_of_registration};
use registrar_core::{RegistrationContext, RegistrationObserver, RegistrationOutcome};

use super::record;

/// Counts each registration in `registrar_registrations_total` by its route of registration,
/// its policy and its outcome.
#[derive(Debug)]
pub(crate) struct MetricsObserver;

/// The one observer `AppState::new` attaches, so that attaching it twice to one pipeline
/// counts nothing twice.
pub(crate) static METRICS_OBSERVER: LazyLock<Arc<MetricsObserver>> =
    LazyLock::new(|| Arc::new(MetricsObserver));

impl RegistrationObserver for MetricsObserver {
    fn registration_ended(&self, cx: &RegistrationContext, outcome: RegistrationOutcome<'_>) {
        // A rule before the policy step refused it: the policy its route resolves to, so that a
        // policy's refusals are all under its name; empty when there is none (a token naming a
        // policy no longer configured).
        let policy = match cx.policy() {
            Some(policy) => policy.name.clone(),
            None => find_policy(cx)
                .map(|policy| policy.name.clone())
                .unwrap_or_default(),
        };
        record::registration(route_of_registration(cx).name(), policy, outcome.name());
    }
}
