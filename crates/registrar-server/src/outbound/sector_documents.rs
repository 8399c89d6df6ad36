//! `SectorDocuments`: the server's `DocumentSource`, fetching sector identifier documents
//! (OpenID Connect DCR 1.0 section 5) through the one outbound [`Fetcher`].

use async_trait::async_trait;
use registrar_core::net::{DocumentError, DocumentSource};
use serde_json::Value;

use super::fetcher::{FetchError, Fetcher};

/// Fetches each document when a registration or update names it: https only, no redirects, no
/// special-use addresses, within the fetcher's size cap and timeouts. Nothing is cached, so an
/// update sees the document as it is now; registrations are rate limited before they get here.
#[derive(Debug, Clone)]
pub struct SectorDocuments {
    fetcher: Fetcher,
}

impl SectorDocuments {
    /// Documents fetched through `fetcher`.
    pub fn new(fetcher: Fetcher) -> Self {
        Self { fetcher }
    }
}

#[async_trait]
impl DocumentSource for SectorDocuments {
    async fn fetch_json(&self, uri: &str) -> Result<Value, DocumentError> {
        self.fetcher.fetch_json(uri).await.map_err(|error| {
            // The reason stays in the log: a network or TLS error could describe the network
            // Registrar runs in, so the client is told at most the status its server answered.
            tracing::warn!(%uri, %error, "cannot fetch a sector_identifier_uri document");
            match error {
                FetchError::Status(status) => DocumentError::Status(status),
                other => DocumentError::Failed(other.to_string()),
            }
        })
    }
}
