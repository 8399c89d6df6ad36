//! A member added to every client information response.
//!
//! `DocumentationLink` overrides `Responder::respond`: it builds the default response with
//! `respond::client_information` and adds `"documentation"`. Registration, read and update all
//! answer through the responder, so the member is in the `201` of a registration and in every
//! `GET` and `PUT` after it. Nothing is stored: the member is added on the way out.
//!
//! Run it with `cargo run -p registrar-server --example extra_response_member` (set
//! `REGISTRAR_EXAMPLE_PORT` for a fixed port); it prints its URL, an initial access token and a
//! `curl` command that registers a client.

use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use registrar_core::initial_token::{InitialTokenOptions, mint_initial_token};
use registrar_core::respond;
use registrar_core::secrets::{OsRandom, random_token};
use registrar_core::store::Store;
use registrar_core::{
    ClientInformation, Pipeline, RegistrationContext, RegistrationError, Responder, Settings,
    Stores,
};
use registrar_server::{AppState, TokenOptions};
use serde_json::Value;
use tokio::net::TcpListener;
use url::Url;

/// Any error of setting up the example.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// The member this responder adds.
pub const MEMBER: &str = "documentation";

/// Adds `"documentation": url` to every client information response.
#[derive(Debug, Clone)]
pub struct DocumentationLink {
    url: String,
}

impl DocumentationLink {
    /// Links every response to `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into() }
    }
}

#[async_trait]
impl Responder for DocumentationLink {
    async fn respond(
        &self,
        cx: &mut RegistrationContext,
    ) -> Result<ClientInformation, RegistrationError> {
        // Keep the default response, then add ours.
        let mut information = respond::client_information(cx)?;
        // `insert_member` refuses (returning false) a name Registrar sets or reads, which would
        // appear twice in the JSON; `documentation` is none of them.
        information.insert_member(MEMBER, Value::String(self.url.clone()));
        Ok(information)
    }
}

/// Registrar's state for `issuer` over `store`, with [`DocumentationLink`] as its responder.
pub async fn state(
    issuer: Url,
    store: Arc<dyn Store>,
    documentation: DocumentationLink,
) -> Result<AppState, BoxError> {
    // A fresh secret per run is enough here, because the database is temporary too. A real
    // deployment reads it from its secret store, the same on every instance.
    let server_secret = random_token(&OsRandom, 32);
    let pipeline = Pipeline::builder(Settings::new(issuer), Stores::from_backend(store))
        .server_secret(server_secret.as_bytes())
        .responder(Arc::new(documentation))
        .build()?;
    Ok(AppState::new(pipeline, TokenOptions::default()).await?)
}

/// The full Registrar API.
pub fn app(state: AppState) -> Router {
    registrar_server::router(state)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    // A throwaway database: every run starts empty.
    let folder = tempfile::tempdir()?;
    let database = folder.path().join("registrar.db");
    let store = registrar_store::connect(&format!("sqlite://{}", database.display())).await?;
    let listener = TcpListener::bind(("127.0.0.1", port()?)).await?;
    let address = listener.local_addr()?;
    let documentation = DocumentationLink::new("https://docs.example.com/clients");
    let state = state(
        Url::parse(&format!("http://{address}"))?,
        store,
        documentation,
    )
    .await?;
    let services = state.pipeline.services();
    let (token, _) = mint_initial_token(
        services.stores().initial_tokens().as_ref(),
        services.generator().as_ref(),
        services.hasher(),
        services.clock().now(),
        InitialTokenOptions::default(),
    )
    .await?;

    println!("listening on http://{address}");
    println!(
        "curl -i http://{address}/connect/dcr -H 'Authorization: Bearer {}' \
         -H 'Content-Type: application/json' \
         -d '{{\"redirect_uris\":[\"https://app.example.com/callback\"]}}'",
        token.expose()
    );
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
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
