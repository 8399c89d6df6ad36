//! `POST /connect/introspect` (RFC 7662), for registered clients.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use registrar_core::token::{AccessTokenError, TokenError, VerifyError, verify_access_token};
use registrar_core::{AuthMethod, ClientId, RegistrationError};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::routes::limits::{ClientAddress, authenticate_client_limited};
use crate::state::AppState;
use crate::token::Form;

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
/// malformed, foreign, or of a client that no longer exists.
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
    let policy = pipeline
        .settings()
        .policies
        .for_client(client.policy.as_deref(), client.registered_anonymously);
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
    let issuer = pipeline.settings().issuer_id();
    let now = pipeline.services().clock().now();
    let key_ring = state.tokens.key_ring.current(pipeline.services()).await;
    let verified = match verify_access_token(&key_ring, token, issuer, now) {
        // Another instance may have rotated to a key this one has not loaded yet.
        Err(AccessTokenError::Signature(VerifyError::UnknownKey)) => {
            let key_ring = state
                .tokens
                .key_ring
                .reload_for_unknown_key(pipeline.services())
                .await;
            verify_access_token(&key_ring, token, issuer, now)
        }
        other => other,
    };
    let claims = match verified {
        Ok(claims) => claims,
        Err(reason) => {
            tracing::debug!(%reason, "introspected token is not active");
            return Ok(inactive());
        }
    };
    // A deleted client's tokens die with it.
    let Some(client_id) = ClientId::parse(&claims.client_id) else {
        return Ok(inactive());
    };
    if pipeline
        .services()
        .stores()
        .clients()
        .get_client(&client_id)
        .await?
        .is_none()
    {
        return Ok(inactive());
    }
    let mut body = json!({
        "active": true,
        "client_id": claims.client_id,
        "token_type": "Bearer",
        "exp": claims.exp,
        "iat": claims.iat,
        "sub": claims.sub,
        "aud": claims.aud,
        "iss": claims.iss,
        "jti": claims.jti,
    });
    if !claims.scope.is_empty() {
        body["scope"] = json!(claims.scope);
    }
    Ok(Json(body))
}
