//! `POST /connect/dcr` (RFC 7591) and `GET|PUT|DELETE /connect/dcr/{client_id}` (RFC 7592).
//!
//! The caller is decided from the `Authorization` header (or by the host application, see
//! [`HostCaller`]) before the body is read, so an unauthorized caller costs no body read and
//! learns nothing from validation errors.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use registrar_core::{
    Caller, ClientInformation, Operation, Principal, Registration, RegistrationError, RequestSource,
};
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::extract::{Bearer, MetadataJson};
use crate::idempotency_key::{IDEMPOTENT_REPLAYED, idempotency_key};
use crate::rate_limit::LimitKind;
use crate::routes::refusal::{self, Failure, answered};
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
/// (`into_make_service_with_connect_info`), or the trusted proxy header's, and the user agent.
pub(crate) fn request_source(parts: &Parts, state: &AppState) -> RequestSource {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip());
    RequestSource {
        ip: state.rate_limits.client_ip(&parts.headers, peer),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
    }
}

/// `?dry_run=true` asks what would be registered; any other value of `dry_run` is an error, so
/// a typo cannot register for real.
fn is_dry_run(parts: &Parts) -> Result<bool, ApiError> {
    let mut dry_run = false;
    for (name, value) in
        url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
    {
        if name != "dry_run" {
            continue;
        }
        dry_run = match value.as_ref() {
            "true" => true,
            "false" => false,
            _ => {
                return Err(ApiError::InvalidRequest(
                    "dry_run must be true or false".to_owned(),
                ));
            }
        };
    }
    Ok(dry_run)
}

/// RFC 7591 §3.1, and `?dry_run=true`: the same checks, storing nothing.
pub async fn register_client(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let source = request_source(&parts, &state);
    let result = register(&state, &mut parts, body, &source).await;
    let request = refusal::Request {
        operation: Operation::Register,
        source: &source,
        parts: &parts,
        client_id: None,
    };
    refusal::answer(&state, request, result).await
}

async fn register(
    state: &AppState,
    parts: &mut Parts,
    body: Body,
    source: &RequestSource,
) -> Result<Response, Failure> {
    if let Some(key) = address_key(source) {
        state
            .rate_limits
            .check(LimitKind::Registration, &key)
            .await?;
    }
    let dry_run = is_dry_run(parts)?;
    // A window of 0 turns the feature off: the header is then ignored, as by a server without it.
    let key = match state.pipeline.settings().idempotency_window {
        0 => None,
        _ => idempotency_key(&parts.headers)?,
    };
    let caller = match parts.extensions.get::<HostCaller>() {
        Some(HostCaller(principal)) => Caller::Principal(principal.clone()),
        None => {
            let bearer = Bearer::from_request_parts(parts, state).await?;
            state
                .pipeline
                .authorize_registration_with_key(bearer.token(), source, key.as_ref())
                .await
                .map_err(answered)?
        }
    };
    if let Caller::InitialAccessToken { id, .. } = &caller {
        state.rate_limits.check(LimitKind::InitialToken, id).await?;
    }
    let object = metadata_body(parts, body, state).await?;
    let source = source.clone();
    if dry_run {
        let information = state
            .pipeline
            .register_dry_run(caller, object, source)
            .await
            .map_err(answered)?;
        return Ok(Json(dry_run_answer(&information)?).into_response());
    }
    // A dry run stores nothing, so its key neither replays nor is kept.
    let Some(key) = key else {
        let information = state
            .pipeline
            .register(caller, object, source)
            .await
            .map_err(answered)?;
        tracing::info!(client_id = %information.client_id, "client registered");
        return Ok((StatusCode::CREATED, Json(information)).into_response());
    };
    let registration = state
        .pipeline
        .register_idempotent(caller, object, source, &key)
        .await
        .map_err(answered)?;
    match registration {
        Registration::Created(information) => {
            tracing::info!(client_id = %information.client_id, "client registered");
            Ok((StatusCode::CREATED, Json(information)).into_response())
        }
        Registration::Replayed(replayed) => {
            tracing::info!(client_id = %replayed.client_id(), "registration replayed");
            Ok((
                StatusCode::CREATED,
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    ),
                    (
                        header::HeaderName::from_static(IDEMPOTENT_REPLAYED),
                        HeaderValue::from_static("true"),
                    ),
                ],
                replayed.body().to_vec(),
            )
                .into_response())
        }
    }
}

/// The metadata object of the body; the parts stay with the caller for the audit event.
async fn metadata_body(
    parts: &Parts,
    body: Body,
    state: &AppState,
) -> Result<Map<String, Value>, ApiError> {
    let request = Request::from_parts(parts.clone(), body);
    let MetadataJson(object) = MetadataJson::from_request(request, state).await?;
    Ok(object)
}

