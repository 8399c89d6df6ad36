//! A cache of clients' JWK Sets keyed by `jwks_uri`, refetched on an unknown `kid` so that key
//! rotation at the client works (conformance `oidcc-refresh-token-rp-key-rotation`), with a cap
//! on the fetches in flight at once.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use tokio::sync::Semaphore;

use registrar_core::Clock;
use registrar_core::trust::KeySource;
use serde_json::Value;

use super::fetcher::{FetchError, Fetcher};
use crate::metrics::record::{self, Document, FetchOutcome};

/// How long sets are kept and how often a URL may be fetched.
#[derive(Debug, Clone)]
pub struct JwksCacheConfig {
    /// How long a fetched set is used without asking again.
    pub ttl: Duration,
    /// How many URLs are remembered; the least recently used one is dropped beyond that.
    pub max_entries: usize,
    /// The shortest time between two fetches of one URL, whatever the reason: the `kid` of a
    /// client assertion is attacker-chosen (RFC 8725 §3.10) and must not make Registrar fetch
    /// at will.
    pub refetch_interval: Duration,
    /// How many fetches may be in flight at once, over all URLs; at least one. Each fetch holds
    /// a socket for up to the fetcher's total timeout, so whoever registers many clients with
    /// slow `jwks_uri`s could otherwise hold as many sockets as requests it sends.
    pub max_concurrent_fetches: usize,
    /// How long a request waits for one of those fetches to become free, counted from when it
    /// asked for the set; after that it fails as a fetch that took too long, without fetching.
    pub fetch_permit_wait: Duration,
}

impl Default for JwksCacheConfig {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(5 * 60),
            max_entries: 1024,
            refetch_interval: Duration::from_secs(10),
            max_concurrent_fetches: 16,
            fetch_permit_wait: Duration::from_secs(1),
        }
    }
}

/// Clients' JWK Sets, fetched through a [`Fetcher`] and kept for a while.
///
/// Concurrent calls for one URL share one fetch, and at most
/// [`JwksCacheConfig::max_concurrent_fetches`] fetches run at once over all URLs. A failed fetch
/// is remembered for the refetch interval too, so a slow or broken `jwks_uri` costs one fetch per
/// interval, not one per token request.
#[derive(Debug)]
pub struct JwksCache {
    fetcher: Fetcher,
    clock: Arc<dyn Clock>,
    config: JwksCacheConfig,
    slots: std::sync::Mutex<Slots>,
    /// One permit per fetch in flight.
    fetch_permits: Semaphore,
}

#[derive(Debug, Default)]
struct Slots {
    by_uri: HashMap<String, Slot>,
    /// Increases on every use of a slot; the smallest `last_used` is the least recently used.
    uses: u64,
}

#[derive(Debug)]
struct Slot {
    last_used: u64,
    /// Held across a fetch, so that concurrent callers for one URL wait for it.
    entry: Arc<tokio::sync::Mutex<Entry>>,
}

/// What is known about one URL. Times are the clock's seconds.
#[derive(Debug, Default)]
struct Entry {
    /// The last set fetched successfully.
    jwks: Option<Value>,
    fetched_at: i64,
    /// The last fetch, successful or not.
    attempted_at: Option<i64>,
    /// Why the last fetch failed, if it did.
    last_error: Option<FetchError>,
}

