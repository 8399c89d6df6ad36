//! A custom `ClientStore` swapped in alone: clients in memory, everything else on SQLite.
//!
//! `MemoryClients` implements every method of `registrar_core::store::ClientStore` as its doc
//! comments specify: a duplicate `client_id` or registration access token is
//! `StoreError::Duplicate`, `replace_client` is a compare-and-set that keeps the replaced token
//! valid until `previous_valid_until`, revocation forgets the current and the previous token,
//! and clients are listed oldest first. It holds no initial access tokens, so
//! `Stores::with_clients` makes the pipeline take a token's use from SQLite before the insert
//! (`TokenConsumption::BeforeInsert`) and pass `None` to `insert_client`.
//!
//! Run it with `cargo run -p registrar-server --example memory_client_store` (set
//! `REGISTRAR_EXAMPLE_PORT` for a fixed port); it prints its URL, an initial access token and a
//! `curl` command that registers a client. Clients are gone when it stops.

use std::collections::HashMap;
use std::error::Error;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use axum::Router;
use registrar_core::error::StoreError;
use registrar_core::initial_token::{InitialTokenOptions, mint_initial_token};
use registrar_core::lifecycle::{ExpiredClient, ExpiryCutoffs};
use registrar_core::secrets::{OsRandom, TokenHash, random_token};
use registrar_core::store::{ClientStore, ClientSummary, RegisteredClient, Store, TokenCheck};
use registrar_core::{ClientId, Pipeline, Settings, Stores};
use registrar_server::{AppState, TokenOptions};
use tokio::net::TcpListener;
use url::Url;

/// Any error of setting up the example.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// One client and the registration access token it had before its last rotation.
#[derive(Debug, Clone)]
struct Entry {
    client: RegisteredClient,
    /// The replaced token and the instant it stops working (exclusive).
    previous: Option<(TokenHash, i64)>,
}

impl Entry {
    /// Whether `check.presented` is the current token, or the previous one within its grace.
    fn accepts(&self, check: TokenCheck<'_>) -> bool {
        let current = self
            .client
            .registration_token
            .as_ref()
            .is_some_and(|token| token.matches(check.presented));
        let previous = self.previous.as_ref().is_some_and(|(token, valid_until)| {
            check.now < *valid_until && token.matches(check.presented)
        });
        current || previous
    }

    /// Whether `token` is this client's current registration access token.
    fn has_token(&self, token: &TokenHash) -> bool {
        self.client
            .registration_token
            .as_ref()
            .is_some_and(|current| current.matches(token))
    }
}

/// Registered clients in process memory: lost on restart, and not shared between instances.
#[derive(Debug, Default)]
pub struct MemoryClients {
    // A std mutex: no lock is held across an `.await`.
    entries: Mutex<HashMap<ClientId, Entry>>,
}

impl MemoryClients {
    fn entries(&self) -> Result<MutexGuard<'_, HashMap<ClientId, Entry>>, StoreError> {
        self.entries
            .lock()
            .map_err(|_| StoreError::Backend("a writer panicked holding the client map".to_owned()))
    }
}

/// Whether a client other than `client_id` already has `token` as its current token, which
/// would make `find_client_by_registration_token` ambiguous.
fn token_taken(
    entries: &HashMap<ClientId, Entry>,
    client_id: &ClientId,
    token: Option<&TokenHash>,
) -> bool {
    let Some(token) = token else {
        return false;
    };
    entries
        .iter()
        .any(|(other_id, entry)| other_id != client_id && entry.has_token(token))
}

/// Inserts a new client into the locked entries.
fn insert_entry(
    entries: &mut HashMap<ClientId, Entry>,
    client: &RegisteredClient,
    initial_token: Option<&TokenHash>,
) -> Result<(), StoreError> {
    // This store holds no initial access tokens, so every one is unknown to it. The pipeline
    // knows (`Stores::with_clients`): it takes the use from the token store first and passes
    // `None` here.
    if initial_token.is_some() {
        return Err(StoreError::InitialTokenRejected);
    }
    if entries.contains_key(&client.client_id) {
        return Err(StoreError::Duplicate("client_id"));
    }
    if token_taken(
        entries,
        &client.client_id,
        client.registration_token.as_ref(),
    ) {
        return Err(StoreError::Duplicate("registration_token"));
    }
    entries.insert(
        client.client_id.clone(),
        Entry {
            client: client.clone(),
            previous: None,
        },
    );
    Ok(())
}

