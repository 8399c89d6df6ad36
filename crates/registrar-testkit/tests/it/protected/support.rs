//! Small HTTP helpers shared by the protected-registration, policy and rate limit tests.

use registrar_core::initial_token::InitialTokenOptions;
use registrar_testkit::TestServer;
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::expect_json;

/// The default `registration.bearer_scope`.
pub(crate) const BEARER_SCOPE: &str = "registrar.configuration";

pub(crate) fn id_of(client: &Value) -> &str {
    client["client_id"].as_str().unwrap()
}

pub(crate) fn secret_of(client: &Value) -> &str {
    client["client_secret"].as_str().unwrap()
}

/// The client's `registration_client_uri`.
pub(crate) fn uri_of(client: &Value) -> &str {
    client["registration_client_uri"].as_str().unwrap()
}

/// The client's `registration_access_token`.
pub(crate) fn token_of(client: &Value) -> &str {
    client["registration_access_token"].as_str().unwrap()
}

/// A web client with one redirect URI.
pub(crate) fn web_app() -> Value {
    json!({"redirect_uris": ["https://app.example.com/cb"], "client_name": "Web App"})
}

/// A `client_credentials` client authenticating with `client_secret_basic`.
pub(crate) fn machine(scope: &str) -> Value {
    json!({
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "client_secret_basic",
        "scope": scope,
    })
}

/// `POST /connect/dcr`, with a bearer token when given.
pub(crate) async fn post_registration(
    server: &TestServer,
    token: Option<&str>,
    body: &Value,
) -> Response {
    let mut request = server.http().post(server.url("/connect/dcr")).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// A new initial access token minted with `policy`.
pub(crate) async fn policy_token(
    server: &TestServer,
    policy: Option<&str>,
    max_uses: Option<u32>,
) -> String {
    server
        .initial_token(InitialTokenOptions {
            max_uses,
            policy: policy.map(str::to_owned),
            ..InitialTokenOptions::default()
        })
        .await
}

/// Registers `body` with a fresh single-use initial access token of `policy`.
pub(crate) async fn register_under(server: &TestServer, policy: &str, body: &Value) -> Response {
    let token = policy_token(server, Some(policy), Some(1)).await;
    post_registration(server, Some(&token), body).await
}

/// `POST /connect/token` for the `client_credentials` grant with HTTP Basic.
pub(crate) async fn token_request(server: &TestServer, client_id: &str, secret: &str) -> Response {
    server
        .http()
        .post(server.url("/connect/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
}

/// An access token for `client`, which must be granted.
pub(crate) async fn access_token(server: &TestServer, client: &Value) -> String {
    let body = expect_json(
        token_request(server, id_of(client), secret_of(client)).await,
        200,
    )
    .await;
    body["access_token"].as_str().unwrap().to_owned()
}

/// `POST /connect/introspect` by `client` over HTTP Basic.
pub(crate) async fn introspect(server: &TestServer, client: &Value, token: &str) -> Response {
    server
        .http()
        .post(server.url("/connect/introspect"))
        .basic_auth(id_of(client), Some(secret_of(client)))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
}

/// A request to a registration client URI with a bearer token, and a JSON body when given.
pub(crate) async fn manage(
    server: &TestServer,
    method: Method,
    uri: &str,
    token: &str,
    body: Option<&Value>,
) -> Response {
    let mut request = server.http().request(method, uri).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.unwrap()
}

/// The RFC 7592 §2.2 update body: `metadata` plus the client's id.
pub(crate) fn update_body(client: &Value, metadata: Value) -> Value {
    let mut body = metadata;
    body["client_id"] = client["client_id"].clone();
    body
}
