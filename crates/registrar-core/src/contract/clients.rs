//! The checks of [`ClientStore`]: every method, on clients inserted without an initial access
//! token.
//!
//! Every client store passes these, whether or not it keeps initial access tokens too; the checks
//! of an insert that takes a token's use are in [`backend`](super::backend).

use std::sync::Arc;

use tokio::sync::Barrier;

pub use super::lifecycle::{
    client_state_survives_replacements, delete_expired_client_rechecks_the_rule,
    expired_clients_follow_the_cutoffs, record_client_use_only_moves_forward,
    set_client_blocked_blocks_and_unblocks,
};
use super::support::{
    NOW, check, client_id, find, full_client, get, minimal_client, ok, registration_token,
    replaced, sealed_secret, token_hash, unique,
};
use crate::error::StoreError;
use crate::metadata::ClientMetadata;
use crate::store::{ClientStore, ClientSummary, RegisteredClient, StoredSecret, TokenCheck};

/// Runs every check of this module against `store`, one after another, panicking with what broke
/// at the first failure.
///
/// [`client_store_contract!`](crate::client_store_contract) runs the same checks as one test each.
pub async fn check_all(store: Arc<dyn ClientStore>) {
    crate::__client_store_checks! { __contract_sequence { store: store, } }
}

/// Hands this module's checks to `$then`: [`check_all`] and the test macros run one list.
#[doc(hidden)]
#[macro_export]
macro_rules! __client_store_checks {
    ($then:ident { $($input:tt)* }) => {
        $crate::$then! {
            $($input)*
            checks: [$crate::contract::clients],
            by_ref: [
                ping_answers,
                clients_round_trip,
                encrypted_secrets_round_trip,
                duplicate_keys_are_rejected,
                find_client_by_registration_token_matches_only_the_current_token,
                replace_client_is_a_compare_and_set,
                replaced_token_stays_valid_only_for_its_grace_period,
                revoke_registration_token_forgets_current_and_previous,
                delete_client_removes_the_client_and_its_token,
                list_clients_is_oldest_first,
                clients_are_counted_by_policy,
                every_client_is_counted_once,
                capped_inserts_stop_at_the_cap,
                replace_client_keeping_token_leaves_the_token,
                client_state_survives_replacements,
                record_client_use_only_moves_forward,
                set_client_blocked_blocks_and_unblocks,
                expired_clients_follow_the_cutoffs,
                delete_expired_client_rechecks_the_rule,
            ],
            shared: [
                concurrent_replacements_have_one_winner,
                concurrent_capped_inserts_never_pass_the_cap,
            ],
        }
    };
}

/// `ping` answers on a working store.
pub async fn ping_answers(store: &dyn ClientStore) {
    ok(store.ping().await, "ping");
}

/// A client with every metadata field, localized names, a secret, a registration access token,
/// provenance and extension members reads back exactly as inserted, and so does a client with
/// none of them; an unknown id reads as `None`.
pub async fn clients_round_trip(store: &dyn ClientStore) {
    let full = full_client("full");
    let minimal = minimal_client("minimal");

    ok(
        store.insert_client(&full, None, NOW).await,
        "insert full client",
    );
    ok(
        store.insert_client(&minimal, None, NOW).await,
        "insert minimal client",
    );

    assert_eq!(
        get(store, &full.client_id).await,
        Some(full),
        "a client with every metadata field, a secret, a registration access token and localized \
         names must read back exactly as inserted"
    );
    assert_eq!(
        get(store, &minimal.client_id).await,
        Some(minimal),
        "a client without secret, token or metadata must read back exactly as inserted"
    );
    assert_eq!(
        get(store, &client_id("unknown")).await,
        None,
        "get_client of an unknown id must be None"
    );
}

