//! The examples in `examples/`, each served on `127.0.0.1:0` over a temporary SQLite database and
//! driven over real HTTP, so an example that compiles but no longer works fails here.

#[allow(dead_code)]
#[path = "../examples/shared_host.rs"]
mod shared_host;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use registrar_core::initial_token::{InitialTokenOptions, mint_initial_token};
use registrar_core::store::Store;
use registrar_server::AppState;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::net::TcpListener;
use url::Url;

/// A temporary SQLite database; the folder must outlive the store.
async fn sqlite() -> (TempDir, Arc<dyn Store>) {
    let folder = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", folder.path().join("registrar.db").display());
    let store = registrar_store::connect(&url)
        .await
        .expect("open the SQLite store");
    (folder, store)
}

/// A listener on a free port of 127.0.0.1, and the issuer URL it answers at.
async fn bind() -> (TcpListener, Url) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let address = listener.local_addr().expect("local address");
    let issuer = Url::parse(&format!("http://{address}")).expect("issuer URL");
    (listener, issuer)
}

/// Serves `app` in the background for the rest of the test.
fn serve(listener: TcpListener, app: Router) {
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve the example");
    });
}

/// A single-use initial access token, minted in the store as `registrar initial-token create`
/// does.
async fn initial_token(state: &AppState) -> String {
    let services = state.pipeline.services();
    let (token, _) = mint_initial_token(
        services.stores().initial_tokens.as_ref(),
        services.generator().as_ref(),
        services.hasher(),
        services.clock().now(),
        InitialTokenOptions {
            max_uses: Some(1),
            ..InitialTokenOptions::default()
        },
    )
    .await
    .expect("mint an initial access token");
    token.expose().to_owned()
}

/// The status and JSON body of a response.
async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.json().await.expect("a JSON body");
    (status, body)
}

/// `POST {url}` with a fresh initial access token.
async fn register(state: &AppState, url: &str, body: Value) -> (StatusCode, Value) {
    let token = initial_token(state).await;
    let response = reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("POST the registration");
    json_of(response).await
}

/// `GET` the client's `registration_client_uri` with its registration access token.
async fn read(registered: &Value) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(member(registered, "registration_client_uri"))
        .bearer_auth(member(registered, "registration_access_token"))
        .send()
        .await
        .expect("GET the client");
    json_of(response).await
}

/// `PUT` `body` at the client's `registration_client_uri` with its registration access token.
async fn update(registered: &Value, body: Value) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .put(member(registered, "registration_client_uri"))
        .bearer_auth(member(registered, "registration_access_token"))
        .json(&body)
        .send()
        .await
        .expect("PUT the client");
    json_of(response).await
}

/// A string member of a response.
fn member<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} should be a string in {body}"))
}

fn web_client(redirect_uri: &str) -> Value {
    json!({ "redirect_uris": [redirect_uri], "client_name": "Example client" })
}

mod shared_host_example {
    use super::*;
    use crate::shared_host::{self, ApiKey};

    const KEY: &str = "the-ci-pipeline-key";

    async fn start() -> (TempDir, SocketAddr) {
        let (folder, store) = sqlite().await;
        let (listener, issuer) = bind().await;
        let address = listener.local_addr().expect("local address");
        let state = shared_host::state(issuer, store)
            .await
            .expect("build the state");
        serve(listener, shared_host::app(state, ApiKey::new(KEY)));
        (folder, address)
    }

    fn registration_url(address: SocketAddr) -> String {
        format!("http://{address}/registrar/connect/dcr")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn registration_without_the_api_key_is_refused_by_the_host_layer() {
        let (_folder, address) = start().await;
        let http = reqwest::Client::new();

        let missing = http
            .post(registration_url(address))
            .json(&web_client("https://app.example.com/cb"))
            .send()
            .await
            .expect("POST without a key");
        let wrong = http
            .post(registration_url(address))
            .header("X-Api-Key", "not-the-key")
            .json(&web_client("https://app.example.com/cb"))
            .send()
            .await
            .expect("POST with a wrong key");

        for response in [missing, wrong] {
            assert!(response.headers().contains_key("www-authenticate"));
            let (status, body) = json_of(response).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert_eq!(body["error"], "invalid_api_key", "{body}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn registration_with_the_api_key_needs_no_initial_access_token() {
        let (_folder, address) = start().await;

        let response = reqwest::Client::new()
            .post(registration_url(address))
            .header("X-Api-Key", KEY)
            .json(&web_client("https://app.example.com/cb"))
            .send()
            .await
            .expect("POST with the key");
        let (status, registered) = json_of(response).await;

        assert_eq!(status, StatusCode::CREATED, "{registered}");
        let client_uri = member(&registered, "registration_client_uri");
        let expected = format!("http://{address}/registrar/connect/dcr/");
        assert!(
            client_uri.starts_with(&expected),
            "{client_uri} should start with {expected}"
        );
        assert_eq!(
            client_uri,
            format!("{expected}{}", member(&registered, "client_id"))
        );
        let (read_status, read_back) = read(&registered).await;
        assert_eq!(read_status, StatusCode::OK, "{read_back}");
        assert_eq!(read_back["client_id"], registered["client_id"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_host_keeps_serving_its_own_routes_beside_registrar() {
        let (_folder, address) = start().await;
        let http = reqwest::Client::new();

        let home = http
            .get(format!("http://{address}/"))
            .send()
            .await
            .expect("GET /");
        let hello = http
            .get(format!("http://{address}/api/hello"))
            .send()
            .await
            .expect("GET /api/hello");
        let discovery = http
            .get(format!("http://{address}/.well-known/openid-configuration"))
            .send()
            .await
            .expect("GET discovery");

        assert_eq!(home.status(), StatusCode::OK);
        assert!(home.text().await.expect("text").contains("/registrar"));
        let (status, body) = json_of(hello).await;
        assert_eq!(
            (status, body),
            (StatusCode::OK, json!({ "hello": "world" }))
        );
        let (status, metadata) = json_of(discovery).await;
        assert_eq!(status, StatusCode::OK, "{metadata}");
        assert_eq!(
            metadata["registration_endpoint"],
            registration_url(address),
            "discovery should follow the base path"
        );
    }
}