enum Decision<'a> {
    Cached(&'a Value),
    Failed(&'a FetchError),
    Fetch,
}

impl JwksCache {
    /// An empty cache that fetches through `fetcher` and dates its entries by `clock`.
    pub fn new(fetcher: Fetcher, clock: Arc<dyn Clock>, config: JwksCacheConfig) -> Self {
        let fetch_permits = Semaphore::new(config.max_concurrent_fetches.max(1));
        Self {
            fetcher,
            clock,
            config,
            slots: std::sync::Mutex::new(Slots::default()),
            fetch_permits,
        }
    }

    /// The JWK Set at `jwks_uri`, from the cache while it is fresh.
    ///
    /// With a `kid` that the cached set lacks, the set is fetched again, at most once per
    /// refetch interval; within the interval the cached set is returned and the caller finds
    /// no key for the `kid`.
    ///
    /// A fetch needs one of [`JwksCacheConfig::max_concurrent_fetches`] permits. A call that
    /// gets none within [`JwksCacheConfig::fetch_permit_wait`] fails with
    /// [`FetchError::Timeout`] and fetches nothing; that is not remembered, so the next call
    /// tries again.
    pub async fn get(&self, jwks_uri: &str, kid: Option<&str>) -> Result<Value, FetchError> {
        // Counted from now, so callers that queued behind another caller's fetch of the same URL
        // do not each wait for a permit anew once it is done.
        let permit_deadline = tokio::time::Instant::now() + self.config.fetch_permit_wait;
        let slot = self.slot(jwks_uri);
        let mut entry = slot.lock().await;
        let now = self.clock.now();
        match entry.decide(now, kid, &self.config) {
            Decision::Cached(jwks) => return Ok(jwks.clone()),
            Decision::Failed(error) => return Err(error.clone()),
            Decision::Fetch => {}
        }
        // A permit that is free is taken even after the deadline: `timeout_at` polls first.
        let permit = tokio::time::timeout_at(permit_deadline, self.fetch_permits.acquire()).await;
        let Ok(Ok(_permit)) = permit else {
            tracing::warn!(
                max_concurrent_fetches = self.config.max_concurrent_fetches,
                "every outbound fetch permit is taken; the jwks_uri is not fetched"
            );
            record::outbound_fetch(Document::Jwks, Err(FetchOutcome::Busy));
            return Err(FetchError::Timeout);
        };
        entry.attempted_at = Some(now);
        let fetched = self
            .fetcher
            .fetch_json(jwks_uri)
            .await
            .and_then(check_jwk_set);
        record::outbound_fetch(
            Document::Jwks,
            fetched
                .as_ref()
                .map(|_| ())
                .map_err(|error| FetchOutcome::Failed(error.metric_label())),
        );
        match fetched {
            Ok(jwks) => {
                entry.jwks = Some(jwks.clone());
                entry.fetched_at = now;
                entry.last_error = None;
                Ok(jwks)
            }
            Err(error) => {
                entry.last_error = Some(error.clone());
                Err(error)
            }
        }
    }

    /// The entry for `jwks_uri`, made if missing, evicting the least recently used one when full.
    fn slot(&self, jwks_uri: &str) -> Arc<tokio::sync::Mutex<Entry>> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.uses += 1;
        let use_number = slots.uses;
        if let Some(slot) = slots.by_uri.get_mut(jwks_uri) {
            slot.last_used = use_number;
            return Arc::clone(&slot.entry);
        }
        if slots.by_uri.len() >= self.config.max_entries.max(1) {
            let least_recently_used = slots
                .by_uri
                .iter()
                .min_by_key(|(_, slot)| slot.last_used)
                .map(|(uri, _)| uri.clone());
            if let Some(uri) = least_recently_used {
                slots.by_uri.remove(&uri);
            }
        }
        let entry = Arc::new(tokio::sync::Mutex::new(Entry::default()));
        let slot = Slot {
            last_used: use_number,
            entry: Arc::clone(&entry),
        };
        slots.by_uri.insert(jwks_uri.to_owned(), slot);
        entry
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.by_uri.len()
    }
}

impl Entry {
    fn decide(&self, now: i64, kid: Option<&str>, config: &JwksCacheConfig) -> Decision<'_> {
        // A clock that went backwards makes an age negative: treat it as unknown, not fresh.
        let age = |since: i64| now.checked_sub(since).filter(|age| *age >= 0);
        let ttl = seconds(config.ttl);
        let fresh_jwks = self
            .jwks
            .as_ref()
            .filter(|_| age(self.fetched_at).is_some_and(|age| age < ttl));
        if let Some(jwks) = fresh_jwks
            && kid.is_none_or(|kid| has_kid(jwks, kid))
        {
            return Decision::Cached(jwks);
        }
        let refetch_interval = seconds(config.refetch_interval);
        let throttled = self
            .attempted_at
            .and_then(age)
            .is_some_and(|age| age < refetch_interval);
        if !throttled {
            return Decision::Fetch;
        }
        match (&self.last_error, &self.jwks) {
            (Some(error), _) => Decision::Failed(error),
            // Fetched within the interval, but without the `kid`.
            (None, Some(jwks)) => Decision::Cached(jwks),
            (None, None) => Decision::Fetch,
        }
    }
}

/// Trusted issuers' key sets (software statements, external bearer tokens) come through the same
/// fetcher and cache as clients' sets.
#[async_trait::async_trait]
impl KeySource for JwksCache {
    async fn jwk_set(&self, uri: &str, kid: Option<&str>) -> Result<Value, String> {
        self.get(uri, kid).await.map_err(|error| {
            tracing::warn!(%uri, %error, "cannot fetch a trusted issuer's jwks_uri");
            error.to_string()
        })
    }
}

fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// RFC 7517 §5: a JWK Set is an object whose `keys` member is an array of JWKs.
fn check_jwk_set(document: Value) -> Result<Value, FetchError> {
    let is_jwk_set = document
        .get("keys")
        .and_then(Value::as_array)
        .is_some_and(|keys| keys.iter().all(Value::is_object));
    if !is_jwk_set {
        return Err(FetchError::InvalidJwks);
    }
    Ok(document)
}

fn has_kid(jwks: &Value, kid: &str) -> bool {
    jwks.get("keys")
        .and_then(Value::as_array)
        .is_some_and(|keys| {
            keys.iter()
                .any(|key| key.get("kid").and_then(Value::as_str) == Some(kid))
        })
}
