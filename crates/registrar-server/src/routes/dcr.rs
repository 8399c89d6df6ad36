//! `POST /connect/dcr` (RFC 7591) and `GET|PUT|DELETE /connect/dcr/{client_id}` (RFC 7592).
//!
//! The caller is decided from the `Authorization` header (or by the host application, see
//! [`HostCaller`]) before the body is read, so an unauthorized caller costs no body read and
//! learns nothing from validation errors.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use registrar_core::{Caller, Principal, RegistrationError, RequestSource};

use crate::error::ApiError;
use crate::extract::{Bearer, MetadataJson};
use crate::state::AppState;

/// The principal the host application authenticated, for an app that puts registration
/// behind its own authentication (a session, an API key, its own token validation): a layer of
/// the app inserts it into the request's extensions, and registration then runs for
/// `Caller::Principal` instead of asking for an initial access token. Remote clients cannot set
/// extensions, only the app's own code can; and it can only name a principal, never pose as an
/// initial access token or a client.
#[derive(Debug, Clone)]
pub struct HostCaller(pub Principal);

/// The registration endpoint under `base`.
pub(crate) fn registration_routes(base: &str) -> Router<AppState> {
    Router::new().route(
        &format!("{base}/connect/dcr"),
        axum::routing::post(register_client),
    )
}

/// The management routes under `base`, authorized by each client's registration access token.
pub(crate) fn management_routes(base: &str) -> Router<AppState> {
    Router::new().route(
        &format!("{base}/connect/dcr/{{client_id}}"),
        axum::routing::get(read_client)
            .put(update_client)
            .delete(delete_client),
    )
}

/// The token a management request must carry.
fn required(bearer: &Bearer) -> Result<&str, ApiError> {
    bearer
        .token()
        .ok_or(ApiError::Registration(RegistrationError::InvalidToken))
}

/// Where the request came from: the peer address when the server records it
/// (`into_make_service_with_connect_info`), and the user agent.
pub(crate) fn request_source(parts: &Parts) -> RequestSource {
    RequestSource {
        ip: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip()),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
    }
}

/// RFC 7591 §3.1.
pub async fn register_client(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let caller = match parts.extensions.get::<HostCaller>() {
        Some(HostCaller(principal)) => Caller::Principal(principal.clone()),
        None => {
            let bearer = Bearer::from_request_parts(&mut parts, &state).await?;
            state
                .pipeline
                .authorize_registration(bearer.token())
                .await?
        }
    };
    let source = request_source(&parts);
    let MetadataJson(object) =
        MetadataJson::from_request(Request::from_parts(parts, body), &state).await?;
    let information = state.pipeline.register(caller, object, source).await?;
    tracing::info!(client_id = %information.client_id, "client registered");
    Ok((StatusCode::CREATED, Json(information)).into_response())
}

/// RFC 7592 §2.1.
pub async fn read_client(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    bearer: Bearer,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, _) = request.into_parts();
    let information = state
        .pipeline
        .read(&client_id, required(&bearer)?, request_source(&parts))
        .await?;
    Ok(Json(information).into_response())
}

/// RFC 7592 §2.2.
pub async fn update_client(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    bearer: Bearer,
    request: Request,
) -> Result<Response, ApiError> {
    let token = required(&bearer)?;
    // Authenticate first: a caller without a valid token costs no body read and learns nothing
    // from body errors.
    let authorized = state.pipeline.authorize_update(&client_id, token).await?;
    let (parts, body) = request.into_parts();
    let source = request_source(&parts);
    let MetadataJson(object) =
        MetadataJson::from_request(Request::from_parts(parts, body), &state).await?;
    let information = state.pipeline.update(authorized, object, source).await?;
    tracing::info!(client_id = %information.client_id, "client updated");
    Ok(Json(information).into_response())
}

/// RFC 7592 §2.3.
pub async fn delete_client(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    bearer: Bearer,
    request: Request,
) -> Result<StatusCode, ApiError> {
    let (parts, _) = request.into_parts();
    state
        .pipeline
        .delete(&client_id, required(&bearer)?, request_source(&parts))
        .await?;
    tracing::info!(%client_id, "client deleted");
    Ok(StatusCode::NO_CONTENT)
}
