//! Overriding one validation step: redirect URIs must be on an allow-list of hosts.
//!
//! `AllowedHosts` overrides `Validator::validate_redirect_uris` alone. It keeps the default rule
//! (`validate::redirect_uris`: no fragment, HTTPS for web clients, …) by calling it first, then
//! refuses any redirect URI whose host is not listed, with `invalid_redirect_uri`. Registration
//! and update run through the same step, so an update cannot move a client off the list either.
//!
//! Run it with `cargo run -p registrar-server --example redirect_allow_list` (set
//! `REGISTRAR_EXAMPLE_PORT` for a fixed port); it prints its URL, an initial access token and a
//! `curl` command that registers a client.

use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use registrar_core::initial_token::{InitialTokenOptions, mint_initial_token};
use registrar_core::secrets::{OsRandom, random_token};
use registrar_core::store::Store;
use registrar_core::validate::{self, StepResult};
use registrar_core::{
    Pipeline, RegistrationContext, RegistrationError, Settings, Stores, Validator,
};
use registrar_server::{AppState, TokenOptions};
use tokio::net::TcpListener;
use url::Url;

/// Any error of setting up the example.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// The hosts redirect URIs may point at; every other validation step is the default one.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    hosts: Vec<String>,
}

impl AllowedHosts {
    /// The allow-list; host names are compared as `url::Url` normalizes them, in lowercase.
    pub fn new<I, S>(hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self {
            hosts: hosts
                .into_iter()
                .map(|host| host.as_ref().to_ascii_lowercase())
                .collect(),
        }
    }

    /// Whether `redirect_uri` points at a listed host. A URI without a host (a private-use
    /// scheme of a native app, such as `com.example.app:/callback`) is not on the list.
    fn allows(&self, redirect_uri: &str) -> bool {
        let Ok(url) = Url::parse(redirect_uri) else {
            return false;
        };
        match url.host_str() {
            Some(host) => self.hosts.iter().any(|allowed| allowed == host),
            None => false,
        }
    }
}

#[async_trait]
impl Validator for AllowedHosts {
    async fn validate_redirect_uris(&self, cx: &mut RegistrationContext) -> StepResult {
        // Keep the default rule, then add ours.
        validate::redirect_uris(cx)?;
        match cx
            .metadata()
            .redirect_uris
            .iter()
            .position(|redirect_uri| !self.allows(redirect_uri))
        {
            None => Ok(()),
            // The position, not the URI: an error description may not carry every character a
            // client can send (RFC 6749 §5.2).
            Some(refused) => Err(RegistrationError::InvalidRedirectUri(format!(
                "redirect_uris[{refused}] is not on a host this server allows"
            ))),
        }
    }
}

/// Registrar's state for `issuer` over `store`, with the allow-list as its validator.
pub async fn state(
    issuer: Url,
    store: Arc<dyn Store>,
    allowed_hosts: AllowedHosts,
) -> Result<AppState, BoxError> {
    // A fresh secret per run is enough here, because the database is temporary too. A real
    // deployment reads it from its secret store, the same on every instance.
    let server_secret = random_token(&OsRandom, 32);
    let pipeline = Pipeline::builder(Settings::new(issuer), Stores::from_backend(store))
        .server_secret(server_secret.as_bytes())
        .validator(Arc::new(allowed_hosts))
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
    let allowed_hosts = AllowedHosts::new(["app.example.com", "localhost"]);
    let state = state(
        Url::parse(&format!("http://{address}"))?,
        store,
        allowed_hosts,
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
    println!("redirect URIs must be on app.example.com or localhost");
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
