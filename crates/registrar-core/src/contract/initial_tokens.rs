//! The checks of [`InitialAccessTokenStore`]: storing, finding, listing and revoking tokens.
//!
//! A token store kept apart from the clients passes these; registering with a token in one
//! backend is checked in [`backend`](super::backend).

use std::sync::Arc;

use super::support::{NOW, initial_token, ok, token_hash, unique};
use crate::error::StoreError;
use crate::store::{InitialAccessToken, InitialAccessTokenStore};

/// Runs every check of this module against `store`, one after another, panicking with what broke
/// at the first failure.
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
            ],
            shared: [],
        }
    };
}

/// Initial access tokens read back exactly as inserted by hash and in the list, a duplicate id
/// or hash fails with `StoreError::Duplicate`, and a revoked token is neither found nor listed.
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
    let again = ok(store.revoke_initial_token(&full.id).await, "revoke again");
    assert!(
        !again,
        "revoke_initial_token must return false when no token has that id"
    );
}
