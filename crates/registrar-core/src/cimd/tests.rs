use super::{DocumentFreshness, description_safe};

#[test]
fn freshness_is_bounded_and_forgets_the_least_recently_used_url() {
    let freshness = DocumentFreshness::new(2);
    let _ = freshness.fetch_turn("https://a.example/c");
    freshness.mark_fresh("https://a.example/c", 100);
    let _ = freshness.fetch_turn("https://b.example/c");
    freshness.mark_fresh("https://b.example/c", 100);
    assert!(freshness.is_fresh("https://a.example/c", 99));
    assert!(
        !freshness.is_fresh("https://a.example/c", 100),
        "fresh until, not through"
    );
    // b is now the least recently used, so a third URL pushes it out.
    let _ = freshness.fetch_turn("https://c.example/c");
    assert_eq!(freshness.len(), 2);
    assert!(!freshness.is_fresh("https://b.example/c", 1));
    assert!(freshness.is_fresh("https://a.example/c", 1));
    freshness.forget("https://a.example/c");
    assert!(!freshness.is_fresh("https://a.example/c", 1));
}

#[test]
fn a_url_never_fetched_is_not_fresh_and_marking_it_needs_its_lock() {
    let freshness = DocumentFreshness::new(8);
    freshness.mark_fresh("https://a.example/c", 100);
    assert!(!freshness.is_fresh("https://a.example/c", 1));
    assert!(freshness.is_empty());
}

#[tokio::test]
async fn one_fetch_per_url_at_a_time() {
    let freshness = DocumentFreshness::new(8);
    let first = freshness.fetch_turn("https://a.example/c");
    let held = first.lock.lock().await;
    let second = freshness.fetch_turn("https://a.example/c");
    assert!(
        second.lock.try_lock().is_err(),
        "the same URL shares the lock"
    );
    let other = freshness.fetch_turn("https://b.example/c");
    assert!(other.lock.try_lock().is_ok(), "another URL does not wait");
    // The first fetch fails: the request that waited gets its answer, a later one fetches.
    freshness.record_failure("https://a.example/c", "its server answered with status 500");
    drop(held);
    assert_eq!(
        freshness
            .failure_since("https://a.example/c", &second)
            .as_deref(),
        Some("its server answered with status 500")
    );
    let later = freshness.fetch_turn("https://a.example/c");
    assert_eq!(freshness.failure_since("https://a.example/c", &later), None);
    freshness.mark_fresh("https://a.example/c", 10);
    assert_eq!(freshness.failure_since("https://a.example/c", &later), None);
}

#[test]
fn a_full_cache_never_evicts_a_url_whose_fetch_is_in_flight() {
    let freshness = DocumentFreshness::new(1);
    let in_flight = freshness.fetch_turn("https://a.example/c");
    let _b = freshness.fetch_turn("https://b.example/c");
    // a is held, so it stays, and the cache is over its bound for as long as it is.
    assert_eq!(freshness.len(), 2);
    let again = freshness.fetch_turn("https://a.example/c");
    assert!(std::sync::Arc::ptr_eq(&in_flight.lock, &again.lock));
}

#[test]
fn descriptions_keep_only_the_characters_rfc_6749_allows() {
    let safe = description_safe("jwks contains the private member \"d\"; a\\b \u{e9}\n");
    assert_eq!(safe, "jwks contains the private member 'd'; a?b ??");
    assert!(
        safe.bytes()
            .all(|byte| matches!(byte, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E))
    );
}