#[async_trait]
impl ClientStore for MemoryClients {
    async fn insert_client(
        &self,
        client: &RegisteredClient,
        initial_token: Option<&TokenHash>,
        _now: i64,
    ) -> Result<(), StoreError> {
        insert_entry(&mut *self.entries()?, client, initial_token)
    }

    async fn insert_client_within(
        &self,
        client: &RegisteredClient,
        initial_token: Option<&TokenHash>,
        _now: i64,
        max_clients: u64,
    ) -> Result<(), StoreError> {
        // Count and insert under the one lock, so that the cap is exact.
        let mut entries = self.entries()?;
        if let Some(policy) = &client.policy {
            let held = entries
                .values()
                .filter(|entry| entry.client.policy.as_ref() == Some(policy))
                .count();
            if u64::try_from(held).unwrap_or(u64::MAX) >= max_clients {
                return Err(StoreError::PolicyFull);
            }
        }
        insert_entry(&mut entries, client, initial_token)
    }

    async fn count_clients_with_policy(&self, policy: &str) -> Result<u64, StoreError> {
        let count = self
            .entries()?
            .values()
            .filter(|entry| entry.client.policy.as_deref() == Some(policy))
            .count();
        Ok(u64::try_from(count).unwrap_or(u64::MAX))
    }

    async fn replace_client_keeping_token(
        &self,
        client: &RegisteredClient,
    ) -> Result<bool, StoreError> {
        let mut entries = self.entries()?;
        let Some(entry) = entries.get_mut(&client.client_id) else {
            return Ok(false);
        };
        entry.client = RegisteredClient {
            client_id_issued_at: entry.client.client_id_issued_at,
            registration_token: entry.client.registration_token.clone(),
            initial_token_id: entry.client.initial_token_id.clone(),
            registered_anonymously: entry.client.registered_anonymously,
            policy: entry.client.policy.clone(),
            state: entry.client.state,
            ..client.clone()
        };
        Ok(true)
    }

    async fn get_client(
        &self,
        client_id: &ClientId,
    ) -> Result<Option<RegisteredClient>, StoreError> {
        Ok(self
            .entries()?
            .get(client_id)
            .map(|entry| entry.client.clone()))
    }

    async fn find_client_by_registration_token(
        &self,
        check: TokenCheck<'_>,
    ) -> Result<Option<RegisteredClient>, StoreError> {
        // A linear scan keeps the example short; an index by token hash would avoid it.
        Ok(self
            .entries()?
            .values()
            .find(|entry| entry.accepts(check))
            .map(|entry| entry.client.clone()))
    }

    async fn replace_client(
        &self,
        client: &RegisteredClient,
        check: TokenCheck<'_>,
        previous_valid_until: i64,
    ) -> Result<bool, StoreError> {
        // Check and write under one lock: that is the compare-and-set.
        let mut entries = self.entries()?;
        match entries.get(&client.client_id) {
            Some(entry) if entry.accepts(check) => {}
            _ => return Ok(false),
        }
        if token_taken(
            &entries,
            &client.client_id,
            client.registration_token.as_ref(),
        ) {
            return Err(StoreError::Duplicate("registration_token"));
        }
        let Some(entry) = entries.get_mut(&client.client_id) else {
            return Ok(false);
        };
        // The token being replaced is the current one, whichever token was presented.
        entry.previous = match &entry.client.registration_token {
            Some(replaced) if previous_valid_until > check.now => {
                Some((replaced.clone(), previous_valid_until))
            }
            _ => None,
        };
        // The identifier, when it was issued and how it was registered never change.
        entry.client = RegisteredClient {
            client_id: entry.client.client_id.clone(),
            client_id_issued_at: entry.client.client_id_issued_at,
            initial_token_id: entry.client.initial_token_id.clone(),
            registered_anonymously: entry.client.registered_anonymously,
            state: entry.client.state,
            ..client.clone()
        };
        Ok(true)
    }

    async fn revoke_registration_token(&self, client_id: &ClientId) -> Result<(), StoreError> {
        if let Some(entry) = self.entries()?.get_mut(client_id) {
            entry.client.registration_token = None;
            entry.previous = None;
        }
        Ok(())
    }

    async fn delete_client(&self, client_id: &ClientId) -> Result<bool, StoreError> {
        Ok(self.entries()?.remove(client_id).is_some())
    }

