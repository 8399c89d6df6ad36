//! `Services`: what the pipeline's steps share across requests.

use std::sync::Arc;

use crate::clock::Clock;
use crate::error::StoreError;
use crate::ids::ClientId;
use crate::net::DocumentSource;
use crate::secrets::{SecretGenerator, TokenHasher};
use crate::settings::Settings;
use crate::store::{RegisteredClient, Stores};
use crate::token::SecretCipher;
use crate::trust::KeySource;

/// The settings, stores, clock, random source, hasher, cipher, key source and document source a
/// pipeline was built with.
#[derive(Debug, Clone)]
pub struct Services {
    pub(crate) settings: Settings,
    pub(crate) stores: Stores,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) generator: Arc<dyn SecretGenerator>,
    pub(crate) hasher: TokenHasher,
    pub(crate) cipher: SecretCipher,
    pub(crate) key_source: Arc<dyn KeySource>,
    pub(crate) document_source: Arc<dyn DocumentSource>,
}

impl Services {
    /// What the server supports and allows.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The stores, each swappable on its own.
    pub fn stores(&self) -> &Stores {
        &self.stores
    }

    /// The injected clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The injected random source.
    pub fn generator(&self) -> &Arc<dyn SecretGenerator> {
        &self.generator
    }

    /// Hashes credentials under the server secret.
    pub fn hasher(&self) -> &TokenHasher {
        &self.hasher
    }

    /// Fetches the JWK Sets of trusted issuers that publish them at a URL (software statements,
    /// external bearer tokens); fetches nothing unless the server attached its fetcher.
    pub fn key_source(&self) -> &Arc<dyn KeySource> {
        &self.key_source
    }

    /// Fetches the JSON documents clients register the URL of (`sector_identifier_uri`);
    /// fetches nothing unless the server attached its fetcher.
    pub fn document_source(&self) -> &Arc<dyn DocumentSource> {
        &self.document_source
    }

    /// Seals the secrets that must be kept (`client_secret_jwt`) under the server secret.
    pub fn cipher(&self) -> &SecretCipher {
        &self.cipher
    }

    /// The client with that id if it may be used now: `None` for an unknown client and for a
    /// blocked or expired one alike (`lifecycle`), so that every endpoint that resolves a
    /// client refuses them the same way. The reason is logged at debug level.
    pub async fn usable_client(
        &self,
        client_id: &ClientId,
    ) -> Result<Option<RegisteredClient>, StoreError> {
        // A document client stays subject to `cimd.*` as configured now, fresh document or not.
        if client_id.is_metadata_document() {
            let documents = &self.settings.metadata_documents;
            let permitted = documents.enabled
                && url::Url::parse(client_id.as_str())
                    .ok()
                    .and_then(|url| url.host_str().map(|host| documents.permits_host(host)))
                    .unwrap_or(false);
            if !permitted {
                tracing::debug!(%client_id, "metadata document clients of this host are off");
                return Ok(None);
            }
        }
        let Some(client) = self.stores.clients().get_client(client_id).await? else {
            return Ok(None);
        };
        let standing = client.standing(&self.settings.lifecycle, self.clock.now());
        if standing.is_active() {
            return Ok(Some(client));
        }
        tracing::debug!(%client_id, reason = standing.reason(), "the client may not be used");
        Ok(None)
    }
}
