//! An async software statement step (RFC 7591 §2.3), state passed from a validator to a
//! responder through the context's items, and an extension member kept with the client.
//!
//! - `SoftwareStatements` overrides `Validator::validate_software_statement`. It reads the raw
//!   `software_statement` member, looks up the key of the issuer it names in `TrustedIssuers`
//!   (behind an async lock, as a list loaded from a database would be), verifies the HS256
//!   signature with `jsonwebtoken`, merges the claims into the request before the metadata is
//!   read, records the statement with `set_software_statement`, and leaves the issuer in the
//!   items map as `StatementIssuer`.
//! - It also overrides `Validator::read_metadata` to keep the `x_tenant` member as an extension:
//!   stored with the client, returned in every response, and kept on update when sent again.
//! - `StatementIssuerMember` overrides `Responder::respond` to add `software_statement_issuer`
//!   from the items map, in the response to the request that carried the statement.
//!
//! The statements here are signed with a shared demo key so the example runs alone; a real
//! deployment verifies issuers' public keys (RS256, ES256) the same way.
//!
//! Run it with `cargo run -p registrar-server --example software_statement_step` (set
//! `REGISTRAR_EXAMPLE_PORT` for a fixed port); it prints its URL, an initial access token, a
//! signed statement and a `curl` command that registers a client with it.

use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use registrar_core::initial_token::{InitialTokenOptions, mint_initial_token};
use registrar_core::respond;
use registrar_core::secrets::{OsRandom, random_token};
use registrar_core::store::Store;
use registrar_core::validate::{self, StepResult};
use registrar_core::{
    ClientInformation, Pipeline, RegistrationContext, RegistrationError, Responder, Settings,
    SoftwareStatement, Stores, Validator,
};
use registrar_server::{AppState, TokenOptions};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::RwLock;
use url::Url;

/// Any error of setting up the example.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// The extension member this example keeps with each client.
pub const TENANT: &str = "x_tenant";

/// The member the responder adds.
pub const ISSUER_MEMBER: &str = "software_statement_issuer";

/// Claims of the JWT itself, which describe the statement rather than the client, and the
/// members only the server sets (RFC 7591 §3.2.1, RFC 7592 §2.2): never merged into the request.
const NOT_METADATA: [&str; 13] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "client_id",
    "client_secret",
    "client_id_issued_at",
    "client_secret_expires_at",
    "registration_access_token",
    "registration_client_uri",
];

/// The issuers whose statements are accepted, each with the key that verifies its signatures.
#[derive(Default)]
pub struct TrustedIssuers {
    keys: RwLock<HashMap<String, Vec<u8>>>,
}

impl TrustedIssuers {
    /// Accepts statements of `issuer` signed (HS256) with `key`.
    pub async fn trust(&self, issuer: impl Into<String>, key: &[u8]) {
        self.keys.write().await.insert(issuer.into(), key.to_vec());
    }

    /// The key of `issuer`, if it is trusted.
    async fn key(&self, issuer: &str) -> Option<Vec<u8>> {
        self.keys.read().await.get(issuer).cloned()
    }
}

impl fmt::Debug for TrustedIssuers {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The keys are secrets: never in a log.
        formatter.write_str("TrustedIssuers(..)")
    }
}

/// The issuer of the statement a request carried: left in the items map by
/// [`SoftwareStatements`] for [`StatementIssuerMember`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementIssuer(pub String);

/// Verifies software statements and keeps the `x_tenant` extension; every other validation
/// step is the default one.
#[derive(Debug, Clone)]
pub struct SoftwareStatements {
    issuers: Arc<TrustedIssuers>,
}

impl SoftwareStatements {
    /// Accepts statements of the issuers in `issuers`.
    pub fn new(issuers: Arc<TrustedIssuers>) -> Self {
        Self { issuers }
    }

    /// The issuer and the claims of `statement`, once its signature and expiry are checked.
    async fn verify(
        &self,
        statement: &str,
        now: i64,
    ) -> Result<(String, Map<String, Value>), RegistrationError> {
        // Which key checks the signature depends on who claims to have signed it; nothing else
        // of this unverified read is used.
        let unverified: Map<String, Value> =
            jsonwebtoken::dangerous::insecure_decode_claims(statement)
                .map_err(|_| invalid("software_statement must be a JWT"))?;
        let Some(Value::String(issuer)) = unverified.get("iss") else {
            return Err(invalid("software_statement must have an iss claim"));
        };
        let Some(key) = self.issuers.key(issuer).await else {
            // The issuer is not echoed: it is the caller's text, and an error description may
            // not carry every character (RFC 6749 §5.2).
            return Err(RegistrationError::UnapprovedSoftwareStatement(
                "the issuer of software_statement is not trusted".to_owned(),
            ));
        };
        // Only HS256: a statement that names another algorithm, `none` included, is refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.required_spec_claims = HashSet::from(["iss".to_owned()]);
        // A statement is issued to the software, not to one server, so it has no audience here.
        validation.validate_aud = false;
        // Expiry is checked below against the request's injected clock, not the system's.
        validation.validate_exp = false;
        let verified = jsonwebtoken::decode::<Map<String, Value>>(
            statement,
            &DecodingKey::from_secret(&key),
            &validation,
        )
        .map_err(|_| invalid("the signature of software_statement does not verify"))?;
        match verified.claims.get("exp") {
            None => {}
            Some(exp) if exp.as_i64().is_some_and(|exp| now < exp) => {}
            Some(_) => return Err(invalid("software_statement has expired")),
        }
        Ok((issuer.clone(), verified.claims))
    }
}

