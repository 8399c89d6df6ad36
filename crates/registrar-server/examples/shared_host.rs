//! Registrar inside an application that serves its own routes, with registration behind the
//! application's own authentication instead of initial access tokens.
//!
//! The app answers `GET /` and `GET /api/hello` itself and mounts Registrar under `/registrar`
//! (`Settings::set_base_path`), so `registration_client_uri` and the endpoints in discovery follow.
//! Its own middleware checks an `X-Api-Key` header on registration and tells Registrar who the
//! caller is with a `HostCaller`; without the key the middleware answers 401 itself.
//!
//! Run it with `cargo run -p registrar-server --example shared_host` (set
//! `REGISTRAR_EXAMPLE_PORT` for a fixed port); it prints its URL, the API key and a `curl`
//! command that registers a client.

use std::error::Error;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use registrar_core::secrets::{OsRandom, random_token};
use registrar_core::store::Store;
use registrar_core::{Pipeline, Principal, Settings, Stores};
use registrar_server::{AppState, HostCaller, TokenOptions};
use serde_json::{Value, json};
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;
use url::Url;

/// Any error of setting up the example.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// Where the app mounts Registrar.
pub const BASE_PATH: &str = "/registrar";

/// The header the app's own clients send their key in.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The key the app's own clients (here, a CI pipeline) register clients with.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    /// A key; an empty one matches no request.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// Whether `presented` is this key, compared in constant time.
    fn matches(&self, presented: &[u8]) -> bool {
        !presented.is_empty() && bool::from(presented.ct_eq(self.0.as_bytes()))
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A key is a credential: it never reaches a log.
        formatter.write_str("ApiKey(..)")
    }
}

/// Registrar's state for `issuer`, mounted under [`BASE_PATH`], over `store`.
pub async fn state(issuer: Url, store: Arc<dyn Store>) -> Result<AppState, BoxError> {
    let mut settings = Settings::new(issuer);
    settings.set_base_path(BASE_PATH)?;
    // A fresh secret per run is enough here, because the database is temporary too. A real
    // deployment reads it from its secret store, the same on every instance.
    let server_secret = random_token(&OsRandom, 32);
    let pipeline = Pipeline::builder(settings, Stores::from_backend(store))
        .server_secret(server_secret.as_bytes())
        .build()?;
    Ok(AppState::new(pipeline, TokenOptions::default()).await?)
}

/// The whole application: its own routes, and Registrar's registration, token and discovery
/// routes, with registration behind [`require_api_key`].
pub fn app(state: AppState, api_key: ApiKey) -> Router {
    // Only the registration endpoint is behind the key: reading, updating and deleting a client
    // are authorized by the client's own registration access token (RFC 7592).
    let registration = registrar_server::registration_endpoint_routes(state.clone())
        .layer(middleware::from_fn_with_state(api_key, require_api_key));
    Router::new()
        .route("/", get(home))
        .route("/api/hello", get(hello))
        .merge(registration)
        .merge(registrar_server::management_routes(state.clone()))
        .merge(registrar_server::token_routes(state.clone()))
        .merge(registrar_server::discovery_routes(state))
}

/// The app's own authentication of registration requests: a valid `X-Api-Key` makes the caller
/// the `ci-pipeline` principal, anything else is answered 401 here, before Registrar sees it.
pub async fn require_api_key(
    State(api_key): State<ApiKey>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(API_KEY_HEADER)
        .map(|value| value.as_bytes())
        .unwrap_or_default();
    if !api_key.matches(presented) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "ApiKey realm=\"registrar\"")],
            Json(json!({
                "error": "invalid_api_key",
                "error_description": "registration needs a valid X-Api-Key header",
            })),
        )
            .into_response();
    }
    // Only the app's own code can set extensions, so a remote client cannot forge this.
    request
        .extensions_mut()
        .insert(HostCaller(Principal::new("ci-pipeline")));
    next.run(request).await
}

async fn home() -> &'static str {
    "An application that hosts Registrar under /registrar.\n"
}

async fn hello() -> Json<Value> {
    Json(json!({ "hello": "world" }))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    // A throwaway database: every run starts empty.
    let folder = tempfile::tempdir()?;
    let database = folder.path().join("registrar.db");
    let store = registrar_store::connect(&format!("sqlite://{}", database.display())).await?;
    let listener = TcpListener::bind(("127.0.0.1", port()?)).await?;
    let address = listener.local_addr()?;
    let state = state(Url::parse(&format!("http://{address}"))?, store).await?;
    let api_key = random_token(&OsRandom, 24);

    println!("listening on http://{address}");
    println!("API key: {api_key}");
    println!(
        "curl -i http://{address}{BASE_PATH}/connect/dcr -H 'X-Api-Key: {api_key}' \
         -H 'Content-Type: application/json' \
         -d '{{\"redirect_uris\":[\"https://app.example.com/callback\"]}}'"
    );
    let app = app(state, ApiKey::new(api_key));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}

/// The port in `REGISTRAR_EXAMPLE_PORT`, or 0 for any free one.
fn port() -> Result<u16, BoxError> {
    match std::env::var("REGISTRAR_EXAMPLE_PORT") {
        Ok(port) => Ok(port.parse()?),
        Err(_) => Ok(0),
    }
}
