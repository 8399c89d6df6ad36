//! `SectorDocuments`: the server's `DocumentSource`, fetching sector identifier documents
//! (OpenID Connect DCR 1.0 section 5) and Client ID Metadata Documents through the one outbound
//! [`Fetcher`].

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use registrar_core::net::{ClientDocument, DocumentError, DocumentSource};
use serde_json::Value;
use tokio::sync::Semaphore;

use super::fetcher::{FetchError, Fetcher};
use crate::metrics::record::{self, Document, FetchOutcome};

/// How many sector documents are fetched at once by default. Each fetch holds a socket for up to
/// the fetcher's timeout, so without a cap whoever registers with slow sector URLs holds as many
/// sockets as requests it sends.
pub const MAX_CONCURRENT_SECTOR_FETCHES: usize = 8;

/// The largest Client ID Metadata Document accepted: a client's metadata fits in a few hundred
/// bytes, and the draft suggests a cap of 5 KB (§8.7) so that a URL cannot make the server read
/// much.
pub const MAX_METADATA_DOCUMENT_BYTES: usize = 5 * 1024;

/// How long a registration waits for a free fetch by default before it is refused.
pub const SECTOR_FETCH_PERMIT_WAIT: Duration = Duration::from_secs(1);

/// Fetches each document when a registration or update names it: https only, no redirects, no
/// special-use addresses, within the fetcher's size cap and timeouts, and at most a few at once.
/// Nothing is cached, so an update sees the document as it is now; registrations are rate limited
/// before they get here.
#[derive(Debug, Clone)]
pub struct SectorDocuments {
    fetcher: Fetcher,
    permits: Arc<Semaphore>,
    permit_wait: Duration,
}

impl SectorDocuments {
    async fn permit(&self, document: Document) -> Option<tokio::sync::SemaphorePermit<'_>> {
        match tokio::time::timeout(self.permit_wait, self.permits.acquire()).await {
            Ok(Ok(permit)) => Some(permit),
            _ => {
                record::outbound_fetch(document, Err(FetchOutcome::Busy));
                None
            }
        }
    }

    /// Documents fetched through `fetcher`, [`MAX_CONCURRENT_SECTOR_FETCHES`] at once.
    pub fn new(fetcher: Fetcher) -> Self {
        Self::with_limits(
            fetcher,
            MAX_CONCURRENT_SECTOR_FETCHES,
            SECTOR_FETCH_PERMIT_WAIT,
        )
    }

    /// Documents fetched through `fetcher`, at most `max_concurrent` at once; a fetch that finds
    /// none free within `permit_wait` fails without fetching.
    pub fn with_limits(fetcher: Fetcher, max_concurrent: usize, permit_wait: Duration) -> Self {
        Self {
            fetcher,
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            permit_wait,
        }
    }
}

#[async_trait]
impl DocumentSource for SectorDocuments {
    async fn fetch_json(&self, uri: &str) -> Result<Value, DocumentError> {
        let Some(_permit) = self.permit(Document::SectorIdentifier).await else {
            tracing::warn!(%uri, "too many sector_identifier_uri fetches in flight; refused");
            return Err(DocumentError::Failed(
                "too many sector identifier documents are being fetched".to_owned(),
            ));
        };
        let fetched = self.fetcher.fetch_json(uri).await;
        record::outbound_fetch(
            Document::SectorIdentifier,
            fetched
                .as_ref()
                .map(|_| ())
                .map_err(|error| FetchOutcome::Failed(error.metric_label())),
        );
        fetched.map_err(|error| {
            // The reason stays in the log: a network or TLS error could describe the network
            // Registrar runs in, so the client is told at most the status its server answered.
            tracing::warn!(%uri, %error, "cannot fetch a sector_identifier_uri document");
            match error {
                FetchError::Status(status) => DocumentError::Status(status),
                other => DocumentError::Failed(other.to_string()),
            }
        })
    }

    async fn fetch_client_document(&self, url: &str) -> Result<ClientDocument, DocumentError> {
        let Some(_permit) = self.permit(Document::ClientMetadata).await else {
            tracing::warn!(%url, "too many document fetches in flight; refused");
            return Err(DocumentError::Failed(
                "too many documents are being fetched".to_owned(),
            ));
        };
        let fetched = self
            .fetcher
            .fetch_json_within(url, MAX_METADATA_DOCUMENT_BYTES)
            .await;
        record::outbound_fetch(
            Document::ClientMetadata,
            fetched
                .as_ref()
                .map(|_| ())
                .map_err(|error| FetchOutcome::Failed(error.metric_label())),
        );
        match fetched {
            Ok(fetched) => Ok(ClientDocument {
                body: fetched.json,
                max_age: fetched.max_age,
            }),
            Err(error) => {
                tracing::warn!(%url, %error, "cannot fetch a client metadata document");
                Err(match error {
                    FetchError::Status(status) => DocumentError::Status(status),
                    // Answers of a server reached at a permitted address: about the document.
                    FetchError::Redirect => DocumentError::Refused(
                        "its server answered with a redirect, which is not followed".to_owned(),
                    ),
                    FetchError::TooLarge => DocumentError::Refused(format!(
                        "it is larger than {MAX_METADATA_DOCUMENT_BYTES} bytes"
                    )),
                    FetchError::InvalidJson => DocumentError::Refused("it is not json".to_owned()),
                    other => DocumentError::Failed(other.to_string()),
                })
            }
        }
    }
}
