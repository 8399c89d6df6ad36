//! `POST /connect/dcr` (RFC 7591) and `GET|PUT|DELETE /connect/dcr/{client_id}` (RFC 7592).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use registrar_core::RegistrationError;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Bearer, MetadataJson};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/connect/dcr", post(register_client))
        .route(
            "/connect/dcr/{client_id}",
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

/// RFC 7591 §3.1. The caller is authorized before the body is even parsed, so an unauthorized
/// caller learns nothing from validation errors.
pub async fn register_client(
    State(state): State<AppState>,
    bearer: Bearer,
    body: Result<MetadataJson, ApiError>,
) -> Result<Response, ApiError> {
    let caller = state
        .pipeline
        .authorize_registration(bearer.token())
        .await?;
    let MetadataJson(request) = body?;
    let information = state.pipeline.register(&caller, &request).await?;
    tracing::info!(client_id = %information.client_id, "client registered");
    Ok((StatusCode::CREATED, Json(information)).into_response())
}

/// RFC 7592 §2.1.
pub async fn read_client(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    bearer: Bearer,
) -> Result<Response, ApiError> {
    let information = state.pipeline.read(&client_id, required(&bearer)?).await?;
    Ok(Json(information).into_response())
}

/// RFC 7592 §2.2.
pub async fn update_client(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    bearer: Bearer,
    body: Result<MetadataJson, ApiError>,
) -> Result<Response, ApiError> {
    let token = required(&bearer)?;
    // Authenticate first: a caller without a valid token learns nothing from body errors.
    let current = state
        .pipeline
        .authenticate_client(&client_id, token)
        .await?;
    let MetadataJson(request) = body?;
    let information = state.pipeline.update(current, token, &request).await?;
    tracing::info!(client_id = %information.client_id, "client updated");
    Ok(Json(information).into_response())
}

/// RFC 7592 §2.3.
pub async fn delete_client(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    bearer: Bearer,
) -> Result<StatusCode, ApiError> {
    state
        .pipeline
        .delete(&client_id, required(&bearer)?)
        .await?;
    tracing::info!(%client_id, "client deleted");
    Ok(StatusCode::NO_CONTENT)
}
