//! A client's `jwks_uri` for tests: a [`DocumentServer`] at `jwks.test` serving one JWK Set,
//! and the fetcher options that trust it, resolve its name to it and allow-list it.

use registrar_server::TokenOptions;
use serde_json::Value;

use crate::document_server::{Document, DocumentServer};

/// The host name the certificate is for; the test resolver maps it to the server.
pub const JWKS_HOST: &str = "jwks.test";

const JWKS_PATH: &str = "/jwks.json";

/// Serves one JWK Set at `/jwks.json`, counting requests.
#[derive(Debug)]
pub struct JwksServer {
    documents: DocumentServer,
}

impl JwksServer {
    /// Serves `jwks` over https on a new loopback port until dropped.
    pub async fn start(jwks: Value) -> Self {
        let documents = DocumentServer::start(JWKS_HOST).await;
        documents.serve(JWKS_PATH, Document::json(&jwks));
        Self { documents }
    }

    /// `https://jwks.test:PORT/jwks.json`.
    pub fn url(&self) -> String {
        self.documents.url(JWKS_PATH)
    }

    /// `https://127.0.0.1:PORT/jwks.json`: the same set by address, which registration refuses
    /// unless `127.0.0.1:PORT` is in `Settings::outbound_allow_hosts`.
    pub fn ip_url(&self) -> String {
        self.documents.ip_url(JWKS_PATH)
    }

    /// Replaces the served set, as a client rotating its keys does.
    pub fn set_jwks(&self, jwks: Value) {
        self.documents.serve(JWKS_PATH, Document::json(&jwks));
    }

    /// How many requests the server has received.
    pub fn hits(&self) -> usize {
        self.documents.hits()
    }

    /// The server underneath, for its allow-list entries.
    pub fn documents(&self) -> &DocumentServer {
        &self.documents
    }

    /// Token options whose fetcher trusts this server and finds it at `jwks.test`; the server
    /// is on loopback, so its `host:port` goes through the outbound allow-list as an operator's
    /// would.
    pub fn token_options(&self) -> TokenOptions {
        self.documents.token_options()
    }
}
