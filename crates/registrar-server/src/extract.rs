//! Extractors: the bearer token from the `Authorization` header and the metadata JSON body,
//! each turning every bad input into the RFC's error, never axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use registrar_core::RegistrationError;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// The bearer token of the `Authorization` header (RFC 6750 §2.1), the only place a token is
/// read from: never the query string or the body. Its `Debug` hides the token.
pub enum Bearer {
    Absent,
    Present(String),
}

impl Bearer {
    pub fn token(&self) -> Option<&str> {
        match self {
            Self::Absent => None,
            Self::Present(token) => Some(token),
        }
    }
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Absent => formatter.write_str("Absent"),
            Self::Present(_) => formatter
                .debug_tuple("Present")
                .field(&format_args!("<redacted>"))
                .finish(),
        }
    }
}

/// RFC 6750 §2.1 `b64token`.
fn is_b64token(token: &str) -> bool {
    let trimmed = token.trim_end_matches('=');
    !trimmed.is_empty()
        && trimmed.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
        let Some(value) = values.next() else {
            return Ok(Self::Absent);
        };
        // RFC 6750 §2: a token sent in the header and in the query too is a malformed request,
        // not a choice for the server to make.
        let in_query = parts.uri.query().is_some_and(|query| {
            url::form_urlencoded::parse(query.as_bytes()).any(|(name, _)| name == "access_token")
        });
        if in_query {
            return Err(ApiError::InvalidRequest(
                "the access token must be sent by one method only: the Authorization header"
                    .to_owned(),
            ));
        }
        // Parsing is total: every malformed header is a 401, never a panic or a 500
        // (compare Keycloak CVE-2026-9803).
        let invalid = || ApiError::Registration(RegistrationError::InvalidToken);
        if values.next().is_some() {
            return Err(invalid());
        }
        let text = value.to_str().map_err(|_| invalid())?;
        let (scheme, token) = text.split_once(' ').ok_or_else(invalid)?;
        if !scheme.eq_ignore_ascii_case("bearer") || !is_b64token(token) {
            return Err(invalid());
        }
        Ok(Self::Present(token.to_owned()))
    }
}

/// A request body that must be one JSON object with unique member names; anything else is a
/// malformed request, `invalid_request` (RFC 6749 §5.2, INTERFACE.md), a wrong content type is
/// 415 and an oversized body 413. Its `Debug` names the members only: an RFC 7592 update
/// carries the client's `client_secret`.
pub struct MetadataJson(pub Map<String, Value>);

impl std::fmt::Debug for MetadataJson {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("MetadataJson")
            .field("members", &self.0.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Reads a body of media type `media_type` (parameters such as `charset` allowed), answering
/// `wrong_type` for any other type and 413 beyond the router's body limit.
pub(crate) async fn read_body<S: Send + Sync>(
    request: Request,
    state: &S,
    media_type: &str,
    wrong_type: ApiError,
) -> Result<Bytes, ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case(media_type) {
        return Err(wrong_type);
    }
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            _ => ApiError::InvalidRequest("the request body could not be read".to_owned()),
        })
}

impl<S: Send + Sync> FromRequest<S> for MetadataJson {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(
            request,
            state,
            "application/json",
            ApiError::UnsupportedMediaType,
        )
        .await?;
        registrar_core::json::parse_object(&bytes)
            .map(Self)
            .map_err(ApiError::InvalidRequest)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Bearer, MetadataJson};

    #[test]
    fn debug_hides_the_bearer_token_and_the_members_values() {
        let token = "registration-access-token-1234567890";
        let debug = format!("{:?}", Bearer::Present(token.to_owned()));
        assert!(!debug.contains(token), "{debug}");
        assert_eq!(debug, "Present(<redacted>)");
        assert_eq!(format!("{:?}", Bearer::Absent), "Absent");

        // An RFC 7592 update repeats the client's secret.
        let secret = "client-secret-value-1234567890";
        let serde_json::Value::Object(members) = json!({
            "client_id": "abc",
            "client_secret": secret,
            "redirect_uris": ["https://app.example.com/cb"],
        }) else {
            unreachable!()
        };
        let debug = format!("{:?}", MetadataJson(members));
        assert!(!debug.contains(secret), "{debug}");
        assert!(
            debug.contains("client_secret") && debug.contains("redirect_uris"),
            "{debug}"
        );
    }
}
