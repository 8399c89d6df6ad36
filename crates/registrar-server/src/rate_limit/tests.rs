//! Tests of the rate limits; time moves by a `ManualClock`, never by sleeping.
//!
//! The Redis tests run when `REGISTRAR_TEST_REDIS` holds a URL such as `redis://127.0.0.1:6379`.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::http::{HeaderMap, HeaderValue};
use registrar_core::ManualClock;

use super::key::bounded_key;
use super::*;

const NOW: i64 = 1_700_000_000;

/// Every kind: 3 at once, then one every 10 s.
const SMALL: Quota = Quota::new(3, 30);

fn small_config() -> RateLimitConfig {
    RateLimitConfig {
        registration: SMALL,
        initial_token: SMALL,
        management_failure: SMALL,
        client_auth_failure_by_client: SMALL,
        client_auth_failure_by_source: SMALL,
        policy_registrations: SMALL,
        login_failure_by_user: SMALL,
        login_failure_by_source: SMALL,
        ..RateLimitConfig::default()
    }
}

fn limits_with(config: RateLimitConfig) -> (RateLimits, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(NOW));
    let limits = RateLimits::new(config, clock.clone()).unwrap();
    (limits, clock)
}

fn refused(kind: LimitKind, retry_after_seconds: u64) -> Result<(), Limited> {
    Err(Limited {
        kind,
        retry_after_seconds,
    })
}

fn tracked_keys(limits: &RateLimits, kind: LimitKind) -> usize {
    limits.inner.local.get(kind).tracked_keys()
}

const FAILURE_KINDS: [LimitKind; 3] = [
    LimitKind::ManagementFailure,
    LimitKind::ClientAuthFailureByClient,
    LimitKind::ClientAuthFailureBySource,
];

#[tokio::test]
async fn each_kind_limits_after_its_burst_and_recovers_when_the_clock_advances() {
    for kind in LimitKind::ALL {
        let (limits, clock) = limits_with(small_config());
        for _ in 0..3 {
            assert_eq!(limits.check(kind, "k").await, Ok(()), "{kind}");
        }
        assert_eq!(limits.check(kind, "k").await, refused(kind, 10), "{kind}");
        clock.advance(9);
        assert_eq!(limits.check(kind, "k").await, refused(kind, 1), "{kind}");
        clock.advance(1);
        assert_eq!(limits.check(kind, "k").await, Ok(()), "{kind}");
        assert_eq!(limits.check(kind, "k").await, refused(kind, 10), "{kind}");
        clock.advance(30);
        for _ in 0..3 {
            assert_eq!(limits.check(kind, "k").await, Ok(()), "{kind}");
        }
        assert_eq!(limits.check(kind, "k").await, refused(kind, 10), "{kind}");
    }
}

#[tokio::test]
async fn default_quotas_refuse_only_beyond_their_burst() {
    let table = [
        (LimitKind::Registration, 30, 2),
        (LimitKind::InitialToken, 60, 1),
        (LimitKind::ManagementFailure, 10, 6),
        (LimitKind::ClientAuthFailureByClient, 10, 6),
        (LimitKind::ClientAuthFailureBySource, 30, 2),
        // 600 per 60 s refills one every 0.1 s, which rounds up to 1.
        (LimitKind::PolicyRegistrations, 600, 1),
    ];
    for (kind, burst, retry_after_seconds) in table {
        let (limits, _clock) = limits_with(RateLimitConfig::default());
        for _ in 0..burst {
            assert_eq!(limits.check(kind, "k").await, Ok(()), "{kind}");
        }
        assert_eq!(
            limits.check(kind, "k").await,
            refused(kind, retry_after_seconds),
            "{kind}"
        );
    }
}

#[tokio::test]
async fn keys_and_kinds_are_isolated() {
    let (limits, _clock) = limits_with(small_config());
    for _ in 0..3 {
        limits
            .check(LimitKind::Registration, "203.0.113.7")
            .await
            .unwrap();
    }
    assert!(
        limits
            .check(LimitKind::Registration, "203.0.113.7")
            .await
            .is_err()
    );

    assert_eq!(
        limits.check(LimitKind::Registration, "203.0.113.8").await,
        Ok(())
    );
    assert_eq!(
        limits
            .check(LimitKind::PolicyRegistrations, "203.0.113.7")
            .await,
        Ok(())
    );
    assert_eq!(
        limits
            .failures_exceeded(LimitKind::ManagementFailure, "203.0.113.7")
            .await,
        Ok(())
    );
}

