//! `AppState`: what every handler shares.

use std::sync::Arc;

use registrar_core::Pipeline;
use registrar_core::authz::{StoreUserAuthenticator, UserAuthenticator};
use registrar_core::token::TokenError;

use crate::metrics::observer::METRICS_OBSERVER;
use crate::rate_limit::{PolicyAdmission, RateLimits};
use crate::token::{ServerBearer, TokenOptions, TokenService};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The registration pipeline, with the settings, stores and injected clock.
    pub pipeline: Pipeline,
    /// The signing keys and the cache of clients' JWK Sets.
    pub tokens: Arc<TokenService>,
    /// The rate limits of registration, management, client authentication and login.
    pub rate_limits: RateLimits,
    /// How the login page checks passwords and userinfo finds users: the built-in user store
    /// unless [`AppState::with_user_authenticator`] plugs in another.
    pub users: Arc<dyn UserAuthenticator>,
    /// Password checks that may run at once. Each argon2id check holds 19 MiB and a core for tens
    /// of milliseconds; beyond this many the login page asks to retry, so a flood of logins can
    /// neither exhaust memory nor race many guesses past the failure limits.
    pub login_permits: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// Loads the signing keys (creating one of each algorithm on first start), builds the
    /// outbound fetcher and the rate limits, and attaches to the pipeline what it needs from the
    /// server: bearer token verification, the fetcher for trusted issuers' key sets and
    /// clients' sector identifier documents, and the observer that counts registrations in the
    /// metrics.
    pub async fn new(pipeline: Pipeline, options: TokenOptions) -> Result<Self, TokenError> {
        let tokens = Arc::new(TokenService::start(&pipeline, &options).await?);
        let rate_limits = RateLimits::new(options.rate_limits, pipeline.services().clock().clone())
            .map_err(|error| {
                tracing::error!(%error, "invalid rate limits");
                TokenError::TemporarilyUnavailable
            })?;
        let pipeline = pipeline
            .with_key_source(tokens.jwks_cache.clone())
            .with_document_source(tokens.documents.clone())
            .with_bearer_authenticator(Arc::new(ServerBearer::new(tokens.clone())))
            .with_admission(Arc::new(PolicyAdmission(rate_limits.clone())))
            .with_observer(METRICS_OBSERVER.clone());
        let users = Arc::new(StoreUserAuthenticator::new(
            pipeline.services().stores().users().clone(),
        ));
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Ok(Self {
            pipeline,
            tokens,
            rate_limits,
            users,
            login_permits: Arc::new(tokio::sync::Semaphore::new(cores.max(2))),
        })
    }

    /// Logs users in with `users` instead of the built-in user store: an existing user
    /// database, or an upstream login.
    pub fn with_user_authenticator(mut self, users: Arc<dyn UserAuthenticator>) -> Self {
        self.users = users;
        self
    }
}
