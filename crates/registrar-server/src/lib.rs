//! Registrar's HTTP layer: a mountable axum `Router` for registration (RFC 7591), management
//! (RFC 7592), discovery, the `client_credentials` token endpoint, introspection (RFC 7662), the
//! JWKS and health.
//!
//! This crate is an API boundary: [`router`] is what the `registrar` binary serves and what a
//! user mounts in their own axum application. Only this crate knows HTTP; the rules live in
//! `registrar-core`.

mod error;
mod extract;
pub mod outbound;
mod routes;
pub mod token;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use registrar_core::Pipeline;
use registrar_core::token::TokenError;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use token::{TokenOptions, TokenService};

/// The largest request body accepted; client metadata is small, and a cap bounds the parser's
/// work.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub pipeline: Pipeline,
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

/// Options of the router that are not registration settings.
#[derive(Debug, Clone)]
pub struct RouterOptions {
    /// How long a request may take before it is answered with 503.
    pub request_timeout: Duration,
}

impl Default for RouterOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// The full Registrar API. Paths are those of INTERFACE.md, relative to where it is mounted.
pub fn router(state: AppState) -> Router {
    router_with(state, RouterOptions::default())
}

/// [`router`] with options.
pub fn router_with(state: AppState, options: RouterOptions) -> Router {
    let request_timeout = options.request_timeout;
    Router::new()
        .merge(routes::dcr::routes())
        .merge(routes::discovery::routes())
        .merge(routes::health::routes())
        .merge(routes::token::routes())
        .merge(routes::introspect::routes())
        .merge(routes::jwks::routes())
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Every response may carry credentials or metadata that must not be cached
        // (RFC 7591 §3.2.1, RFC 6749 §5.1); individual routes may override this.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        // A request that cannot finish in time (a store that hangs rather than fails) is answered
        // 503, so callers never wait forever.
        .layer(axum::middleware::from_fn(
            move |request, next: axum::middleware::Next| async move {
                match tokio::time::timeout(request_timeout, next.run(request)).await {
                    Ok(response) => response,
                    Err(_) => axum::response::IntoResponse::into_response(ApiError::Timeout),
                }
            },
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
