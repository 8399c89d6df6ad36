//! `refresh_token` at the token endpoint (RFC 6749 §6, `client_secret_basic`), each worker
//! presenting the refresh tokens it owns.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use hyper::{HeaderMap, Method, Request, StatusCode};
use url::form_urlencoded;

use crate::scenario::{Body, Scenario};

use super::FORM;
use super::code::HeldRefreshToken;

/// Refreshes. A server may rotate a refresh token at each use (RFC 6749 §6, OAuth 2.0 Security
/// BCP §4.14.2), and then the one presented is spent: as [`super::Update`] does with
/// registration access tokens, worker `w` owns the tokens whose index is `w` modulo the
/// concurrency and keeps the rotated token of each answer. There must be at least as many
/// tokens as workers.
#[derive(Debug)]
pub struct Refresh {
    path: String,
    tokens: Vec<Mutex<HeldRefreshToken>>,
    workers: usize,
    last_used: Vec<AtomicUsize>,
}

impl Refresh {
    /// Refreshes at `path` of `tokens` by `workers` workers.
    pub fn new(path: &str, tokens: Vec<HeldRefreshToken>, workers: usize) -> Self {
        let workers = workers.max(1);
        Self {
            path: path.to_owned(),
            tokens: tokens.into_iter().map(Mutex::new).collect(),
            workers,
            last_used: (0..workers).map(|_| AtomicUsize::new(0)).collect(),
        }
    }

    /// The tokens as last rotated.
    pub fn into_tokens(self) -> Vec<HeldRefreshToken> {
        self.tokens
            .into_iter()
            .filter_map(|token| token.into_inner().ok())
            .collect()
    }
}

impl Scenario for Refresh {
    fn request(&self, worker: usize, sequence: u64) -> Request<Body> {
        let owned = self
            .tokens
            .len()
            .saturating_sub(worker)
            .div_ceil(self.workers);
        // Fewer tokens than workers make workers share tokens, whose rotations they then race
        // for: on a rotating server the run shows 400s and is flagged.
        let index =
            (worker + (sequence as usize % owned.max(1)) * self.workers) % self.tokens.len().max(1);
        if let Some(last) = self.last_used.get(worker) {
            last.store(index, Ordering::Relaxed);
        }
        let held = self.tokens[index]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "refresh_token")
            .append_pair("refresh_token", &held.refresh_token)
            .finish();
        super::request(
            Method::POST,
            &self.path,
            Some(&held.client_authorization),
            Some((FORM, body.into_bytes())),
        )
    }

    fn response(
        &self,
        worker: usize,
        status: StatusCode,
        _headers: &HeaderMap,
        body: &[u8],
    ) -> bool {
        if status != StatusCode::OK {
            return status.is_success();
        }
        let Some(index) = self
            .last_used
            .get(worker)
            .map(|last| last.load(Ordering::Relaxed))
        else {
            return true;
        };
        // Without a refresh_token in the answer the presented one stays valid (a server that
        // does not rotate, as Registrar does not for confidential clients).
        let rotated = super::string_member(body, "refresh_token");
        if let (Some(refresh_token), Some(held)) = (rotated, self.tokens.get(index))
            && let Ok(mut held) = held.lock()
        {
            held.refresh_token = refresh_token;
        }
        true
    }
}