#[tokio::test]
async fn fewer_failures_than_the_burst_never_block() {
    for kind in FAILURE_KINDS {
        let (limits, clock) = limits_with(small_config());
        // Two failures every 20 s stay below one refill every 10 s, whatever the successes.
        for _ in 0..10 {
            for _ in 0..100 {
                assert_eq!(limits.failures_exceeded(kind, "k").await, Ok(()), "{kind}");
            }
            limits.record_failure(kind, "k").await;
            limits.record_failure(kind, "k").await;
            assert_eq!(limits.failures_exceeded(kind, "k").await, Ok(()), "{kind}");
            clock.advance(20);
        }
    }
}

#[tokio::test]
async fn a_burst_of_failures_blocks_until_a_unit_refills() {
    for kind in FAILURE_KINDS {
        let (limits, clock) = limits_with(small_config());
        for _ in 0..3 {
            limits.record_failure(kind, "k").await;
        }
        // Asking again and again neither extends nor lifts the block.
        for _ in 0..5 {
            assert_eq!(
                limits.failures_exceeded(kind, "k").await,
                refused(kind, 10),
                "{kind}"
            );
        }
        clock.advance(4);
        assert_eq!(
            limits.failures_exceeded(kind, "k").await,
            refused(kind, 6),
            "{kind}"
        );
        clock.advance(6);
        assert_eq!(limits.failures_exceeded(kind, "k").await, Ok(()), "{kind}");
        limits.record_failure(kind, "k").await;
        assert_eq!(
            limits.failures_exceeded(kind, "k").await,
            refused(kind, 10),
            "{kind}"
        );
        assert_eq!(
            limits.failures_exceeded(kind, "other").await,
            Ok(()),
            "{kind}"
        );
    }
}

#[tokio::test]
async fn asking_about_failures_of_an_unknown_key_holds_no_memory() {
    let (limits, _clock) = limits_with(small_config());
    for index in 0..100 {
        let key = format!("client-{index}");
        limits
            .failures_exceeded(LimitKind::ClientAuthFailureByClient, &key)
            .await
            .unwrap();
    }
    assert_eq!(
        tracked_keys(&limits, LimitKind::ClientAuthFailureByClient),
        0
    );
}

#[tokio::test]
async fn a_disabled_config_passes_every_check() {
    let (limits, _clock) = limits_with(RateLimitConfig {
        enabled: false,
        ..small_config()
    });
    for kind in LimitKind::ALL {
        for _ in 0..100 {
            assert_eq!(limits.check(kind, "k").await, Ok(()));
            limits.record_failure(kind, "k").await;
            assert_eq!(limits.failures_exceeded(kind, "k").await, Ok(()));
        }
    }
}

#[tokio::test]
async fn retry_after_is_at_least_one_second() {
    let config = RateLimitConfig {
        registration: Quota::new(10, 1),
        ..small_config()
    };
    let (limits, _clock) = limits_with(config);
    for _ in 0..10 {
        limits.check(LimitKind::Registration, "k").await.unwrap();
    }
    assert_eq!(
        limits.check(LimitKind::Registration, "k").await,
        refused(LimitKind::Registration, 1)
    );
}

#[tokio::test]
async fn keys_whose_bucket_refilled_are_dropped_from_memory() {
    let (limits, clock) = limits_with(small_config());
    for index in 0..1000 {
        limits
            .check(LimitKind::Registration, &format!("key-{index}"))
            .await
            .unwrap();
    }
    assert_eq!(tracked_keys(&limits, LimitKind::Registration), 1000);
    clock.advance(30);
    // The 1024th call sweeps; the 1000 buckets are full again by then.
    for _ in 0..24 {
        let _ = limits.check(LimitKind::Registration, "busy").await;
    }
    assert_eq!(tracked_keys(&limits, LimitKind::Registration), 1);
}