/// An encrypted secret (kept for `client_secret_jwt`) reads back exactly as inserted, and
/// `replace_client` drops it or stores a new one as the replacement says, read alike by
/// `get_client` and `find_client_by_registration_token`.
pub async fn encrypted_secrets_round_trip(store: &dyn ClientStore) {
    let with_ciphertext = |client: &RegisteredClient, encrypted: Option<String>| RegisteredClient {
        secret: Some(StoredSecret {
            hash: token_hash(),
            expires_at: NOW + 3_600,
            encrypted,
        }),
        ..client.clone()
    };
    let original = with_ciphertext(&minimal_client("sealed"), Some(sealed_secret()));
    ok(store.insert_client(&original, None, NOW).await, "insert");
    assert_eq!(
        get(store, &original.client_id).await,
        Some(original.clone()),
        "an encrypted secret must read back exactly as inserted"
    );

    // A change of method away from client_secret_jwt drops the ciphertext; a change back seals a
    // new one.
    let mut current = original;
    for (step, encrypted) in [
        ("without ciphertext", None),
        ("with ciphertext again", Some(sealed_secret())),
    ] {
        let replacement = RegisteredClient {
            registration_token: Some(token_hash()),
            updated_at: current.updated_at + 1,
            ..with_ciphertext(&current, encrypted)
        };
        let swapped = ok(
            store
                .replace_client(&replacement, check(&registration_token(&current), NOW), NOW)
                .await,
            "replace",
        );
        assert!(swapped, "replace {step}: the current token must replace");
        assert_eq!(
            get(store, &current.client_id).await,
            Some(replacement.clone()),
            "replace {step}: the secret must read back exactly as replaced"
        );
        let found = find(store, &registration_token(&replacement), NOW).await;
        assert_eq!(
            found.and_then(|client| client.secret),
            replacement.secret.clone(),
            "replace {step}: find_client_by_registration_token must read the same secret"
        );
        current = replacement;
    }
}

/// An existing `client_id` fails with `StoreError::Duplicate("client_id")` and changes nothing;
/// a registration access token hash is unique too, and a client rejected for it is not stored.
pub async fn duplicate_keys_are_rejected(store: &dyn ClientStore) {
    let first = minimal_client("duplicate");
    ok(store.insert_client(&first, None, NOW).await, "insert");
    let same_id = RegisteredClient {
        registration_token: Some(token_hash()),
        metadata: ClientMetadata {
            client_name: Some("impostor".to_owned()),
            ..ClientMetadata::default()
        },
        ..first.clone()
    };
    let same_token = RegisteredClient {
        client_id: client_id("duplicate-token"),
        ..first.clone()
    };

    let by_id = store.insert_client(&same_id, None, NOW).await;
    let by_token = store.insert_client(&same_token, None, NOW).await;

    assert!(
        matches!(by_id, Err(StoreError::Duplicate("client_id"))),
        "inserting an existing client_id must fail with Duplicate(\"client_id\"), got {by_id:?}"
    );
    assert_eq!(
        get(store, &first.client_id).await,
        Some(first),
        "a rejected duplicate must not change the stored client"
    );
    assert!(
        matches!(by_token, Err(StoreError::Duplicate(_))),
        "a registration access token hash must be unique, got {by_token:?}"
    );
    assert_eq!(
        get(store, &same_token.client_id).await,
        None,
        "a client rejected for a duplicate token must not be stored"
    );
}

/// `find_client_by_registration_token` finds a client by its current registration access token
/// and finds nothing by an unknown one.
pub async fn find_client_by_registration_token_matches_only_the_current_token(
    store: &dyn ClientStore,
) {
    let client = minimal_client("findable");
    let (current, other) = (token_hash(), token_hash());
    let client = RegisteredClient {
        registration_token: Some(current.clone()),
        ..client
    };
    ok(store.insert_client(&client, None, NOW).await, "insert");

    assert_eq!(
        find(store, &current, NOW).await,
        Some(client),
        "the current registration access token must find its client"
    );
    assert_eq!(
        find(store, &other, NOW).await,
        None,
        "an unknown token must find nothing"
    );
}

