//! Rate limits: registrations per address, token and policy, and failed authentications per
//! client and address.
//!
//! [`RateLimits`] runs one GCRA (`governor`'s algorithm) per [`LimitKind`] and key. Counting
//! happens in memory per instance, or in Redis when `redis_url` is set so that every instance
//! shares the counters; if Redis fails, the call falls back to the in-memory counters and a
//! warning is logged at most every 30 seconds.
//!
//! Two ways of counting:
//!
//! 1. [`RateLimits::check`] counts every request (registrations).
//! 2. [`RateLimits::failures_exceeded`] is asked before authenticating and consumes nothing;
//!    [`RateLimits::record_failure`] is called after a failed authentication. A successful
//!    authentication costs nothing, and a key with fewer failures than the burst is never
//!    blocked.
//!
//! Keys longer than 64 bytes are hashed with SHA-256, so user input bounds neither memory nor
//! Redis keys. In memory, each kind drops the keys whose bucket is full again every 1024 calls.

mod client_ip;
mod clock;
mod config;
mod key;
mod kind;
mod local;
mod shared;
mod store;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use registrar_core::Clock;

pub use client_ip::{client_ip, ip_key};
pub use config::{MAX_PER_SECONDS, Quota, RateLimitConfig, RateLimitConfigError};
pub use kind::{LimitKind, Limited};

use clock::GovernorClock;
use key::bounded_key;
use local::LocalLimiters;
use shared::SharedLimiter;

/// The rate limits of one server; cheap to clone, clones share the counters.
///
/// Calls must run inside a Tokio runtime when `redis_url` is set, as the Redis client does.
#[derive(Clone)]
pub struct RateLimits {
    inner: Arc<Inner>,
}

struct Inner {
    config: RateLimitConfig,
    local: LocalLimiters,
    shared: Option<SharedLimiter>,
}

/// What one limiter answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    Allowed,
    Refused { retry_after_seconds: u64 },
}

impl RateLimits {
    /// Limits from `config`, timed by `clock`; the Redis connection, if any, is made on the
    /// first call.
    pub fn new(
        config: RateLimitConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, RateLimitConfigError> {
        config.validate()?;
        let local = LocalLimiters::new(&config, &GovernorClock::new(clock.clone()))?;
        let shared = match (&config.redis_url, config.enabled) {
            (Some(redis_url), true) => Some(
                SharedLimiter::new(redis_url, &config.redis_prefix, clock)
                    .map_err(|_| RateLimitConfigError::InvalidRedisUrl)?,
            ),
            _ => None,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                local,
                shared,
            }),
        })
    }

    /// The configuration the limits were built from.
    pub fn config(&self) -> &RateLimitConfig {
        &self.inner.config
    }

    /// Counts one event of `kind` for `key`, or refuses it when the key's quota is used up.
    ///
    /// For the kinds that count every request: [`LimitKind::Registration`],
    /// [`LimitKind::InitialToken`] and [`LimitKind::PolicyRegistrations`].
    pub async fn check(&self, kind: LimitKind, key: &str) -> Result<(), Limited> {
        self.decide(kind, key, true).await
    }

    /// Refuses while `key` is blocked for `kind`, that is while its failures have used up the
    /// quota; consumes nothing, so call it before authenticating.
    pub async fn failures_exceeded(&self, kind: LimitKind, key: &str) -> Result<(), Limited> {
        self.decide(kind, key, false).await
    }

    /// Counts one failed authentication of `kind` for `key`; once the burst is used up,
    /// [`failures_exceeded`](Self::failures_exceeded) refuses until a unit refills.
    pub async fn record_failure(&self, kind: LimitKind, key: &str) {
        // A refusal here only says the key was blocked already, which the next
        // `failures_exceeded` reports.
        let _ = self.decide(kind, key, true).await;
    }

    /// The client address of a request, as [`client_ip`] finds it with this configuration.
    pub fn client_ip(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> Option<IpAddr> {
        client_ip(headers, peer, &self.inner.config)
    }

    async fn decide(&self, kind: LimitKind, key: &str, consume: bool) -> Result<(), Limited> {
        if !self.inner.config.enabled {
            return Ok(());
        }
        let key = bounded_key(key);
        let shared = match &self.inner.shared {
            Some(shared) => {
                let quota = self.inner.config.quota(kind);
                shared.decide(kind, quota, &key, consume).await
            }
            None => None,
        };
        let decision = match shared {
            Some(decision) => decision,
            None => self.inner.local.get(kind).decide(&key, consume),
        };
        match decision {
            Decision::Allowed => Ok(()),
            Decision::Refused {
                retry_after_seconds,
            } => Err(Limited {
                kind,
                retry_after_seconds,
            }),
        }
    }
}

impl fmt::Debug for RateLimits {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RateLimits")
            .field("config", &self.inner.config)
            .field("shared", &self.inner.shared)
            .finish_non_exhaustive()
    }
}

/// Whole seconds covering `wait`, at least 1: `Retry-After: 0` would invite an immediate retry.
pub(crate) fn seconds_rounded_up(wait: Duration) -> u64 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.max(1)
}

/// Registrations per policy, as the pipeline's [`Admission`](registrar_core::Admission): the
/// policy is known only once the request is validated.
#[derive(Debug, Clone)]
pub struct PolicyAdmission(pub RateLimits);

#[async_trait::async_trait]
impl registrar_core::Admission for PolicyAdmission {
    async fn admit(
        &self,
        cx: &registrar_core::RegistrationContext,
    ) -> Result<(), registrar_core::RegistrationError> {
        let Some(policy) = cx.policy() else {
            return Ok(());
        };
        self.0
            .check(LimitKind::PolicyRegistrations, &policy.name)
            .await
            .map_err(
                |limited| registrar_core::RegistrationError::TooManyRequests {
                    retry_after: limited.retry_after_seconds,
                    description: limited.to_string(),
                },
            )
    }
}
