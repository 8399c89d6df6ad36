//! The checks of [`AuthorizationStore`]: sessions, consents, grants with their codes and refresh
//! tokens, revoked access tokens and purging.
//!
//! The grants and consents here name clients and users that no store holds: an authorization
//! store may be kept apart from the client and user stores (`Stores::with_clients`, a host's own
//! `UserAuthenticator`), so it must not require them. What deleting a client or a user does to
//! their grants is checked in [`backend`](super::backend), where one store holds them all.
//!
//! Every row these checks store, but those of the purge check, stays current at `NOW`, and
//! every grant is made at `NOW`: a purge at `NOW` (the only one any check runs) leaves them
//! all, so that the checks can run beside each other on one database.

use std::sync::Arc;

use tokio::sync::{Barrier, Mutex};

use super::support::{
    NOW, client_id, code, consent, current_token, grant, ok, redeem, refresh_token, session,
    store_grant, store_refresh_token, stored_consent, stored_grant, token_hash, unique,
};
use crate::authz::{
    AuthorizationCode, AuthorizationStore, CodeRedemption, Consent, Grant, RefreshRotation,
    RefreshToken, StoredCode,
};
use crate::secrets::TokenHash;

/// Runs every check of this module against `store`, one after another, panicking with what broke
/// at the first failure.
///
/// [`authorization_store_contract!`](crate::authorization_store_contract) runs the same checks as
/// one test each.
pub async fn check_all(store: Arc<dyn AuthorizationStore>) {
    crate::__authorization_store_checks! { __contract_sequence { store: store, } }
}

/// Hands this module's checks to `$then`: [`check_all`] and the test macros run one list.
#[doc(hidden)]
#[macro_export]
macro_rules! __authorization_store_checks {
    ($then:ident { $($input:tt)* }) => {
        $crate::$then! {
            $($input)*
            checks: [$crate::contract::authorizations],
            by_ref: [
                sessions_are_found_until_they_end,
                consents_are_kept_per_user_and_client,
                grants_round_trip_with_their_first_code,
                a_grant_whose_code_cannot_be_stored_is_not_stored,
                codes_are_redeemed_once,
                find_code_reads_a_code_without_spending_it,
                revoke_grant_ends_its_refresh_tokens_and_unused_codes,
                revoke_client_grants_revokes_that_clients_grants_and_consents,
                refresh_tokens_are_found_while_current,
                rotation_replaces_the_token_and_detects_reuse,
                refresh_tokens_of_a_revoked_grant_never_rotate,
                access_token_revocations_are_remembered,
                purge_expired_deletes_what_expired_and_keeps_the_rest,
            ],
            shared: [
                concurrent_redemptions_have_one_winner,
                concurrent_rotations_have_one_winner,
            ],
        }
    };
}

/// What rotating `old` to a fresh successor of the same grant at `now` finds, with the successor.
async fn rotate(
    store: &dyn AuthorizationStore,
    old: &RefreshToken,
    now: i64,
) -> (RefreshRotation, RefreshToken) {
    let successor = RefreshToken {
        token_hash: token_hash(),
        issued_at: now,
        ..old.clone()
    };
    let rotation = ok(
        store
            .rotate_refresh_token(&old.token_hash, &successor, now)
            .await,
        "rotate_refresh_token",
    );
    (rotation, successor)
}

