//! `GET /.well-known/jwks.json`: the public keys access tokens are signed with.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::state::AppState;

pub(crate) fn routes(base: &str) -> Router<AppState> {
    Router::new().route(&format!("{base}/.well-known/jwks.json"), get(publish_keys))
}

/// Active keys and retired keys whose tokens may still be live. Caches may keep the set briefly;
/// verifiers refetch on an unknown `kid`.
pub async fn publish_keys(State(state): State<AppState>) -> Response {
    let pipeline = &state.pipeline;
    let key_ring = state.tokens.key_ring.current(pipeline.services()).await;
    let mut response = Json(key_ring.jwks(pipeline.services().clock().now())).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    response
}
