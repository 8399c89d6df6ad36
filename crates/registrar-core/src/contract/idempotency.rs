//! The checks of [`IdempotencyStore`](crate::store::IdempotencyStore): a record is inserted with
//! its client and initial access token use as one step, found only while its window lasts,
//! decides between concurrent requests with one key, and is purged once expired.
//!
//! The insert is a client insert, so these checks need a backend that holds clients, initial
//! access tokens and records together (`Arc<dyn Store>`).

use std::sync::Arc;

use tokio::sync::Barrier;

use super::support::{
    NOW, get, initial_token, minimal_client, ok, sealed_secret, token_hash, uses,
};
use crate::error::StoreError;
use crate::store::{IdempotencyRecord, RegisteredClient, Store};

/// Runs every check of this module against `store`, one after another, panicking with what broke
/// at the first failure.
pub async fn check_all(store: Arc<dyn Store>) {
    crate::__idempotency_store_checks! { __contract_sequence { store: store, } }
}

/// Hands this module's checks to `$then`: [`check_all`] and the test macros run one list.
#[doc(hidden)]
#[macro_export]
macro_rules! __idempotency_store_checks {
    ($then:ident { $($input:tt)* }) => {
        $crate::$then! {
            $($input)*
            checks: [$crate::contract::idempotency],
            by_ref: [
                records_round_trip_with_their_client,
                a_live_key_inserts_nothing_and_takes_no_token_use,
                an_expired_record_is_replaced,
                a_refused_insert_records_no_key,
                purge_deletes_only_expired_records,
            ],
            shared: [concurrent_inserts_with_one_key_have_one_winner],
        }
    };
}

/// A record for `client`, live from [`NOW`] for `window` seconds, under a fresh key hash.
fn record_for(client: &RegisteredClient, window: i64) -> IdempotencyRecord {
    IdempotencyRecord {
        key_hash: token_hash(),
        request_hash: token_hash(),
        client_id: client.client_id.clone(),
        sealed_response: sealed_secret(),
        created_at: NOW,
        expires_at: NOW + window,
    }
}

async fn find(
    store: &dyn Store,
    record: &IdempotencyRecord,
    now: i64,
) -> Option<IdempotencyRecord> {
    ok(
        store.find_idempotency_record(&record.key_hash, now).await,
        "find_idempotency_record",
    )
}

/// The record and the client read back as inserted; the record is found until the second it
/// expires, and no longer from then on; an unknown key hash is `None`.
pub async fn records_round_trip_with_their_client(store: &dyn Store) {
    let client = minimal_client("keyed");
    let record = record_for(&client, 60);

    ok(
        store
            .insert_client_with_idempotency_record(&client, None, NOW, None, &record)
            .await,
        "insert with a record",
    );

    assert_eq!(get(store, &client.client_id).await, Some(client.clone()));
    assert_eq!(
        find(store, &record, NOW).await,
        Some(record.clone()),
        "a record must read back exactly as inserted"
    );
    assert_eq!(find(store, &record, NOW + 59).await, Some(record.clone()));
    assert_eq!(
        find(store, &record, NOW + 60).await,
        None,
        "a record must not be found once it expired"
    );
    let unknown = record_for(&client, 60);
    assert_eq!(find(store, &unknown, NOW).await, None);
}

/// A second insert under a live key fails with `Duplicate("idempotency_key")`, inserts no
/// client, takes no initial access token use and leaves the first record as it was.
pub async fn a_live_key_inserts_nothing_and_takes_no_token_use(store: &dyn Store) {
    let token = initial_token(None, None);
    ok(store.insert_initial_token(&token).await, "insert token");
    let first = minimal_client("first");
    let record = record_for(&first, 60);
    ok(
        store
            .insert_client_with_idempotency_record(
                &first,
                Some(&token.token_hash),
                NOW,
                None,
                &record,
            )
            .await,
        "first insert",
    );
    assert_eq!(uses(store, &token).await, 1);

    let second = minimal_client("second");
    let retry = IdempotencyRecord {
        client_id: second.client_id.clone(),
        ..record.clone()
    };
    let result = store
        .insert_client_with_idempotency_record(
            &second,
            Some(&token.token_hash),
            NOW + 1,
            Some(1000),
            &retry,
        )
        .await;

    assert!(
        matches!(result, Err(StoreError::Duplicate("idempotency_key"))),
        "a live key must refuse the insert with Duplicate(\"idempotency_key\"), got {result:?}"
    );
    assert_eq!(get(store, &second.client_id).await, None);
    assert_eq!(
        uses(store, &token).await,
        1,
        "a refused insert must take no use"
    );
    assert_eq!(find(store, &record, NOW + 1).await, Some(record));
}

