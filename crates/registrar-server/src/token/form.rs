//! `application/x-www-form-urlencoded` request bodies of the token and introspection endpoints.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use registrar_core::token::TokenError;

use crate::error::ApiError;

/// The parameters of a form body. RFC 6749 §3.2: parameters must not repeat, and empty values
/// count as absent.
#[derive(Debug, Default)]
pub struct Form(BTreeMap<String, String>);

impl Form {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Parses a form body, refusing a parameter given twice.
    pub fn parse(body: &[u8]) -> Result<Self, TokenError> {
        let mut parameters = BTreeMap::new();
        for (name, value) in url::form_urlencoded::parse(body) {
            if value.is_empty() {
                continue;
            }
            if parameters
                .insert(name.to_string(), value.into_owned())
                .is_some()
            {
                return Err(TokenError::InvalidRequest(format!(
                    "the parameter {name} must not be repeated"
                )));
            }
        }
        Ok(Self(parameters))
    }
}

fn is_form(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if !is_form(content_type) {
            return Err(TokenError::InvalidRequest(
                "the request body must be application/x-www-form-urlencoded".to_owned(),
            )
            .into());
        }
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
                    _ => ApiError::InvalidRequest("the request body could not be read".to_owned()),
                })?;
        Ok(Self::parse(&bytes)?)
    }
}
