//! The limiter shared by every instance: the same GCRA, run atomically in Redis by a Lua script.
//!
//! Time comes from the injected clock, passed to the script, so every instance agrees with its
//! own clock and tests move time. Any Redis failure makes the caller fall back to the
//! per-instance limiter, and Redis is left alone for a few seconds so an outage costs at most one
//! slow call per interval, not one per request.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisError, Script};
use registrar_core::Clock;

use super::config::Quota;
use super::{Decision, LimitKind, seconds_rounded_up};

/// The GCRA of `governor`: `KEYS[1]` holds the theoretical arrival time (TAT) in milliseconds.
///
/// ARGV: now (ms), interval (ms per unit), tolerance (interval times burst minus one), consume
/// (`1`, or `0` to probe). It returns 0 when a unit is available, and takes it when asked, else
/// the milliseconds until one is. The key expires when its bucket is full again, as a missing
/// key means a full bucket. Numbers are formatted as integers: Lua would write large ones with
/// an exponent.
const GCRA_SCRIPT: &str = r"
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '') or now
if tat < now then
  tat = now
end
local wait = tat - tolerance - now
if wait > 0 then
  return wait
end
if ARGV[4] == '1' then
  local next_tat = tat + interval
  redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', string.format('%d', next_tat - now))
end
return 0
";

/// How long one call may take before the per-instance limiter answers instead.
const CALL_TIMEOUT: Duration = Duration::from_secs(1);
/// How long one connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// How long Redis may take to answer one command.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);
/// Seconds of the injected clock during which Redis is not asked after a failure.
const RETRY_AFTER_FAILURE_SECONDS: i64 = 5;
/// Seconds of the injected clock between two warnings about Redis.
const WARN_EVERY_SECONDS: i64 = 30;

/// Why Redis gave no answer.
#[derive(Debug, thiserror::Error)]
enum SharedError {
    #[error(transparent)]
    Redis(#[from] RedisError),
    #[error("no answer within {CALL_TIMEOUT:?}")]
    Timeout,
}

/// The buckets in Redis, under `{prefix}:{kind}:{key}`.
pub(crate) struct SharedLimiter {
    client: redis::Client,
    /// Made on the first call, which runs inside the Tokio runtime the manager needs.
    connection: OnceLock<ConnectionManager>,
    script: Script,
    prefix: String,
    clock: Arc<dyn Clock>,
    /// Redis is not asked before this second, after a failure.
    skip_until: AtomicI64,
    /// When the last warning was logged; `i64::MIN` before the first.
    last_warning: AtomicI64,
    /// How many warnings were logged; tests check the logging is rate limited.
    #[cfg(test)]
    pub(crate) warnings: std::sync::atomic::AtomicU64,
}

impl SharedLimiter {
    /// A limiter on the Redis at `redis_url`; nothing connects until the first call.
    pub(crate) fn new(
        redis_url: &str,
        prefix: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, RedisError> {
        Ok(Self {
            client: redis::Client::open(redis_url)?,
            connection: OnceLock::new(),
            script: Script::new(GCRA_SCRIPT),
            prefix: prefix.to_owned(),
            clock,
            skip_until: AtomicI64::new(i64::MIN),
            last_warning: AtomicI64::new(i64::MIN),
            #[cfg(test)]
            warnings: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Consumes one unit of `key` when `consume`, else only tells whether one is available;
    /// `None` when Redis gave no answer, which is logged.
    pub(crate) async fn decide(
        &self,
        kind: LimitKind,
        quota: Quota,
        key: &str,
        consume: bool,
    ) -> Option<Decision> {
        let now = self.clock.now();
        if now < self.skip_until.load(Ordering::Relaxed) {
            return None;
        }
        match self.run_script(kind, quota, key, consume, now).await {
            Ok(decision) => Some(decision),
            Err(error) => {
                self.skip_until.store(
                    now.saturating_add(RETRY_AFTER_FAILURE_SECONDS),
                    Ordering::Relaxed,
                );
                self.warn(now, &error);
                None
            }
        }
    }

    async fn run_script(
        &self,
        kind: LimitKind,
        quota: Quota,
        key: &str,
        consume: bool,
        now: i64,
    ) -> Result<Decision, SharedError> {
        // The config was validated, so a quota without an interval is not reached; refusing
        // nothing is the safe answer to a logic error in a limiter.
        let Some(interval_nanos) = quota.interval_nanos() else {
            return Ok(Decision::Allowed);
        };
        let interval_ms = interval_nanos.div_ceil(1_000_000).max(1);
        let tolerance_ms = interval_ms.saturating_mul(u64::from(quota.burst.saturating_sub(1)));
        let now_ms = now.clamp(0, i64::MAX / 1_000).saturating_mul(1_000);

        let mut connection = self.connection()?;
        let mut invocation = self
            .script
            .key(format!("{}:{}:{key}", self.prefix, kind.as_str()));
        invocation
            .arg(now_ms)
            .arg(interval_ms)
            .arg(tolerance_ms)
            .arg(u8::from(consume));
        let wait_ms: i64 =
            tokio::time::timeout(CALL_TIMEOUT, invocation.invoke_async(&mut connection))
                .await
                .map_err(|_| SharedError::Timeout)??;
        if wait_ms <= 0 {
            return Ok(Decision::Allowed);
        }
        let wait = Duration::from_millis(u64::try_from(wait_ms).unwrap_or(u64::MAX));
        Ok(Decision::Refused {
            retry_after_seconds: seconds_rounded_up(wait),
        })
    }

    fn connection(&self) -> Result<ConnectionManager, RedisError> {
        if let Some(connection) = self.connection.get() {
            return Ok(connection.clone());
        }
        // Few retries: a request waits for them, and the per-instance limiter is a fine answer.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(1);
        let manager = ConnectionManager::new_lazy_with_config(self.client.clone(), config)?;
        // Two first calls may race; one manager wins and the other, which did no I/O, is dropped.
        Ok(self.connection.get_or_init(|| manager).clone())
    }

    /// Logs at most one warning per [`WARN_EVERY_SECONDS`], however many requests fall back.
    fn warn(&self, now: i64, error: &SharedError) {
        let last = self.last_warning.load(Ordering::Relaxed);
        if last != i64::MIN && now.saturating_sub(last) < WARN_EVERY_SECONDS {
            return;
        }
        if self
            .last_warning
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        #[cfg(test)]
        self.warnings.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(%error, "rate limit counters in Redis unavailable; limiting per instance");
    }
}

/// The client holds the URL, which may hold a password, so it is left out.
impl fmt::Debug for SharedLimiter {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SharedLimiter")
            .field("prefix", &self.prefix)
            .field("connected", &self.connection.get().is_some())
            .field("skip_until", &self.skip_until.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}
