//! The injected registrar clock as a `governor` clock, so tests move time without sleeping.

use std::sync::Arc;

use governor::nanos::Nanos;
use registrar_core::Clock;

/// Seconds beyond which the clock is clamped: nanoseconds stay below half of `u64::MAX`, so
/// `governor`'s unchecked additions of at most a year cannot overflow.
const MAX_SECONDS: u64 = u64::MAX / 2 / 1_000_000_000;

/// A `governor` clock reading the registrar [`Clock`]; an instant is nanoseconds since the Unix
/// epoch, with the registrar clock's one-second resolution.
#[derive(Debug, Clone)]
pub(crate) struct GovernorClock(Arc<dyn Clock>);

impl GovernorClock {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        Self(clock)
    }
}

impl governor::clock::Clock for GovernorClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        // A clock before the epoch reads as the epoch; `governor` saturates differences anyway.
        let seconds = u64::try_from(self.0.now()).unwrap_or(0).min(MAX_SECONDS);
        Nanos::new(seconds * 1_000_000_000)
    }
}
