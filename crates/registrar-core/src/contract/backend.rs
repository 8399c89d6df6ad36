//! The checks of a backend that holds everything: `insert_client` with an initial access token
//! takes the token's use in the insert's transaction, and deleting a client or a user, or changing
//! a user's password, takes with it what the authorization store kept for them.
//!
//! [`Stores::from_backend`](crate::store::Stores::from_backend) relies on this; a client store
//! kept apart from its tokens, or a user store kept apart from the authorization store, does not
//! need to pass these.

use std::sync::Arc;

use super::support::{
    NOW, consent, current_token, get, grant, initial_token, minimal_client, ok, race, redeem,
    session, store_grant, store_refresh_token, stored_consent, stored_grant, token_hash, unique,
    unusable_initial_tokens, user, uses,
};
use crate::authz::{CodeRedemption, Grant, Session};
use crate::error::StoreError;
use crate::secrets::TokenHash;
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
                delete_client_deletes_what_was_granted_to_it,
                remove_user_deletes_everything_of_the_user,
                set_password_ends_the_users_sessions,
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
    let outcomes = race(CALLERS, |_| {
        let store = Arc::clone(&store);
        let token_hash = token.token_hash.clone();
        let client = minimal_client("concurrent");
        async move {
            let result = store.insert_client(&client, Some(&token_hash), NOW).await;
            (client.client_id, result)
        }
    })
    .await;
    let mut registered = Vec::new();
    for (client_id, result) in outcomes {
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

/// The session with that id hash at [`NOW`], if any.
async fn live_session(store: &dyn Store, id_hash: &TokenHash) -> Option<Session> {
    ok(store.find_session(id_hash, NOW).await, "find_session")
}

/// `delete_client` deletes the client's grants with their codes and refresh tokens, and every
/// consent given to it; another client's are kept.
pub async fn delete_client_deletes_what_was_granted_to_it(store: &dyn Store) {
    let (deleted, kept) = (minimal_client("deleted"), minimal_client("kept"));
    for client in [&deleted, &kept] {
        ok(
            store.insert_client(client, None, NOW).await,
            "insert_client",
        );
    }
    let user_id = unique("user");
    let (deleted_grant, kept_grant) = (
        grant(&deleted.client_id, &user_id),
        grant(&kept.client_id, &user_id),
    );
    let deleted_code = store_grant(store, &deleted_grant).await;
    let kept_code = store_grant(store, &kept_grant).await;
    let deleted_token = store_refresh_token(store, &deleted_grant).await;
    let kept_token = store_refresh_token(store, &kept_grant).await;
    let (deleted_consent, kept_consent) = (
        consent(&user_id, &deleted.client_id, &["openid"]),
        consent(&user_id, &kept.client_id, &["openid"]),
    );
    for stored in [&deleted_consent, &kept_consent] {
        ok(store.upsert_consent(stored).await, "upsert_consent");
    }

    let removed = ok(
        store.delete_client(&deleted.client_id).await,
        "delete_client",
    );

    assert!(removed, "delete_client of a client must return true");
    assert_eq!(
        stored_grant(store, &deleted_grant.id).await,
        None,
        "a deleted client's grants must be deleted with it"
    );
    assert_eq!(
        redeem(store, &deleted_code.code_hash).await,
        CodeRedemption::Unknown,
        "a deleted client's codes must be deleted with it"
    );
    assert_eq!(
        current_token(store, &deleted_token.token_hash).await,
        None,
        "a deleted client's refresh tokens must be deleted with it"
    );
    assert_eq!(
        stored_consent(store, &deleted_consent).await,
        None,
        "the consents given to a deleted client must be deleted with it"
    );
    assert_eq!(stored_grant(store, &kept_grant.id).await, Some(kept_grant));
    assert_eq!(
        current_token(store, &kept_token.token_hash).await,
        Some(kept_token)
    );
    assert_eq!(
        stored_consent(store, &kept_consent).await,
        Some(kept_consent)
    );
    assert_eq!(
        redeem(store, &kept_code.code_hash).await,
        CodeRedemption::Redeemed(kept_code),
        "another client's code must be kept"
    );
}

/// `remove_user` deletes the user's sessions, consents and grants with their codes and refresh
/// tokens; another user's are kept.
pub async fn remove_user_deletes_everything_of_the_user(store: &dyn Store) {
    let (removed, kept) = (user("removed"), user("kept"));
    for stored in [&removed, &kept] {
        ok(store.insert_user(stored).await, "insert_user");
    }
    let client = minimal_client("used");
    let (removed_session, kept_session) =
        (session(&removed.id, NOW + 60), session(&kept.id, NOW + 60));
    for stored in [&removed_session, &kept_session] {
        ok(store.insert_session(stored).await, "insert_session");
    }
    let (removed_consent, kept_consent) = (
        consent(&removed.id, &client.client_id, &["openid"]),
        consent(&kept.id, &client.client_id, &["openid"]),
    );
    for stored in [&removed_consent, &kept_consent] {
        ok(store.upsert_consent(stored).await, "upsert_consent");
    }
    let (removed_grant, kept_grant) = (
        grant(&client.client_id, &removed.id),
        grant(&client.client_id, &kept.id),
    );
    let removed_code = store_grant(store, &removed_grant).await;
    store_grant(store, &kept_grant).await;
    let removed_token = store_refresh_token(store, &removed_grant).await;
    let kept_token = store_refresh_token(store, &kept_grant).await;

    let gone = ok(store.remove_user(&removed.username).await, "remove_user");

    assert!(gone, "remove_user of a user must return true");
    assert_eq!(
        live_session(store, &removed_session.id_hash).await,
        None,
        "a removed user's sessions must end"
    );
    assert_eq!(
        stored_consent(store, &removed_consent).await,
        None,
        "a removed user's consents must be deleted"
    );
    assert_eq!(
        stored_grant(store, &removed_grant.id).await,
        None,
        "a removed user's grants must be deleted"
    );
    assert_eq!(
        redeem(store, &removed_code.code_hash).await,
        CodeRedemption::Unknown,
        "a removed user's codes must be deleted"
    );
    assert_eq!(
        current_token(store, &removed_token.token_hash).await,
        None,
        "a removed user's refresh tokens must be deleted"
    );
    assert_eq!(
        live_session(store, &kept_session.id_hash).await,
        Some(kept_session)
    );
    assert_eq!(
        stored_consent(store, &kept_consent).await,
        Some(kept_consent)
    );
    assert_eq!(stored_grant(store, &kept_grant.id).await, Some(kept_grant));
    assert_eq!(
        current_token(store, &kept_token.token_hash).await,
        Some(kept_token)
    );
    assert_eq!(ok(store.get_user(&kept.id).await, "get_user"), Some(kept));
}

/// `set_password` ends every session and revokes every grant of that user, and only theirs.
pub async fn set_password_ends_the_users_sessions(store: &dyn Store) {
    let (changing, other) = (user("changing"), user("other"));
    for stored in [&changing, &other] {
        ok(store.insert_user(stored).await, "insert_user");
    }
    let client_id = minimal_client("password").client_id;
    let (changing_grant, other_grant) = (
        grant(&client_id, &changing.id),
        grant(&client_id, &other.id),
    );
    for stored in [&changing_grant, &other_grant] {
        store_grant(store, stored).await;
    }
    let sessions = [
        session(&changing.id, NOW + 60),
        session(&changing.id, NOW + 600),
    ];
    let other_session = session(&other.id, NOW + 60);
    for stored in sessions.iter().chain([&other_session]) {
        ok(store.insert_session(stored).await, "insert_session");
    }

    let changed = ok(
        store
            .set_password(&changing.username, &unique("new-hash"))
            .await,
        "set_password",
    );

    assert!(changed, "set_password of a user must return true");
    for ended in &sessions {
        assert_eq!(
            live_session(store, &ended.id_hash).await,
            None,
            "set_password must end every session of the user"
        );
    }
    assert_eq!(
        live_session(store, &other_session.id_hash).await,
        Some(other_session),
        "set_password must leave other users' sessions"
    );
    let revoked = |grant: Option<Grant>| grant.is_some_and(|grant| grant.revoked);
    assert!(
        revoked(ok(store.get_grant(&changing_grant.id).await, "get_grant")),
        "set_password must revoke the user's grants"
    );
    assert!(
        !revoked(ok(store.get_grant(&other_grant.id).await, "get_grant")),
        "set_password must leave other users' grants"
    );
}
