//! `AppState`: what every handler shares.

use std::sync::Arc;

use registrar_core::Pipeline;
use registrar_core::token::TokenError;

use crate::rate_limit::{PolicyAdmission, RateLimits};
use crate::token::{ServerBearer, TokenOptions, TokenService};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The registration pipeline, with the settings, stores and injected clock.
    pub pipeline: Pipeline,
    /// The signing keys and the cache of clients' JWK Sets.
    pub tokens: Arc<TokenService>,
    /// The rate limits of registration, management and client authentication.
    pub rate_limits: RateLimits,
}

impl AppState {
    /// Loads the signing keys (creating the first on first start), builds the outbound fetcher
    /// and the rate limits, and attaches to the pipeline what it needs from the server: bearer
    /// token verification, and the fetcher for trusted issuers' key sets.
    pub async fn new(pipeline: Pipeline, options: TokenOptions) -> Result<Self, TokenError> {
        let tokens = Arc::new(TokenService::start(&pipeline, &options).await?);
        let rate_limits = RateLimits::new(options.rate_limits, pipeline.services().clock().clone())
            .map_err(|error| {
                tracing::error!(%error, "invalid rate limits");
                TokenError::TemporarilyUnavailable
            })?;
        let pipeline = pipeline
            .with_key_source(tokens.jwks_cache.clone())
            .with_bearer_authenticator(Arc::new(ServerBearer::new(tokens.clone())))
            .with_admission(Arc::new(PolicyAdmission(rate_limits.clone())));
        Ok(Self {
            pipeline,
            tokens,
            rate_limits,
        })
    }
}