#[test]
fn a_sweep_keeps_the_keys_still_limited() {
    let (limits, clock) = limits_with(small_config());
    let local = limits.inner.local.get(LimitKind::Registration);
    assert_eq!(local.decide("old", true), Decision::Allowed);
    clock.advance(20);
    assert_eq!(local.decide("recent", true), Decision::Allowed);
    local.sweep();
    assert_eq!(local.tracked_keys(), 1);
}

#[tokio::test]
async fn long_keys_are_hashed_to_a_bounded_length() {
    let short = "x".repeat(64);
    assert_eq!(bounded_key(&short), short.as_str());
    let long_a = format!("{}a", "x".repeat(10_000));
    let long_b = format!("{}b", "x".repeat(10_000));
    assert_eq!(bounded_key(&long_a).len(), 71);
    assert!(bounded_key(&long_a).starts_with("sha256:"));
    assert_ne!(bounded_key(&long_a), bounded_key(&long_b));

    let (limits, _clock) = limits_with(small_config());
    for _ in 0..3 {
        limits
            .check(LimitKind::InitialToken, &long_a)
            .await
            .unwrap();
    }
    assert!(
        limits
            .check(LimitKind::InitialToken, &long_a)
            .await
            .is_err()
    );
    assert_eq!(limits.check(LimitKind::InitialToken, &long_b).await, Ok(()));
}

#[test]
fn limited_says_what_was_too_many_and_when_to_retry() {
    let table = [
        (
            LimitKind::Registration,
            1,
            "too many registration requests from this address; retry after 1 second",
        ),
        (
            LimitKind::InitialToken,
            2,
            "too many registrations with this initial access token; retry after 2 seconds",
        ),
        (
            LimitKind::ManagementFailure,
            6,
            "too many failed registration access token presentations from this address; retry after 6 seconds",
        ),
        (
            LimitKind::ClientAuthFailureByClient,
            6,
            "too many failed authentications of this client; retry after 6 seconds",
        ),
        (
            LimitKind::ClientAuthFailureBySource,
            2,
            "too many failed client authentications from this address; retry after 2 seconds",
        ),
        (
            LimitKind::PolicyRegistrations,
            1,
            "too many registrations under this policy; retry after 1 second",
        ),
    ];
    for (kind, retry_after_seconds, expected) in table {
        assert_eq!(
            Limited {
                kind,
                retry_after_seconds
            }
            .to_string(),
            expected
        );
    }
}

fn check_client_ip(
    header: Option<&str>,
    lines: &[&str],
    peer: Option<&str>,
    expected: Option<&str>,
) {
    let config = RateLimitConfig {
        trusted_proxy_header: header.map(str::to_owned),
        ..RateLimitConfig::default()
    };
    let mut headers = HeaderMap::new();
    for line in lines {
        headers.append("x-forwarded-for", HeaderValue::from_str(line).unwrap());
        headers.append("forwarded", HeaderValue::from_str(line).unwrap());
    }
    let peer = peer.map(|peer| peer.parse::<IpAddr>().unwrap());
    let expected = expected.map(|expected| expected.parse::<IpAddr>().unwrap());
    assert_eq!(
        client_ip(&headers, peer, &config),
        expected,
        "{header:?} {lines:?}"
    );
}