/// `replace_client` stores the replacement only while the presented token is the current one:
/// a stale token, another client's token or an unknown client change nothing and return false.
pub async fn replace_client_is_a_compare_and_set(store: &dyn ClientStore) {
    let original = minimal_client("replaced");
    let first_token = registration_token(&original);
    ok(store.insert_client(&original, None, NOW).await, "insert");
    let replacement = replaced(&original, NOW + 10);
    let second_token = registration_token(&replacement);

    let swapped = ok(
        store
            .replace_client(&replacement, check(&first_token, NOW + 10), NOW + 10)
            .await,
        "replace presenting the current token",
    );

    assert!(swapped, "presenting the current token must replace");
    assert_eq!(
        get(store, &original.client_id).await,
        Some(replacement.clone()),
        "replace_client must store the new metadata, secret, token and updated_at"
    );
    assert_eq!(
        find(store, &first_token, NOW + 10).await,
        None,
        "without a grace period the replaced token must stop working at once"
    );
    assert_eq!(
        find(store, &second_token, NOW + 10).await,
        Some(replacement.clone()),
        "the new token must find the client"
    );

    let stale = replaced(&replacement, NOW + 20);
    let stale_swap = ok(
        store
            .replace_client(&stale, check(&first_token, NOW + 20), NOW + 20)
            .await,
        "replace presenting a stale token",
    );
    assert!(!stale_swap, "a stale token must not replace");
    assert_eq!(
        get(store, &original.client_id).await,
        Some(replacement.clone()),
        "a failed compare-and-set must change nothing"
    );

    let elsewhere = minimal_client("other-owner");
    ok(store.insert_client(&elsewhere, None, NOW).await, "insert");
    let foreign = ok(
        store
            .replace_client(
                &replaced(&replacement, NOW + 30),
                check(&registration_token(&elsewhere), NOW + 30),
                NOW + 30,
            )
            .await,
        "replace presenting another client's token",
    );
    assert!(!foreign, "another client's token must not replace this one");

    let unknown = ok(
        store
            .replace_client(
                &replaced(&minimal_client("never-inserted"), NOW),
                check(&token_hash(), NOW),
                NOW,
            )
            .await,
        "replace an unknown client",
    );
    assert!(!unknown, "replacing an unknown client must return false");
    assert_eq!(
        get(store, &original.client_id).await,
        Some(replacement),
        "failed replacements must change nothing"
    );
}

/// A token replaced with a grace period keeps finding (and may replace) the client until
/// `previous_valid_until`, and not from then on; the current token has no expiry.
pub async fn replaced_token_stays_valid_only_for_its_grace_period(store: &dyn ClientStore) {
    let original = minimal_client("grace");
    let first_token = registration_token(&original);
    ok(store.insert_client(&original, None, NOW).await, "insert");
    let second = replaced(&original, NOW);
    let second_token = registration_token(&second);

    let swapped = ok(
        store
            .replace_client(&second, check(&first_token, NOW), NOW + 60)
            .await,
        "replace with a 60 second grace period",
    );

    assert!(swapped);
    assert_eq!(
        find(store, &first_token, NOW + 59).await,
        Some(second.clone()),
        "the previous token must find the (new) client until previous_valid_until"
    );
    assert_eq!(
        find(store, &first_token, NOW + 60).await,
        None,
        "the previous token must stop at previous_valid_until"
    );
    assert_eq!(
        find(store, &second_token, NOW + 3600).await,
        Some(second.clone()),
        "the current token has no expiry"
    );
    let after_grace = ok(
        store
            .replace_client(
                &replaced(&second, NOW + 60),
                check(&first_token, NOW + 60),
                NOW + 60,
            )
            .await,
        "replace presenting the previous token after its grace period",
    );
    assert!(
        !after_grace,
        "the previous token must not replace after its grace period"
    );

    // Within its grace period the previous token passes the check; the rotation then replaces the
    // current token, and without a new grace period neither old token works afterwards.
    let third = replaced(&second, NOW + 30);
    let third_token = registration_token(&third);
    let within_grace = ok(
        store
            .replace_client(&third, check(&first_token, NOW + 30), NOW + 30)
            .await,
        "replace presenting the previous token within its grace period",
    );
    assert!(
        within_grace,
        "the previous token must pass the check within its grace period"
    );
    for (which, token) in [("first", &first_token), ("second", &second_token)] {
        assert_eq!(
            find(store, token, NOW + 30).await,
            None,
            "the {which} token must be gone after a rotation without grace"
        );
    }
    assert_eq!(find(store, &third_token, NOW + 30).await, Some(third));
}

