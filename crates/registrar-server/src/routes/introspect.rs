//! `POST /connect/introspect` (RFC 7662), for registered clients.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use registrar_core::token::TokenError;
use registrar_core::{AuthMethod, RegistrationError};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::routes::limits::{ClientAddress, authenticate_client_limited};
use crate::state::AppState;
use crate::token::Form;
use crate::token::live::live_access_token;

pub(crate) fn routes(base: &str) -> Router<AppState> {
    Router::new().route(
        &format!("{base}/connect/introspect"),
        post(introspect_token),
    )
}

fn inactive() -> Json<Value> {
    Json(json!({ "active": false }))
}

/// RFC 7662 §2: the claims of an active token, `{"active": false}` for anything else: expired,
/// malformed, foreign, of a client that no longer exists, or revoked.
pub async fn introspect_token(
    State(state): State<AppState>,
    address: ClientAddress,
    headers: HeaderMap,
    form: Result<Form, ApiError>,
) -> Result<Json<Value>, ApiError> {
    let form = form?;
    let pipeline = &state.pipeline;
    let authenticated = authenticate_client_limited(&state, address, &headers, &form).await?;
    if authenticated.method == AuthMethod::None {
        return Err(TokenError::invalid_client("public clients cannot introspect tokens").into());
    }
    // RFC 7662 §4: only clients a policy lets introspect (never open registration's, by default).
    let client = &authenticated.client;
    let policy = client.policy_in(&pipeline.settings().policies);
    if !policy.allow_introspection {
        return Err(RegistrationError::AccessDenied(format!(
            "policy '{}' does not allow this client to introspect tokens",
            policy.name
        ))
        .into());
    }
    let Some(token) = form.get("token") else {
        return Err(TokenError::InvalidRequest("token is required".to_owned()).into());
    };
    // Expired, malformed, foreign, of a deleted client, of a revoked grant or revoked itself:
    // all inactive alike (RFC 7662 §2.2).
    let Some(claims) = live_access_token(&state, token).await? else {
        return Ok(inactive());
    };
    let mut body = json!({
        "active": true,
        "client_id": claims.client_id,
        "token_type": "Bearer",
        "exp": claims.exp,
        "iat": claims.iat,
        "sub": claims.sub,
        // As in the token: one audience as a string, several as an array (RFC 7519 §4.1.3).
        "aud": match claims.aud.as_slice() {
            [single] => json!(single),
            many => json!(many),
        },
        "iss": claims.iss,
        "jti": claims.jti,
    });
    if !claims.scope.is_empty() {
        body["scope"] = json!(claims.scope);
    }
    if let Some(auth_time) = claims.auth_time {
        body["auth_time"] = json!(auth_time);
    }
    Ok(Json(body))
}
