//! `DocumentFreshness`: until when each fetched metadata document may be used without fetching
//! it again, and the lock that makes one fetch per URL at a time.
//!
//! Only freshness lives here, per instance: the client a document made is read from the store
//! on every request, so blocking or deleting it takes effect at once on every instance. A
//! failed fetch or an invalid document leaves no entry, so it is never cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// How long documents stay fresh, for at most `max_entries` URLs; the least recently used one
/// is forgotten beyond that, and fetched again when next needed.
#[derive(Debug)]
pub struct DocumentFreshness {
    max_entries: usize,
    slots: Mutex<Slots>,
}

#[derive(Debug, Default)]
struct Slots {
    by_url: HashMap<String, Slot>,
    /// Increases on every use; the smallest `last_used` is the least recently used slot.
    uses: u64,
}

#[derive(Debug)]
struct Slot {
    /// The clock's second until which the stored client may be used unfetched; `None` until a
    /// fetch succeeded.
    fresh_until: Option<i64>,
    last_used: u64,
    /// Held across a fetch, so that concurrent requests for one URL wait for one fetch.
    fetch: Arc<tokio::sync::Mutex<()>>,
    /// How many fetches of the URL ended, so that a request that waited knows one did.
    attempts: u64,
    /// Why the last one failed, for the requests that waited for it; never a reason to skip a
    /// later fetch.
    failure: Option<String>,
}

/// What a request holds while it may fetch: the URL's lock, and how many fetches had ended
/// when it asked for it.
#[derive(Debug)]
pub struct FetchTurn {
    /// The lock to hold across the fetch.
    pub lock: Arc<tokio::sync::Mutex<()>>,
    attempts: u64,
}

impl DocumentFreshness {
    /// Remembers at most `max_entries` URLs (at least one).
    pub fn new(max_entries: usize) -> Self {
        Self {
            max_entries: max_entries.max(1),
            slots: Mutex::new(Slots::default()),
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the document at `url` was fetched and may still be used at `now`.
    pub fn is_fresh(&self, url: &str, now: i64) -> bool {
        let mut slots = self.slots();
        slots.uses += 1;
        let use_number = slots.uses;
        let Some(slot) = slots.by_url.get_mut(url) else {
            return false;
        };
        slot.last_used = use_number;
        slot.fresh_until.is_some_and(|until| now < until)
    }

    /// The turn to fetch `url`: its lock, made if missing, forgetting the least recently used
    /// URL whose lock nobody holds or waits for when full.
    pub fn fetch_turn(&self, url: &str) -> FetchTurn {
        let mut slots = self.slots();
        slots.uses += 1;
        let use_number = slots.uses;
        if let Some(slot) = slots.by_url.get_mut(url) {
            slot.last_used = use_number;
            return FetchTurn {
                lock: Arc::clone(&slot.fetch),
                attempts: slot.attempts,
            };
        }
        if slots.by_url.len() >= self.max_entries {
            // A slot in use would give its URL a second lock, and so a second fetch at once.
            let least_recently_used = slots
                .by_url
                .iter()
                .filter(|(_, slot)| Arc::strong_count(&slot.fetch) == 1)
                .min_by_key(|(_, slot)| slot.last_used)
                .map(|(url, _)| url.clone());
            if let Some(url) = least_recently_used {
                slots.by_url.remove(&url);
            }
        }
        let fetch = Arc::new(tokio::sync::Mutex::new(()));
        slots.by_url.insert(
            url.to_owned(),
            Slot {
                fresh_until: None,
                last_used: use_number,
                fetch: Arc::clone(&fetch),
                attempts: 0,
                failure: None,
            },
        );
        FetchTurn {
            lock: fetch,
            attempts: 0,
        }
    }

    /// Why the fetch that ended while `turn` waited failed, if one did: a request that queued
    /// behind a failing fetch shares its answer instead of fetching again.
    pub fn failure_since(&self, url: &str, turn: &FetchTurn) -> Option<String> {
        let slots = self.slots();
        let slot = slots.by_url.get(url)?;
        (slot.attempts > turn.attempts)
            .then(|| slot.failure.clone())
            .flatten()
    }

    /// Records that the document at `url` was fetched and is valid until `until`.
    pub fn mark_fresh(&self, url: &str, until: i64) {
        if let Some(slot) = self.slots().by_url.get_mut(url) {
            slot.fresh_until = Some(until);
            slot.attempts += 1;
            slot.failure = None;
        }
    }

    /// Records that fetching the document at `url` failed with `reason`: it is not fresh, and
    /// the requests waiting for this fetch get the same answer.
    pub fn record_failure(&self, url: &str, reason: &str) {
        if let Some(slot) = self.slots().by_url.get_mut(url) {
            slot.fresh_until = None;
            slot.attempts += 1;
            slot.failure = Some(reason.to_owned());
        }
    }

    /// Forgets that the document at `url` is fresh, and lets the next request fetch (the store
    /// failed: nothing is known about the document).
    pub fn forget(&self, url: &str) {
        if let Some(slot) = self.slots().by_url.get_mut(url) {
            slot.fresh_until = None;
        }
    }

    /// How many URLs are remembered.
    pub fn len(&self) -> usize {
        self.slots().by_url.len()
    }

    /// Whether no URL is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