/// RFC 7592 §2.1: `revoke_registration_token` forgets the current token and the previous one still
/// in its grace period, keeps everything else, and is no error for an unknown client.
pub async fn revoke_registration_token_forgets_current_and_previous(store: &dyn ClientStore) {
    let original = minimal_client("revoked");
    let first_token = registration_token(&original);
    ok(store.insert_client(&original, None, NOW).await, "insert");
    let second = replaced(&original, NOW);
    let second_token = registration_token(&second);
    ok(
        store
            .replace_client(&second, check(&first_token, NOW), NOW + 600)
            .await,
        "replace with a grace period",
    );

    ok(
        store.revoke_registration_token(&original.client_id).await,
        "revoke",
    );

    for (which, token) in [("current", &second_token), ("previous", &first_token)] {
        assert_eq!(
            find(store, token, NOW + 1).await,
            None,
            "the {which} token must find nothing after revocation"
        );
    }
    assert_eq!(
        get(store, &original.client_id).await,
        Some(RegisteredClient {
            registration_token: None,
            ..second.clone()
        }),
        "revocation must clear the token and keep everything else"
    );
    let replaced_after = ok(
        store
            .replace_client(
                &replaced(&second, NOW + 2),
                check(&second_token, NOW + 2),
                NOW + 2,
            )
            .await,
        "replace presenting a revoked token",
    );
    assert!(!replaced_after, "a revoked token must not replace");
    ok(
        store
            .revoke_registration_token(&client_id("never-inserted"))
            .await,
        "revoking the token of an unknown client is not an error",
    );
}

/// `delete_client` removes the client and its registration access token, returning true, and
/// returns false when there is nothing to delete.
pub async fn delete_client_removes_the_client_and_its_token(store: &dyn ClientStore) {
    let client = minimal_client("deleted");
    let token = registration_token(&client);
    ok(store.insert_client(&client, None, NOW).await, "insert");

    let deleted = ok(store.delete_client(&client.client_id).await, "delete");

    assert!(deleted, "delete_client must return true when it deleted");
    assert_eq!(get(store, &client.client_id).await, None);
    assert_eq!(
        find(store, &token, NOW).await,
        None,
        "a deleted client's token must find nothing"
    );
    let again = ok(store.delete_client(&client.client_id).await, "delete again");
    assert!(
        !again,
        "delete_client must return false when there was none"
    );
}

/// `list_clients` lists every client as a summary, oldest `client_id_issued_at` first.
pub async fn list_clients_is_oldest_first(store: &dyn ClientStore) {
    let issued = |prefix: &str, at: i64, name: Option<&str>| RegisteredClient {
        client_id_issued_at: at,
        metadata: ClientMetadata {
            client_name: name.map(str::to_owned),
            grant_types: vec!["client_credentials".to_owned(), "refresh_token".to_owned()],
            ..ClientMetadata::default()
        },
        ..minimal_client(prefix)
    };
    let newest = issued("list-newest", NOW + 30, Some("Newest"));
    let oldest = issued("list-oldest", NOW + 10, None);
    let middle = issued("list-middle", NOW + 20, Some("Middle"));
    for client in [&newest, &oldest, &middle] {
        ok(store.insert_client(client, None, NOW).await, "insert");
    }
    let ours = [&newest, &oldest, &middle].map(|client| client.client_id.clone());

    let listed: Vec<ClientSummary> = ok(store.list_clients().await, "list")
        .into_iter()
        .filter(|summary| ours.contains(&summary.client_id))
        .collect();

    let expected: Vec<ClientSummary> = [&oldest, &middle, &newest]
        .into_iter()
        .map(|client| ClientSummary {
            client_id: client.client_id.clone(),
            client_name: client.metadata.client_name.clone(),
            client_id_issued_at: client.client_id_issued_at,
            grant_types: client.metadata.grant_types.clone(),
            state: client.state,
        })
        .collect();
    assert_eq!(
        listed, expected,
        "list_clients must list every client, oldest first"
    );
}

