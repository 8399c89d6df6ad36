//! The checks of a backend that holds both clients and initial access tokens: `insert_client`
//! with an initial access token takes the token's use in the insert's transaction.
//!
//! [`Stores::from_backend`](crate::store::Stores::from_backend) relies on this; a client store
//! kept apart from its tokens does not need to pass these.

use std::sync::Arc;

use tokio::sync::Barrier;

use super::support::{
    NOW, get, initial_token, minimal_client, ok, token_hash, unusable_initial_tokens, uses,
};
use crate::error::StoreError;
use crate::store::{RegisteredClient, Store};

/// Runs every check of this module against `store`, one after another, panicking with what broke
/// at the first failure. It runs only the checks that need clients and tokens together; the
/// checks of each trait are in the other modules, and [`super::check_all`] runs them all.
pub async fn check_all(store: Arc<dyn Store>) {
    crate::__backend_checks! { __contract_sequence { store: store, } }
}

/// Hands this module's checks to `$then`: [`check_all`] and the test macros run one list.
#[doc(hidden)]
#[macro_export]
macro_rules! __backend_checks {
    ($then:ident { $($input:tt)* }) => {
        $crate::$then! {
            $($input)*
            checks: [$crate::contract::backend],
            by_ref: [
                registration_consumes_one_initial_token_use,
                unusable_initial_tokens_insert_nothing,
                revoked_initial_token_registers_nothing,
                failed_insert_gives_back_the_initial_token_use,
            ],
            shared: [concurrent_registrations_share_max_uses],
        }
    };
}

/// `insert_client` with an initial access token takes exactly one use per registration and
/// rejects the registration after the last use with `StoreError::InitialTokenRejected`; a token
/// without `max_uses` counts its uses too.
pub async fn registration_consumes_one_initial_token_use(store: &dyn Store) {
    let limited = initial_token(Some(2), Some(NOW + 60));
    let unlimited = initial_token(None, None);
    ok(store.insert_initial_token(&limited).await, "insert token");
    ok(store.insert_initial_token(&unlimited).await, "insert token");

    for expected_uses in 1..=2 {
        let client = minimal_client("with-token");
        ok(
            store
                .insert_client(&client, Some(&limited.token_hash), NOW)
                .await,
            "insert with a usable initial token",
        );
        assert!(get(store, &client.client_id).await.is_some());
        assert_eq!(
            uses(store, &limited).await,
            expected_uses,
            "each registration must consume exactly one use"
        );
    }
    let third = minimal_client("with-token");
    let rejected = store
        .insert_client(&third, Some(&limited.token_hash), NOW)
        .await;
    assert!(
        matches!(rejected, Err(StoreError::InitialTokenRejected)),
        "a token with max_uses 2 must reject the third registration, got {rejected:?}"
    );
    assert_eq!(uses(store, &limited).await, 2);

    ok(
        store
            .insert_client(
                &minimal_client("unlimited"),
                Some(&unlimited.token_hash),
                NOW,
            )
            .await,
        "insert with a token without limits",
    );
    assert_eq!(
        uses(store, &unlimited).await,
        1,
        "uses must be counted without max_uses too"
    );
}

/// `insert_client` with an initial access token that is expired, used up, allows no use or is
/// unknown fails with `StoreError::InitialTokenRejected`, inserts nothing and counts no use.
pub async fn unusable_initial_tokens_insert_nothing(store: &dyn Store) {
    let cases = unusable_initial_tokens();
    for (case, token, stored) in cases {
        if stored {
            ok(store.insert_initial_token(&token).await, "insert token");
        }
        let client = minimal_client("rejected");

        let result = store
            .insert_client(&client, Some(&token.token_hash), NOW)
            .await;

        assert!(
            matches!(result, Err(StoreError::InitialTokenRejected)),
            "{case} initial token: expected InitialTokenRejected, got {result:?}"
        );
        assert_eq!(
            get(store, &client.client_id).await,
            None,
            "{case} initial token: nothing may be inserted"
        );
        if stored {
            assert_eq!(
                uses(store, &token).await,
                token.uses,
                "{case} initial token: a rejection must not count a use"
            );
        }
    }
}

/// `insert_client` with a revoked initial access token fails with
/// `StoreError::InitialTokenRejected` and inserts nothing.
pub async fn revoked_initial_token_registers_nothing(store: &dyn Store) {
    let token = initial_token(Some(5), Some(NOW + 3600));
    ok(store.insert_initial_token(&token).await, "insert token");
    let revoked = ok(store.revoke_initial_token(&token.id).await, "revoke");
    assert!(
        revoked,
        "revoke_initial_token must return true when it revoked"
    );

    let client = minimal_client("revoked-token");
    let result = store
        .insert_client(&client, Some(&token.token_hash), NOW)
        .await;

    assert!(
        matches!(result, Err(StoreError::InitialTokenRejected)),
        "a revoked token must not register, got {result:?}"
    );
    assert_eq!(get(store, &client.client_id).await, None);
}

/// A registration that fails after its initial access token was checked (here on a duplicate
/// `client_id`) leaves the token's uses as they were: the use and the insert are one transaction.
pub async fn failed_insert_gives_back_the_initial_token_use(store: &dyn Store) {
    let existing = minimal_client("taken");
    ok(store.insert_client(&existing, None, NOW).await, "insert");
    let token = initial_token(Some(1), None);
    ok(store.insert_initial_token(&token).await, "insert token");
    let clashing = RegisteredClient {
        registration_token: Some(token_hash()),
        ..existing.clone()
    };

    let result = store
        .insert_client(&clashing, Some(&token.token_hash), NOW)
        .await;

    assert!(
        matches!(result, Err(StoreError::Duplicate("client_id"))),
        "expected Duplicate(\"client_id\"), got {result:?}"
    );
    assert_eq!(
        uses(store, &token).await,
        0,
        "the use and the insert are one transaction: a failed insert must not consume the token"
    );
}

/// Concurrent registrations on one initial access token with `max_uses` 3 register exactly 3
/// clients; the others are rejected and insert nothing.
pub async fn concurrent_registrations_share_max_uses(store: Arc<dyn Store>) {
    const CALLERS: usize = 20;
    let token = initial_token(Some(3), Some(NOW + 60));
    ok(store.insert_initial_token(&token).await, "insert token");
    let barrier = Arc::new(Barrier::new(CALLERS));

    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            let token_hash = token.token_hash.clone();
            let client = minimal_client("concurrent");
            tokio::spawn(async move {
                barrier.wait().await;
                let result = store.insert_client(&client, Some(&token_hash), NOW).await;
                (client.client_id, result)
            })
        })
        .collect();
    let mut registered = Vec::new();
    for task in tasks {
        let (client_id, result) = task.await.expect("a registration task panicked");
        match result {
            Ok(()) => registered.push(client_id),
            Err(StoreError::InitialTokenRejected) => assert_eq!(
                get(store.as_ref(), &client_id).await,
                None,
                "a rejected concurrent registration must insert nothing"
            ),
            Err(error) => panic!(
                "concurrent registrations must succeed or be rejected, never fail: {error:?}"
            ),
        }
    }

    assert_eq!(
        registered.len(),
        3,
        "{CALLERS} concurrent registrations on a token with max_uses 3 must register exactly 3"
    );
    for client_id in &registered {
        assert!(get(store.as_ref(), client_id).await.is_some());
    }
    assert_eq!(uses(store.as_ref(), &token).await, 3);
}
