//! `POST /connect/dcr` with a different realistic body every time.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use hyper::{HeaderMap, Method, Request, StatusCode};
use serde_json::Value;

use crate::bodies;
use crate::pool::PooledClient;
use crate::scenario::{Body, Scenario};

/// Consecutive registrations take different tokens, [`TOKEN_SPREAD`] in turn, so concurrent
/// registrations do not queue on one token's use count (a row lock on PostgreSQL).
pub const TOKEN_SPREAD: u64 = 64;

/// The token of the `n`th registration of a run: registration `n` of each block of
/// `TOKEN_SPREAD * uses` takes token `n % TOKEN_SPREAD` of the block's tokens, so each token is
/// presented `uses` times.
pub fn token_index(n: u64, uses: u64) -> usize {
    let block = n / (TOKEN_SPREAD * uses.max(1));
    (block * TOKEN_SPREAD + n % TOKEN_SPREAD) as usize
}

/// Initial access tokens, each presented at most `uses_per_token` times (see [`token_index`]).
#[derive(Debug, Clone)]
pub struct InitialTokens {
    /// The tokens.
    pub tokens: Vec<String>,
    /// Registrations per token.
    pub uses_per_token: u64,
}

/// Registrations; with [`Register::keeping`], the registered clients are kept for a pool.
#[derive(Debug)]
pub struct Register {
    path: String,
    run: String,
    first: u64,
    next: AtomicU64,
    tokens: Option<InitialTokens>,
    keep: Option<Keep>,
}

#[derive(Debug)]
struct Keep {
    /// Each worker's last body, to pair with its answer.
    last_bodies: Vec<Mutex<Option<Value>>>,
    clients: Mutex<Vec<PooledClient>>,
}

impl Register {
    /// Registrations at `path`, each body numbered from `first` under the tag `run`.
    pub fn new(path: &str, run: &str, first: u64, tokens: Option<InitialTokens>) -> Self {
        Self {
            path: path.to_owned(),
            run: run.to_owned(),
            first,
            next: AtomicU64::new(first),
            tokens,
            keep: None,
        }
    }

    /// Keeps every registered client; `workers` is the concurrency it runs at.
    pub fn keeping(mut self, workers: usize) -> Self {
        self.keep = Some(Keep {
            last_bodies: (0..workers).map(|_| Mutex::new(None)).collect(),
            clients: Mutex::new(Vec::new()),
        });
        self
    }

    /// The clients kept so far.
    pub fn into_clients(self) -> Vec<PooledClient> {
        match self.keep {
            Some(keep) => keep.clients.into_inner().unwrap_or_default(),
            None => Vec::new(),
        }
    }

    /// How many bodies were handed out.
    pub fn issued(&self) -> u64 {
        self.next.load(Ordering::Relaxed) - self.first
    }
}

impl Scenario for Register {
    fn request(&self, worker: usize, _sequence: u64) -> Request<Body> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let body = bodies::registration(&self.run, n);
        let authorization = self.tokens.as_ref().and_then(|pool| {
            let index = token_index(n - self.first, pool.uses_per_token) % pool.tokens.len().max(1);
            pool.tokens
                .get(index)
                .map(|token| format!("Bearer {token}"))
        });
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        if let Some(keep) = &self.keep
            && let Some(slot) = keep.last_bodies.get(worker)
            && let Ok(mut slot) = slot.lock()
        {
            *slot = Some(body);
        }
        super::request(
            Method::POST,
            &self.path,
            authorization.as_deref(),
            Some(("application/json", bytes)),
        )
    }

    fn response(
        &self,
        worker: usize,
        status: StatusCode,
        _headers: &HeaderMap,
        body: &[u8],
    ) -> bool {
        let success = status.is_success();
        let Some(keep) = &self.keep else {
            return success;
        };
        let metadata = keep
            .last_bodies
            .get(worker)
            .and_then(|slot| slot.lock().ok()?.take());
        if status != StatusCode::CREATED {
            return success;
        }
        let (Some(metadata), Ok(response)) = (metadata, serde_json::from_slice::<Value>(body))
        else {
            return success;
        };
        if let Some(client) = PooledClient::from_response(&response, metadata)
            && let Ok(mut clients) = keep.clients.lock()
        {
            clients.push(client);
        }
        success
    }
}