/// A session reads back as inserted while `now` is before its end, and not from its end on; an
/// unknown session reads as `None`, and `delete_session` ends one (and does nothing for an
/// unknown one).
pub async fn sessions_are_found_until_they_end(store: &dyn AuthorizationStore) {
    let user_id = unique("user");
    let (ending, other) = (session(&user_id, NOW + 60), session(&user_id, NOW + 60));
    for inserted in [&ending, &other] {
        ok(store.insert_session(inserted).await, "insert_session");
    }
    let find = |id_hash: TokenHash, now: i64| async move {
        ok(store.find_session(&id_hash, now).await, "find_session")
    };

    assert_eq!(
        find(ending.id_hash.clone(), NOW).await,
        Some(ending.clone()),
        "a session must read back exactly as inserted before it ends"
    );
    assert_eq!(
        find(ending.id_hash.clone(), NOW + 59).await,
        Some(ending.clone())
    );
    assert_eq!(
        find(ending.id_hash.clone(), NOW + 60).await,
        None,
        "a session must not be found from its expires_at on"
    );
    assert_eq!(find(token_hash(), NOW).await, None);

    ok(
        store.delete_session(&ending.id_hash).await,
        "delete_session",
    );
    ok(
        store.delete_session(&token_hash()).await,
        "delete_session of an unknown session",
    );

    assert_eq!(
        find(ending.id_hash.clone(), NOW).await,
        None,
        "a deleted session must not be found"
    );
    assert_eq!(
        find(other.id_hash.clone(), NOW).await,
        Some(other),
        "delete_session must end that session alone"
    );
}

/// A consent reads back as stored, expired or not; a second one of the same user to the same
/// client replaces it, while the user's consent to another client and another user's consent to
/// the client are kept apart.
pub async fn consents_are_kept_per_user_and_client(store: &dyn AuthorizationStore) {
    let (user_id, client) = (unique("user"), client_id("consented"));
    let first = Consent {
        expires_at: Some(NOW - 1),
        ..consent(&user_id, &client, &["openid"])
    };
    let other_client = consent(&user_id, &client_id("other"), &["openid", "email"]);
    let other_user = consent(&unique("user"), &client, &["profile"]);
    for stored in [&first, &other_client, &other_user] {
        ok(store.upsert_consent(stored).await, "upsert_consent");
    }
    assert_eq!(
        stored_consent(store, &first).await,
        Some(first.clone()),
        "a consent must read back exactly as stored, expired or not"
    );

    let replacement = Consent {
        scopes: vec!["openid".to_owned(), "offline_access".to_owned()],
        resources: Vec::new(),
        granted_at: NOW + 5,
        expires_at: None,
        ..first.clone()
    };
    ok(store.upsert_consent(&replacement).await, "upsert_consent");

    assert_eq!(
        stored_consent(store, &first).await,
        Some(replacement),
        "a second consent of the user to the client must replace the first"
    );
    assert_eq!(
        stored_consent(store, &other_client).await,
        Some(other_client)
    );
    assert_eq!(stored_consent(store, &other_user).await, Some(other_user));
    assert_eq!(
        stored_consent(store, &consent(&unique("user"), &client, &[])).await,
        None,
        "find_consent of a user who never consented must be None"
    );
}

/// A grant and its first code read back exactly as inserted, a grant without an absolute
/// lifetime and a code without a nonce too; an unknown grant reads as `None`.
pub async fn grants_round_trip_with_their_first_code(store: &dyn AuthorizationStore) {
    let full = grant(&client_id("granted"), &unique("user"));
    let bare = Grant {
        scopes: Vec::new(),
        resources: Vec::new(),
        expires_at: None,
        ..grant(&client_id("granted"), &unique("user"))
    };
    let full_code = store_grant(store, &full).await;
    let bare_code = AuthorizationCode {
        nonce: None,
        ..code(&bare, NOW + 60)
    };
    ok(
        store.insert_grant_with_code(&bare, &bare_code).await,
        "insert_grant_with_code",
    );

    assert_eq!(
        stored_grant(store, &full.id).await,
        Some(full),
        "a grant must read back exactly as inserted"
    );
    assert_eq!(
        stored_grant(store, &bare.id).await,
        Some(bare),
        "a grant without scopes, resources or expiry must read back exactly as inserted"
    );
    assert_eq!(stored_grant(store, &unique("grant")).await, None);
    assert_eq!(
        redeem(store, &full_code.code_hash).await,
        CodeRedemption::Redeemed(full_code),
        "the code must be redeemed exactly as inserted"
    );
    assert_eq!(
        redeem(store, &bare_code.code_hash).await,
        CodeRedemption::Redeemed(bare_code),
        "a code without a nonce must be redeemed exactly as inserted"
    );
}