#[test]
fn client_ip_is_the_peer_unless_a_trusted_header_holds_an_address() {
    let xff = Some("x-forwarded-for");
    let peer = Some("10.0.0.1");
    // Not trusted by default, however the header looks.
    check_client_ip(None, &["203.0.113.7"], peer, Some("10.0.0.1"));
    check_client_ip(None, &[], None, None);
    // The last address is what the trusted proxy appended; earlier ones are the client's.
    check_client_ip(xff, &["203.0.113.7"], peer, Some("203.0.113.7"));
    check_client_ip(
        xff,
        &["198.51.100.9, 203.0.113.7"],
        peer,
        Some("203.0.113.7"),
    );
    check_client_ip(
        xff,
        &["198.51.100.9", "203.0.113.7 "],
        peer,
        Some("203.0.113.7"),
    );
    check_client_ip(xff, &["203.0.113.7"], None, Some("203.0.113.7"));
    check_client_ip(
        Some("X-Forwarded-For"),
        &["203.0.113.7"],
        peer,
        Some("203.0.113.7"),
    );
    // Ports and brackets are dropped; IPv4-mapped IPv6 is IPv4.
    check_client_ip(xff, &["203.0.113.7:4711"], peer, Some("203.0.113.7"));
    check_client_ip(xff, &["[2001:db8::1]:443"], peer, Some("2001:db8::1"));
    check_client_ip(xff, &["[2001:db8::1]"], peer, Some("2001:db8::1"));
    check_client_ip(xff, &["::ffff:203.0.113.7"], peer, Some("203.0.113.7"));
    check_client_ip(None, &[], Some("::ffff:10.0.0.1"), Some("10.0.0.1"));
    // RFC 7239.
    let forwarded = Some("forwarded");
    check_client_ip(
        forwarded,
        &["for=198.51.100.9, for=203.0.113.7;proto=https"],
        peer,
        Some("203.0.113.7"),
    );
    check_client_ip(
        forwarded,
        &[r#"proto=https;For="[2001:db8::17]:4711""#],
        peer,
        Some("2001:db8::17"),
    );
    check_client_ip(forwarded, &["for=unknown"], peer, Some("10.0.0.1"));
    check_client_ip(forwarded, &["proto=https"], peer, Some("10.0.0.1"));
    // Anything else is the peer.
    check_client_ip(xff, &[], peer, Some("10.0.0.1"));
    check_client_ip(xff, &["203.0.113.7, nonsense"], peer, Some("10.0.0.1"));
    check_client_ip(xff, &["203.0.113.7,"], peer, Some("10.0.0.1"));
    check_client_ip(xff, &[""], None, None);
    check_client_ip(
        Some("not a header\n"),
        &["203.0.113.7"],
        peer,
        Some("10.0.0.1"),
    );
    check_client_ip(Some(""), &["203.0.113.7"], peer, Some("10.0.0.1"));
}

#[test]
fn client_ip_skips_a_header_line_that_is_not_text() {
    let config = RateLimitConfig {
        trusted_proxy_header: Some("x-forwarded-for".to_owned()),
        ..RateLimitConfig::default()
    };
    let mut headers = HeaderMap::new();
    headers.append(
        "x-forwarded-for",
        HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
    );
    let peer = Some("10.0.0.1".parse().unwrap());
    assert_eq!(client_ip(&headers, peer, &config), peer);
}

#[test]
fn ip_key_groups_ipv6_by_its_64_prefix() {
    let table = [
        ("203.0.113.7", "203.0.113.7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::9", "2001:db8:1:2::/64"),
        ("::1", "::/64"),
    ];
    for (address, expected) in table {
        assert_eq!(ip_key(address.parse().unwrap()), expected, "{address}");
    }
}

#[test]
fn config_reads_defaults_for_missing_fields() {
    let config: RateLimitConfig = serde_json::from_str(
        r#"{"enabled": false, "registration": {"burst": 5, "per_seconds": 10}}"#,
    )
    .unwrap();
    assert_eq!(
        config,
        RateLimitConfig {
            enabled: false,
            registration: Quota::new(5, 10),
            ..RateLimitConfig::default()
        }
    );
    let empty: RateLimitConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, RateLimitConfig::default());
    assert!(empty.enabled);
    assert_eq!(empty.redis_prefix, "registrar:rl");
    assert_eq!(empty.trusted_proxy_header, None);
}

#[test]
fn config_rejects_unknown_fields_and_partial_quotas() {
    let table = [
        r#"{"registraton": {"burst": 5, "per_seconds": 10}}"#,
        r#"{"registration": {"burst": 5, "per_seconds": 10, "per": 1}}"#,
        r#"{"registration": {"burst": 5}}"#,
        r#"{"registration": {"burst": -1, "per_seconds": 10}}"#,
    ];
    for json in table {
        assert!(
            serde_json::from_str::<RateLimitConfig>(json).is_err(),
            "{json}"
        );
    }
}

