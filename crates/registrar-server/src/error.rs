//! `ApiError`: the one place where errors become HTTP responses.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use registrar_core::error::IdempotencyError;
use registrar_core::token::TokenError;
use registrar_core::{RegistrationError, StoreError};
use serde_json::json;

use crate::metrics::http::ErrorCode;
use crate::metrics::record;
use crate::rate_limit::Limited;

/// Every error a handler can return.
#[derive(Debug)]
pub enum ApiError {
    /// Registration and management errors: 400 with the RFC 7591 §3.2.2 code, 401 for
    /// `invalid_token`, 500 or 503 for the store.
    Registration(RegistrationError),
    /// RFC 6749 §5.2 errors of the token and introspection endpoints.
    Token(TokenError),
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 413: the body is over `MAX_BODY_BYTES`.
    PayloadTooLarge,
    /// 400 `invalid_request`, for malformed non-metadata parameters.
    InvalidRequest(String),
    /// 404 for paths that do not exist.
    NotFound,
    /// 503: the request did not finish within the router's request timeout.
    Timeout,
    /// 408: the request body did not arrive within the router's body read timeout.
    BodyTimeout(std::time::Duration),
    /// 429: a rate limit applies; `Retry-After` says when to try again.
    RateLimited(Limited),
}

impl From<Limited> for ApiError {
    fn from(limited: Limited) -> Self {
        Self::RateLimited(limited)
    }
}

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> Self {
        Self::Token(error)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        Self::Registration(RegistrationError::Store(error))
    }
}

impl From<RegistrationError> for ApiError {
    fn from(error: RegistrationError) -> Self {
        Self::Registration(error)
    }
}

/// The longest `error_description` sent; a description quoting input stays readable.
const MAX_DESCRIPTION_CHARS: usize = 512;

/// `description` within the characters RFC 6749 §5.2 allows (`%x20-21 / %x23-5B / %x5D-7E`):
/// `"` becomes `'`, every other character outside the set `?`, and a long one is cut. Every
/// error passes here, so no description can echo control, non-ASCII or quote characters from
/// the input, whatever rule wrote it.
pub(crate) fn sanitize_description(description: &str) -> String {
    let mut sanitized: String = description
        .chars()
        .take(MAX_DESCRIPTION_CHARS)
        .map(|character| match character {
            '"' => '\'',
            '\\' => '?',
            ' '..='~' => character,
            _ => '?',
        })
        .collect();
    if description.chars().nth(MAX_DESCRIPTION_CHARS).is_some() {
        sanitized.push_str("...");
    }
    sanitized
}

fn body(status: StatusCode, code: &'static str, description: &str) -> Response {
    let mut response = (
        status,
        Json(json!({ "error": code, "error_description": sanitize_description(description) })),
    )
        .into_response();
    // For the request metrics, which count answers by code without reading bodies.
    response.extensions_mut().insert(ErrorCode(code));
    response
}