/// `insert_grant_with_code` is one transaction: when the code cannot be stored (its hash is
/// taken) the call fails and the grant is not stored either.
pub async fn a_grant_whose_code_cannot_be_stored_is_not_stored(store: &dyn AuthorizationStore) {
    let first = grant(&client_id("granted"), &unique("user"));
    let first_code = store_grant(store, &first).await;
    let second = grant(&client_id("granted"), &unique("user"));
    let clashing_code = AuthorizationCode {
        grant_id: second.id.clone(),
        ..first_code.clone()
    };

    let result = store.insert_grant_with_code(&second, &clashing_code).await;

    assert!(
        result.is_err(),
        "a code whose hash is taken must fail insert_grant_with_code"
    );
    assert_eq!(
        stored_grant(store, &second.id).await,
        None,
        "a grant whose code was not stored must not be stored"
    );
    assert_eq!(
        redeem(store, &first_code.code_hash).await,
        CodeRedemption::Redeemed(first_code),
        "the code whose hash was taken must be left as it was"
    );
}

/// A code is redeemed once: then it is `AlreadyUsed` with its grant, however often it comes back;
/// a code whose `expires_at` has passed is still redeemed (the store knows no time, the caller
/// refuses it), and an unknown code is `Unknown`.
pub async fn codes_are_redeemed_once(store: &dyn AuthorizationStore) {
    let granted = grant(&client_id("redeemed"), &unique("user"));
    // Expired for a caller at NOW + 2 or later.
    let short_lived = code(&granted, NOW + 1);
    ok(
        store.insert_grant_with_code(&granted, &short_lived).await,
        "insert_grant_with_code",
    );

    let first = redeem(store, &short_lived.code_hash).await;
    let second = redeem(store, &short_lived.code_hash).await;
    let third = redeem(store, &short_lived.code_hash).await;

    assert_eq!(
        first,
        CodeRedemption::Redeemed(short_lived),
        "the first redemption must get the code, expired or not"
    );
    let used = CodeRedemption::AlreadyUsed {
        grant_id: granted.id.clone(),
    };
    assert_eq!(
        second, used,
        "a second redemption must be AlreadyUsed with the code's grant"
    );
    assert_eq!(
        third, used,
        "every later redemption must be AlreadyUsed too"
    );
    assert_eq!(redeem(store, &token_hash()).await, CodeRedemption::Unknown);
}

/// `find_code` returns the code as inserted with `used: false`, leaves it redeemable, and after
/// the redemption returns it with `used: true`; an unknown code is `None`.
pub async fn find_code_reads_a_code_without_spending_it(store: &dyn AuthorizationStore) {
    let granted = grant(&client_id("looked-up"), &unique("user"));
    let looked_up = store_grant(store, &granted).await;
    let found = |used| {
        Some(StoredCode {
            code: looked_up.clone(),
            used,
        })
    };
    assert_eq!(
        ok(store.find_code(&looked_up.code_hash).await, "find_code"),
        found(false),
        "an unused code must be found as inserted, unused"
    );
    assert_eq!(
        ok(store.find_code(&looked_up.code_hash).await, "find_code"),
        found(false),
        "find_code must not spend the code"
    );
    assert_eq!(
        redeem(store, &looked_up.code_hash).await,
        CodeRedemption::Redeemed(looked_up.clone()),
        "a code that was only looked up must still be redeemable"
    );
    assert_eq!(
        ok(store.find_code(&looked_up.code_hash).await, "find_code"),
        found(true),
        "a redeemed code must be found as used"
    );
    assert_eq!(
        ok(store.find_code(&token_hash()).await, "find_code"),
        None,
        "an unknown code must not be found"
    );
}

