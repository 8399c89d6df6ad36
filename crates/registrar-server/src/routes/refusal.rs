//! The audit events of registration and management requests this server refuses before the
//! pipeline sees them: a malformed `Authorization` header, query parameter, `Idempotency-Key` or
//! body, and the rate limits. The pipeline audits every failure of its own, so each request
//! makes one event whichever refused it.

use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use registrar_core::{EarlyRefusal, Operation, RegistrationError, RequestSource};

use crate::error::ApiError;
use crate::metrics::http::ErrorCode;
use crate::rate_limit::Limited;
use crate::state::AppState;

/// How a request failed.
pub(crate) enum Failure {
    /// Before the pipeline saw it: audited by [`answer`].
    Early(ApiError),
    /// By the pipeline, which audited it.
    Answered(ApiError),
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Self::Early(error)
    }
}

impl From<Limited> for Failure {
    fn from(limited: Limited) -> Self {
        Self::Early(ApiError::RateLimited(limited))
    }
}

/// For the pipeline's errors: `.map_err(answered)`.
pub(crate) fn answered(error: RegistrationError) -> Failure {
    Failure::Answered(ApiError::Registration(error))
}

/// What the event of an early refusal names of its request.
pub(crate) struct Request<'a> {
    pub(crate) operation: Operation,
    pub(crate) source: &'a RequestSource,
    pub(crate) parts: &'a Parts,
    pub(crate) client_id: Option<&'a str>,
}

/// The text after the `Authorization` header's scheme, for the event's route only: a header
/// the extractor refuses still tells that a token was presented.
fn presented_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?;
    let text = value.to_str().unwrap_or_default();
    Some(text.split_once(' ').map_or("", |(_, token)| token))
}

/// The response of `result`, with the audit event of an early refusal: logged and counted,
/// and stored unless a rate limit refused it (a flood the limiter absorbs costs no write per
/// request).
pub(crate) async fn answer<T: IntoResponse>(
    state: &AppState,
    request: Request<'_>,
    result: Result<T, Failure>,
) -> Response {
    let error = match result {
        Ok(value) => return value.into_response(),
        Err(Failure::Answered(error)) => return error.into_response(),
        Err(Failure::Early(error)) => error,
    };
    let stored = !matches!(error, ApiError::RateLimited(_));
    let response = error.into_response();
    let code = response
        .extensions()
        .get::<ErrorCode>()
        .map_or("server_error", |ErrorCode(code)| code);
    state
        .pipeline
        .audit_refusal(EarlyRefusal {
            operation: request.operation,
            source: request.source,
            token: presented_token(request.parts),
            client_id: request.client_id,
            error: code,
            stored,
        })
        .await;
    response
}
