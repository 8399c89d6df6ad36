//! The rate limit configuration: one [`Quota`] per kind, the shared store and the proxy header.

use std::fmt;

use axum::http::HeaderName;
use serde::Deserialize;

use super::LimitKind;

/// The longest `per_seconds` accepted: a year keeps every computed time far from overflow.
pub const MAX_PER_SECONDS: u64 = 366 * 24 * 60 * 60;

/// At most `burst` events at once, then one more every `per_seconds / burst` seconds.
///
/// These are the GCRA semantics of `governor`: a full bucket of `burst` units refills one unit
/// at a time, and is full again `per_seconds` after it was emptied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    /// How many events may happen at once; at least 1.
    pub burst: u32,
    /// Seconds in which a whole burst refills; between 1 and [`MAX_PER_SECONDS`].
    pub per_seconds: u64,
}

impl Quota {
    /// `burst` events per `per_seconds` seconds.
    pub const fn new(burst: u32, per_seconds: u64) -> Self {
        Self { burst, per_seconds }
    }

    /// The time one unit takes to refill, in nanoseconds, rounded up so the rate never exceeds
    /// the configured one; `None` when the quota is invalid.
    pub(crate) fn interval_nanos(self) -> Option<u64> {
        if self.burst == 0 || self.per_seconds == 0 || self.per_seconds > MAX_PER_SECONDS {
            return None;
        }
        let per_nanos = self.per_seconds.checked_mul(1_000_000_000)?;
        Some(per_nanos.div_ceil(u64::from(self.burst)))
    }
}

/// The rate limits of one server, read from the `[rate_limits]` table of the configuration.
///
/// Every missing field takes its default; an unknown field is an error. The default quotas are
/// far above what a legitimate client does, so only floods and guessing are refused.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Whether limits apply at all; when `false` every check passes. Default `true`.
    pub enabled: bool,
    /// Requests to `POST /connect/dcr` per client IP address. Default 30 per 60 s.
    pub registration: Quota,
    /// Registrations per initial access token id. Default 60 per 60 s.
    pub initial_token: Quota,
    /// Failed registration access token presentations per source IP address. Default 10 per
    /// 60 s.
    pub management_failure: Quota,
    /// Failed client authentications per `client_id`. Default 10 per 60 s.
    pub client_auth_failure_by_client: Quota,
    /// Failed client authentications per source IP address. Default 30 per 60 s.
    pub client_auth_failure_by_source: Quota,
    /// Registrations per registration policy name. Default 600 per 60 s.
    pub policy_registrations: Quota,
    /// Failed logins per username. Default 5 per 300 s.
    pub login_failure_by_user: Quota,
    /// Failed logins per source IP address. Default 20 per 60 s.
    pub login_failure_by_source: Quota,
    /// A Redis URL (`redis://host:port/db` or `redis+unix:///path`; TLS is not built in); when
    /// set, every instance shares the counters there. Default none: each instance counts alone.
    pub redis_url: Option<String>,
    /// The first part of every Redis key, `{redis_prefix}:{kind}:{key}`. Default `registrar:rl`.
    pub redis_prefix: String,
    /// The header a trusted reverse proxy writes the client address into, such as
    /// `x-forwarded-for`; the last address of its last line is used, the one the closest proxy
    /// appended. Default none: the header is attacker-controlled unless a proxy rewrites it, so
    /// it is never trusted unless named here.
    pub trusted_proxy_header: Option<String>,
    /// The addresses of the trusted proxies (`10.0.0.0/8`, `2001:db8::/32`, `127.0.0.1/32`).
    /// When set, the header is believed only from a peer among them, and its addresses are read
    /// from the right, skipping the trusted proxies' own, so the first one that is not a
    /// trusted proxy is the client. Default empty: the header is believed from any peer, for
    /// deployments where nothing reaches the server but through the proxy.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl RateLimitConfig {
    /// The quota of `kind`.
    pub fn quota(&self, kind: LimitKind) -> Quota {
        match kind {
            LimitKind::Registration => self.registration,
            LimitKind::InitialToken => self.initial_token,
            LimitKind::ManagementFailure => self.management_failure,
            LimitKind::ClientAuthFailureByClient => self.client_auth_failure_by_client,
            LimitKind::ClientAuthFailureBySource => self.client_auth_failure_by_source,
            LimitKind::PolicyRegistrations => self.policy_registrations,
            LimitKind::LoginFailureByUser => self.login_failure_by_user,
            LimitKind::LoginFailureBySource => self.login_failure_by_source,
        }
    }

    /// Checks every quota, the Redis URL and the header name, so a bad configuration fails at
    /// startup rather than at the first request.
    pub fn validate(&self) -> Result<(), RateLimitConfigError> {
        for kind in LimitKind::ALL {
            if self.quota(kind).interval_nanos().is_none() {
                return Err(RateLimitConfigError::InvalidQuota(kind));
            }
        }
        if let Some(redis_url) = &self.redis_url
            && redis::Client::open(redis_url.as_str()).is_err()
        {
            return Err(RateLimitConfigError::InvalidRedisUrl);
        }
        if let Some(header) = &self.trusted_proxy_header
            && HeaderName::from_bytes(header.as_bytes()).is_err()
        {
            return Err(RateLimitConfigError::InvalidProxyHeader(header.clone()));
        }
        Ok(())
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            registration: Quota::new(30, 60),
            initial_token: Quota::new(60, 60),
            management_failure: Quota::new(10, 60),
            client_auth_failure_by_client: Quota::new(10, 60),
            client_auth_failure_by_source: Quota::new(30, 60),
            policy_registrations: Quota::new(600, 60),
            login_failure_by_user: Quota::new(5, 300),
            login_failure_by_source: Quota::new(20, 60),
            redis_url: None,
            redis_prefix: "registrar:rl".to_owned(),
            trusted_proxy_header: None,
            trusted_proxies: Vec::new(),
        }
    }
}

/// The Redis URL may hold a password, so `Debug` only says whether it is set.
impl fmt::Debug for RateLimitConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RateLimitConfig")
            .field("enabled", &self.enabled)
            .field("registration", &self.registration)
            .field("initial_token", &self.initial_token)
            .field("management_failure", &self.management_failure)
            .field(
                "client_auth_failure_by_client",
                &self.client_auth_failure_by_client,
            )
            .field(
                "client_auth_failure_by_source",
                &self.client_auth_failure_by_source,
            )
            .field("policy_registrations", &self.policy_registrations)
            .field("login_failure_by_user", &self.login_failure_by_user)
            .field("login_failure_by_source", &self.login_failure_by_source)
            .field("redis_url", &self.redis_url.as_ref().map(|_| ".."))
            .field("redis_prefix", &self.redis_prefix)
            .field("trusted_proxy_header", &self.trusted_proxy_header)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish()
    }
}

/// Why a [`RateLimitConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateLimitConfigError {
    /// A quota has a zero burst, or a period of zero or beyond [`MAX_PER_SECONDS`].
    #[error(
        "rate limit '{0}' needs a burst of at least 1 and per_seconds between 1 and {MAX_PER_SECONDS}"
    )]
    InvalidQuota(LimitKind),
    /// `redis_url` does not parse; the URL is not repeated, as it may hold a password.
    #[error("rate limit redis_url is not a valid Redis URL (redis:// or redis+unix://, no TLS)")]
    InvalidRedisUrl,
    /// `trusted_proxy_header` is not a valid header name.
    #[error("rate limit trusted_proxy_header '{0}' is not a valid header name")]
    InvalidProxyHeader(String),
}