/// Of concurrent redemptions of one code exactly one gets it; every other is `AlreadyUsed`.
pub async fn concurrent_redemptions_have_one_winner(store: Arc<dyn AuthorizationStore>) {
    const CALLERS: usize = 10;
    let granted = grant(&client_id("raced"), &unique("user"));
    let raced = store_grant(store.as_ref(), &granted).await;
    let barrier = Arc::new(Barrier::new(CALLERS));

    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            let code_hash = raced.code_hash.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                store.redeem_code(&code_hash).await
            })
        })
        .collect();
    let (mut redeemed, mut already_used) = (0, 0);
    for task in tasks {
        let result = task.await.expect("a redemption task panicked");
        match ok(result, "concurrent redeem_code") {
            CodeRedemption::Redeemed(code) => {
                assert_eq!(code, raced, "the winner must get the code as inserted");
                redeemed += 1;
            }
            CodeRedemption::AlreadyUsed { grant_id } => {
                assert_eq!(grant_id, granted.id);
                already_used += 1;
            }
            CodeRedemption::Unknown => panic!("a stored code must never be Unknown"),
        }
    }

    assert_eq!(
        (redeemed, already_used),
        (1, CALLERS - 1),
        "{CALLERS} concurrent redemptions of one code must have exactly one Redeemed and the \
         rest AlreadyUsed"
    );
}

/// `revoke_grant` marks the grant revoked and returns true: its refresh tokens are no longer
/// found and never rotate, its unused code is never redeemed, and its used code is still
/// reported `AlreadyUsed` (a replay stays visible). Another grant keeps its tokens; revoking an
/// unknown grant returns false.
pub async fn revoke_grant_ends_its_refresh_tokens_and_unused_codes(store: &dyn AuthorizationStore) {
    let client = client_id("revoking");
    // Each grant is stored with one code: this one's is used before the revocation, the
    // unredeemed grant's is not.
    let revoked = grant(&client, &unique("user"));
    let used_code = store_grant(store, &revoked).await;
    let unredeemed = grant(&client, &unique("user"));
    let unused_code = store_grant(store, &unredeemed).await;
    let kept = grant(&client, &unique("user"));
    store_grant(store, &kept).await;
    let revoked_token = store_refresh_token(store, &revoked).await;
    let kept_token = store_refresh_token(store, &kept).await;
    assert!(matches!(
        redeem(store, &used_code.code_hash).await,
        CodeRedemption::Redeemed(_)
    ));

    let first = ok(store.revoke_grant(&revoked.id).await, "revoke_grant");
    let unredeemed_revoked = ok(store.revoke_grant(&unredeemed.id).await, "revoke_grant");
    let again = ok(store.revoke_grant(&revoked.id).await, "revoke_grant");
    let unknown = ok(store.revoke_grant(&unique("grant")).await, "revoke_grant");

    assert!(
        first && unredeemed_revoked,
        "revoke_grant of a grant must return true"
    );
    assert!(
        again,
        "revoke_grant of a revoked grant must still return true: it exists"
    );
    assert!(
        !unknown,
        "revoke_grant of an unknown grant must return false"
    );
    assert_eq!(
        stored_grant(store, &revoked.id).await,
        Some(Grant {
            revoked: true,
            ..revoked.clone()
        }),
        "a revoked grant must read back revoked, and otherwise as inserted"
    );
    assert_eq!(
        current_token(store, &revoked_token.token_hash).await,
        None,
        "a revoked grant's refresh token must not be found"
    );
    let (rotation, successor) = rotate(store, &revoked_token, NOW).await;
    assert!(
        !matches!(rotation, RefreshRotation::Rotated(_)),
        "a revoked grant's refresh token must never rotate, got {rotation:?}"
    );
    assert_eq!(current_token(store, &successor.token_hash).await, None);
    let unused = redeem(store, &unused_code.code_hash).await;
    assert!(
        !matches!(unused, CodeRedemption::Redeemed(_)),
        "an unused code of a revoked grant must never be redeemed, got {unused:?}"
    );
    assert_eq!(
        redeem(store, &used_code.code_hash).await,
        CodeRedemption::AlreadyUsed {
            grant_id: revoked.id.clone()
        },
        "a used code of a revoked grant must still be reported AlreadyUsed"
    );
    assert_eq!(
        current_token(store, &kept_token.token_hash).await,
        Some(kept_token),
        "revoking one grant must leave another grant's refresh tokens"
    );
    assert_eq!(
        stored_grant(store, &kept.id)
            .await
            .map(|grant| grant.revoked),
        Some(false)
    );
}

