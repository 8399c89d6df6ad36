//! The checks of [`InitialAccessTokenStore`]: storing, finding, listing and revoking tokens,
//! and taking their uses one at a time with `consume_initial_token`.
//!
//! A token store kept apart from the clients passes these; registering with a token in one
//! backend is checked in [`backend`](super::backend).

use std::sync::Arc;

use super::support::{
    NOW, initial_token, ok, race, token_hash, unique, unusable_initial_tokens, uses,
};
use crate::error::StoreError;
use crate::store::{InitialAccessToken, InitialAccessTokenStore};

/// Runs every check of this module against `store`, one after another, panicking with what broke
/// at the first failure.
///
/// [`initial_token_store_contract!`](crate::initial_token_store_contract) runs the same checks as
/// one test each.
pub async fn check_all(store: Arc<dyn InitialAccessTokenStore>) {
    crate::__initial_token_store_checks! { __contract_sequence { store: store, } }
}

/// Hands this module's checks to `$then`: [`check_all`] and the test macros run one list.
#[doc(hidden)]
#[macro_export]
macro_rules! __initial_token_store_checks {
    ($then:ident { $($input:tt)* }) => {
        $crate::$then! {
            $($input)*
            checks: [$crate::contract::initial_tokens],
            by_ref: [
                initial_tokens_insert_find_list_revoke,
                consume_initial_token_takes_exactly_one_use,
                consume_initial_token_refuses_unusable_tokens_changing_nothing,
            ],
            shared: [concurrent_consumptions_succeed_exactly_max_uses_times],
        }
    };
}

/// Initial access tokens read back exactly as inserted by hash and in the list, a duplicate id
/// or hash fails with `StoreError::Duplicate`, and a revoked token is neither found, listed nor
/// consumed.
pub async fn initial_tokens_insert_find_list_revoke(store: &dyn InitialAccessTokenStore) {
    let full = InitialAccessToken {
        note: Some("store contract".to_owned()),
        uses: 1,
        ..initial_token(Some(5), Some(NOW + 3600))
    };
    let bare = initial_token(None, None);
    ok(store.insert_initial_token(&full).await, "insert token");
    ok(store.insert_initial_token(&bare).await, "insert token");

    for token in [&full, &bare] {
        assert_eq!(
            ok(store.find_initial_token(&token.token_hash).await, "find"),
            Some(token.clone()),
            "find_initial_token must return the token as inserted"
        );
    }
    assert_eq!(
        ok(store.find_initial_token(&token_hash()).await, "find"),
        None,
        "an unknown hash must find nothing"
    );
    let listed = ok(store.list_initial_tokens().await, "list");
    for token in [&full, &bare] {
        assert!(
            listed.contains(token),
            "list_initial_tokens must include every token as inserted"
        );
    }

    let same_id = InitialAccessToken {
        token_hash: token_hash(),
        ..full.clone()
    };
    let same_hash = InitialAccessToken {
        id: unique("token"),
        ..full.clone()
    };
    for (case, token) in [("id", same_id), ("token hash", same_hash)] {
        let result = store.insert_initial_token(&token).await;
        assert!(
            matches!(result, Err(StoreError::Duplicate(_))),
            "a duplicate initial token {case} must fail with Duplicate, got {result:?}"
        );
    }

    let revoked = ok(store.revoke_initial_token(&full.id).await, "revoke");
    assert!(
        revoked,
        "revoke_initial_token must return true when it revoked"
    );
    assert_eq!(
        ok(store.find_initial_token(&full.token_hash).await, "find"),
        None,
        "a revoked token must not be found"
    );
    assert!(
        !ok(store.list_initial_tokens().await, "list")
            .iter()
            .any(|token| token.id == full.id),
        "a revoked token must not be listed"
    );
    let consumed = ok(
        store.consume_initial_token(&full.token_hash, NOW).await,
        "consume a revoked token",
    );
    assert!(!consumed, "a revoked token must not be consumed");
    let again = ok(store.revoke_initial_token(&full.id).await, "revoke again");
    assert!(
        !again,
        "revoke_initial_token must return false when no token has that id"
    );
}