#[test]
fn invalid_configs_are_refused_when_the_limits_are_built() {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW));
    let table = [
        (
            RateLimitConfig {
                registration: Quota::new(0, 60),
                ..RateLimitConfig::default()
            },
            RateLimitConfigError::InvalidQuota(LimitKind::Registration),
        ),
        (
            RateLimitConfig {
                policy_registrations: Quota::new(5, 0),
                ..RateLimitConfig::default()
            },
            RateLimitConfigError::InvalidQuota(LimitKind::PolicyRegistrations),
        ),
        (
            RateLimitConfig {
                management_failure: Quota::new(5, MAX_PER_SECONDS + 1),
                ..RateLimitConfig::default()
            },
            RateLimitConfigError::InvalidQuota(LimitKind::ManagementFailure),
        ),
        (
            RateLimitConfig {
                redis_url: Some("http://127.0.0.1:6379".to_owned()),
                ..RateLimitConfig::default()
            },
            RateLimitConfigError::InvalidRedisUrl,
        ),
        (
            RateLimitConfig {
                redis_url: Some("rediss://127.0.0.1:6379".to_owned()),
                ..RateLimitConfig::default()
            },
            RateLimitConfigError::InvalidRedisUrl,
        ),
        (
            RateLimitConfig {
                trusted_proxy_header: Some("x forwarded".to_owned()),
                ..RateLimitConfig::default()
            },
            RateLimitConfigError::InvalidProxyHeader("x forwarded".to_owned()),
        ),
    ];
    for (config, expected) in table {
        assert_eq!(config.validate(), Err(expected.clone()));
        assert_eq!(
            RateLimits::new(config, clock.clone()).unwrap_err(),
            expected
        );
    }
    let extremes = RateLimitConfig {
        registration: Quota::new(u32::MAX, 1),
        initial_token: Quota::new(1, MAX_PER_SECONDS),
        ..RateLimitConfig::default()
    };
    assert_eq!(extremes.validate(), Ok(()));
}

#[tokio::test]
async fn extreme_quotas_and_clocks_never_panic() {
    let config = RateLimitConfig {
        registration: Quota::new(u32::MAX, 1),
        initial_token: Quota::new(1, MAX_PER_SECONDS),
        ..RateLimitConfig::default()
    };
    // `ManualClock` wraps around, so the earliest start leaves room to move back.
    for now in [i64::MIN + 10, -1, 0, NOW, i64::MAX] {
        let clock = Arc::new(ManualClock::new(now));
        let limits = RateLimits::new(config.clone(), clock.clone()).unwrap();
        for _ in 0..3 {
            limits.check(LimitKind::Registration, "k").await.unwrap();
        }
        limits.check(LimitKind::InitialToken, "k").await.unwrap();
        let refusal = limits
            .check(LimitKind::InitialToken, "k")
            .await
            .unwrap_err();
        assert!(refusal.retry_after_seconds >= 1);
        clock.advance(-10);
        assert!(limits.check(LimitKind::InitialToken, "k").await.is_err());
    }
}

#[test]
fn debug_output_hides_the_redis_password() {
    let config = RateLimitConfig {
        redis_url: Some("redis://:hunter2@127.0.0.1:1".to_owned()),
        ..RateLimitConfig::default()
    };
    let (limits, _clock) = limits_with(config.clone());
    assert!(!format!("{config:?}").contains("hunter2"));
    assert!(!format!("{limits:?}").contains("hunter2"));
}

#[test]
fn the_futures_can_be_sent_between_threads() {
    fn assert_send<T: Send>(_: &T) {}
    let (limits, _clock) = limits_with(small_config());
    assert_send(&limits.check(LimitKind::Registration, "k"));
    assert_send(&limits.failures_exceeded(LimitKind::ManagementFailure, "k"));
    assert_send(&limits.record_failure(LimitKind::ManagementFailure, "k"));
}

fn warnings(limits: &RateLimits) -> u64 {
    match &limits.inner.shared {
        Some(shared) => shared.warnings.load(Ordering::Relaxed),
        None => 0,
    }
}

