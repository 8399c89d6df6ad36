//! The per-instance limiters: one `governor` keyed GCRA per kind, in memory.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::RateLimiter;
use governor::clock::Clock as _;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;

use super::clock::GovernorClock;
use super::config::{Quota, RateLimitConfig, RateLimitConfigError};
use super::store::{Probe, ProbeStore};
use super::{Decision, LimitKind, seconds_rounded_up};

/// After this many calls a limiter drops the keys whose bucket is full again, so memory holds
/// only the keys seen within about one period and those since the last sweep.
const SWEEP_EVERY: u64 = 1024;

/// The buckets of every kind.
#[derive(Debug)]
pub(crate) struct LocalLimiters {
    registration: LocalLimiter,
    initial_token: LocalLimiter,
    management_failure: LocalLimiter,
    client_auth_failure_by_client: LocalLimiter,
    client_auth_failure_by_source: LocalLimiter,
    policy_registrations: LocalLimiter,
    login_failure_by_user: LocalLimiter,
    login_failure_by_source: LocalLimiter,
}

impl LocalLimiters {
    pub(crate) fn new(
        config: &RateLimitConfig,
        clock: &GovernorClock,
    ) -> Result<Self, RateLimitConfigError> {
        let limiter = |kind: LimitKind| {
            LocalLimiter::new(config.quota(kind), clock.clone())
                .ok_or(RateLimitConfigError::InvalidQuota(kind))
        };
        Ok(Self {
            registration: limiter(LimitKind::Registration)?,
            initial_token: limiter(LimitKind::InitialToken)?,
            management_failure: limiter(LimitKind::ManagementFailure)?,
            client_auth_failure_by_client: limiter(LimitKind::ClientAuthFailureByClient)?,
            client_auth_failure_by_source: limiter(LimitKind::ClientAuthFailureBySource)?,
            policy_registrations: limiter(LimitKind::PolicyRegistrations)?,
            login_failure_by_user: limiter(LimitKind::LoginFailureByUser)?,
            login_failure_by_source: limiter(LimitKind::LoginFailureBySource)?,
        })
    }

    pub(crate) fn get(&self, kind: LimitKind) -> &LocalLimiter {
        match kind {
            LimitKind::Registration => &self.registration,
            LimitKind::InitialToken => &self.initial_token,
            LimitKind::ManagementFailure => &self.management_failure,
            LimitKind::ClientAuthFailureByClient => &self.client_auth_failure_by_client,
            LimitKind::ClientAuthFailureBySource => &self.client_auth_failure_by_source,
            LimitKind::PolicyRegistrations => &self.policy_registrations,
            LimitKind::LoginFailureByUser => &self.login_failure_by_user,
            LimitKind::LoginFailureBySource => &self.login_failure_by_source,
        }
    }
}

/// One kind's buckets.
#[derive(Debug)]
pub(crate) struct LocalLimiter {
    limiter: RateLimiter<Probe, ProbeStore, GovernorClock, NoOpMiddleware<Nanos>>,
    calls: AtomicU64,
}

impl LocalLimiter {
    /// `None` when the quota is invalid, which [`RateLimitConfig::validate`] reports.
    fn new(quota: Quota, clock: GovernorClock) -> Option<Self> {
        let burst = NonZeroU32::new(quota.burst)?;
        let interval = Duration::from_nanos(quota.interval_nanos()?);
        let quota = governor::Quota::with_period(interval)?.allow_burst(burst);
        Some(Self {
            limiter: RateLimiter::new(quota, ProbeStore::default(), clock),
            calls: AtomicU64::new(0),
        })
    }

    /// Consumes one unit of `key` when `consume`, else only tells whether one is available.
    pub(crate) fn decide(&self, key: &str, consume: bool) -> Decision {
        let probe = Probe {
            key: key.to_owned(),
            consume,
        };
        let decision = match self.limiter.check_key(&probe) {
            Ok(()) => Decision::Allowed,
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                Decision::Refused {
                    retry_after_seconds: seconds_rounded_up(wait),
                }
            }
        };
        if self.calls.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
        }
        decision
    }

    /// How many keys are held; tests check that sweeps release them.
    #[cfg(test)]
    pub(crate) fn tracked_keys(&self) -> usize {
        self.limiter.len()
    }

    /// Drops the keys whose bucket is full again.
    #[cfg(test)]
    pub(crate) fn sweep(&self) {
        self.limiter.retain_recent();
    }
}
