//! The checks of the lifecycle methods of [`ClientStore`]: recording a use, blocking, and
//! finding and deleting expired clients. Listed with the checks of
//! `contract::clients`, whose trait they exercise.
//!
//! The clients of these checks are registered in 1970 ([`EARLY`]), long before any other
//! check's, so that cut-offs there select no client but theirs; each check deletes its clients
//! when it passes.

use super::support::{NOW, client_id, full_client, get, minimal_client, ok, replaced};
use crate::ids::ClientId;
use crate::lifecycle::{ClientState, ExpiredClient, Expiry, ExpiryCutoffs};
use crate::store::{ClientStore, RegisteredClient};

/// When the clients of these checks were registered.
const EARLY: i64 = 1_000_000;

fn early_client(prefix: &str, state: ClientState) -> RegisteredClient {
    RegisteredClient {
        client_id_issued_at: EARLY,
        updated_at: EARLY,
        state,
        ..minimal_client(prefix)
    }
}

fn used_at(time: i64) -> ClientState {
    ClientState {
        last_used_at: Some(time),
        blocked_at: None,
    }
}

async fn state_of(store: &dyn ClientStore, client_id: &ClientId) -> ClientState {
    get(store, client_id)
        .await
        .expect("the check's client is stored")
        .state
}

async fn expired(store: &dyn ClientStore, cutoffs: ExpiryCutoffs) -> Vec<ExpiredClient> {
    ok(
        store.expired_clients(&cutoffs, 10_000).await,
        "expired_clients",
    )
}

fn expiry_of(expired: &[ExpiredClient], client: &RegisteredClient) -> Option<Expiry> {
    expired
        .iter()
        .find(|expired| expired.client_id == client.client_id)
        .map(|expired| expired.expiry)
}

async fn delete_all(store: &dyn ClientStore, clients: &[&RegisteredClient]) {
    for client in clients {
        ok(
            store.delete_client(&client.client_id).await,
            "delete_client",
        );
    }
}

/// The last use and the block read back as inserted, and neither `replace_client` nor
/// `replace_client_keeping_token` changes them, whatever the replacement says.
pub async fn client_state_survives_replacements(store: &dyn ClientStore) {
    let client = full_client("state");
    ok(store.insert_client(&client, None, NOW).await, "insert");
    assert_eq!(state_of(store, &client.client_id).await, client.state);

    let replacement = RegisteredClient {
        state: ClientState::default(),
        ..replaced(&client, NOW + 10)
    };
    let token = client
        .registration_token
        .clone()
        .expect("fixture clients have a token");
    let check = super::support::check(&token, NOW + 10);
    assert!(ok(
        store.replace_client(&replacement, check, NOW).await,
        "replace_client"
    ));
    assert_eq!(
        state_of(store, &client.client_id).await,
        client.state,
        "replace_client must keep the last use and the block"
    );
    assert!(ok(
        store.replace_client_keeping_token(&replacement).await,
        "replace_client_keeping_token"
    ));
    assert_eq!(
        state_of(store, &client.client_id).await,
        client.state,
        "replace_client_keeping_token must keep the last use and the block"
    );
    delete_all(store, &[&client]).await;
}

/// `record_client_use` sets the last use and never moves it back; an unknown client is no
/// error.
pub async fn record_client_use_only_moves_forward(store: &dyn ClientStore) {
    let client = minimal_client("used");
    ok(store.insert_client(&client, None, NOW).await, "insert");
    assert_eq!(state_of(store, &client.client_id).await.last_used_at, None);

    ok(
        store.record_client_use(&client.client_id, NOW + 10).await,
        "use",
    );
    assert_eq!(
        state_of(store, &client.client_id).await.last_used_at,
        Some(NOW + 10)
    );
    ok(
        store.record_client_use(&client.client_id, NOW + 5).await,
        "older use",
    );
    assert_eq!(
        state_of(store, &client.client_id).await.last_used_at,
        Some(NOW + 10),
        "an older use must not move the last use back"
    );
    ok(
        store.record_client_use(&client.client_id, NOW + 20).await,
        "use",
    );
    assert_eq!(
        state_of(store, &client.client_id).await.last_used_at,
        Some(NOW + 20)
    );
    ok(
        store.record_client_use(&client_id("unknown"), NOW).await,
        "the use of an unknown client",
    );
    delete_all(store, &[&client]).await;
}

/// `set_client_blocked` blocks and unblocks, and is false for an unknown client.
pub async fn set_client_blocked_blocks_and_unblocks(store: &dyn ClientStore) {
    let client = minimal_client("blocked");
    ok(store.insert_client(&client, None, NOW).await, "insert");

    assert!(ok(
        store
            .set_client_blocked(&client.client_id, Some(NOW + 1))
            .await,
        "block"
    ));
    assert_eq!(
        state_of(store, &client.client_id).await.blocked_at,
        Some(NOW + 1)
    );
    assert!(ok(
        store.set_client_blocked(&client.client_id, None).await,
        "unblock"
    ));
    assert_eq!(state_of(store, &client.client_id).await.blocked_at, None);
    assert!(
        !ok(
            store
                .set_client_blocked(&client_id("unknown"), Some(NOW))
                .await,
            "block an unknown client"
        ),
        "set_client_blocked must be false for an unknown client"
    );
    delete_all(store, &[&client]).await;
}

