//! The checks of audit events on a backend that holds everything: a change and its event
//! commit together (`RecordedClientStore::apply_recorded`), a registration's with its initial
//! token's use, a registration keeps the client's provenance and a delete forgets it, refusals are
//! bounded, listing filters and orders, and purging goes by time.
//!
//! Events of other checks may share the database, so each check looks only at the events of its
//! own random client ids, and purges only far before every other check's time.

use std::sync::Arc;

use serde_json::json;

use super::support::{
    NOW, client_id, get, initial_token, minimal_client, ok, race, token_hash,
    unusable_initial_tokens, uses,
};
use crate::audit::{Action, AuditEvent, EventFilter, MetadataChange, Outcome};
use crate::error::StoreError;
use crate::ids::ClientId;
use crate::secrets::TokenHash;
use crate::store::{ClientChange, RegisteredClient, Store, TokenCheck};

/// Runs every check of this module against `store`, one after another, panicking with what broke
/// at the first failure.
pub async fn check_all(store: Arc<dyn Store>) {
    crate::__event_checks! { __contract_sequence { store: store, } }
}

/// Hands this module's checks to `$then`: [`check_all`] and the test macros run one list.
#[doc(hidden)]
#[macro_export]
macro_rules! __event_checks {
    ($then:ident { $($input:tt)* }) => {
        $crate::$then! {
            $($input)*
            checks: [$crate::contract::events],
            by_ref: [
                events_round_trip_and_list_newest_first,
                a_change_commits_with_its_event_or_not_at_all,
                a_recorded_registration_and_its_token_use_commit_together,
                registration_keeps_provenance_and_delete_forgets_it,
                refusals_are_bounded_and_changes_are_not,
                purge_deletes_only_events_before_the_time,
            ],
            shared: [concurrent_recorded_registrations_share_max_uses],
        }
    };
}

fn event(client_id: &ClientId, action: Action, outcome: Outcome, time: i64) -> AuditEvent {
    AuditEvent {
        id: None,
        time,
        action,
        outcome,
        client_id: Some(client_id.as_str().to_owned()),
        route: Some("initial_token".to_owned()),
        credential_id: Some("token-id".to_owned()),
        credential_issuer: None,
        software_id: Some("software-1".to_owned()),
        source_ip: Some("192.0.2.7".to_owned()),
        user_agent: Some("contract/1.0".to_owned()),
        error: (outcome != Outcome::Success).then(|| "invalid_token".to_owned()),
        changes: Vec::new(),
    }
}

async fn events_of(store: &dyn Store, client_id: &ClientId) -> Vec<AuditEvent> {
    let filter = EventFilter {
        client_id: Some(client_id.clone()),
        since: None,
        limit: 1000,
    };
    ok(store.list_events(&filter).await, "list events")
}

/// Without the store's id, for comparing with what was recorded.
fn recorded(mut events: Vec<AuditEvent>) -> Vec<AuditEvent> {
    for event in &mut events {
        assert!(event.id.is_some(), "a listed event carries its id");
        event.id = None;
    }
    events
}

/// Every field of an event comes back as recorded; a client's events are listed newest first,
/// `since` leaves out older ones, `limit` keeps the newest.
pub async fn events_round_trip_and_list_newest_first(store: &dyn Store) {
    let client_id = client_id("events");
    let mut update = event(&client_id, Action::Update, Outcome::Success, NOW + 1);
    update.changes = vec![
        MetadataChange {
            member: "client_name".to_owned(),
            old: Some(json!("Old")),
            new: Some(json!("New")),
        },
        MetadataChange {
            member: "logo_uri".to_owned(),
            old: None,
            new: Some(json!("https://a.example/logo.png")),
        },
    ];
    update.credential_issuer = Some("https://issuer.example".to_owned());
    let register = event(&client_id, Action::Register, Outcome::Success, NOW);
    let refusal = event(&client_id, Action::Read, Outcome::Refused, NOW + 2);
    ok(
        store.record_event(&register).await,
        "record the registration",
    );
    ok(store.record_event(&update).await, "record the update");
    ok(
        store.record_refusal(&refusal, 1000).await,
        "record a refusal",
    );

    assert_eq!(
        recorded(events_of(store, &client_id).await),
        [refusal.clone(), update.clone(), register],
        "a client's events, newest first, every field as recorded"
    );
    let since = EventFilter {
        client_id: Some(client_id.clone()),
        since: Some(NOW + 1),
        limit: 1000,
    };
    let listed = ok(store.list_events(&since).await, "list since");
    assert_eq!(
        recorded(listed),
        [refusal.clone(), update],
        "since is inclusive"
    );
    let newest = EventFilter {
        client_id: Some(client_id.clone()),
        since: None,
        limit: 1,
    };
    let listed = ok(store.list_events(&newest).await, "list with a limit");
    assert_eq!(recorded(listed), [refusal], "the limit keeps the newest");
}

