use super::DocumentFreshness;

#[test]
fn freshness_is_bounded_and_forgets_the_least_recently_used_url() {
    let freshness = DocumentFreshness::new(2);
    let _a = freshness.fetch_lock("https://a.example/c");
    freshness.mark_fresh("https://a.example/c", 100);
    let _b = freshness.fetch_lock("https://b.example/c");
    freshness.mark_fresh("https://b.example/c", 100);
    assert!(freshness.is_fresh("https://a.example/c", 99));
    assert!(
        !freshness.is_fresh("https://a.example/c", 100),
        "fresh until, not through"
    );
    // b is now the least recently used, so a third URL pushes it out.
    let _c = freshness.fetch_lock("https://c.example/c");
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
    let first = freshness.fetch_lock("https://a.example/c");
    let held = first.lock().await;
    let second = freshness.fetch_lock("https://a.example/c");
    assert!(second.try_lock().is_err(), "the same URL shares the lock");
    let other = freshness.fetch_lock("https://b.example/c");
    assert!(other.try_lock().is_ok(), "another URL does not wait");
    drop(held);
    assert!(second.try_lock().is_ok());
}
