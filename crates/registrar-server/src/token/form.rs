//! `application/x-www-form-urlencoded` request bodies of the token and introspection endpoints.

use std::collections::BTreeMap;
use std::fmt;

use axum::extract::{FromRequest, Request};
use registrar_core::token::TokenError;

use crate::error::ApiError;
use crate::extract::read_body;

/// The parameters of a form body. RFC 6749 §3.2: parameters must not repeat, and empty values
/// count as absent.
///
/// Its `Debug` shows the values of the protocol parameters that are never credentials
/// (`grant_type`, `client_id`, `scope`, …) only: every other parameter (a client
/// secret, an assertion, a code, its verifier, a refresh token, a password, a CSRF token) may be
/// a credential, so a new parameter is hidden until it is known not to be one.
#[derive(Default)]
pub struct Form(BTreeMap<String, String>);

/// The form parameters that are never credentials, whose values `Debug` may show.
const PUBLIC_PARAMETERS: &[&str] = &[
    "client_assertion_type",
    "client_id",
    "decision",
    "grant_type",
    "redirect_uri",
    "resource",
    "scope",
    "token_type_hint",
];

impl fmt::Debug for Form {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = formatter.debug_map();
        for (name, value) in &self.0 {
            if PUBLIC_PARAMETERS.contains(&name.as_str()) {
                map.entry(name, value);
            } else {
                map.entry(name, &format_args!("<redacted>"));
            }
        }
        map.finish()
    }
}

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

#[cfg(test)]
mod tests {
    use super::Form;

    #[test]
    fn debug_shows_protocol_parameters_and_hides_every_credential() {
        let credentials = [
            ("client_secret", "secret-value-1234567890"),
            (
                "client_assertion",
                "eyJhbGciOiJFUzI1NiJ9.assertion.signature",
            ),
            ("code", "code-value-1234567890"),
            ("code_verifier", "verifier-value-1234567890"),
            ("refresh_token", "refresh-value-1234567890"),
            ("token", "token-value-1234567890"),
            ("password", "correct horse battery staple"),
            ("csrf_token", "csrf-value-1234567890"),
            ("an_unknown_parameter", "unknown-value-1234567890"),
        ];
        let mut body = url::form_urlencoded::Serializer::new(String::new());
        body.append_pair("grant_type", "authorization_code");
        body.append_pair("client_id", "client-abc");
        for (name, value) in credentials {
            body.append_pair(name, value);
        }
        let form = Form::parse(body.finish().as_bytes()).unwrap();

        let debug = format!("{form:?}");
        for (name, value) in credentials {
            assert!(debug.contains(name), "{debug}");
            assert!(!debug.contains(value), "{name} shown in {debug}");
        }
        assert!(
            debug.contains(r#""grant_type": "authorization_code""#),
            "{debug}"
        );
        assert!(debug.contains(r#""client_id": "client-abc""#), "{debug}");
        // The parameters are still there for the handlers.
        assert_eq!(form.get("client_secret"), Some("secret-value-1234567890"));
    }
}
