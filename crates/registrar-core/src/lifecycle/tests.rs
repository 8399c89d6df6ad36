use super::*;

const HOUR: u64 = 3_600;
const DAY: u64 = 24 * HOUR;
const REGISTERED: i64 = 1_000_000;

fn ttl(seconds: u64) -> i64 {
    i64::try_from(seconds).unwrap_or(i64::MAX)
}

fn settings(unused_ttl: u64, inactive_ttl: u64) -> LifecycleSettings {
    LifecycleSettings {
        unused_ttl,
        inactive_ttl,
    }
}

fn used_at(time: i64) -> ClientState {
    ClientState {
        last_used_at: Some(time),
        blocked_at: None,
    }
}

#[test]
fn no_ttl_never_expires() {
    let off = LifecycleSettings::default();
    assert!(!off.is_enabled());
    assert!(off.cutoffs(i64::MAX).is_empty());
    let never_used = ClientState::default();
    assert_eq!(
        standing(REGISTERED, &never_used, &off, i64::MAX),
        Standing::Active
    );
}

#[test]
fn an_unused_client_expires_exactly_at_its_ttl() {
    let lifecycle = settings(24 * HOUR, 0);
    let never_used = ClientState::default();
    let expires = REGISTERED + ttl(24 * HOUR);
    assert_eq!(
        standing(REGISTERED, &never_used, &lifecycle, expires - 1),
        Standing::Active
    );
    assert_eq!(
        standing(REGISTERED, &never_used, &lifecycle, expires),
        Standing::Expired(Expiry::Unused)
    );
    // One use, however long ago, keeps it from the unused TTL.
    assert_eq!(
        standing(
            REGISTERED,
            &used_at(REGISTERED + 1),
            &lifecycle,
            expires + ttl(DAY * 365)
        ),
        Standing::Active
    );
}

#[test]
fn an_inactive_client_expires_its_ttl_after_its_last_use() {
    let lifecycle = settings(0, 30 * DAY);
    let last_use = REGISTERED + ttl(10 * DAY);
    let activity = used_at(last_use);
    assert_eq!(
        standing(
            REGISTERED,
            &activity,
            &lifecycle,
            last_use + ttl(30 * DAY) - 1
        ),
        Standing::Active
    );
    assert_eq!(
        standing(REGISTERED, &activity, &lifecycle, last_use + ttl(30 * DAY)),
        Standing::Expired(Expiry::Inactive)
    );
    // Never used: measured from the registration.
    assert_eq!(
        standing(
            REGISTERED,
            &ClientState::default(),
            &lifecycle,
            REGISTERED + ttl(30 * DAY)
        ),
        Standing::Expired(Expiry::Inactive)
    );
}

#[test]
fn unused_is_reported_before_inactive() {
    let lifecycle = settings(HOUR, 2 * HOUR);
    assert_eq!(
        standing(
            REGISTERED,
            &ClientState::default(),
            &lifecycle,
            REGISTERED + ttl(3 * HOUR)
        ),
        Standing::Expired(Expiry::Unused)
    );
}

#[test]
fn a_blocked_client_is_blocked_whatever_its_ttls() {
    let blocked = ClientState {
        last_used_at: Some(REGISTERED),
        blocked_at: Some(REGISTERED + 5),
    };
    assert_eq!(
        standing(
            REGISTERED,
            &blocked,
            &LifecycleSettings::default(),
            REGISTERED + 10
        ),
        Standing::Blocked
    );
    assert!(!Standing::Blocked.is_active());
}

#[test]
fn uses_are_written_at_most_once_per_granularity() {
    let lifecycle = LifecycleSettings::default();
    assert_eq!(lifecycle.use_granularity(), MAX_USE_GRANULARITY);
    assert!(lifecycle.use_is_due(&ClientState::default(), REGISTERED));
    let recorded = used_at(REGISTERED);
    assert!(!lifecycle.use_is_due(&recorded, REGISTERED + MAX_USE_GRANULARITY - 1));
    assert!(lifecycle.use_is_due(&recorded, REGISTERED + MAX_USE_GRANULARITY));
}

#[test]
fn a_short_inactive_ttl_records_uses_more_often() {
    // 4 minutes: a use is written every 10 seconds at most, so a client is never taken for
    // inactive more than 10 seconds early.
    let lifecycle = settings(0, 240);
    assert_eq!(lifecycle.use_granularity(), 10);
    assert_eq!(settings(0, 10).use_granularity(), 1);
    assert_eq!(settings(0, 90 * DAY).use_granularity(), MAX_USE_GRANULARITY);
}

#[test]
fn huge_ttls_do_not_overflow() {
    let lifecycle = settings(u64::MAX, u64::MAX);
    let cutoffs = lifecycle.cutoffs(0);
    assert_eq!(cutoffs.unused_before, Some(-i64::MAX));
    assert_eq!(
        standing(0, &ClientState::default(), &lifecycle, 0),
        Standing::Active
    );
    assert_eq!(lifecycle.use_granularity(), MAX_USE_GRANULARITY);
}