/// `consume_initial_token` takes exactly one use per call while the token is usable, changing
/// nothing else, and refuses the call after the last use; a token without `max_uses` counts its
/// uses too.
pub async fn consume_initial_token_takes_exactly_one_use(store: &dyn InitialAccessTokenStore) {
    let limited = initial_token(Some(2), Some(NOW + 60));
    let unlimited = initial_token(None, None);
    ok(store.insert_initial_token(&limited).await, "insert token");
    ok(store.insert_initial_token(&unlimited).await, "insert token");

    for expected_uses in 1..=2 {
        let consumed = ok(
            store.consume_initial_token(&limited.token_hash, NOW).await,
            "consume a usable token",
        );
        assert!(consumed, "a usable token must be consumed (true)");
        assert_eq!(
            ok(store.find_initial_token(&limited.token_hash).await, "find"),
            Some(InitialAccessToken {
                uses: expected_uses,
                ..limited.clone()
            }),
            "each consumption must take exactly one use and change nothing else"
        );
    }
    let third = ok(
        store.consume_initial_token(&limited.token_hash, NOW).await,
        "consume a used-up token",
    );
    assert!(
        !third,
        "a token with max_uses 2 must refuse the third consumption"
    );
    assert_eq!(
        uses(store, &limited).await,
        2,
        "a refused consumption must not count a use"
    );

    let consumed = ok(
        store
            .consume_initial_token(&unlimited.token_hash, NOW)
            .await,
        "consume a token without limits",
    );
    assert!(consumed, "a token without limits must be consumed (true)");
    assert_eq!(
        uses(store, &unlimited).await,
        1,
        "uses must be counted without max_uses too"
    );
}

/// `consume_initial_token` refuses (false) a token that expires at or before `now`, is used up,
/// allows no use at all or is unknown, and changes no stored token; it does not create the
/// unknown one either.
pub async fn consume_initial_token_refuses_unusable_tokens_changing_nothing(
    store: &dyn InitialAccessTokenStore,
) {
    let cases = unusable_initial_tokens();
    for (case, token, stored) in cases {
        if stored {
            ok(store.insert_initial_token(&token).await, "insert token");
        }

        let consumed = ok(
            store.consume_initial_token(&token.token_hash, NOW).await,
            "consume an unusable token",
        );

        assert!(
            !consumed,
            "{case} initial token: consume_initial_token must refuse (false)"
        );
        assert_eq!(
            ok(store.find_initial_token(&token.token_hash).await, "find"),
            stored.then(|| token.clone()),
            "{case} initial token: a refused consumption must change nothing"
        );
    }
}

/// Of concurrent `consume_initial_token` calls on a token with `max_uses` 3 exactly 3 succeed:
/// the check and the use are one atomic step.
pub async fn concurrent_consumptions_succeed_exactly_max_uses_times(
    store: Arc<dyn InitialAccessTokenStore>,
) {
    const CALLERS: usize = 20;
    let token = initial_token(Some(3), Some(NOW + 60));
    ok(store.insert_initial_token(&token).await, "insert token");
    let outcomes = race(CALLERS, |_| {
        let store = Arc::clone(&store);
        let token_hash = token.token_hash.clone();
        async move { store.consume_initial_token(&token_hash, NOW).await }
    })
    .await;
    let mut consumed = 0;
    for result in outcomes {
        if ok(result, "concurrent consume_initial_token") {
            consumed += 1;
        }
    }

    assert_eq!(
        consumed, 3,
        "{CALLERS} concurrent consumptions of a token with max_uses 3 must succeed exactly 3 times"
    );
    assert_eq!(
        uses(store.as_ref(), &token).await,
        3,
        "a token with max_uses 3 must count exactly 3 uses"
    );
}
