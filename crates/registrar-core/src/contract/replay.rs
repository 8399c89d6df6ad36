//! The checks of [`ReplayCache`]: each client assertion's `jti` is accepted once per client.

use std::sync::Arc;

use tokio::sync::Barrier;

use super::support::{NOW, ok, unique};
use crate::token::ReplayCache;

/// Runs every check of this module against `store`, one after another, panicking with what broke
/// at the first failure.
///
/// [`replay_cache_contract!`](crate::replay_cache_contract) runs the same checks as one test each.
pub async fn check_all(store: Arc<dyn ReplayCache>) {
    crate::__replay_cache_checks! { __contract_sequence { store: store, } }
}

/// Hands this module's checks to `$then`: [`check_all`] and the test macros run one list.
#[doc(hidden)]
#[macro_export]
macro_rules! __replay_cache_checks {
    ($then:ident { $($input:tt)* }) => {
        $crate::$then! {
            $($input)*
            checks: [$crate::contract::replay],
            by_ref: [
                replay_cache_records_each_jti_once_per_client,
                is_jti_recorded_reports_recorded_jtis_and_records_nothing,
            ],
            shared: [concurrent_jti_records_have_one_winner],
        }
    };
}

/// `record_jti` records a jti once per client: the same client's same jti again is a replay, even
/// with a later `expires_at`, while another client's same jti or another jti is fresh.
pub async fn replay_cache_records_each_jti_once_per_client(store: &dyn ReplayCache) {
    let (client, other_client) = (unique("replay"), unique("replay"));
    let jti = unique("jti");
    let expires_at = NOW + 330;

    let first = ok(store.record_jti(&client, &jti, expires_at).await, "record");
    let replayed = ok(store.record_jti(&client, &jti, expires_at).await, "record");
    let replayed_later = ok(
        store.record_jti(&client, &jti, expires_at + 60).await,
        "record",
    );
    let other_client_same_jti = ok(
        store.record_jti(&other_client, &jti, expires_at).await,
        "record",
    );
    let same_client_other_jti = ok(
        store.record_jti(&client, &unique("jti"), expires_at).await,
        "record",
    );

    assert!(first, "a fresh jti must be recorded (true)");
    assert!(
        !replayed,
        "the same jti of the same client must be a replay (false)"
    );
    assert!(
        !replayed_later,
        "a replay must be refused even when its own expires_at is later: the recorded one may not \
         have passed yet"
    );
    assert!(
        other_client_same_jti,
        "a jti is recorded per client: another client's same jti is fresh"
    );
    assert!(
        same_client_other_jti,
        "another jti of the same client is fresh"
    );
}

/// `is_jti_recorded` is true exactly when `record_jti` would refuse the jti, and records nothing:
/// a jti looked up first is still fresh for `record_jti`.
pub async fn is_jti_recorded_reports_recorded_jtis_and_records_nothing(store: &dyn ReplayCache) {
    let (client, other_client) = (unique("replay"), unique("replay"));
    let jti = unique("jti");
    let expires_at = NOW + 330;

    let before = ok(
        store.is_jti_recorded(&client, &jti, expires_at).await,
        "look up",
    );
    let again_before = ok(
        store.is_jti_recorded(&client, &jti, expires_at).await,
        "look up",
    );
    let first = ok(store.record_jti(&client, &jti, expires_at).await, "record");
    let after = ok(
        store.is_jti_recorded(&client, &jti, expires_at).await,
        "look up",
    );
    let other_client_after = ok(
        store.is_jti_recorded(&other_client, &jti, expires_at).await,
        "look up",
    );

    assert!(
        !before,
        "a jti never recorded must not be reported recorded"
    );
    assert!(!again_before, "looking a jti up must not record it");
    assert!(
        first,
        "a jti only looked up before must still be fresh for record_jti"
    );
    assert!(after, "a recorded jti must be reported recorded");
    assert!(
        !other_client_after,
        "a jti is recorded per client: another client's same jti is not recorded"
    );
}

/// Of concurrent `record_jti` calls for the same client and jti exactly one is fresh.
pub async fn concurrent_jti_records_have_one_winner(store: Arc<dyn ReplayCache>) {
    const CALLERS: usize = 10;
    let (client, jti) = (unique("replay"), unique("jti"));
    let barrier = Arc::new(Barrier::new(CALLERS));

    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            let (client, jti) = (client.clone(), jti.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store.record_jti(&client, &jti, NOW + 330).await
            })
        })
        .collect();
    let mut fresh = 0;
    for task in tasks {
        let result = task.await.expect("a record task panicked");
        if ok(result, "concurrent record_jti") {
            fresh += 1;
        }
    }

    assert_eq!(
        fresh, 1,
        "{CALLERS} concurrent records of the same client and jti must have exactly one fresh"
    );
}