/// `revoke_client_grants` revokes every grant of the client, so that none of their refresh tokens
/// is found, and forgets every consent given to the client; another client's grants and consents
/// are kept.
pub async fn revoke_client_grants_revokes_that_clients_grants_and_consents(
    store: &dyn AuthorizationStore,
) {
    let (client, other_client) = (client_id("revoked-client"), client_id("kept-client"));
    let (user_id, other_user_id) = (unique("user"), unique("user"));
    let grants = [grant(&client, &user_id), grant(&client, &other_user_id)];
    let kept = grant(&other_client, &user_id);
    for stored in grants.iter().chain([&kept]) {
        store_grant(store, stored).await;
    }
    let revoked_token = store_refresh_token(store, &grants[0]).await;
    let kept_token = store_refresh_token(store, &kept).await;
    let consents = [
        consent(&user_id, &client, &["openid"]),
        consent(&other_user_id, &client, &["openid"]),
    ];
    let kept_consent = consent(&user_id, &other_client, &["openid"]);
    for stored in consents.iter().chain([&kept_consent]) {
        ok(store.upsert_consent(stored).await, "upsert_consent");
    }

    ok(
        store.revoke_client_grants(&client).await,
        "revoke_client_grants",
    );
    ok(
        store.revoke_client_grants(&client_id("unknown")).await,
        "revoke_client_grants of a client without grants",
    );

    for revoked in &grants {
        assert_eq!(
            stored_grant(store, &revoked.id)
                .await
                .map(|grant| grant.revoked),
            Some(true),
            "every grant of the client must be revoked"
        );
    }
    assert_eq!(
        current_token(store, &revoked_token.token_hash).await,
        None,
        "the refresh tokens of the client's grants must not be found"
    );
    for forgotten in &consents {
        assert_eq!(
            stored_consent(store, forgotten).await,
            None,
            "every consent given to the client must be forgotten"
        );
    }
    assert_eq!(
        stored_grant(store, &kept.id)
            .await
            .map(|grant| grant.revoked),
        Some(false),
        "another client's grant must be kept"
    );
    assert_eq!(
        current_token(store, &kept_token.token_hash).await,
        Some(kept_token)
    );
    assert_eq!(
        stored_consent(store, &kept_consent).await,
        Some(kept_consent)
    );
}

/// A refresh token reads back as inserted while it is unused, before its `expires_at` and while
/// its grant is active; an unknown token reads as `None`.
pub async fn refresh_tokens_are_found_while_current(store: &dyn AuthorizationStore) {
    let granted = Grant {
        expires_at: Some(NOW + 600),
        ..grant(&client_id("refreshed"), &unique("user"))
    };
    store_grant(store, &granted).await;
    let short_lived = refresh_token(&granted, NOW + 60);
    ok(
        store.insert_refresh_token(&short_lived).await,
        "insert_refresh_token",
    );
    let outliving = refresh_token(&granted, NOW + 3_600);
    ok(
        store.insert_refresh_token(&outliving).await,
        "insert_refresh_token",
    );
    let find = |token_hash: TokenHash, now: i64| async move {
        ok(
            store.find_refresh_token(&token_hash, now).await,
            "find_refresh_token",
        )
    };

    assert_eq!(
        find(short_lived.token_hash.clone(), NOW).await,
        Some(short_lived.clone()),
        "a current refresh token must read back exactly as inserted"
    );
    assert_eq!(
        find(short_lived.token_hash.clone(), NOW + 59).await,
        Some(short_lived.clone())
    );
    assert_eq!(
        find(short_lived.token_hash.clone(), NOW + 60).await,
        None,
        "a refresh token must not be found from its expires_at on"
    );
    assert_eq!(
        find(outliving.token_hash.clone(), NOW + 600).await,
        None,
        "a refresh token must not be found once its grant's absolute lifetime is over"
    );
    assert_eq!(find(token_hash(), NOW).await, None);
}

