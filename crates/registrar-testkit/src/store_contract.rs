//! The store contract: what every `Store` backend must do, as one suite each backend's test runs.
//!
//! The checks read the doc comments of `registrar_core::store` and of the token store traits
//! (`SigningKeyStore`, `ReplayCache`) as a specification.
//! Every id and token is random per run and every check looks only at its own rows, so the suite
//! can run against a database that other tests (or earlier runs) share.
//! Time is passed in, as the traits require, so the suite needs no clock.

use std::collections::BTreeMap;
use std::sync::Arc;

use registrar_core::error::StoreError;
use registrar_core::ids::ClientId;
use registrar_core::metadata::ClientMetadata;
use registrar_core::secrets::{OsRandom, TokenHash, TokenHasher, random_token};
use registrar_core::store::{
    ClientSummary, InitialAccessToken, RegisteredClient, Store, StoredSecret, TokenCheck,
};
use registrar_core::token::{SigningAlgorithm, StoredSigningKey};
use serde_json::json;
use tokio::sync::Barrier;

/// The "now" of every check; any fixed instant does.
const NOW: i64 = 1_700_000_000;

/// Runs every check against `store`, panicking with what broke at the first failure.
pub async fn check_all(store: Arc<dyn Store>) {
    let backend = store.as_ref();
    ping_answers(backend).await;
    clients_round_trip(backend).await;
    encrypted_secrets_round_trip(backend).await;
    duplicate_keys_are_rejected(backend).await;
    registration_consumes_one_initial_token_use(backend).await;
    unusable_initial_tokens_insert_nothing(backend).await;
    failed_insert_gives_back_the_initial_token_use(backend).await;
    find_client_by_registration_token_matches_only_the_current_token(backend).await;
    replace_client_is_a_compare_and_set(backend).await;
    replaced_token_stays_valid_only_for_its_grace_period(backend).await;
    revoke_registration_token_forgets_current_and_previous(backend).await;
    delete_client_removes_the_client_and_its_token(backend).await;
    list_clients_is_oldest_first(backend).await;
    initial_tokens_insert_find_list_revoke(backend).await;
    concurrent_registrations_share_max_uses(&store).await;
    concurrent_replacements_have_one_winner(&store).await;
    signing_keys_insert_list_retire(backend).await;
    replay_cache_records_each_jti_once_per_client(backend).await;
    concurrent_jti_records_have_one_winner(&store).await;
}

async fn ping_answers(store: &dyn Store) {
    ok(store.ping().await, "ping");
}