/// A key whose record expired is free again: the insert replaces the old record.
pub async fn an_expired_record_is_replaced(store: &dyn Store) {
    let first = minimal_client("old");
    let old = record_for(&first, 10);
    ok(
        store
            .insert_client_with_idempotency_record(&first, None, NOW, None, &old)
            .await,
        "first insert",
    );
    let second = minimal_client("new");
    let new = IdempotencyRecord {
        client_id: second.client_id.clone(),
        created_at: NOW + 10,
        expires_at: NOW + 70,
        ..old.clone()
    };

    ok(
        store
            .insert_client_with_idempotency_record(&second, None, NOW + 10, None, &new)
            .await,
        "an insert under an expired key must succeed",
    );

    assert!(get(store, &second.client_id).await.is_some());
    assert_eq!(find(store, &new, NOW + 10).await, Some(new));
}

/// An insert refused for its initial access token or its policy's cap records no key, so a
/// retry with the key may succeed once the cause is gone.
pub async fn a_refused_insert_records_no_key(store: &dyn Store) {
    let used_up = initial_token(Some(0), None);
    ok(store.insert_initial_token(&used_up).await, "insert token");
    let client = minimal_client("refused");
    let record = record_for(&client, 60);

    let rejected = store
        .insert_client_with_idempotency_record(
            &client,
            Some(&used_up.token_hash),
            NOW,
            None,
            &record,
        )
        .await;
    assert!(
        matches!(rejected, Err(StoreError::InitialTokenRejected)),
        "expected InitialTokenRejected, got {rejected:?}"
    );
    assert_eq!(find(store, &record, NOW).await, None);

    let capped = RegisteredClient {
        policy: Some(super::support::unique("full-policy")),
        ..minimal_client("capped")
    };
    let capped_record = record_for(&capped, 60);
    let full = store
        .insert_client_with_idempotency_record(&capped, None, NOW, Some(0), &capped_record)
        .await;
    assert!(
        matches!(full, Err(StoreError::PolicyFull)),
        "expected PolicyFull, got {full:?}"
    );
    assert_eq!(get(store, &capped.client_id).await, None);
    assert_eq!(find(store, &capped_record, NOW).await, None);
}

/// `purge_expired_idempotency_records` deletes the records expired at `now` and keeps the live
/// ones.
pub async fn purge_deletes_only_expired_records(store: &dyn Store) {
    let expired_client = minimal_client("expired");
    let expired = record_for(&expired_client, 5);
    let live_client = minimal_client("live");
    let live = record_for(&live_client, 600);
    for (client, record) in [(&expired_client, &expired), (&live_client, &live)] {
        ok(
            store
                .insert_client_with_idempotency_record(client, None, NOW, None, record)
                .await,
            "insert",
        );
    }

    // The count is not checked: a run sharing the database may purge this record first.
    ok(
        store.purge_expired_idempotency_records(NOW + 5).await,
        "purge",
    );

    assert_eq!(find(store, &live, NOW + 5).await, Some(live));
    // Looked up at a time it was live: only a deleted record is missing then.
    assert_eq!(
        find(store, &expired, NOW).await,
        None,
        "purged records are gone"
    );
}

/// Of many concurrent inserts with one key, exactly one succeeds; every other fails with
/// `Duplicate("idempotency_key")` and inserts nothing; the token counts one use.
pub async fn concurrent_inserts_with_one_key_have_one_winner(store: Arc<dyn Store>) {
    const CALLERS: usize = 8;
    let token = initial_token(None, None);
    ok(store.insert_initial_token(&token).await, "insert token");
    let key = record_for(&minimal_client("key"), 60);
    let barrier = Arc::new(Barrier::new(CALLERS));

    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            let token_hash = token.token_hash.clone();
            let client = minimal_client("racing");
            let record = IdempotencyRecord {
                client_id: client.client_id.clone(),
                ..key.clone()
            };
            tokio::spawn(async move {
                barrier.wait().await;
                let result = store
                    .insert_client_with_idempotency_record(
                        &client,
                        Some(&token_hash),
                        NOW,
                        None,
                        &record,
                    )
                    .await;
                (client.client_id, result)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (client_id, result) = task.await.expect("an insert task panicked");
        match result {
            Ok(()) => winners.push(client_id),
            Err(StoreError::Duplicate("idempotency_key")) => assert_eq!(
                get(store.as_ref(), &client_id).await,
                None,
                "a losing insert must insert nothing"
            ),
            Err(error) => panic!("concurrent inserts must win or lose the key: {error:?}"),
        }
    }

    assert_eq!(winners.len(), 1, "exactly one insert must win the key");
    let stored = find(store.as_ref(), &key, NOW).await;
    assert_eq!(
        stored.map(|record| record.client_id),
        winners.pop(),
        "the record must name the winner's client"
    );
    assert_eq!(uses(store.as_ref(), &token).await, 1);
}