/// Rotating a current token marks it used, stores the successor and returns the old token; the
/// successor rotates in turn. Rotating a used token again is `Reused` with its grant, however far
/// back in the chain it is, and stores nothing; an expired or unknown token is `Unknown` and
/// stores nothing.
pub async fn rotation_replaces_the_token_and_detects_reuse(store: &dyn AuthorizationStore) {
    let granted = grant(&client_id("rotated"), &unique("user"));
    store_grant(store, &granted).await;
    let first = store_refresh_token(store, &granted).await;

    let (rotation, second) = rotate(store, &first, NOW + 10).await;
    assert_eq!(
        rotation,
        RefreshRotation::Rotated(first.clone()),
        "a current refresh token must rotate, returning itself as stored"
    );
    assert_eq!(
        ok(
            store.find_refresh_token(&first.token_hash, NOW + 10).await,
            "find_refresh_token"
        ),
        None,
        "a rotated refresh token must no longer be found"
    );
    assert_eq!(
        current_token(store, &second.token_hash).await,
        Some(second.clone()),
        "the successor must be stored as given"
    );
    let (rotation, third) = rotate(store, &second, NOW + 20).await;
    assert_eq!(rotation, RefreshRotation::Rotated(second.clone()));

    let reused = RefreshRotation::Reused {
        grant_id: granted.id.clone(),
    };
    for (replayed, step) in [(&first, "the first"), (&second, "the second")] {
        let (rotation, successor) = rotate(store, replayed, NOW + 30).await;
        assert_eq!(
            rotation, reused,
            "{step} token of the chain, rotated already, must be Reused"
        );
        assert_eq!(
            current_token(store, &successor.token_hash).await,
            None,
            "a reused token's successor must not be stored"
        );
    }
    assert_eq!(
        current_token(store, &third.token_hash).await,
        Some(third.clone()),
        "detecting reuse changes nothing: revoking the grant is the caller's step"
    );

    let (rotation, successor) = rotate(store, &third, third.expires_at).await;
    assert_eq!(
        rotation,
        RefreshRotation::Unknown,
        "a token rotated from its expires_at on must be Unknown"
    );
    assert_eq!(current_token(store, &successor.token_hash).await, None);
    assert_eq!(
        current_token(store, &third.token_hash).await,
        Some(third),
        "an expired rotation must leave the token unused"
    );
    let stranger = refresh_token(&granted, NOW + 3_600);
    let (rotation, successor) = rotate(store, &stranger, NOW).await;
    assert_eq!(rotation, RefreshRotation::Unknown);
    assert_eq!(current_token(store, &successor.token_hash).await, None);
}

/// A refresh token stored for a grant after it was revoked (a code redeemed while its grant was
/// being revoked for a replay) is never found and never rotates.
pub async fn refresh_tokens_of_a_revoked_grant_never_rotate(store: &dyn AuthorizationStore) {
    let granted = grant(&client_id("late"), &unique("user"));
    store_grant(store, &granted).await;
    ok(store.revoke_grant(&granted.id).await, "revoke_grant");
    let late = store_refresh_token(store, &granted).await;

    assert_eq!(
        current_token(store, &late.token_hash).await,
        None,
        "a refresh token of a revoked grant must not be found"
    );
    let (rotation, successor) = rotate(store, &late, NOW).await;
    assert!(
        !matches!(rotation, RefreshRotation::Rotated(_)),
        "a refresh token of a revoked grant must never rotate, got {rotation:?}"
    );
    assert_eq!(current_token(store, &successor.token_hash).await, None);
}