/// `apply_recorded` records the event only with a change that applied: a replacement whose
/// token check fails and an insert the store refuses record nothing.
pub async fn a_change_commits_with_its_event_or_not_at_all(store: &dyn Store) {
    let client = minimal_client("recorded");
    let inserted = store
        .apply_recorded(
            ClientChange::Insert {
                client: &client,
                initial_token: None,
                now: NOW,
                max_clients: None,
                idempotency: None,
            },
            &event(&client.client_id, Action::Register, Outcome::Success, NOW),
        )
        .await;
    assert!(ok(inserted, "insert with its event"));
    let wrong_token = token_hash();
    let replaced = store
        .apply_recorded(
            ClientChange::Replace {
                client: &client,
                check: TokenCheck {
                    presented: &wrong_token,
                    now: NOW,
                },
                previous_valid_until: NOW,
            },
            &event(&client.client_id, Action::Update, Outcome::Success, NOW + 1),
        )
        .await;
    assert!(
        !ok(replaced, "replace with a wrong token"),
        "the check fails"
    );
    let duplicate = store
        .apply_recorded(
            ClientChange::Insert {
                client: &client,
                initial_token: None,
                now: NOW,
                max_clients: None,
                idempotency: None,
            },
            &event(
                &client.client_id,
                Action::Register,
                Outcome::Success,
                NOW + 2,
            ),
        )
        .await;
    assert!(
        matches!(duplicate, Err(StoreError::Duplicate(_))),
        "a second insert of one id is a duplicate: {duplicate:?}"
    );

    let actions: Vec<_> = events_of(store, &client.client_id)
        .await
        .into_iter()
        .map(|event| (event.action, event.time))
        .collect();
    assert_eq!(
        actions,
        [(Action::Register, NOW)],
        "only the change that applied has an event"
    );
}

/// `client` registered with its `Register` event at `time`, taking a use of `initial_token`.
async fn register_recorded(
    store: &dyn Store,
    client: &RegisteredClient,
    initial_token: Option<&TokenHash>,
    time: i64,
) -> Result<bool, StoreError> {
    let change = ClientChange::Insert {
        client,
        initial_token,
        now: NOW,
        max_clients: None,
        idempotency: None,
    };
    let registration = event(&client.client_id, Action::Register, Outcome::Success, time);
    store.apply_recorded(change, &registration).await
}