    async fn list_clients(&self) -> Result<Vec<ClientSummary>, StoreError> {
        let mut summaries: Vec<ClientSummary> = self
            .entries()?
            .values()
            .map(|entry| ClientSummary {
                client_id: entry.client.client_id.clone(),
                client_name: entry.client.metadata.client_name.clone(),
                client_id_issued_at: entry.client.client_id_issued_at,
                grant_types: entry.client.metadata.grant_types.clone(),
                state: entry.client.state,
            })
            .collect();
        // Oldest first; clients issued in the same second by id, as the SQL backends order them.
        summaries.sort_by(|left, right| {
            (left.client_id_issued_at, left.client_id.as_str())
                .cmp(&(right.client_id_issued_at, right.client_id.as_str()))
        });
        Ok(summaries)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.entries().map(|_| ())
    }

    async fn record_client_use(&self, client_id: &ClientId, now: i64) -> Result<(), StoreError> {
        if let Some(entry) = self.entries()?.get_mut(client_id) {
            let last = entry.client.state.last_used_at.get_or_insert(now);
            *last = (*last).max(now);
        }
        Ok(())
    }

    async fn set_client_blocked(
        &self,
        client_id: &ClientId,
        blocked_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let mut entries = self.entries()?;
        let Some(entry) = entries.get_mut(client_id) else {
            return Ok(false);
        };
        entry.client.state.blocked_at = blocked_at;
        Ok(true)
    }

    async fn expired_clients(
        &self,
        cutoffs: &ExpiryCutoffs,
        limit: u32,
    ) -> Result<Vec<ExpiredClient>, StoreError> {
        // A scan again; `ExpiryCutoffs::expiry` is the rule every store applies.
        let mut expired: Vec<(i64, ExpiredClient)> = self
            .entries()?
            .values()
            .filter(|entry| entry.client.state.blocked_at.is_none())
            .filter_map(|entry| {
                let client = &entry.client;
                let expiry = cutoffs.expiry(client.client_id_issued_at, &client.state)?;
                let expired = ExpiredClient {
                    client_id: client.client_id.clone(),
                    expiry,
                };
                Some((client.client_id_issued_at, expired))
            })
            .collect();
        expired.sort_by_key(|(issued_at, _)| *issued_at);
        expired.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(expired.into_iter().map(|(_, expired)| expired).collect())
    }

    async fn delete_expired_client(
        &self,
        client_id: &ClientId,
        cutoffs: &ExpiryCutoffs,
    ) -> Result<bool, StoreError> {
        // Check and delete under one lock, so that a use recorded since keeps the client.
        let mut entries = self.entries()?;
        let still_expired = entries.get(client_id).is_some_and(|entry| {
            let client = &entry.client;
            client.state.blocked_at.is_none()
                && cutoffs
                    .expiry(client.client_id_issued_at, &client.state)
                    .is_some()
        });
        Ok(still_expired && entries.remove(client_id).is_some())
    }
}

/// Registrar's state for `issuer`: clients in `clients`, every other store on `sqlite`.
pub async fn state(
    issuer: Url,
    sqlite: Arc<dyn Store>,
    clients: Arc<MemoryClients>,
) -> Result<AppState, BoxError> {
    // A fresh secret per run is enough here, because the database is temporary too. A real
    // deployment reads it from its secret store, the same on every instance.
    let server_secret = random_token(&OsRandom, 32);
    let stores = Stores::from_backend(sqlite).with_clients(clients);
    let pipeline = Pipeline::builder(Settings::new(issuer), stores)
        .server_secret(server_secret.as_bytes())
        .build()?;
    Ok(AppState::new(pipeline, TokenOptions::default()).await?)
}

/// The full Registrar API.
pub fn app(state: AppState) -> Router {
    registrar_server::router(state)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    // Initial access tokens and signing keys go to a throwaway database.
    let folder = tempfile::tempdir()?;
    let database = folder.path().join("registrar.db");
    let sqlite = registrar_store::connect(&format!("sqlite://{}", database.display())).await?;
    let listener = TcpListener::bind(("127.0.0.1", port()?)).await?;
    let address = listener.local_addr()?;
    let clients = Arc::new(MemoryClients::default());
    let state = state(Url::parse(&format!("http://{address}"))?, sqlite, clients).await?;
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