/// Nothing listens on port 1, so every call falls back; no Redis is needed.
#[tokio::test]
async fn an_unreachable_redis_falls_back_to_per_instance_limits() {
    let config = RateLimitConfig {
        redis_url: Some("redis://127.0.0.1:1".to_owned()),
        ..small_config()
    };
    let (limits, clock) = limits_with(config);
    for _ in 0..3 {
        assert_eq!(limits.check(LimitKind::Registration, "k").await, Ok(()));
    }
    assert_eq!(
        limits.check(LimitKind::Registration, "k").await,
        refused(LimitKind::Registration, 10)
    );
    for _ in 0..3 {
        limits
            .record_failure(LimitKind::ManagementFailure, "k")
            .await;
    }
    assert_eq!(
        limits
            .failures_exceeded(LimitKind::ManagementFailure, "k")
            .await,
        refused(LimitKind::ManagementFailure, 10)
    );
    clock.advance(10);
    assert_eq!(limits.check(LimitKind::Registration, "k").await, Ok(()));
    assert_eq!(
        limits
            .failures_exceeded(LimitKind::ManagementFailure, "k")
            .await,
        Ok(())
    );
    // One warning for all those calls, and the next only 30 s later.
    assert_eq!(warnings(&limits), 1);
    clock.advance(20);
    let _ = limits.check(LimitKind::Registration, "k").await;
    assert_eq!(warnings(&limits), 2);
    let _ = limits.check(LimitKind::Registration, "k").await;
    assert_eq!(warnings(&limits), 2);
}

/// The Redis URL of the tests, or `None` with a note when they are not to run.
fn test_redis_url() -> Option<String> {
    match std::env::var("REGISTRAR_TEST_REDIS") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("note: REGISTRAR_TEST_REDIS is not set; this Redis test checks nothing");
            None
        }
    }
}

/// Limits on the test Redis under a prefix of this test run's own.
fn redis_limits(url: &str, prefix: &str) -> (RateLimits, Arc<ManualClock>) {
    limits_with(RateLimitConfig {
        redis_url: Some(url.to_owned()),
        redis_prefix: prefix.to_owned(),
        ..small_config()
    })
}

fn unique_prefix() -> String {
    let random = RandomState::new().hash_one(std::process::id());
    format!("registrar-test:{random:016x}")
}

/// Redis answered every call: nothing fell back to memory.
fn assert_served_by_redis(limits: &RateLimits) {
    assert_eq!(warnings(limits), 0);
    for kind in LimitKind::ALL {
        assert_eq!(tracked_keys(limits, kind), 0, "{kind}");
    }
}

#[tokio::test]
async fn redis_instances_share_a_limit() {
    let Some(url) = test_redis_url() else { return };
    let prefix = unique_prefix();
    let (instance_a, _clock_a) = redis_limits(&url, &prefix);
    let (instance_b, _clock_b) = redis_limits(&url, &prefix);
    for _ in 0..3 {
        assert_eq!(
            instance_a
                .check(LimitKind::Registration, "203.0.113.7")
                .await,
            Ok(())
        );
    }
    assert_eq!(
        instance_b
            .check(LimitKind::Registration, "203.0.113.7")
            .await,
        refused(LimitKind::Registration, 10)
    );
    assert_eq!(
        instance_b
            .check(LimitKind::Registration, "203.0.113.8")
            .await,
        Ok(())
    );
    assert_eq!(
        instance_b
            .check(LimitKind::InitialToken, "203.0.113.7")
            .await,
        Ok(())
    );
    assert_served_by_redis(&instance_a);
    assert_served_by_redis(&instance_b);
}

#[tokio::test]
async fn redis_limits_recover_after_the_clock_advances() {
    let Some(url) = test_redis_url() else { return };
    let prefix = unique_prefix();
    let (instance_a, clock_a) = redis_limits(&url, &prefix);
    let (instance_b, clock_b) = redis_limits(&url, &prefix);
    for _ in 0..3 {
        instance_a
            .check(LimitKind::PolicyRegistrations, "default")
            .await
            .unwrap();
    }
    clock_a.advance(9);
    clock_b.advance(9);
    assert_eq!(
        instance_b
            .check(LimitKind::PolicyRegistrations, "default")
            .await,
        refused(LimitKind::PolicyRegistrations, 1)
    );
    clock_a.advance(1);
    clock_b.advance(1);
    assert_eq!(
        instance_b
            .check(LimitKind::PolicyRegistrations, "default")
            .await,
        Ok(())
    );
    assert_eq!(
        instance_a
            .check(LimitKind::PolicyRegistrations, "default")
            .await,
        refused(LimitKind::PolicyRegistrations, 10)
    );
    assert_served_by_redis(&instance_a);
    assert_served_by_redis(&instance_b);
}

