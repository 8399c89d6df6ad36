//! `DocumentSource`: how the rules fetch a JSON document a client registered the URL of (the
//! `sector_identifier_uri` of OpenID Connect DCR 1.0 §5). The core fetches nothing itself.

use std::fmt::Debug;

use async_trait::async_trait;
use serde_json::Value;

/// Why a document could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// No source is wired in, so no document can be fetched ([`NoDocumentSource`]).
    #[error("no document source is configured")]
    Unavailable,
    /// The document's server answered with this status instead of `200`; the one detail a
    /// client is told, since it is about the client's own server.
    #[error("the server answered with status {0}")]
    Status(u16),
    /// The server answered, and the answer is refused for a reason about the document itself
    /// (a redirect, a body over the size cap, not JSON): safe to tell the client, since it was
    /// reached at a permitted address.
    #[error("{0}")]
    Refused(String),
    /// Anything else: refused address, redirect, timeout, too large, not JSON, network or TLS
    /// failure. The text is for the operator's log; a client is never shown it, since it could
    /// describe the network Registrar runs in.
    #[error("{0}")]
    Failed(String),
}

/// Fetches JSON documents from https URLs that clients registered; the server implements it over
/// its SSRF-safe fetcher (https only, no redirects, no special-use addresses, a size cap).
#[async_trait]
pub trait DocumentSource: Send + Sync + Debug {
    /// The JSON document at `uri`, fetched now (a registration sees the document as it is).
    async fn fetch_json(&self, uri: &str) -> Result<Value, DocumentError>;

    /// The Client ID Metadata Document at `url`, fetched now, with how long its server lets it
    /// be cached. Nothing is fetched unless the source implements it.
    async fn fetch_client_document(&self, url: &str) -> Result<ClientDocument, DocumentError> {
        let _ = url;
        Err(DocumentError::Unavailable)
    }
}

/// A fetched Client ID Metadata Document.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientDocument {
    /// The document as parsed: any JSON value; the rules require an object.
    pub body: Value,
    /// Seconds its server lets it be reused (`Cache-Control: max-age`; `0` for `no-store` or
    /// `no-cache`), `None` without a directive. The caller bounds it.
    pub max_age: Option<u64>,
}

/// A [`DocumentSource`] that fetches nothing: every document is [`DocumentError::Unavailable`].
/// The default when no fetcher is wired, so a registration that needs a document is refused
/// rather than accepted unchecked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoDocumentSource;

#[async_trait]
impl DocumentSource for NoDocumentSource {
    async fn fetch_json(&self, _uri: &str) -> Result<Value, DocumentError> {
        Err(DocumentError::Unavailable)
    }
}