fn store_failure(error: &StoreError) -> Response {
    // Logged for operators, never echoed: backend messages can reveal schema or hosts.
    tracing::error!(%error, "store failure");
    record::store_error(error);
    match error {
        StoreError::Unavailable(_) => {
            let mut response = body(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the client store is unavailable; retry later",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        StoreError::Duplicate(_)
        | StoreError::InitialTokenRejected
        | StoreError::PolicyFull
        | StoreError::Backend(_) => body(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the server could not complete the request",
        ),
    }
}

/// draft-ietf-httpapi-idempotency-key-header §2.7: `400` for a malformed key, `409` while
/// another request with it is in flight (with `Retry-After`, since a retry then gets the
/// answer), `422` for a key that cannot be used again.
fn idempotency_failure(code: &'static str, error: &IdempotencyError) -> Response {
    match error {
        IdempotencyError::Malformed(description) => {
            body(StatusCode::BAD_REQUEST, code, description)
        }
        IdempotencyError::InProgress => {
            let mut response = body(StatusCode::CONFLICT, code, &error.to_string());
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        IdempotencyError::Reused(description) => {
            body(StatusCode::UNPROCESSABLE_ENTITY, code, description)
        }
    }
}

fn token_failure(error: &TokenError) -> Response {
    let description = error.to_string();
    match error {
        TokenError::InvalidClient { used_http_auth, .. } => {
            // RFC 6749 §5.2: 401, with a challenge in the scheme the client used.
            let mut response = body(StatusCode::UNAUTHORIZED, error.code(), &description);
            if *used_http_auth {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"registrar\""),
                );
            }
            response
        }
        TokenError::InvalidRequest(_)
        | TokenError::InvalidGrant(_)
        | TokenError::UnauthorizedClient(_)
        | TokenError::UnsupportedGrantType(_)
        | TokenError::InvalidScope(_)
        | TokenError::InvalidTarget(_)
        | TokenError::UnsupportedTokenType(_) => {
            body(StatusCode::BAD_REQUEST, error.code(), &description)
        }
        TokenError::TemporarilyUnavailable => {
            let mut response = body(StatusCode::SERVICE_UNAVAILABLE, error.code(), &description);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        TokenError::Key(key_error) => {
            tracing::error!(%key_error, "signing key failure");
            body(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "the server could not complete the request",
            )
        }
        TokenError::Store(store_error) => store_failure(store_error),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::Registration(error) => match &error {
                RegistrationError::InvalidRedirectUri(description)
                | RegistrationError::InvalidClientMetadata(description)
                | RegistrationError::InvalidSoftwareStatement(description)
                | RegistrationError::UnapprovedSoftwareStatement(description) => {
                    body(StatusCode::BAD_REQUEST, error.code(), description)
                }
                RegistrationError::InvalidToken => {
                    let mut response =
                        body(StatusCode::UNAUTHORIZED, error.code(), &error.to_string());
                    // RFC 6750 §3.
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Bearer error=\"invalid_token\""),
                    );
                    response
                }
                RegistrationError::InsufficientScope { scope } => {
                    let mut response =
                        body(StatusCode::FORBIDDEN, error.code(), &error.to_string());
                    // RFC 6750 §3: the scope the request needs. Scope values are within
                    // NQCHAR (RFC 6749 §3.3), so they need no escaping in the quoted string.
                    let challenge =
                        format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\"");
                    if let Ok(value) = HeaderValue::from_str(&challenge) {
                        response
                            .headers_mut()
                            .insert(header::WWW_AUTHENTICATE, value);
                    }
                    response
                }
                RegistrationError::TooManyRequests {
                    retry_after,
                    description,
                } => {
                    let mut response =
                        body(StatusCode::TOO_MANY_REQUESTS, error.code(), description);
                    response.headers_mut().insert(
                        header::RETRY_AFTER,
                        HeaderValue::from((*retry_after).max(1)),
                    );
                    response
                }
                RegistrationError::AccessDenied(description) => {
                    body(StatusCode::FORBIDDEN, error.code(), description)
                }
                RegistrationError::IdempotencyKey(idempotency) => {
                    idempotency_failure(error.code(), idempotency)
                }
                RegistrationError::Store(store_error) => store_failure(store_error),
            },
            Self::Token(error) => token_failure(&error),
            Self::UnsupportedMediaType => body(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid_request",
                "the request body must be application/json",
            ),
            Self::PayloadTooLarge => body(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                &format!(
                    "the request body must be at most {} bytes",
                    crate::limits::MAX_BODY_BYTES
                ),
            ),
            Self::InvalidRequest(description) => {
                body(StatusCode::BAD_REQUEST, "invalid_request", &description)
            }
            Self::NotFound => body(StatusCode::NOT_FOUND, "not_found", "no such endpoint"),
            Self::RateLimited(limited) => {
                let mut response = body(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_requests",
                    &limited.to_string(),
                );
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(limited.retry_after_seconds.max(1)),
                );
                response
            }
            Self::BodyTimeout(timeout) => {
                let mut response = body(
                    StatusCode::REQUEST_TIMEOUT,
                    "invalid_request",
                    &format!(
                        "the request body did not arrive within {} seconds",
                        timeout.as_secs_f64()
                    ),
                );
                // The rest of the body may still come; the connection cannot be reused.
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                response
            }
            Self::Timeout => {
                let mut response = body(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "the request took too long; retry later",
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                response
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize_description;

    #[test]
    fn descriptions_keep_to_the_rfc_6749_characters() {
        let allowed = |text: &str| {
            text.bytes()
                .all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E))
        };
        let cases = [
            (
                "scope \"openid\" is not allowed",
                "scope 'openid' is not allowed",
            ),
            ("a\\b\u{0}c\u{1b}[31m\u{202e}é", "a?b?c?[31m??"),
            ("plain, fine; (ok) ~`!", "plain, fine; (ok) ~`!"),
        ];
        for (input, expected) in cases {
            let sanitized = sanitize_description(input);
            assert_eq!(sanitized, expected);
            assert!(allowed(&sanitized), "{sanitized:?}");
        }
        let long = "x".repeat(600);
        let sanitized = sanitize_description(&long);
        assert_eq!(sanitized.len(), 515);
        assert!(sanitized.ends_with("..."));
    }
}