#[tokio::test]
async fn redis_failures_block_every_instance_and_probes_consume_nothing() {
    let Some(url) = test_redis_url() else { return };
    let prefix = unique_prefix();
    let (instance_a, clock_a) = redis_limits(&url, &prefix);
    let (instance_b, clock_b) = redis_limits(&url, &prefix);
    let kind = LimitKind::ClientAuthFailureByClient;
    instance_a.record_failure(kind, "client-1").await;
    instance_b.record_failure(kind, "client-1").await;
    for _ in 0..20 {
        assert_eq!(instance_a.failures_exceeded(kind, "client-1").await, Ok(()));
        assert_eq!(instance_b.failures_exceeded(kind, "client-1").await, Ok(()));
    }
    instance_a.record_failure(kind, "client-1").await;
    assert_eq!(
        instance_b.failures_exceeded(kind, "client-1").await,
        refused(kind, 10)
    );
    assert_eq!(instance_b.failures_exceeded(kind, "client-2").await, Ok(()));
    clock_a.advance(10);
    clock_b.advance(10);
    assert_eq!(instance_a.failures_exceeded(kind, "client-1").await, Ok(()));
    assert_served_by_redis(&instance_a);
    assert_served_by_redis(&instance_b);
}

#[tokio::test]
async fn redis_keys_are_bounded_and_expire_once_the_bucket_refills() {
    let Some(url) = test_redis_url() else { return };
    let prefix = unique_prefix();
    let (limits, _clock) = redis_limits(&url, &prefix);
    let long_key = "x".repeat(100_000);
    limits
        .check(LimitKind::InitialToken, &long_key)
        .await
        .unwrap();
    limits
        .check(LimitKind::InitialToken, &long_key)
        .await
        .unwrap();
    assert_served_by_redis(&limits);

    let client = redis::Client::open(url.as_str()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(
        keys,
        [format!("{prefix}:initial_token:{}", bounded_key(&long_key))]
    );
    let ttl_ms: i64 = redis::cmd("PTTL")
        .arg(&keys[0])
        .query_async(&mut connection)
        .await
        .unwrap();
    // Two units taken refill in 20 s.
    assert!((19_000..=20_000).contains(&ttl_ms), "{ttl_ms}");
}

#[test]
fn with_trusted_proxies_the_header_is_believed_only_from_them_and_their_hops_are_skipped() {
    let config = RateLimitConfig {
        trusted_proxy_header: Some("x-forwarded-for".to_owned()),
        trusted_proxies: vec![
            "10.0.0.0/8".parse().unwrap(),
            "2001:db8::/32".parse().unwrap(),
        ],
        ..RateLimitConfig::default()
    };
    let address = |text: &str| text.parse::<IpAddr>().unwrap();
    let forwarded = |value: &str| {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        headers
    };
    let proxy = Some(address("10.0.0.1"));
    // A CDN hop (trusted) after the client: the client is the first untrusted address.
    assert_eq!(
        client_ip(
            &forwarded("198.51.100.9, 203.0.113.7, 10.1.1.1"),
            proxy,
            &config
        ),
        Some(address("203.0.113.7"))
    );
    // A peer that is no trusted proxy cannot choose its address.
    assert_eq!(
        client_ip(
            &forwarded("203.0.113.7"),
            Some(address("192.0.2.1")),
            &config
        ),
        Some(address("192.0.2.1"))
    );
    // Every address a trusted proxy's: the first one.
    assert_eq!(
        client_ip(&forwarded("10.2.2.2, 10.1.1.1"), proxy, &config),
        Some(address("10.2.2.2"))
    );
    // An element that is not an address: the header is not believed.
    assert_eq!(
        client_ip(&forwarded("unknown, 10.1.1.1"), proxy, &config),
        proxy
    );
    // An IPv6 proxy, and an IPv4-mapped peer inside an IPv4 range.
    assert_eq!(
        client_ip(
            &forwarded("203.0.113.7"),
            Some(address("2001:db8::5")),
            &config
        ),
        Some(address("203.0.113.7"))
    );
    assert_eq!(
        client_ip(
            &forwarded("203.0.113.7"),
            Some(address("::ffff:10.0.0.1")),
            &config
        ),
        Some(address("203.0.113.7"))
    );
}
