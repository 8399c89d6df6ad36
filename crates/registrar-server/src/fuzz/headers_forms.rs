//! The `headers_forms` target: an `Authorization` header and a form or query string, through
//! the bearer token extractor, the token endpoint's form parser and client credential reading
//! (HTTP Basic, `client_secret`, assertions), and the authorization request's parameters.
//!
//! Input: the header value up to the first `\n` (an empty line means no header), then the body,
//! which is used as the token request's form, as the authorization request's query string and
//! as the query of a registration request (where `access_token` is refused beside a header).

use axum::extract::FromRequestParts as _;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, Uri, header};
use registrar_core::authz::{check_code_challenge, is_loopback_redirect, match_redirect_uri};
use url::Url;

use super::support::{block_on, check_error};
use crate::authorize::request::{Parameters, prompt};
use crate::error::ApiError;
use crate::extract::Bearer;
use crate::token::client_auth::{Presented, presented};
use crate::token::{Form, claimed_client_id};

/// The redirect URIs of the client an authorization request is matched against: a web one and
/// loopback ones of each spelling, whose port may differ (RFC 8252 §7.3).
const REGISTERED_REDIRECT_URIS: [&str; 4] = [
    "https://app.example.com/cb",
    "http://127.0.0.1/callback",
    "http://localhost:8080/cb?x=1",
    "http://[::1]/cb",
];

/// Runs `data` as an `Authorization` header line and a body; panics when an answer breaks a
/// property. True when the token request presented credentials to check.
pub fn headers_forms(data: &[u8]) -> bool {
    let (header_line, body) = match data.iter().position(|byte| *byte == b'\n') {
        Some(end) => (&data[..end], &data[end + 1..]),
        None => (data, &[][..]),
    };
    let mut headers = HeaderMap::new();
    // A value that is no header value never reaches a handler: hyper refuses the request.
    if let Ok(value) = HeaderValue::from_bytes(header_line)
        && !header_line.is_empty()
    {
        headers.insert(header::AUTHORIZATION, value);
    }
    bearer(&headers, body);
    let credentials = token_form(&headers, body);
    if let Ok(query) = std::str::from_utf8(body) {
        let parameters_parse = authorization_parameters(query);
        same_parameter_rules(body, Form::parse(body).is_ok(), parameters_parse);
    }
    credentials
}

/// The token form and the authorization request read parameters by the same rules (RFC 6749
/// §3.1, §3.2: no repeats, empty means absent, no control characters); they differ only where
/// the authorization request allows repeated `resource` (RFC 8707) and caps its size.
fn same_parameter_rules(body: &[u8], form_parses: bool, parameters_parse: bool) {
    let pairs: Vec<_> = url::form_urlencoded::parse(body)
        .filter(|(_, value)| !value.is_empty())
        .collect();
    let resources = pairs.iter().filter(|(name, _)| name == "resource").count();
    let oversized = pairs.len() > 64 || pairs.iter().any(|(_, value)| value.len() > 2048);
    if parameters_parse && !form_parses {
        assert!(resources > 1, "only the token form refused {body:?}");
    }
    if form_parses && !parameters_parse {
        assert!(oversized, "only the authorization request refused {body:?}");
    }
}

/// The registration endpoint's bearer token: absent, a well-formed `b64token`, or `401
/// invalid_token` / `400 invalid_request`.
fn bearer(headers: &HeaderMap, query: &[u8]) {
    let uri = std::str::from_utf8(query)
        .ok()
        .and_then(|query| Uri::try_from(format!("/connect/dcr?{query}")).ok())
        .unwrap_or_else(|| Uri::from_static("/connect/dcr"));
    let (mut parts, ()) = Request::builder()
        .uri(uri)
        .body(())
        .expect("a request of a valid URI")
        .into_parts();
    parts.headers = headers.clone();
    match block_on(Bearer::from_request_parts(&mut parts, &())) {
        Ok(Bearer::Absent) => assert!(headers.is_empty(), "a header was read as no token"),
        Ok(Bearer::Present(token)) => {
            assert!(
                !token.is_empty()
                    && token
                        .bytes()
                        .all(|byte| byte.is_ascii_alphanumeric() || b"-._~+/=".contains(&byte)),
                "the bearer token {token:?} is not a b64token"
            );
        }
        Err(error) => {
            let answer = check_error(
                error,
                &[
                    (StatusCode::UNAUTHORIZED, "invalid_token"),
                    (StatusCode::BAD_REQUEST, "invalid_request"),
                ],
            );
            if answer.status == StatusCode::UNAUTHORIZED {
                assert!(
                    answer.headers.contains_key(header::WWW_AUTHENTICATE),
                    "a 401 without a challenge"
                );
            }
        }
    }
}

