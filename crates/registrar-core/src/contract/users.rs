//! The checks of [`UserStore`]: users by username and by subject, unique usernames, listing,
//! password changes and removal.
//!
//! What a user's password change or removal does to their sessions, consents and grants needs the
//! authorization store too; those checks are in [`backend`](super::backend).

use std::sync::Arc;

use super::support::{NOW, ok, unique, user};
use crate::authz::{User, UserStore};
use crate::error::StoreError;

/// Runs every check of this module against `store`, one after another, panicking with what broke
/// at the first failure.
///
/// [`user_store_contract!`](crate::user_store_contract) runs the same checks as one test each.
pub async fn check_all(store: Arc<dyn UserStore>) {
    crate::__user_store_checks! { __contract_sequence { store: store, } }
}

/// Hands this module's checks to `$then`: [`check_all`] and the test macros run one list.
#[doc(hidden)]
#[macro_export]
macro_rules! __user_store_checks {
    ($then:ident { $($input:tt)* }) => {
        $crate::$then! {
            $($input)*
            checks: [$crate::contract::users],
            by_ref: [
                users_round_trip,
                taken_usernames_are_rejected,
                list_users_is_oldest_first,
                set_password_replaces_only_that_users_hash,
                remove_user_removes_only_that_user,
            ],
            shared: [],
        }
    };
}

/// The user with that username, if any.
async fn by_username(store: &dyn UserStore, username: &str) -> Option<User> {
    ok(
        store.find_user_by_username(username).await,
        "find_user_by_username",
    )
}

/// The user with that subject identifier, if any.
async fn by_id(store: &dyn UserStore, id: &str) -> Option<User> {
    ok(store.get_user(id).await, "get_user")
}

/// A user with every claim and a user with none read back exactly as inserted, by username and
/// by subject; an unknown username or subject reads as `None`.
pub async fn users_round_trip(store: &dyn UserStore) {
    let full = user("full");
    let bare = User {
        name: None,
        email: None,
        email_verified: false,
        ..user("bare")
    };

    for inserted in [&full, &bare] {
        ok(store.insert_user(inserted).await, "insert_user");
    }

    for inserted in [full, bare] {
        assert_eq!(
            by_username(store, &inserted.username).await.as_ref(),
            Some(&inserted),
            "find_user_by_username must read the user back exactly as inserted"
        );
        assert_eq!(
            by_id(store, &inserted.id).await,
            Some(inserted),
            "get_user must read the user back exactly as inserted"
        );
    }
    assert_eq!(by_username(store, &unique("nobody")).await, None);
    assert_eq!(by_id(store, &unique("nobody")).await, None);
}

/// A second user with a username that is taken fails with `StoreError::Duplicate("username")`
/// and changes nothing.
pub async fn taken_usernames_are_rejected(store: &dyn UserStore) {
    let first = user("first");
    ok(store.insert_user(&first).await, "insert_user");
    let clashing = User {
        username: first.username.clone(),
        ..user("clashing")
    };

    let result = store.insert_user(&clashing).await;

    assert!(
        matches!(result, Err(StoreError::Duplicate("username"))),
        "a taken username must fail with Duplicate(\"username\"), got {result:?}"
    );
    assert_eq!(by_id(store, &clashing.id).await, None);
    assert_eq!(
        by_username(store, &first.username).await,
        Some(first),
        "a rejected insert must leave the user who has the username as they were"
    );
}

/// `list_users` lists every user oldest first, ties by subject identifier.
pub async fn list_users_is_oldest_first(store: &dyn UserStore) {
    let newest = User {
        created_at: NOW + 2,
        ..user("list")
    };
    let oldest = User {
        created_at: NOW - 2,
        ..user("list")
    };
    let (tie_a, tie_b) = (
        User {
            id: unique("list-a"),
            created_at: NOW,
            ..user("list")
        },
        User {
            id: unique("list-b"),
            created_at: NOW,
            ..user("list")
        },
    );
    for inserted in [&newest, &tie_b, &oldest, &tie_a] {
        ok(store.insert_user(inserted).await, "insert_user");
    }

    let ours: Vec<User> = ok(store.list_users().await, "list_users")
        .into_iter()
        .filter(|listed| {
            [&newest, &oldest, &tie_a, &tie_b]
                .iter()
                .any(|inserted| inserted.id == listed.id)
        })
        .collect();

    assert_eq!(
        ours,
        vec![oldest, tie_a, tie_b, newest],
        "list_users must list users oldest first, ties by id, each as inserted"
    );
}

/// `set_password` replaces the hash of that user alone and returns true; for an unknown
/// username it returns false.
pub async fn set_password_replaces_only_that_users_hash(store: &dyn UserStore) {
    let (changing, other) = (user("changing"), user("other"));
    for inserted in [&changing, &other] {
        ok(store.insert_user(inserted).await, "insert_user");
    }
    let new_hash = format!("$argon2id$v=19$m=19456,t=2,p=1${}", unique("new"));

    let changed = ok(
        store.set_password(&changing.username, &new_hash).await,
        "set_password",
    );
    let unknown = ok(
        store.set_password(&unique("nobody"), &new_hash).await,
        "set_password",
    );

    assert!(changed, "set_password of a user must return true");
    assert!(
        !unknown,
        "set_password of an unknown username must return false"
    );
    assert_eq!(
        by_id(store, &changing.id).await,
        Some(User {
            password_hash: new_hash,
            ..changing
        }),
        "set_password must replace the hash and nothing else"
    );
    assert_eq!(by_id(store, &other.id).await, Some(other));
}

/// `remove_user` removes that user alone and returns true, after which the username is free;
/// a second removal, or one of an unknown username, returns false.
pub async fn remove_user_removes_only_that_user(store: &dyn UserStore) {
    let (removed, other) = (user("removed"), user("other"));
    for inserted in [&removed, &other] {
        ok(store.insert_user(inserted).await, "insert_user");
    }

    let first = ok(store.remove_user(&removed.username).await, "remove_user");
    let second = ok(store.remove_user(&removed.username).await, "remove_user");
    let unknown = ok(store.remove_user(&unique("nobody")).await, "remove_user");

    assert!(first, "remove_user of a user must return true");
    assert!(!second, "a second remove_user must return false");
    assert!(
        !unknown,
        "remove_user of an unknown username must return false"
    );
    assert_eq!(by_id(store, &removed.id).await, None);
    assert_eq!(by_username(store, &removed.username).await, None);
    assert_eq!(by_id(store, &other.id).await, Some(other));
    let successor = User {
        username: removed.username.clone(),
        ..user("successor")
    };
    ok(
        store.insert_user(&successor).await,
        "a removed user's username must be free again",
    );
}