/// `expired_clients` selects by `ExpiryCutoffs::expiry`: never-used clients by the unused
/// cut-off, every client by its last activity for the inactive one, never a blocked client,
/// nothing for empty cut-offs, and at most `limit`.
pub async fn expired_clients_follow_the_cutoffs(store: &dyn ClientStore) {
    let never_used = early_client("never-used", ClientState::default());
    let used = early_client("used-early", used_at(EARLY + 100));
    let blocked = early_client(
        "blocked-early",
        ClientState {
            last_used_at: None,
            blocked_at: Some(EARLY + 1),
        },
    );
    let recent = minimal_client("recent");
    for client in [&never_used, &used, &blocked, &recent] {
        ok(store.insert_client(client, None, NOW).await, "insert");
    }

    let unused = expired(
        store,
        ExpiryCutoffs {
            unused_before: Some(EARLY + 50),
            inactive_before: None,
        },
    )
    .await;
    assert_eq!(expiry_of(&unused, &never_used), Some(Expiry::Unused));
    assert_eq!(
        expiry_of(&unused, &used),
        None,
        "a used client never outlives the unused TTL"
    );
    assert_eq!(expiry_of(&unused, &blocked), None, "blocked clients stay");
    assert_eq!(expiry_of(&unused, &recent), None);

    let inactive = expired(
        store,
        ExpiryCutoffs {
            unused_before: None,
            inactive_before: Some(EARLY + 100),
        },
    )
    .await;
    assert_eq!(expiry_of(&inactive, &never_used), Some(Expiry::Inactive));
    assert_eq!(
        expiry_of(&inactive, &used),
        Some(Expiry::Inactive),
        "a client last used at the cut-off has expired"
    );
    assert_eq!(expiry_of(&inactive, &blocked), None, "blocked clients stay");
    assert_eq!(expiry_of(&inactive, &recent), None);

    let just_before = expired(
        store,
        ExpiryCutoffs {
            unused_before: None,
            inactive_before: Some(EARLY + 99),
        },
    )
    .await;
    assert_eq!(
        expiry_of(&just_before, &used),
        None,
        "a client used after the cut-off is active"
    );

    let both = ExpiryCutoffs {
        unused_before: Some(EARLY + 50),
        inactive_before: Some(EARLY + 100),
    };
    let limited = ok(store.expired_clients(&both, 1).await, "expired_clients");
    assert_eq!(limited.len(), 1, "expired_clients must keep to its limit");
    let none = ExpiryCutoffs {
        unused_before: None,
        inactive_before: None,
    };
    assert_eq!(expired(store, none).await, Vec::new());
    delete_all(store, &[&never_used, &used, &blocked, &recent]).await;
}

/// `delete_expired_client` deletes a client only while it is still expired and not blocked:
/// one used or blocked since it was selected stays.
pub async fn delete_expired_client_rechecks_the_rule(store: &dyn ClientStore) {
    let cutoffs = ExpiryCutoffs {
        unused_before: Some(EARLY + 50),
        inactive_before: None,
    };
    let expiring = early_client("expiring", ClientState::default());
    let rescued = early_client("rescued", ClientState::default());
    let blocked = early_client("blocked-expiring", ClientState::default());
    for client in [&expiring, &rescued, &blocked] {
        ok(store.insert_client(client, None, NOW).await, "insert");
    }
    // Used and blocked after a scan would have selected them.
    ok(
        store.record_client_use(&rescued.client_id, NOW).await,
        "use",
    );
    ok(
        store
            .set_client_blocked(&blocked.client_id, Some(NOW))
            .await,
        "block",
    );

    assert!(ok(
        store
            .delete_expired_client(&expiring.client_id, &cutoffs)
            .await,
        "delete_expired_client"
    ));
    assert_eq!(get(store, &expiring.client_id).await, None);
    assert!(
        !ok(
            store
                .delete_expired_client(&expiring.client_id, &cutoffs)
                .await,
            "delete_expired_client again"
        ),
        "delete_expired_client must be false when there was none"
    );
    for kept in [&rescued, &blocked] {
        assert!(
            !ok(
                store.delete_expired_client(&kept.client_id, &cutoffs).await,
                "delete_expired_client"
            ),
            "a client used or blocked since must not be deleted"
        );
        assert!(get(store, &kept.client_id).await.is_some());
    }
    delete_all(store, &[&rescued, &blocked]).await;
}
