//! `refresh_token` at the token endpoint (RFC 6749 §6, `client_secret_basic`), each worker
//! presenting the refresh tokens it owns.

use hyper::{HeaderMap, Method, Request, StatusCode};
use url::form_urlencoded;

use crate::scenario::{Body, Scenario};

use super::FORM;
use super::code::HeldRefreshToken;
use super::owned::WorkerOwned;

/// Refreshes. A server may rotate a refresh token at each use (RFC 6749 §6, OAuth 2.0 Security
/// BCP §4.14.2), and then the one presented is spent: as [`super::Update`] does with
/// registration access tokens, each worker owns its tokens ([`WorkerOwned`]) and keeps the
/// rotated token of each answer. There must be at least as many tokens as workers.
#[derive(Debug)]
pub struct Refresh {
    path: String,
    tokens: WorkerOwned<HeldRefreshToken>,
}

impl Refresh {
    /// Refreshes at `path` of `tokens` by `workers` workers.
    pub fn new(path: &str, tokens: Vec<HeldRefreshToken>, workers: usize) -> Self {
        Self {
            path: path.to_owned(),
            tokens: WorkerOwned::new(tokens, workers),
        }
    }

    /// The tokens as last rotated.
    pub fn into_tokens(self) -> Vec<HeldRefreshToken> {
        self.tokens.into_items()
    }
}

impl Scenario for Refresh {
    fn request(&self, worker: usize, sequence: u64) -> Request<Body> {
        let held = self.tokens.next(worker, sequence);
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
        // Without a refresh_token in the answer the presented one stays valid (a server that
        // does not rotate, as Registrar does not for confidential clients).
        if let Some(refresh_token) = super::string_member(body, "refresh_token") {
            self.tokens.update_last(worker, |held| {
                held.refresh_token = refresh_token;
            });
        }
        true
    }
}