/// Of concurrent `replace_client` calls presenting the same token exactly one wins, and the
/// stored client is the winner's.
pub async fn concurrent_replacements_have_one_winner(store: Arc<dyn ClientStore>) {
    const CALLERS: usize = 10;
    let original = minimal_client("contended");
    let presented = registration_token(&original);
    ok(store.insert_client(&original, None, NOW).await, "insert");
    let barrier = Arc::new(Barrier::new(CALLERS));

    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            let (presented, replacement) = (presented.clone(), replaced(&original, NOW + 1));
            tokio::spawn(async move {
                barrier.wait().await;
                let check = TokenCheck {
                    presented: &presented,
                    now: NOW + 1,
                };
                let result = store.replace_client(&replacement, check, NOW + 1).await;
                (replacement, result)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (replacement, result) = task.await.expect("a replacement task panicked");
        if ok(result, "concurrent replace") {
            winners.push(replacement);
        }
    }

    assert_eq!(
        winners.len(),
        1,
        "{CALLERS} concurrent replacements presenting the same token must have exactly one winner"
    );
    assert_eq!(
        get(store.as_ref(), &original.client_id).await,
        winners.pop(),
        "the stored client must be the winner's"
    );
}

/// A client of `policy`, otherwise minimal.
fn client_of(policy: &str, prefix: &str) -> RegisteredClient {
    RegisteredClient {
        policy: Some(policy.to_owned()),
        ..minimal_client(prefix)
    }
}

/// `count_clients_with_policy` counts the clients stored under a policy, and only those.
pub async fn clients_are_counted_by_policy(store: &dyn ClientStore) {
    let policy = unique("policy");
    async fn count(store: &dyn ClientStore, policy: String) -> u64 {
        ok(store.count_clients_with_policy(&policy).await, "count")
    }
    assert_eq!(
        count(store, policy.clone()).await,
        0,
        "an unused policy counts 0"
    );
    for prefix in ["counted-a", "counted-b"] {
        ok(
            store
                .insert_client(&client_of(&policy, prefix), None, NOW)
                .await,
            "insert",
        );
    }
    ok(
        store
            .insert_client(&client_of(&unique("other"), "other"), None, NOW)
            .await,
        "insert under another policy",
    );
    assert_eq!(
        count(store, policy.clone()).await,
        2,
        "two clients of the policy"
    );
    let first = client_of(&policy, "counted-c");
    ok(store.insert_client(&first, None, NOW).await, "insert");
    ok(store.delete_client(&first.client_id).await, "delete");
    assert_eq!(
        count(store, policy).await,
        2,
        "a deleted client no longer counts"
    );
}

/// `count_clients_by_policy` counts every listed client once: by its policy, or (the trait's
/// default, for a store that keeps no policies) all under `None`.
pub async fn every_client_is_counted_once(store: &dyn ClientStore) {
    let policy = unique("gauge");
    for prefix in ["gauge-a", "gauge-b"] {
        ok(
            store
                .insert_client(&client_of(&policy, prefix), None, NOW)
                .await,
            "insert",
        );
    }
    ok(
        store
            .insert_client(&minimal_client("gauge-none"), None, NOW)
            .await,
        "insert without a policy",
    );
    let counts = ok(store.count_clients_by_policy().await, "count by policy");
    // Another run of the suite may insert and delete on the same database meanwhile, so the
    // total is held only to what this check inserted, not to a `list_clients` taken apart.
    let total: u64 = counts.iter().map(|count| count.clients).sum();
    assert!(
        total >= 3,
        "the three clients inserted are counted: {counts:?}"
    );
    let without_policy = counts
        .iter()
        .find(|count| count.policy.is_none())
        .map_or(0, |count| count.clients);
    assert!(
        without_policy >= 1,
        "a client without a policy is counted under none: {counts:?}"
    );
    let names: Vec<_> = counts.iter().map(|count| &count.policy).collect();
    let mut unique_names = names.clone();
    unique_names.sort();
    unique_names.dedup();
    assert_eq!(
        names.len(),
        unique_names.len(),
        "one count per policy: {counts:?}"
    );
    let ours = counts
        .iter()
        .find(|count| count.policy.as_deref() == Some(policy.as_str()));
    match ours {
        Some(count) => assert_eq!(count.clients, 2, "two clients of the policy"),
        None => assert!(
            counts.iter().all(|count| count.policy.is_none()),
            "a store that counts by policy counts every policy: {counts:?}"
        ),
    }
}

/// `insert_client_within` inserts while the policy holds fewer than the cap, then refuses with
/// `PolicyFull`, inserting nothing.
pub async fn capped_inserts_stop_at_the_cap(store: &dyn ClientStore) {
    let policy = unique("capped");
    for prefix in ["cap-a", "cap-b"] {
        ok(
            store
                .insert_client_within(&client_of(&policy, prefix), None, NOW, 2)
                .await,
            "insert under the cap",
        );
    }
    let third = client_of(&policy, "cap-c");
    let refused = store.insert_client_within(&third, None, NOW, 2).await;
    assert!(
        matches!(refused, Err(StoreError::PolicyFull)),
        "the third client of a policy capped at 2 must be refused with PolicyFull, got {refused:?}"
    );
    assert_eq!(get(store, &third.client_id).await, None, "nothing inserted");
}

/// An administrator's replacement changes the metadata and keeps the registration access token.
pub async fn replace_client_keeping_token_leaves_the_token(store: &dyn ClientStore) {
    let original = minimal_client("kept-token");
    ok(store.insert_client(&original, None, NOW).await, "insert");
    let mut replacement = replaced(&original, NOW + 1);
    replacement.registration_token = original.registration_token.clone();
    assert!(
        ok(
            store.replace_client_keeping_token(&replacement).await,
            "replace keeping the token"
        ),
        "an existing client must be replaced"
    );
    assert_eq!(get(store, &original.client_id).await, Some(replacement));
    let presented = registration_token(&original);
    let found = find(store, &presented, NOW + 1).await;
    assert_eq!(
        found.map(|client| client.client_id),
        Some(original.client_id.clone()),
        "the client's own token must still find it"
    );
    let gone = minimal_client("kept-gone");
    assert!(
        !ok(store.replace_client_keeping_token(&gone).await, "replace"),
        "replacing a client that does not exist must report false"
    );
}

/// Concurrent inserts under one capped policy never store more clients than the cap.
pub async fn concurrent_capped_inserts_never_pass_the_cap(store: Arc<dyn ClientStore>) {
    const CALLERS: usize = 10;
    const CAP: u64 = 3;
    let policy = unique("contended-cap");
    let barrier = Arc::new(Barrier::new(CALLERS));
    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            let client = client_of(&policy, "racer");
            tokio::spawn(async move {
                barrier.wait().await;
                store.insert_client_within(&client, None, NOW, CAP).await
            })
        })
        .collect();
    let mut inserted = 0;
    for task in tasks {
        match task.await.expect("an insert task panicked") {
            Ok(()) => inserted += 1,
            Err(StoreError::PolicyFull) => {}
            Err(error) => panic!("a capped insert failed: {error}"),
        }
    }
    assert_eq!(
        inserted, CAP,
        "exactly the cap of {CAP} inserts must succeed"
    );
    assert_eq!(
        ok(store.count_clients_with_policy(&policy).await, "count"),
        CAP
    );
}
