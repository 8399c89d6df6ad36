//! A custom client identifier format: `app-` and 32 lowercase hex digits.
//!
//! `AppClientIds` overrides `Processor::generate_client_id` alone and draws its 128 random bits
//! from the pipeline's injected random source (`cx.services().generator()`), so a test that
//! injects a predictable generator gets predictable identifiers too. Every other processor step
//! (defaults, secret, registration access token) is the default one.
//!
//! Run it with `cargo run -p registrar-server --example client_id_format` (set
//! `REGISTRAR_EXAMPLE_PORT` for a fixed port); it prints its URL, an initial access token and a
//! `curl` command that registers a client.

use std::error::Error;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use registrar_core::initial_token::{InitialTokenOptions, mint_initial_token};
use registrar_core::secrets::{OsRandom, random_token};
use registrar_core::store::Store;
use registrar_core::{ClientId, Pipeline, Processor, RegistrationContext, Settings, Stores};
use registrar_server::{AppState, TokenOptions};
use tokio::net::TcpListener;
use url::Url;

/// Any error of setting up the example.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// Where every identifier this processor issues starts.
pub const CLIENT_ID_PREFIX: &str = "app-";

/// Issues client identifiers `app-` + 32 hex digits; every other step is the default one.
#[derive(Debug, Default, Clone, Copy)]
pub struct AppClientIds;

impl Processor for AppClientIds {
    fn generate_client_id(&self, cx: &RegistrationContext) -> ClientId {
        let mut random = [0u8; 16];
        cx.services().generator().fill(&mut random);
        let mut text = String::with_capacity(CLIENT_ID_PREFIX.len() + 2 * random.len());
        text.push_str(CLIENT_ID_PREFIX);
        for byte in random {
            // Writing to a `String` cannot fail.
            let _ = write!(text, "{byte:02x}");
        }
        ClientId::parse(&text)
            .unwrap_or_else(|| unreachable!("letters, digits and '-' are unreserved characters"))
    }
}

/// Registrar's state for `issuer` over `store`, with [`AppClientIds`] as its processor.
pub async fn state(issuer: Url, store: Arc<dyn Store>) -> Result<AppState, BoxError> {
    // A fresh secret per run is enough here, because the database is temporary too. A real
    // deployment reads it from its secret store, the same on every instance.
    let server_secret = random_token(&OsRandom, 32);
    let pipeline = Pipeline::builder(Settings::new(issuer), Stores::from_backend(store))
        .server_secret(server_secret.as_bytes())
        .processor(Arc::new(AppClientIds))
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
    let state = state(Url::parse(&format!("http://{address}"))?, store).await?;
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