/// The token endpoint's form and the client credentials it and the header present; true when
/// there are credentials to check.
fn token_form(headers: &HeaderMap, body: &[u8]) -> bool {
    let form = match Form::parse(body) {
        Ok(form) => form,
        Err(error) => {
            check_error(
                ApiError::Token(error),
                &[(StatusCode::BAD_REQUEST, "invalid_request")],
            );
            return false;
        }
    };
    for name in [
        "grant_type",
        "client_id",
        "client_secret",
        "client_assertion",
        "scope",
    ] {
        if let Some(value) = form.get(name) {
            assert!(
                !value.is_empty() && !value.chars().any(char::is_control),
                "the form's {name} is {value:?}"
            );
        }
    }
    let claimed = claimed_client_id(headers, &form);
    match presented(headers, &form) {
        Ok(Presented::Basic { client_id, .. }) => {
            assert_eq!(claimed.as_deref(), Some(client_id.as_str()));
            true
        }
        Ok(Presented::Post { client_id, .. } | Presented::ClientIdOnly(client_id)) => {
            assert_eq!(claimed.as_deref(), Some(client_id));
            true
        }
        Ok(Presented::Assertion { .. }) => true,
        Ok(Presented::Nothing) => false,
        Err(error) => {
            let answer = check_error(
                ApiError::Token(error),
                &[
                    (StatusCode::BAD_REQUEST, "invalid_request"),
                    (StatusCode::UNAUTHORIZED, "invalid_client"),
                ],
            );
            // RFC 6749 §5.2: a client that tried HTTP Basic gets a Basic challenge.
            if answer.code == "invalid_client" && headers.contains_key(header::AUTHORIZATION) {
                let challenge = answer.headers.get(header::WWW_AUTHENTICATE);
                assert!(
                    challenge.is_some_and(|value| value.as_bytes().starts_with(b"Basic ")),
                    "a failed HTTP Basic authentication without a Basic challenge"
                );
            }
            false
        }
    }
}

/// The authorization request: its parameters, `prompt`, PKCE and the redirect URI match; true
/// when the parameters parse.
fn authorization_parameters(query: &str) -> bool {
    let parameters = match Parameters::parse(query) {
        Ok(parameters) => parameters,
        Err(description) => {
            assert!(!description.is_empty(), "an empty error for {query:?}");
            return false;
        }
    };
    for name in [
        "client_id",
        "redirect_uri",
        "state",
        "nonce",
        "scope",
        "code_challenge",
        "resource",
    ] {
        for value in parameters.all(name) {
            assert!(
                !value.is_empty() && value.len() <= 2048 && !value.chars().any(char::is_control),
                "the parameter {name} is {value:?}"
            );
        }
    }
    if let Ok((none, login, consent)) = prompt(parameters.get("prompt")) {
        assert!(
            !none || !(login || consent),
            "prompt none with another value"
        );
    }
    let _ = check_code_challenge(
        parameters.get("code_challenge"),
        parameters.get("code_challenge_method"),
    );
    if let Some(presented) = parameters.get("redirect_uri") {
        check_redirect_match(presented);
    }
    true
}

/// A match is exact, or a loopback URI that differs from the registered one in its port alone.
fn check_redirect_match(presented: &str) {
    let registered: Vec<String> = REGISTERED_REDIRECT_URIS
        .iter()
        .map(|uri| (*uri).to_owned())
        .collect();
    let Some(matched) = match_redirect_uri(&registered, presented) else {
        return;
    };
    if matched == presented {
        return;
    }
    let presented_url = Url::parse(presented)
        .unwrap_or_else(|error| panic!("{presented:?} matched {matched:?} unparsed: {error}"));
    let matched_url = Url::parse(matched).expect("a registered redirect URI is a URL");
    let same_but_port = |url: &Url| {
        (
            url.scheme().to_owned(),
            url.host_str().map(str::to_owned),
            url.path().to_owned(),
            url.query().map(str::to_owned),
            url.username().to_owned(),
            url.password().map(str::to_owned),
            url.fragment().map(str::to_owned),
        )
    };
    assert!(
        is_loopback_redirect(&presented_url)
            && is_loopback_redirect(&matched_url)
            && same_but_port(&presented_url) == same_but_port(&matched_url),
        "{presented:?} matched the registered {matched:?}"
    );
}
