//! The integration suite: the real server on a real port, spoken to over HTTP.

// A failed unwrap is a failed test, with its location; that is what tests want.
#![allow(clippy::unwrap_used)]

mod audit;
pub mod authorization;
mod availability;
mod bad_input;
mod cimd;
mod client_auth;
mod discovery;
mod idempotency;
mod instances;
mod library;
mod lifecycle;
mod management;
mod metrics;
mod oidc_client;
mod openapi;
mod outbound_rules;
mod policies;
mod protected;
mod rate_limits;
mod registration;
mod sector_identifier;
mod slow_clients;
mod store;
mod token;

use reqwest::Response;
use serde_json::Value;

/// Asserts an RFC error response and returns its description.
pub async fn expect_error(response: Response, status: u16, code: &str) -> String {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status of {}",
        response.url()
    );
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "errors are JSON"
    );
    let body: Value = response.json().await.expect("JSON error body");
    assert_eq!(body["error"], code, "error code in {body}");
    let description = body["error_description"]
        .as_str()
        .expect("error_description is a string")
        .to_owned();
    assert!(!description.is_empty());
    description
}

/// Asserts a `401 invalid_token` with its `WWW-Authenticate` challenge.
pub async fn expect_invalid_token(response: Response) {
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .map(|value| value.to_str().unwrap()),
        Some("Bearer error=\"invalid_token\""),
    );
    expect_error(response, 401, "invalid_token").await;
}

/// Asserts a success status and returns the JSON body.
pub async fn expect_json(response: Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let cache_control = response.headers().get("cache-control").cloned();
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(actual, status, "unexpected status, body: {body}");
    assert_eq!(cache_control.unwrap(), "no-store");
    body
}