/// Of concurrent rotations of one refresh token exactly one rotates and stores its successor;
/// every other is `Reused` and stores nothing.
pub async fn concurrent_rotations_have_one_winner(store: Arc<dyn AuthorizationStore>) {
    const CALLERS: usize = 10;
    let granted = grant(&client_id("raced"), &unique("user"));
    store_grant(store.as_ref(), &granted).await;
    let raced = store_refresh_token(store.as_ref(), &granted).await;
    let barrier = Arc::new(Barrier::new(CALLERS));

    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            let raced = raced.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                rotate(store.as_ref(), &raced, NOW).await
            })
        })
        .collect();
    let (mut rotated, mut reused, mut stored_successors) = (0, 0, 0);
    for task in tasks {
        let (rotation, successor) = task.await.expect("a rotation task panicked");
        match rotation {
            RefreshRotation::Rotated(old) => {
                assert_eq!(old, raced, "the winner must get the token as stored");
                rotated += 1;
            }
            RefreshRotation::Reused { grant_id } => {
                assert_eq!(grant_id, granted.id);
                reused += 1;
            }
            RefreshRotation::Unknown => panic!("a current token must never be Unknown"),
        }
        if current_token(store.as_ref(), &successor.token_hash)
            .await
            .is_some()
        {
            stored_successors += 1;
        }
    }

    assert_eq!(
        (rotated, reused),
        (1, CALLERS - 1),
        "{CALLERS} concurrent rotations of one token must have exactly one Rotated and the rest \
         Reused"
    );
    assert_eq!(stored_successors, 1, "exactly one successor must be stored");
}

/// A revoked access token's `jti` is remembered, a second revocation of it too; another `jti` is
/// not revoked.
pub async fn access_token_revocations_are_remembered(store: &dyn AuthorizationStore) {
    let jti = unique("jti");
    ok(
        store.revoke_access_token(&jti, NOW + 300).await,
        "revoke_access_token",
    );
    ok(
        store.revoke_access_token(&jti, NOW + 600).await,
        "a second revoke_access_token of one jti",
    );

    assert!(ok(
        store.is_access_token_revoked(&jti).await,
        "is_access_token_revoked"
    ));
    assert!(
        !ok(
            store.is_access_token_revoked(&unique("jti")).await,
            "is_access_token_revoked"
        ),
        "a jti never revoked must not be revoked"
    );
}

/// One purge check at a time in this process: two runs of the suite on one database (which the
/// suite allows) would otherwise each purge the other's rows, and miscount.
static PURGE_TURN: Mutex<()> = Mutex::const_new(());