fn invalid(description: &str) -> RegistrationError {
    RegistrationError::InvalidSoftwareStatement(description.to_owned())
}

#[async_trait]
impl Validator for SoftwareStatements {
    async fn validate_software_statement(&self, cx: &mut RegistrationContext) -> StepResult {
        let statement = match cx.request().get("software_statement") {
            None => return Ok(()),
            Some(Value::String(statement)) => statement.clone(),
            Some(_) => return Err(invalid("software_statement must be a string")),
        };
        let (issuer, claims) = self.verify(&statement, cx.now()).await?;
        // RFC 7591 §3.1.1: the statement's values take precedence over the plain JSON members,
        // so a client cannot override what its issuer vouched for.
        let request = cx.request_mut();
        for (name, value) in &claims {
            if !NOT_METADATA.contains(&name.as_str()) {
                request.insert(name.clone(), value.clone());
            }
        }
        let software_id = claims
            .get("software_id")
            .and_then(|value| value.as_str())
            .map(str::to_owned);
        cx.set_software_statement(SoftwareStatement {
            issuer: issuer.clone(),
            software_id,
            claims,
            // This example's statements add claims on top of an initial access token.
            authorizes_registration: false,
        });
        cx.items_mut().insert(StatementIssuer(issuer));
        Ok(())
    }

    async fn read_metadata(&self, cx: &mut RegistrationContext) -> StepResult {
        // Keep the default step, then keep our extension: from the plain request or, merged
        // above, from the statement.
        validate::read_metadata(cx)?;
        match cx.request().get(TENANT) {
            None | Some(Value::Null) => Ok(()),
            Some(Value::String(_)) => cx.keep_extension(TENANT),
            Some(_) => Err(RegistrationError::InvalidClientMetadata(format!(
                "{TENANT} must be a string"
            ))),
        }
    }
}

/// Adds `software_statement_issuer` to the response of a request whose statement was accepted.
#[derive(Debug, Default, Clone, Copy)]
pub struct StatementIssuerMember;

#[async_trait]
impl Responder for StatementIssuerMember {
    async fn respond(
        &self,
        cx: &mut RegistrationContext,
    ) -> Result<ClientInformation, RegistrationError> {
        // Keep the default response, then add ours.
        let mut information = respond::client_information(cx)?;
        if let Some(StatementIssuer(issuer)) = cx.items().get::<StatementIssuer>() {
            information.insert_member(ISSUER_MEMBER, Value::String(issuer.clone()));
        }
        Ok(information)
    }
}

/// Registrar's state for `issuer` over `store`, accepting the statements of `trusted`.
pub async fn state(
    issuer: Url,
    store: Arc<dyn Store>,
    trusted: Arc<TrustedIssuers>,
) -> Result<AppState, BoxError> {
    // A fresh secret per run is enough here, because the database is temporary too. A real
    // deployment reads it from its secret store, the same on every instance.
    let server_secret = random_token(&OsRandom, 32);
    let pipeline = Pipeline::builder(Settings::new(issuer), Stores::from_backend(store))
        .server_secret(server_secret.as_bytes())
        .validator(Arc::new(SoftwareStatements::new(trusted)))
        .responder(Arc::new(StatementIssuerMember))
        .build()?;
    Ok(AppState::new(pipeline, TokenOptions::default()).await?)
}

/// The full Registrar API.
pub fn app(state: AppState) -> Router {
    registrar_server::router(state)
}

/// A statement of `issuer` with `claims`, signed HS256 with `key`, as an issuer would make it.
pub fn sign_statement(
    issuer: &str,
    claims: Value,
    key: &[u8],
) -> Result<String, jsonwebtoken::errors::Error> {
    let mut claims = match claims {
        Value::Object(claims) => claims,
        _ => Map::new(),
    };
    claims.insert("iss".to_owned(), Value::String(issuer.to_owned()));
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(key),
    )
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    // A throwaway database: every run starts empty.
    let folder = tempfile::tempdir()?;
    let database = folder.path().join("registrar.db");
    let store = registrar_store::connect(&format!("sqlite://{}", database.display())).await?;
    let listener = TcpListener::bind(("127.0.0.1", port()?)).await?;
    let address = listener.local_addr()?;
    let statement_issuer = "https://statements.example.com";
    let demo_key = random_token(&OsRandom, 32);
    let trusted = Arc::new(TrustedIssuers::default());
    trusted.trust(statement_issuer, demo_key.as_bytes()).await;
    let state = state(Url::parse(&format!("http://{address}"))?, store, trusted).await?;
    let services = state.pipeline.services();
    let (token, _) = mint_initial_token(
        services.stores().initial_tokens().as_ref(),
        services.generator().as_ref(),
        services.hasher(),
        services.clock().now(),
        InitialTokenOptions::default(),
    )
    .await?;
    let statement = sign_statement(
        statement_issuer,
        json!({ "client_name": "Statement App", "software_id": "demo-app", TENANT: "acme" }),
        demo_key.as_bytes(),
    )?;

    println!("listening on http://{address}");
    println!(
        "curl -i http://{address}/connect/dcr -H 'Authorization: Bearer {}' \
         -H 'Content-Type: application/json' \
         -d '{{\"redirect_uris\":[\"https://app.example.com/callback\"],\
         \"software_statement\":\"{statement}\"}}'",
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