/// What a dry run answers: the metadata that would be registered, with the server's defaults
/// and extension members, but none of the identifiers and credentials a registration issues,
/// since nothing was registered.
pub(crate) fn dry_run_answer(
    information: &ClientInformation,
) -> Result<serde_json::Value, ApiError> {
    let mut answer = serde_json::to_value(information).map_err(|error| {
        ApiError::Registration(RegistrationError::Store(
            registrar_core::StoreError::Backend(format!(
                "cannot encode the dry run answer: {error}"
            )),
        ))
    })?;
    if let Some(object) = answer.as_object_mut() {
        for member in [
            "client_id",
            "client_id_issued_at",
            "client_secret",
            "client_secret_expires_at",
            "registration_access_token",
            "registration_client_uri",
        ] {
            object.remove(member);
        }
    }
    Ok(answer)
}

/// The key of the per-address limits for a request from `source`.
fn address_key(source: &RequestSource) -> Option<String> {
    source.ip.map(crate::rate_limit::ip_key)
}

/// Counts failed token presentations per source (RFC 7592 tokens are guessable only by brute
/// force, which this bounds): refused at once while the source is over its limit, and a failure
/// counted for every `invalid_token`.
async fn limit_failures<T>(
    state: &AppState,
    key: Option<String>,
    attempt: impl std::future::Future<Output = Result<T, RegistrationError>>,
) -> Result<T, Failure> {
    if let Some(key) = &key {
        state
            .rate_limits
            .failures_exceeded(LimitKind::ManagementFailure, key)
            .await?;
    }
    let result = attempt.await;
    if let (Err(RegistrationError::InvalidToken), Some(key)) = (&result, &key) {
        state
            .rate_limits
            .record_failure(LimitKind::ManagementFailure, key)
            .await;
    }
    result.map_err(answered)
}

/// The token a management request must carry, from the one place it is read.
async fn management_token(parts: &mut Parts, state: &AppState) -> Result<String, ApiError> {
    let bearer = Bearer::from_request_parts(parts, state).await?;
    required(&bearer).map(str::to_owned)
}

/// Runs a management request, auditing a refusal made before the pipeline saw it.
async fn manage<F, T>(
    state: &AppState,
    operation: Operation,
    client_id: &str,
    request: Request,
    handle: F,
) -> Response
where
    F: AsyncFnOnce(&mut Parts, Body, &RequestSource) -> Result<T, Failure>,
    T: IntoResponse,
{
    let (mut parts, body) = request.into_parts();
    let source = request_source(&parts, state);
    let result = handle(&mut parts, body, &source).await;
    let request = refusal::Request {
        operation,
        source: &source,
        parts: &parts,
        client_id: Some(client_id),
    };
    refusal::answer(state, request, result).await
}

/// RFC 7592 §2.1.
pub async fn read_client(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    request: Request,
) -> Response {
    let handle = async |parts: &mut Parts, _body: Body, source: &RequestSource| {
        let token = management_token(parts, &state).await?;
        let information = limit_failures(
            &state,
            address_key(source),
            state.pipeline.read(&client_id, &token, source.clone()),
        )
        .await?;
        Ok::<_, Failure>(Json(information))
    };
    manage(&state, Operation::Read, &client_id, request, handle).await
}

/// RFC 7592 §2.2.
pub async fn update_client(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    request: Request,
) -> Response {
    let handle = async |parts: &mut Parts, body: Body, source: &RequestSource| {
        let token = management_token(parts, &state).await?;
        // Authenticate first: a caller without a valid token costs no body read and learns
        // nothing from body errors.
        let authorized = limit_failures(
            &state,
            address_key(source),
            state.pipeline.authorize_update(&client_id, &token, source),
        )
        .await?;
        let object = metadata_body(parts, body, &state).await?;
        let information = state
            .pipeline
            .update(authorized, object, source.clone())
            .await
            .map_err(answered)?;
        tracing::info!(client_id = %information.client_id, "client updated");
        Ok::<_, Failure>(Json(information))
    };
    manage(&state, Operation::Update, &client_id, request, handle).await
}

/// RFC 7592 §2.3.
pub async fn delete_client(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    request: Request,
) -> Response {
    let handle = async |parts: &mut Parts, _body: Body, source: &RequestSource| {
        let token = management_token(parts, &state).await?;
        limit_failures(
            &state,
            address_key(source),
            state.pipeline.delete(&client_id, &token, source.clone()),
        )
        .await?;
        tracing::info!(%client_id, "client deleted");
        Ok::<_, Failure>(StatusCode::NO_CONTENT)
    };
    manage(&state, Operation::Delete, &client_id, request, handle).await
}