/// A recorded registration takes its initial access token's use, the client, its event and its
/// provenance together: a token that cannot register leaves none of them and no use taken, and a
/// client id or registration access token already taken refuses the registration as a duplicate,
/// gives the use back and leaves the first client's event and provenance as they were.
pub async fn a_recorded_registration_and_its_token_use_commit_together(store: &dyn Store) {
    for (case, token, stored) in unusable_initial_tokens() {
        if stored {
            ok(store.insert_initial_token(&token).await, "insert token");
        }
        let client = minimal_client("rejected-recorded");

        let result = register_recorded(store, &client, Some(&token.token_hash), NOW).await;

        assert!(
            matches!(result, Err(StoreError::InitialTokenRejected)),
            "{case} initial token: expected InitialTokenRejected, got {result:?}"
        );
        assert_eq!(
            get(store, &client.client_id).await,
            None,
            "{case}: no client"
        );
        assert_eq!(
            events_of(store, &client.client_id).await,
            [],
            "{case}: no event"
        );
        assert_eq!(
            ok(
                store.client_provenance(&client.client_id).await,
                "provenance"
            ),
            None,
            "{case}: no provenance"
        );
        if stored {
            assert_eq!(
                uses(store, &token).await,
                token.uses,
                "{case}: no use taken"
            );
        }
    }

    let token = initial_token(Some(2), None);
    ok(store.insert_initial_token(&token).await, "insert token");
    let first = minimal_client("first-recorded");
    let registered = register_recorded(store, &first, Some(&token.token_hash), NOW).await;
    assert!(ok(registered, "register with a usable token"));
    assert_eq!(
        uses(store, &token).await,
        1,
        "the registration takes one use"
    );
    assert!(get(store, &first.client_id).await.is_some());
    let same_id = RegisteredClient {
        registration_token: Some(token_hash()),
        ..first.clone()
    };
    let same_token = RegisteredClient {
        client_id: client_id("same-token"),
        ..first.clone()
    };
    // The store names the key of a duplicate client id; that of a registration access token is
    // its own choice.
    let clashes = [
        ("same client id", &same_id, Some("client_id")),
        ("same registration token", &same_token, None),
    ];

    for (case, clashing, key) in clashes {
        let result = register_recorded(store, clashing, Some(&token.token_hash), NOW + 1).await;

        assert!(
            matches!(result, Err(StoreError::Duplicate(name)) if key.is_none_or(|key| name == key)),
            "{case}: expected Duplicate({key:?}), got {result:?}"
        );
        assert_eq!(
            uses(store, &token).await,
            1,
            "{case}: the use is given back"
        );
    }
    let times: Vec<_> = events_of(store, &first.client_id)
        .await
        .into_iter()
        .map(|event| (event.action, event.time))
        .collect();
    assert_eq!(
        times,
        [(Action::Register, NOW)],
        "only the first registration's event"
    );
    let provenance = ok(
        store.client_provenance(&first.client_id).await,
        "provenance",
    )
    .expect("the first client keeps its provenance");
    assert_eq!(
        provenance.registered_at, NOW,
        "the first registration's provenance"
    );
    assert_eq!(events_of(store, &same_token.client_id).await, []);
    assert_eq!(
        ok(
            store.client_provenance(&same_token.client_id).await,
            "provenance"
        ),
        None
    );
    assert_eq!(get(store, &same_token.client_id).await, None);
}

/// Concurrent recorded registrations on one initial access token with `max_uses` 3 register
/// exactly 3 clients, each with its event; the others are rejected and record nothing.
pub async fn concurrent_recorded_registrations_share_max_uses(store: Arc<dyn Store>) {
    const CALLERS: usize = 20;
    let token = initial_token(Some(3), Some(NOW + 60));
    ok(store.insert_initial_token(&token).await, "insert token");
    let outcomes = race(CALLERS, |_| {
        let store = Arc::clone(&store);
        let token_hash = token.token_hash.clone();
        let client = minimal_client("concurrent-recorded");
        async move {
            let result = register_recorded(store.as_ref(), &client, Some(&token_hash), NOW).await;
            (client.client_id, result)
        }
    })
    .await;
    let mut registered = 0;
    for (client_id, result) in outcomes {
        let events = events_of(store.as_ref(), &client_id).await.len();
        match result {
            Ok(applied) => {
                assert!(applied, "a registration that succeeds applies");
                assert_eq!(events, 1, "a registered client has its event");
                registered += 1;
            }
            Err(StoreError::InitialTokenRejected) => {
                assert_eq!(get(store.as_ref(), &client_id).await, None);
                assert_eq!(events, 0, "a rejected registration records no event");
            }
            Err(error) => panic!(
                "concurrent registrations must succeed or be rejected, never fail: {error:?}"
            ),
        }
    }

    assert_eq!(
        registered, 3,
        "{CALLERS} concurrent registrations on a token with max_uses 3 must register exactly 3"
    );
    assert_eq!(uses(store.as_ref(), &token).await, 3);
}

