//! `POST /connect/revoke` (RFC 7009): a client revokes one of its refresh or access tokens.
//! Revoking either revokes the whole grant it came from (RFC 7009 §2.1 allows it, and a client
//! that drops a token wants the session gone); a client's own access token is revoked alone.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use registrar_core::token::TokenError;

use crate::error::ApiError;
use crate::routes::limits::{ClientAddress, authenticate_client_limited};
use crate::state::AppState;
use crate::token::Form;
use crate::token::grants::refresh_hash;
use crate::token::live::live_access_token;

pub(crate) fn routes(base: &str) -> Router<AppState> {
    Router::new().route(&format!("{base}/connect/revoke"), post(revoke_token))
}

/// RFC 7009 §2.1: `200` for a revoked token and for one that is invalid, unknown or already
/// revoked alike, so the answer tells nothing about other clients' tokens.
pub async fn revoke_token(
    State(state): State<AppState>,
    address: ClientAddress,
    headers: HeaderMap,
    form: Result<Form, ApiError>,
) -> Result<Response, ApiError> {
    let form = form?;
    let authenticated = authenticate_client_limited(&state, address, &headers, &form).await?;
    let Some(token) = form.get("token") else {
        return Err(TokenError::InvalidRequest("token is required".to_owned()).into());
    };
    let client_id = &authenticated.client.client_id;
    let services = state.pipeline.services();
    let authorizations = services.stores().authorizations();
    let now = services.clock().now();
    // The hint only orders the lookups (RFC 7009 §2.1); every type is tried.
    let access_first = form.get("token_type_hint") != Some("refresh_token");
    let access = if access_first || token.contains('.') {
        live_access_token(&state, token).await?
    } else {
        None
    };
    if let Some(claims) = access {
        if claims.client_id != client_id.as_str() {
            // RFC 7009 §2.1: the token was not issued to this client.
            return Err(TokenError::UnauthorizedClient(
                "the token was not issued to this client".to_owned(),
            )
            .into());
        }
        match &claims.grant_id {
            Some(grant_id) => {
                authorizations.revoke_grant(grant_id).await?;
            }
            None => {
                authorizations
                    .revoke_access_token(&claims.jti, claims.exp)
                    .await?
            }
        }
        return Ok(StatusCode::OK.into_response());
    }
    if let Some(refresh) = authorizations
        .find_refresh_token(&refresh_hash(services, token), now)
        .await?
    {
        if refresh.client_id != *client_id {
            return Err(TokenError::UnauthorizedClient(
                "the token was not issued to this client".to_owned(),
            )
            .into());
        }
        authorizations.revoke_grant(&refresh.grant_id).await?;
    }
    Ok(StatusCode::OK.into_response())
}
