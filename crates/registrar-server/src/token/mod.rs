//! The token side of Registrar: the signing key ring, client authentication at the token and
//! introspection endpoints, and the JWKS cache for clients' `jwks_uri`.

mod bearer;
pub(crate) mod client_auth;
mod form;
pub(crate) mod grants;
mod key_ring_cell;
pub(crate) mod live;

use std::sync::Arc;

use registrar_core::Pipeline;
use registrar_core::token::TokenError;

pub use bearer::ServerBearer;
pub use client_auth::{AuthenticatedClient, authenticate_client, claimed_client_id, record_use};
pub use form::Form;
pub use key_ring_cell::KeyRingCell;

use crate::outbound::{FetchConfig, Fetcher, JwksCache, JwksCacheConfig, SectorDocuments};
use crate::rate_limit::RateLimitConfig;

/// How the token side is set up.
#[derive(Clone, Default)]
pub struct TokenOptions {
    /// Limits, trust roots and `host:port` exceptions of the fetcher for clients' `jwks_uri`
    /// and `sector_identifier_uri`.
    pub fetch: FetchConfig,
    /// A resolver for outbound fetches; the system's when `None`. Tests inject one.
    pub resolver: Option<Arc<dyn reqwest::dns::Resolve>>,
    /// How long clients' JWK Sets are cached, and how often an unknown `kid` may refetch one.
    pub jwks_cache: JwksCacheConfig,
    /// Seconds between reloads of the signing keys from the store, so a rotation by the CLI or
    /// another instance is picked up; 60 when `None`.
    pub key_reload_interval: Option<i64>,
    /// The rate limits of registration, management and client authentication.
    pub rate_limits: RateLimitConfig,
}

impl std::fmt::Debug for TokenOptions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TokenOptions")
            .field("fetch", &self.fetch)
            .field("jwks_cache", &self.jwks_cache)
            .field("resolver", &self.resolver.as_ref().map(|_| ".."))
            .field("key_reload_interval", &self.key_reload_interval)
            .field("rate_limits", &self.rate_limits)
            .finish()
    }
}

/// What the token, introspection and JWKS endpoints share.
#[derive(Debug)]
pub struct TokenService {
    /// The signing keys, for issuing, introspecting and publishing access tokens.
    pub key_ring: KeyRingCell,
    /// Clients' JWK Sets fetched from their `jwks_uri`, for `private_key_jwt`, and trusted
    /// issuers' sets, for software statements and bearer tokens.
    pub jwks_cache: Arc<JwksCache>,
    /// Sector identifier documents, fetched through the same fetcher for the registration
    /// rules.
    pub documents: Arc<SectorDocuments>,
}

impl TokenService {
    /// Loads the signing keys (creating one of each algorithm on first start) and builds the
    /// fetcher.
    pub async fn start(pipeline: &Pipeline, options: &TokenOptions) -> Result<Self, TokenError> {
        let key_ring = KeyRingCell::load(
            pipeline.services(),
            options.key_reload_interval.unwrap_or(60),
        )
        .await?;
        let fetcher = match &options.resolver {
            Some(resolver) => Fetcher::with_resolver(options.fetch.clone(), resolver.clone()),
            None => Fetcher::new(options.fetch.clone()),
        }
        .map_err(|error| {
            tracing::error!(%error, "cannot build the outbound fetcher");
            TokenError::TemporarilyUnavailable
        })?;
        let documents = Arc::new(SectorDocuments::new(fetcher.clone()));
        let jwks_cache = Arc::new(JwksCache::new(
            fetcher,
            pipeline.services().clock().clone(),
            options.jwks_cache.clone(),
        ));
        Ok(Self {
            key_ring,
            jwks_cache,
            documents,
        })
    }
}