async fn clients_round_trip(store: &dyn Store) {
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

async fn encrypted_secrets_round_trip(store: &dyn Store) {
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

async fn duplicate_keys_are_rejected(store: &dyn Store) {
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

async fn registration_consumes_one_initial_token_use(store: &dyn Store) {
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

async fn unusable_initial_tokens_insert_nothing(store: &dyn Store) {
    let cases = [
        ("expiring now", initial_token(None, Some(NOW)), true),
        ("expired", initial_token(Some(5), Some(NOW - 1)), true),
        (
            "used up",
            InitialAccessToken {
                uses: 1,
                ..initial_token(Some(1), None)
            },
            true,
        ),
        ("max_uses 0", initial_token(Some(0), Some(NOW + 60)), true),
        ("unknown", initial_token(None, None), false),
    ];
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

async fn failed_insert_gives_back_the_initial_token_use(store: &dyn Store) {
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

async fn find_client_by_registration_token_matches_only_the_current_token(store: &dyn Store) {
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

async fn replace_client_is_a_compare_and_set(store: &dyn Store) {
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

async fn replaced_token_stays_valid_only_for_its_grace_period(store: &dyn Store) {
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

async fn revoke_registration_token_forgets_current_and_previous(store: &dyn Store) {
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

async fn delete_client_removes_the_client_and_its_token(store: &dyn Store) {
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

async fn list_clients_is_oldest_first(store: &dyn Store) {
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
        })
        .collect();
    assert_eq!(
        listed, expected,
        "list_clients must list every client, oldest first"
    );
}

async fn initial_tokens_insert_find_list_revoke(store: &dyn Store) {
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
    let client = minimal_client("revoked-token");
    let result = store
        .insert_client(&client, Some(&full.token_hash), NOW)
        .await;
    assert!(
        matches!(result, Err(StoreError::InitialTokenRejected)),
        "a revoked token must not register, got {result:?}"
    );
    assert_eq!(get(store, &client.client_id).await, None);
    let again = ok(store.revoke_initial_token(&full.id).await, "revoke again");
    assert!(
        !again,
        "revoke_initial_token must return false when no token has that id"
    );
}

async fn concurrent_registrations_share_max_uses(store: &Arc<dyn Store>) {
    const CALLERS: usize = 20;
    let token = initial_token(Some(3), Some(NOW + 60));
    ok(store.insert_initial_token(&token).await, "insert token");
    let barrier = Arc::new(Barrier::new(CALLERS));

    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (store, barrier) = (Arc::clone(store), Arc::clone(&barrier));
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

async fn concurrent_replacements_have_one_winner(store: &Arc<dyn Store>) {
    const CALLERS: usize = 10;
    let original = minimal_client("contended");
    let presented = registration_token(&original);
    ok(store.insert_client(&original, None, NOW).await, "insert");
    let barrier = Arc::new(Barrier::new(CALLERS));

    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (store, barrier) = (Arc::clone(store), Arc::clone(&barrier));
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

async fn signing_keys_insert_list_retire(store: &dyn Store) {
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

async fn replay_cache_records_each_jti_once_per_client(store: &dyn Store) {
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

async fn concurrent_jti_records_have_one_winner(store: &Arc<dyn Store>) {
    const CALLERS: usize = 10;
    let (client, jti) = (unique("replay"), unique("jti"));
    let barrier = Arc::new(Barrier::new(CALLERS));

    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (store, barrier) = (Arc::clone(store), Arc::clone(&barrier));
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

// Fixtures.

/// A random id with a readable prefix, made only of unreserved characters.
fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", random_token(&OsRandom, 12))
}

fn client_id(prefix: &str) -> ClientId {
    ClientId::parse(&unique(prefix)).expect("random ids are valid client ids")
}

/// The hash of a fresh random credential.
fn token_hash() -> TokenHash {
    TokenHasher::new(b"store contract").hash(&random_token(&OsRandom, 32))
}

/// A client with a registration access token and nothing else.
fn minimal_client(prefix: &str) -> RegisteredClient {
    RegisteredClient {
        client_id: client_id(prefix),
        client_id_issued_at: NOW,
        secret: None,
        registration_token: Some(token_hash()),
        metadata: ClientMetadata::default(),
        initial_token_id: None,
        updated_at: NOW,
        extensions: serde_json::Map::new(),
    }
}

/// A client with every metadata field set, localized names, a secret and provenance.
fn full_client(prefix: &str) -> RegisteredClient {
    let strings = |values: &[&str]| values.iter().map(|value| (*value).to_owned()).collect();
    let text = |value: &str| Some(value.to_owned());
    let localized: BTreeMap<String, String> = [
        ("client_name#ja-Jpan-JP", "クライアント名"),
        ("client_name#fr", "Nom du client"),
        ("logo_uri#de", "https://client.example/logo-de.png"),
        ("tos_uri#en-GB", "https://client.example/tos-gb"),
        ("policy_uri#es", "https://client.example/privacidad"),
        ("client_uri#it", "https://client.example/it"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect();
    let metadata = ClientMetadata {
        redirect_uris: strings(&[
            "https://client.example/callback",
            "https://client.example/callback2?x=1",
        ]),
        token_endpoint_auth_method: text("client_secret_basic"),
        grant_types: strings(&["authorization_code", "refresh_token", "client_credentials"]),
        response_types: strings(&["code"]),
        client_name: text("Example Client \u{1F600} \"quoted\""),
        client_uri: text("https://client.example/"),
        logo_uri: text("https://client.example/logo.png"),
        scope: text("openid profile email offline_access"),
        contacts: strings(&["ops@client.example", "security@client.example"]),
        tos_uri: text("https://client.example/tos"),
        policy_uri: text("https://client.example/policy"),
        jwks_uri: text("https://client.example/jwks.json"),
        jwks: Some(json!({
            "keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]
        })),
        software_id: text("4NRB1-0XZABZI9E6-5SM3R"),
        software_version: text("2.1"),
        application_type: text("web"),
        sector_identifier_uri: text("https://client.example/sector.json"),
        subject_type: text("pairwise"),
        id_token_signed_response_alg: text("ES256"),
        id_token_encrypted_response_alg: text("RSA-OAEP-256"),
        id_token_encrypted_response_enc: text("A256GCM"),
        userinfo_signed_response_alg: text("RS256"),
        userinfo_encrypted_response_alg: text("ECDH-ES"),
        userinfo_encrypted_response_enc: text("A128CBC-HS256"),
        request_object_signing_alg: text("PS256"),
        request_object_encryption_alg: text("RSA-OAEP"),
        request_object_encryption_enc: text("A192GCM"),
        token_endpoint_auth_signing_alg: text("EdDSA"),
        default_max_age: Some(86_400),
        require_auth_time: Some(true),
        default_acr_values: strings(&["urn:mace:incommon:iap:silver", "phr"]),
        initiate_login_uri: text("https://client.example/login"),
        request_uris: strings(&["https://client.example/request.jwt#abc"]),
        post_logout_redirect_uris: strings(&["https://client.example/logged-out"]),
        frontchannel_logout_uri: text("https://client.example/fc-logout"),
        frontchannel_logout_session_required: Some(false),
        backchannel_logout_uri: text("https://client.example/bc-logout"),
        backchannel_logout_session_required: Some(true),
        access_token_lifetime: Some(3_600),
        identity_token_lifetime: Some(300),
        authorization_code_lifetime: Some(60),
        absolute_refresh_token_lifetime: Some(2_592_000),
        sliding_refresh_token_lifetime: Some(1_296_000),
        consent_lifetime: Some(u64::from(u32::MAX) + 1),
        localized,
    };
    RegisteredClient {
        client_id: client_id(prefix),
        client_id_issued_at: NOW - 86_400,
        secret: Some(StoredSecret {
            hash: token_hash(),
            expires_at: NOW + 86_400,
            encrypted: None,
        }),
        registration_token: Some(token_hash()),
        metadata,
        initial_token_id: Some(unique("token")),
        updated_at: NOW,
        extensions: json!({"x_tenant": "acme", "x_flags": {"beta": true, "tier": 3}})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    }
}

/// `client` as a `PUT` at `now` would leave it: new metadata, secret and registration token.
fn replaced(client: &RegisteredClient, now: i64) -> RegisteredClient {
    let suffix = random_token(&OsRandom, 6);
    RegisteredClient {
        secret: Some(StoredSecret {
            hash: token_hash(),
            expires_at: 0,
            encrypted: None,
        }),
        registration_token: Some(token_hash()),
        metadata: ClientMetadata {
            client_name: Some(format!("Replaced {suffix}")),
            redirect_uris: vec![format!("https://client.example/{suffix}")],
            grant_types: vec!["authorization_code".to_owned()],
            ..client.metadata.clone()
        },
        updated_at: now,
        ..client.clone()
    }
}

/// Stands in for a `SecretCipher` ciphertext; the store keeps it as opaque text.
fn sealed_secret() -> String {
    random_token(&OsRandom, 48)
}

/// A key as `SigningKey::seal` would store it, with a random kid and stand-in key material.
fn signing_key(
    algorithm: SigningAlgorithm,
    created_at: i64,
    retired_at: Option<i64>,
) -> StoredSigningKey {
    let kid = unique("kid");
    StoredSigningKey {
        public_jwk: json!({
            "kty": "stand-in",
            "x": random_token(&OsRandom, 32),
            "kid": kid,
            "alg": algorithm.as_str(),
            "use": "sig",
            "key_ops": ["verify"],
        }),
        kid,
        algorithm,
        encrypted_private_key: sealed_secret(),
        created_at,
        retired_at,
    }
}

fn initial_token(max_uses: Option<u32>, expires_at: Option<i64>) -> InitialAccessToken {
    InitialAccessToken {
        id: unique("token"),
        token_hash: token_hash(),
        created_at: NOW - 60,
        expires_at,
        max_uses,
        uses: 0,
        note: None,
    }
}

fn registration_token(client: &RegisteredClient) -> TokenHash {
    client
        .registration_token
        .clone()
        .expect("fixture clients have a registration access token")
}

fn check(presented: &TokenHash, now: i64) -> TokenCheck<'_> {
    TokenCheck { presented, now }
}

// Shorthands that fail the check with the store's error.

fn ok<T>(result: Result<T, StoreError>, what: &str) -> T {
    result.unwrap_or_else(|error| panic!("{what}: unexpected store error {error:?}"))
}

async fn get(store: &dyn Store, client_id: &ClientId) -> Option<RegisteredClient> {
    ok(store.get_client(client_id).await, "get_client")
}

async fn find(store: &dyn Store, presented: &TokenHash, now: i64) -> Option<RegisteredClient> {
    ok(
        store
            .find_client_by_registration_token(check(presented, now))
            .await,
        "find_client_by_registration_token",
    )
}

/// The stored keys whose kids are among `keys`, in the store's order.
async fn our_signing_keys(store: &dyn Store, keys: &[StoredSigningKey]) -> Vec<StoredSigningKey> {
    ok(store.list_signing_keys().await, "list_signing_keys")
        .into_iter()
        .filter(|listed| keys.iter().any(|key| key.kid == listed.kid))
        .collect()
}

async fn uses(store: &dyn Store, token: &InitialAccessToken) -> u32 {
    ok(
        store.find_initial_token(&token.token_hash).await,
        "find_initial_token",
    )
    .expect("the initial token is stored")
    .uses
}