/// A registration's event keeps the client's provenance; deleting the client, recorded or not,
/// forgets it.
pub async fn registration_keeps_provenance_and_delete_forgets_it(store: &dyn Store) {
    for recorded_delete in [true, false] {
        let client = minimal_client("provenance");
        let registration = event(&client.client_id, Action::Register, Outcome::Success, NOW);
        let inserted = store
            .apply_recorded(
                ClientChange::Insert {
                    client: &client,
                    initial_token: None,
                    now: NOW,
                    max_clients: None,
                    idempotency: None,
                },
                &registration,
            )
            .await;
        assert!(ok(inserted, "insert with its event"));
        let provenance = ok(
            store.client_provenance(&client.client_id).await,
            "read provenance",
        )
        .expect("a registered client has its provenance");
        assert_eq!(provenance.registered_at, NOW);
        assert_eq!(provenance.route.as_deref(), Some("initial_token"));
        assert_eq!(provenance.credential_id.as_deref(), Some("token-id"));
        assert_eq!(provenance.software_id.as_deref(), Some("software-1"));
        assert_eq!(provenance.source_ip.as_deref(), Some("192.0.2.7"));
        assert_eq!(provenance.user_agent.as_deref(), Some("contract/1.0"));

        let deleted = if recorded_delete {
            store
                .apply_recorded(
                    ClientChange::Delete {
                        client_id: &client.client_id,
                    },
                    &event(&client.client_id, Action::Delete, Outcome::Success, NOW + 1),
                )
                .await
        } else {
            store.delete_client(&client.client_id).await
        };
        assert!(ok(deleted, "delete"));
        assert_eq!(
            ok(
                store.client_provenance(&client.client_id).await,
                "read provenance"
            ),
            None,
            "a deleted client has no provenance (recorded delete: {recorded_delete})"
        );
    }
}

/// Recording a refusal keeps at most `keep` refusals; events of changes are never dropped for
/// them, and `keep` 0 records nothing.
pub async fn refusals_are_bounded_and_changes_are_not(store: &dyn Store) {
    let client_id = client_id("refusals");
    let registration = event(&client_id, Action::Register, Outcome::Success, NOW);
    ok(store.record_event(&registration).await, "record a change");
    for second in 0..6 {
        let refusal = event(&client_id, Action::Update, Outcome::Refused, NOW + second);
        ok(store.record_refusal(&refusal, 3).await, "record a refusal");
    }
    let unrecorded = event(&client_id, Action::Delete, Outcome::Failed, NOW + 10);
    ok(store.record_refusal(&unrecorded, 0).await, "record nothing");

    let events = events_of(store, &client_id).await;
    let refusals = events
        .iter()
        .filter(|event| event.outcome != Outcome::Success)
        .count();
    // Another check running at once on the same database drops refusals too, never adds ours.
    assert!(
        refusals <= 3,
        "at most 3 refusals are kept, found {refusals}"
    );
    assert!(
        events.iter().any(|event| event.action == Action::Register),
        "the change's event stays"
    );
    assert!(
        events.iter().all(|event| event.action != Action::Delete),
        "keep 0 records nothing"
    );
}

/// `purge_events` deletes the events before its time and keeps those at or after it.
pub async fn purge_deletes_only_events_before_the_time(store: &dyn Store) {
    // Far before every other check's events, which a purge must not reach.
    let long_ago = NOW - 1_000_000_000;
    let client_id = client_id("purge");
    for time in [long_ago, long_ago + 10] {
        let change = event(&client_id, Action::Register, Outcome::Success, time);
        ok(store.record_event(&change).await, "record");
    }
    ok(store.purge_events(long_ago + 10).await, "purge");
    let times: Vec<_> = events_of(store, &client_id)
        .await
        .into_iter()
        .map(|event| event.time)
        .collect();
    assert_eq!(times, [long_ago + 10], "only the older event is purged");
}
