//! When the replay cache forgets a jti: the trait passes no `now`, and a store reads no clock, so
//! a row's age is measured against the `expires_at` being recorded.

use std::sync::atomic::{AtomicU64, Ordering};

/// How long before the `expires_at` being recorded a row must have expired to be forgotten.
///
/// An accepted assertion's `expires_at` is its `exp` plus the leeway, and its `exp` is at most
/// `max_lifetime` plus the leeway after `now` (`token::AssertionLimits`, by default 300 and 30
/// seconds). So while `max_lifetime` plus twice the leeway stays under a day, a row more than a
/// day older than the assertion being recorded expired before `now`, and forgetting it lets no
/// replay through.
const RETENTION: i64 = 86_400;

/// How many recordings go from one purge to the next, per store; the first recording purges.
/// The table then holds about a day of jtis, and purging stays off most token requests.
const PURGE_EVERY: u64 = 64;

/// Rows whose `expires_at` lies before this are expired, when recording `expires_at`.
pub(crate) fn forget_before(expires_at: i64) -> i64 {
    expires_at.saturating_sub(RETENTION)
}

/// Counts recordings to tell when the next purge is due.
#[derive(Debug, Default)]
pub(crate) struct PurgeSchedule {
    recordings: AtomicU64,
}

impl PurgeSchedule {
    /// Counts one recording; true on the first and then on every `PURGE_EVERY`-th.
    pub fn is_due(&self) -> bool {
        self.recordings
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(PURGE_EVERY)
    }
}
