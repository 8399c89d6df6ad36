//! `client_credentials` at the token endpoint (`client_secret_basic`) and RFC 7662
//! introspection of the tokens it issued.

use std::sync::Mutex;

use hyper::{HeaderMap, Method, Request, StatusCode};

use crate::pool::PooledClient;
use crate::scenario::{Body, Scenario};

use super::FORM;

/// Token requests over a pool of clients; with [`Token::keeping`], the access tokens are kept.
#[derive(Debug)]
pub struct Token {
    path: String,
    clients: Vec<PooledClient>,
    kept: Option<Mutex<Vec<String>>>,
}

impl Token {
    /// Token requests at `path` by `clients`.
    pub fn new(path: &str, clients: Vec<PooledClient>) -> Self {
        Self {
            path: path.to_owned(),
            clients,
            kept: None,
        }
    }

    /// Keeps every issued access token.
    pub fn keeping(mut self) -> Self {
        self.kept = Some(Mutex::new(Vec::new()));
        self
    }

    /// The kept access tokens.
    pub fn into_tokens(self) -> Vec<String> {
        self.kept
            .and_then(|kept| kept.into_inner().ok())
            .unwrap_or_default()
    }
}

impl Scenario for Token {
    fn request(&self, worker: usize, sequence: u64) -> Request<Body> {
        let client = &self.clients[super::spread(worker, sequence, self.clients.len())];
        super::request(
            Method::POST,
            &self.path,
            Some(&client.basic_authorization()),
            Some((FORM, b"grant_type=client_credentials".to_vec())),
        )
    }

    fn response(
        &self,
        _worker: usize,
        status: StatusCode,
        _headers: &HeaderMap,
        body: &[u8],
    ) -> bool {
        let Some(kept) = &self.kept else {
            return status.is_success();
        };
        if status != StatusCode::OK {
            return status.is_success();
        }
        let token = super::string_member(body, "access_token");
        if let (Some(token), Ok(mut kept)) = (token, kept.lock()) {
            kept.push(token);
        }
        true
    }
}

/// Introspection of issued tokens, each request authenticated as one of the pool's clients.
#[derive(Debug)]
pub struct Introspect {
    path: String,
    callers: Vec<PooledClient>,
    tokens: Vec<String>,
}

impl Introspect {
    /// Introspections at `path` of `tokens` by `callers`.
    pub fn new(path: &str, callers: Vec<PooledClient>, tokens: Vec<String>) -> Self {
        Self {
            path: path.to_owned(),
            callers,
            tokens,
        }
    }
}

impl Scenario for Introspect {
    fn request(&self, worker: usize, sequence: u64) -> Request<Body> {
        let caller = &self.callers[super::spread(worker, sequence, self.callers.len())];
        let token = &self.tokens[super::spread(worker, sequence, self.tokens.len())];
        // Access tokens are JWS compact serialisations: base64url and dots, nothing to encode.
        super::request(
            Method::POST,
            &self.path,
            Some(&caller.basic_authorization()),
            Some((FORM, format!("token={token}").into_bytes())),
        )
    }
}
