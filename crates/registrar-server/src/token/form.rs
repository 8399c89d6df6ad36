//! `application/x-www-form-urlencoded` request bodies of the token and introspection endpoints.

use std::collections::BTreeMap;

use axum::extract::{FromRequest, Request};
use registrar_core::token::TokenError;

use crate::error::ApiError;
use crate::extract::read_body;

/// The parameters of a form body. RFC 6749 §3.2: parameters must not repeat, and empty values
/// count as absent.
#[derive(Debug, Default)]
pub struct Form(BTreeMap<String, String>);

impl Form {
    /// The value of a parameter; `None` when it is absent or empty.
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
            // No parameter of any form here carries a control character, and some are stored
            // (PostgreSQL refuses a NUL in text): refused before anything reads them.
            if value.chars().any(char::is_control) {
                return Err(TokenError::InvalidRequest(format!(
                    "the parameter {name} must not contain control characters"
                )));
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

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        // RFC 6749 §4.4.2: the token request is form-encoded; anything else is invalid_request.
        let wrong_type = TokenError::InvalidRequest(
            "the request body must be application/x-www-form-urlencoded".to_owned(),
        );
        let bytes = read_body(
            request,
            state,
            "application/x-www-form-urlencoded",
            wrong_type.into(),
        )
        .await?;
        Ok(Self::parse(&bytes)?)
    }
}
