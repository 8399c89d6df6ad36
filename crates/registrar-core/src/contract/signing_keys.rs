//! The checks of [`SigningKeyStore`]: the server's signing keys, inserted, listed and retired.

use std::sync::Arc;

use super::support::{NOW, ok, our_signing_keys, sealed_secret, signing_key, unique};
use crate::error::StoreError;
use crate::token::{SigningAlgorithm, SigningKeyStore, StoredSigningKey};

/// Runs every check of this module against `store`, one after another, panicking with what broke
/// at the first failure.
///
/// [`signing_key_store_contract!`](crate::signing_key_store_contract) runs the same checks as one
/// test each.
pub async fn check_all(store: Arc<dyn SigningKeyStore>) {
    crate::__signing_key_store_checks! { __contract_sequence { store: store, } }
}

/// Hands this module's checks to `$then`: [`check_all`] and the test macros run one list.
#[doc(hidden)]
#[macro_export]
macro_rules! __signing_key_store_checks {
    ($then:ident { $($input:tt)* }) => {
        $crate::$then! {
            $($input)*
            checks: [$crate::contract::signing_keys],
            by_ref: [signing_keys_insert_list_retire],
            shared: [],
        }
    };
}

/// Signing keys read back exactly as inserted, a duplicate kid fails with
/// `StoreError::Duplicate("kid")` and changes nothing, and `retire_signing_key` sets
/// `retired_at` once, only on a known active key.
pub async fn signing_keys_insert_list_retire(store: &dyn SigningKeyStore) {
    let newest = signing_key(SigningAlgorithm::Es256, NOW + 10, None);
    let tied_a = signing_key(SigningAlgorithm::Rs256, NOW, None);
    let tied_b = signing_key(SigningAlgorithm::EdDsa, NOW, Some(NOW + 5));
    for key in [&newest, &tied_a, &tied_b] {
        ok(store.insert_signing_key(key).await, "insert signing key");
    }
    let mut expected = vec![tied_a.clone(), tied_b.clone(), newest.clone()];
    expected
        .sort_by(|left, right| (left.created_at, &left.kid).cmp(&(right.created_at, &right.kid)));
    assert_eq!(
        our_signing_keys(store, &expected).await,
        expected,
        "list_signing_keys must list every key as inserted, ordered by created_at, then kid"
    );

    let same_kid = StoredSigningKey {
        encrypted_private_key: sealed_secret(),
        created_at: NOW + 20,
        ..newest.clone()
    };
    let duplicate = store.insert_signing_key(&same_kid).await;
    assert!(
        matches!(duplicate, Err(StoreError::Duplicate("kid"))),
        "inserting an existing kid must fail with Duplicate(\"kid\"), got {duplicate:?}"
    );
    assert_eq!(
        our_signing_keys(store, &expected).await,
        expected,
        "a rejected duplicate must not change the stored key"
    );

    let retired = ok(
        store.retire_signing_key(&newest.kid, NOW + 30).await,
        "retire",
    );
    let retired_again = ok(
        store.retire_signing_key(&newest.kid, NOW + 40).await,
        "retire again",
    );
    let retired_before = ok(
        store.retire_signing_key(&tied_b.kid, NOW + 40).await,
        "retire a key inserted retired",
    );
    let unknown = ok(
        store.retire_signing_key(&unique("kid"), NOW + 40).await,
        "retire an unknown kid",
    );

    assert!(retired, "retiring an active key must return true");
    assert!(!retired_again, "retiring a retired key must return false");
    assert!(
        !retired_before,
        "retiring a key inserted retired must return false"
    );
    assert!(!unknown, "retiring an unknown kid must return false");
    for key in expected.iter_mut().filter(|key| key.kid == newest.kid) {
        key.retired_at = Some(NOW + 30);
    }
    assert_eq!(
        our_signing_keys(store, &expected).await,
        expected,
        "retiring must set retired_at once and change nothing else"
    );
}
