//! `AppState`: what every handler shares.

use std::sync::Arc;

use registrar_core::Pipeline;
use registrar_core::token::TokenError;

use crate::token::{TokenOptions, TokenService};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The registration pipeline, with the settings, stores and injected clock.
    pub pipeline: Pipeline,
    /// The signing keys and the cache of clients' JWK Sets.
    pub tokens: Arc<TokenService>,
}

impl AppState {
    /// Loads the signing keys (creating the first on first start) and builds the outbound
    /// fetcher.
    pub async fn new(pipeline: Pipeline, options: TokenOptions) -> Result<Self, TokenError> {
        let tokens = TokenService::start(&pipeline, options).await?;
        Ok(Self {
            pipeline,
            tokens: Arc::new(tokens),
        })
    }
}