/// `purge_expired(now)` deletes the sessions, codes, refresh tokens and access token revocations
/// that expired by `now`, and the grants past their absolute lifetime or revoked before `now`,
/// with their codes and refresh tokens, counting every row; what is still current is kept.
pub async fn purge_expired_deletes_what_expired_and_keeps_the_rest(store: &dyn AuthorizationStore) {
    let _turn = PURGE_TURN.lock().await;
    let client = client_id("purged");
    let user_id = unique("user");

    // Everything here expires by NOW, but for what is marked kept. Purges of other checks run
    // at NOW too.
    let (ended_session, live_session) = (session(&user_id, NOW), session(&user_id, NOW + 60));
    for stored in [&ended_session, &live_session] {
        ok(store.insert_session(stored).await, "insert_session");
    }
    // An active grant (kept) with an expired code, a live code (kept), an expired and a live
    // (kept) refresh token.
    let active = Grant {
        created_at: NOW - 600,
        ..grant(&client, &user_id)
    };
    let expired_code = AuthorizationCode {
        issued_at: NOW - 600,
        ..code(&active, NOW)
    };
    ok(
        store.insert_grant_with_code(&active, &expired_code).await,
        "insert_grant_with_code",
    );
    let live_code_grant = Grant {
        created_at: NOW - 600,
        ..grant(&client, &user_id)
    };
    let live_code = store_grant(store, &live_code_grant).await;
    let expired_token = refresh_token(&active, NOW);
    ok(
        store.insert_refresh_token(&expired_token).await,
        "insert_refresh_token",
    );
    let live_token = store_refresh_token(store, &active).await;
    // A grant revoked before NOW, with its used code and its (deleted) refresh token: 2 rows.
    let revoked = Grant {
        created_at: NOW - 600,
        ..grant(&client, &user_id)
    };
    let revoked_code = store_grant(store, &revoked).await;
    assert!(matches!(
        redeem(store, &revoked_code.code_hash).await,
        CodeRedemption::Redeemed(_)
    ));
    ok(store.revoke_grant(&revoked.id).await, "revoke_grant");
    // A grant past its absolute lifetime, with its unused code and its refresh token: 3 rows.
    let expired = Grant {
        created_at: NOW - 600,
        expires_at: Some(NOW),
        ..grant(&client, &user_id)
    };
    let expired_grant_code = store_grant(store, &expired).await;
    let expired_grant_token = refresh_token(&expired, NOW);
    ok(
        store.insert_refresh_token(&expired_grant_token).await,
        "insert_refresh_token",
    );
    let (ended_jti, live_jti) = (unique("jti"), unique("jti"));
    ok(
        store.revoke_access_token(&ended_jti, NOW).await,
        "revoke_access_token",
    );
    ok(
        store.revoke_access_token(&live_jti, NOW + 60).await,
        "revoke_access_token",
    );
    // 1 session, 1 code and 1 token of the active grant, 2 rows of the revoked grant, 3 of the
    // expired one and 1 revocation.
    const OURS: u64 = 9;

    let purged = ok(store.purge_expired(NOW).await, "purge_expired");

    assert!(
        purged >= OURS,
        "purge_expired must count every row it deleted: this check's {OURS} at least, got \
         {purged}"
    );
    let find_session = |id_hash: TokenHash| async move {
        ok(store.find_session(&id_hash, NOW - 1).await, "find_session")
    };
    assert_eq!(
        find_session(ended_session.id_hash.clone()).await,
        None,
        "an ended session must be purged"
    );
    assert_eq!(
        find_session(live_session.id_hash.clone()).await,
        Some(live_session)
    );
    assert_eq!(
        stored_grant(store, &revoked.id).await,
        None,
        "a grant revoked before now must be purged"
    );
    assert_eq!(
        stored_grant(store, &expired.id).await,
        None,
        "a grant past its absolute lifetime must be purged"
    );
    assert_eq!(stored_grant(store, &active.id).await, Some(active.clone()));
    assert_eq!(
        ok(
            store
                .find_refresh_token(&expired_token.token_hash, NOW - 1)
                .await,
            "find_refresh_token"
        ),
        None,
        "an expired refresh token must be purged"
    );
    assert_eq!(
        ok(
            store
                .find_refresh_token(&expired_grant_token.token_hash, NOW - 1)
                .await,
            "find_refresh_token"
        ),
        None,
        "the refresh tokens of a purged grant must be purged"
    );
    assert_eq!(
        current_token(store, &live_token.token_hash).await,
        Some(live_token)
    );
    assert!(
        !ok(
            store.is_access_token_revoked(&ended_jti).await,
            "is_access_token_revoked"
        ),
        "an expired access token's revocation must be purged"
    );
    assert!(ok(
        store.is_access_token_revoked(&live_jti).await,
        "is_access_token_revoked"
    ));
    for (purged_code, what) in [
        (&expired_code, "an expired code"),
        (&revoked_code, "a used code of a purged grant"),
        (&expired_grant_code, "a code of a purged grant"),
    ] {
        assert_eq!(
            redeem(store, &purged_code.code_hash).await,
            CodeRedemption::Unknown,
            "{what} must be purged"
        );
    }
    assert_eq!(
        redeem(store, &live_code.code_hash).await,
        CodeRedemption::Redeemed(live_code),
        "a live code must be kept"
    );
}
