//! Tests of `JwksCache` against an https server on 127.0.0.1, with a manual clock.

use std::sync::Arc;
use std::time::Duration;

use registrar_core::clock::ManualClock;
use serde_json::{Value, json};

use super::held_server::HeldServer;
use super::support::{TlsServer, ok_json, response};
use crate::outbound::{FetchError, Fetcher, JwksCache, JwksCacheConfig};

const SET_A: &str = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a","x":"AA"}]}"#;
const SET_B: &str = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"b","x":"BB"}]}"#;

fn set(document: &str) -> Value {
    serde_json::from_str(document).expect("test set parses")
}

fn cache(server: &TlsServer, clock: &Arc<ManualClock>, config: JwksCacheConfig) -> JwksCache {
    let fetcher =
        Fetcher::with_resolver(server.fetch_config(), server.resolver()).expect("fetcher builds");
    JwksCache::new(fetcher, Arc::clone(clock) as _, config)
}

#[tokio::test]
async fn get_keeps_a_set_for_the_ttl() {
    let server = TlsServer::spawn(|index| match index {
        0 => ok_json(SET_A),
        _ => ok_json(SET_B),
    })
    .await;
    let clock = Arc::new(ManualClock::new(1_000));
    let cache = cache(&server, &clock, JwksCacheConfig::default());
    let url = server.url("/jwks");

    let first = cache.get(&url, None).await;
    clock.advance(299);
    let within_ttl = cache.get(&url, None).await;
    let requests_within_ttl = server.requests().len();
    clock.advance(1);
    let after_ttl = cache.get(&url, None).await;

    assert_eq!(first, Ok(set(SET_A)));
    assert_eq!(within_ttl, Ok(set(SET_A)));
    assert_eq!(requests_within_ttl, 1);
    assert_eq!(after_ttl, Ok(set(SET_B)));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn get_with_a_known_kid_uses_the_cached_set() {
    let server = TlsServer::spawn(|_| ok_json(SET_A)).await;
    let clock = Arc::new(ManualClock::new(1_000));
    let cache = cache(&server, &clock, JwksCacheConfig::default());
    let url = server.url("/jwks");

    cache.get(&url, Some("a")).await.expect("first fetch");
    let again = cache.get(&url, Some("a")).await;

    assert_eq!(again, Ok(set(SET_A)));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn get_refetches_for_an_unknown_kid_at_most_once_per_interval() {
    // The client rotates from key "a" to key "b" after the first fetch.
    let server = TlsServer::spawn(|index| match index {
        0 => ok_json(SET_A),
        _ => ok_json(SET_B),
    })
    .await;
    let clock = Arc::new(ManualClock::new(1_000));
    let cache = cache(&server, &clock, JwksCacheConfig::default());
    let url = server.url("/jwks");

    let before_rotation = cache.get(&url, Some("a")).await;
    clock.advance(9);
    let too_soon = cache.get(&url, Some("b")).await;
    let requests_too_soon = server.requests().len();
    clock.advance(1);
    let after_interval = cache.get(&url, Some("b")).await;
    let rotated_again = cache.get(&url, Some("c")).await;

    assert_eq!(before_rotation, Ok(set(SET_A)));
    assert_eq!(too_soon, Ok(set(SET_A)));
    assert_eq!(requests_too_soon, 1);
    assert_eq!(after_interval, Ok(set(SET_B)));
    assert_eq!(rotated_again, Ok(set(SET_B)));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn get_remembers_a_failure_for_the_refetch_interval() {
    let server = TlsServer::spawn(|index| match index {
        0 => response("500 Internal Server Error", &[], ""),
        _ => ok_json(SET_A),
    })
    .await;
    let clock = Arc::new(ManualClock::new(1_000));
    let cache = cache(&server, &clock, JwksCacheConfig::default());
    let url = server.url("/jwks");

    let failed = cache.get(&url, None).await;
    clock.advance(9);
    let remembered = cache.get(&url, None).await;
    let requests_while_remembered = server.requests().len();
    clock.advance(1);
    let recovered = cache.get(&url, None).await;

    assert_eq!(failed, Err(FetchError::Status(500)));
    assert_eq!(remembered, Err(FetchError::Status(500)));
    assert_eq!(requests_while_remembered, 1);
    assert_eq!(recovered, Ok(set(SET_A)));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn get_does_not_serve_an_expired_set_when_the_refetch_fails() {
    let server = TlsServer::spawn(|index| match index {
        0 => ok_json(SET_A),
        _ => response("503 Service Unavailable", &[], ""),
    })
    .await;
    let clock = Arc::new(ManualClock::new(1_000));
    let cache = cache(&server, &clock, JwksCacheConfig::default());
    let url = server.url("/jwks");

    cache.get(&url, None).await.expect("first fetch");
    clock.advance(300);
    let expired = cache.get(&url, None).await;

    assert_eq!(expired, Err(FetchError::Status(503)));
}

#[tokio::test]
async fn get_refuses_documents_that_are_not_jwk_sets() {
    for document in [
        "[]",
        "{}",
        r#""keys""#,
        r#"{"keys":{}}"#,
        r#"{"keys":null}"#,
        r#"{"keys":[1]}"#,
        r#"{"keys":[{"kty":"OKP"},"x"]}"#,
    ] {
        let body = document.to_owned();
        let server = TlsServer::spawn(move |_| ok_json(&body)).await;
        let clock = Arc::new(ManualClock::new(1_000));
        let cache = cache(&server, &clock, JwksCacheConfig::default());

        let fetched = cache.get(&server.url("/jwks"), None).await;

        assert_eq!(fetched, Err(FetchError::InvalidJwks), "{document}");
    }
}

#[tokio::test]
async fn get_accepts_an_empty_key_list() {
    let server = TlsServer::spawn(|_| ok_json(r#"{"keys":[]}"#)).await;
    let clock = Arc::new(ManualClock::new(1_000));
    let cache = cache(&server, &clock, JwksCacheConfig::default());

    let fetched = cache.get(&server.url("/jwks"), None).await;

    assert_eq!(fetched, Ok(json!({"keys": []})));
}

#[tokio::test]
async fn get_forgets_the_least_recently_used_url_when_full() {
    let server = TlsServer::spawn(|_| ok_json(SET_A)).await;
    let clock = Arc::new(ManualClock::new(1_000));
    let config = JwksCacheConfig {
        max_entries: 2,
        ..JwksCacheConfig::default()
    };
    let cache = cache(&server, &clock, config);
    let (one, two, three) = (server.url("/1"), server.url("/2"), server.url("/3"));

    for url in [&one, &two, &one, &three, &one, &two] {
        cache.get(url, None).await.expect("fetch succeeds");
    }

    // /1 stayed because it was used after /2; /3 evicted /2, and /2 then evicted /3.
    let paths: Vec<String> = server
        .requests()
        .iter()
        .map(|head| head.split(' ').nth(1).unwrap_or_default().to_owned())
        .collect();
    assert_eq!(paths, ["/1", "/2", "/3", "/2"]);
    assert_eq!(cache.len(), 2);
}

#[tokio::test]
async fn concurrent_gets_for_one_url_share_one_fetch() {
    let server = TlsServer::spawn(|_| ok_json(SET_A)).await;
    let clock = Arc::new(ManualClock::new(1_000));
    let cache = cache(&server, &clock, JwksCacheConfig::default());
    let url = server.url("/jwks");

    let results = tokio::join!(
        cache.get(&url, Some("a")),
        cache.get(&url, Some("a")),
        cache.get(&url, None),
        cache.get(&url, Some("a")),
    );

    assert_eq!(results.0, Ok(set(SET_A)));
    assert_eq!(results.1, Ok(set(SET_A)));
    assert_eq!(results.2, Ok(set(SET_A)));
    assert_eq!(results.3, Ok(set(SET_A)));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn get_refetches_when_the_clock_goes_backwards() {
    let server = TlsServer::spawn(|_| ok_json(SET_A)).await;
    let clock = Arc::new(ManualClock::new(1_000));
    let cache = cache(&server, &clock, JwksCacheConfig::default());
    let url = server.url("/jwks");

    cache.get(&url, None).await.expect("first fetch");
    clock.advance(-60);
    let after_jump = cache.get(&url, None).await;

    assert_eq!(after_jump, Ok(set(SET_A)));
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn fetches_in_flight_are_capped_by_default() {
    let config = JwksCacheConfig::default();

    assert_eq!(config.max_concurrent_fetches, 16);
    assert_eq!(config.fetch_permit_wait, Duration::from_secs(1));
}

#[tokio::test]
async fn a_get_that_finds_every_fetch_permit_taken_fails_without_fetching() {
    let mut server = HeldServer::spawn(SET_A).await;
    let clock = Arc::new(ManualClock::new(1_000));
    let fetcher =
        Fetcher::with_resolver(server.fetch_config(), server.resolver()).expect("fetcher builds");
    let config = JwksCacheConfig {
        max_concurrent_fetches: 2,
        fetch_permit_wait: Duration::from_millis(100),
        ..JwksCacheConfig::default()
    };
    let cache = Arc::new(JwksCache::new(fetcher, Arc::clone(&clock) as _, config));
    let get = |url: String| {
        let cache = Arc::clone(&cache);
        tokio::spawn(async move { cache.get(&url, None).await })
    };

    // Two fetches hold both permits: the server has both requests and answers neither yet.
    let first = get(server.url("/1"));
    let second = get(server.url("/2"));
    let mut held = vec![server.next_arrival().await, server.next_arrival().await];
    held.sort();
    // One of the held URLs needs no permit: it waits for the fetch in flight and shares it. It
    // runs (on this one-thread runtime) while the next get waits, and is then past its own wait.
    let first_again = get(server.url("/1"));
    // A third URL finds no permit within the wait.
    let third = cache.get(&server.url("/3"), None).await;
    server.release();
    let results = (
        first.await.expect("task"),
        second.await.expect("task"),
        first_again.await.expect("task"),
    );
    // Not remembered: once a permit is free, the third URL is fetched.
    let third_later = cache.get(&server.url("/3"), None).await;

    assert_eq!(held, ["/1", "/2"]);
    assert_eq!(third, Err(FetchError::Timeout));
    assert_eq!(results.0, Ok(set(SET_A)));
    assert_eq!(results.1, Ok(set(SET_A)));
    assert_eq!(results.2, Ok(set(SET_A)));
    assert_eq!(third_later, Ok(set(SET_A)));
    // /3 was fetched once, after the permits came free; /1 was not fetched twice.
    assert_eq!(server.next_arrival().await, "/3");
    assert_eq!(server.pending_arrivals(), Vec::<String>::new());
}
