//! The store traits: what the pipeline and the CLI need from a backend, and nothing about how.
//!
//! This is an API boundary. Every backend (SQLite, PostgreSQL) passes the same contract suite,
//! `contract` (feature `contract`), which a user's own store can run too. Atomic steps (consuming an initial access token with the insert, rotating
//! a registration access token) are single methods, so no backend can split them.

use std::fmt::Debug;

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::audit::{AuditEvent, EventStore, NoEvents};
use crate::authz::{AuthorizationStore, UserStore};
use crate::error::StoreError;
use crate::ids::ClientId;
use crate::lifecycle::{
    self, ClientState, ExpiredClient, ExpiryCutoffs, LifecycleSettings, Standing,
};
use crate::metadata::ClientMetadata;
use crate::policy::{Policies, Policy};
use crate::secrets::TokenHash;
use crate::token::{ReplayCache, SigningKeyStore};

mod idempotency;
mod recorded;
mod unavailable;

pub use idempotency::{IdempotencyRecord, IdempotencyStore};
pub use recorded::{ClientChange, RecordedClientStore, apply_change};
pub use unavailable::Unavailable;

/// A client secret as stored: its hash and when it stops working.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSecret {
    /// The hash the presented secret is checked against.
    pub hash: TokenHash,
    /// Seconds since the epoch; 0 means never (RFC 7591 §3.2.1).
    pub expires_at: i64,
    /// The secret itself, AEAD-encrypted under the server secret (`token::SecretCipher`, with
    /// the client id as associated data). Only for `client_secret_jwt`, whose HMAC assertions
    /// need the secret; every other method keeps the hash alone.
    pub encrypted: Option<String>,
}

impl StoredSecret {
    /// Whether the secret no longer authenticates at `now`; 0 means it never expires.
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at != 0 && now >= self.expires_at
    }
}

/// A registered client as the store holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisteredClient {
    /// The identifier the server issued.
    pub client_id: ClientId,
    /// When the client id was issued, in seconds since the epoch (RFC 7591 §3.2.1); kept across
    /// updates.
    pub client_id_issued_at: i64,
    /// The client secret; `None` for a method that uses none.
    pub secret: Option<StoredSecret>,
    /// The hash of the current registration access token. `None` once it was revoked.
    pub registration_token: Option<TokenHash>,
    /// The validated metadata with the server's defaults applied.
    pub metadata: ClientMetadata,
    /// The initial access token this client was registered with, for provenance.
    pub initial_token_id: Option<String>,
    /// Whether an anonymous caller registered the client (open registration): the rules of open
    /// registration then apply to its updates too. Set on registration, never changed.
    pub registered_anonymously: bool,
    /// When the client was registered or last updated, in seconds since the epoch.
    pub updated_at: i64,
    /// The policy the client was registered under (`policies.NAME`, or a built-in one); it
    /// governs its updates and its use of introspection. `None` for clients registered before
    /// policies existed.
    pub policy: Option<String>,
    /// Extension members a custom step kept (`RegistrationContext::keep_extension`): stored with
    /// the client and returned beside its metadata. Empty unless a step keeps one.
    pub extensions: Map<String, Value>,
    /// Its last recorded use and whether it is blocked. Written only through
    /// [`ClientStore::record_client_use`] and [`ClientStore::set_client_blocked`]: an insert stores
    /// it as given, and no replacement changes it.
    pub state: ClientState,
}

impl RegisteredClient {
    /// Whether the client may be used at `now` under `settings`
    /// ([`lifecycle::standing`]).
    pub fn standing(&self, settings: &LifecycleSettings, now: i64) -> Standing {
        lifecycle::standing(self.client_id_issued_at, &self.state, settings, now)
    }

    /// The policy that governs the client now ([`Policies::for_client`]); a metadata document
    /// client whose policy is no longer configured gets the one of the `cimd` route, never a
    /// configured `open` policy.
    pub fn policy_in(&self, policies: &Policies) -> Arc<Policy> {
        if self.client_id.is_metadata_document() {
            return self
                .policy
                .as_deref()
                .and_then(|name| policies.get(name))
                .cloned()
                .unwrap_or_else(|| policies.metadata_document_policy());
        }
        policies.for_client(self.policy.as_deref(), self.registered_anonymously)
    }
}

/// One row of `registrar clients list`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSummary {
    /// The client's identifier.
    pub client_id: ClientId,
    /// Its `client_name`, if it has one.
    pub client_name: Option<String>,
    /// When its client id was issued, in seconds since the epoch.
    pub client_id_issued_at: i64,
    /// Its registered grant types.
    pub grant_types: Vec<String>,
    /// When it was last used and whether it is blocked, for its standing.
    pub state: ClientState,
}

impl ClientSummary {
    /// Whether the client may be used at `now` under `settings`
    /// ([`lifecycle::standing`]).
    pub fn standing(&self, settings: &LifecycleSettings, now: i64) -> Standing {
        lifecycle::standing(self.client_id_issued_at, &self.state, settings, now)
    }
}

/// How many clients one policy holds ([`ClientStore::count_clients_by_policy`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyCount {
    /// The policy's name; `None` for clients registered before policies existed.
    pub policy: Option<String>,
    /// How many clients it holds.
    pub clients: u64,
}

/// How a registration access token may be presented: the current one, or the previous one within
/// its grace period.
#[derive(Debug, Clone, Copy)]
pub struct TokenCheck<'a> {
    /// The hash of the token the caller presented.
    pub presented: &'a TokenHash,
    /// The time of the request, against which the grace period is measured.
    pub now: i64,
}

/// Where registered clients live, for registration and management (RFC 7591, RFC 7592).
#[async_trait]
pub trait ClientStore: Send + Sync + Debug {
    /// Inserts a client. With `initial_token`, consumes one use of that token in the same
    /// transaction, failing with `StoreError::InitialTokenRejected` if it is unknown, expired or
    /// used up, in which case nothing is inserted.
    async fn insert_client(
        &self,
        client: &RegisteredClient,
        initial_token: Option<&TokenHash>,
        now: i64,
    ) -> Result<(), StoreError>;

    /// Inserts a client as [`ClientStore::insert_client`] does, unless `client.policy` already
    /// holds `max_clients` clients: then nothing is inserted, no token use is taken, and the
    /// error is `StoreError::PolicyFull`. The SQL backends count and insert in one transaction,
    /// exactly; this default counts first, so concurrent registrations can overshoot the cap.
    async fn insert_client_within(
        &self,
        client: &RegisteredClient,
        initial_token: Option<&TokenHash>,
        now: i64,
        max_clients: u64,
    ) -> Result<(), StoreError> {
        if let Some(policy) = &client.policy
            && self.count_clients_with_policy(policy).await? >= max_clients
        {
            return Err(StoreError::PolicyFull);
        }
        self.insert_client(client, initial_token, now).await
    }

    /// How many clients are registered under `policy`.
    async fn count_clients_with_policy(&self, policy: &str) -> Result<u64, StoreError>;

    /// How many clients are registered, by the policy they were registered under, for the
    /// metrics' client gauge (read at most every few seconds, never per request). The default
    /// counts [`ClientStore::list_clients`], all under `policy: None`: a store that keeps
    /// policies counts by them itself, as the SQL backends do with one `GROUP BY`.
    async fn count_clients_by_policy(&self) -> Result<Vec<PolicyCount>, StoreError> {
        let clients = self.list_clients().await?;
        Ok(vec![PolicyCount {
            policy: None,
            clients: u64::try_from(clients.len()).unwrap_or(u64::MAX),
        }])
    }

    /// An administrator's update: replaces the client's metadata, secret and extensions and
    /// leaves its registration access token as it is. Returns false when the client is gone.
    async fn replace_client_keeping_token(
        &self,
        client: &RegisteredClient,
    ) -> Result<bool, StoreError>;

    /// The client with that id, or `None`.
    async fn get_client(
        &self,
        client_id: &ClientId,
    ) -> Result<Option<RegisteredClient>, StoreError>;

    /// The client whose current registration access token, or previous one still within its grace
    /// period, hashes to `check.presented`.
    async fn find_client_by_registration_token(
        &self,
        check: TokenCheck<'_>,
    ) -> Result<Option<RegisteredClient>, StoreError>;

    /// Replaces the client's metadata and secret and rotates its registration access token to
    /// `client.registration_token`, as one compare-and-set: only while `check` still holds.
    /// The token being replaced stays valid until `previous_valid_until` (no grace when that is
    /// not after `check.now`). Returns false, changing nothing, when the check no longer holds.
    async fn replace_client(
        &self,
        client: &RegisteredClient,
        check: TokenCheck<'_>,
        previous_valid_until: i64,
    ) -> Result<bool, StoreError>;

    /// Revokes every registration access token of the client (RFC 7592 §2.1).
    async fn revoke_registration_token(&self, client_id: &ClientId) -> Result<(), StoreError>;

    /// Deletes the client with its secret and tokens. Returns false when there was none.
    async fn delete_client(&self, client_id: &ClientId) -> Result<bool, StoreError>;

    /// Every client, oldest first.
    async fn list_clients(&self) -> Result<Vec<ClientSummary>, StoreError>;

    /// Records that the client was used at `now`: sets its last use unless the stored one is
    /// already at or after `now`. Callers write only when [`LifecycleSettings::use_is_due`], so
    /// this is at most one write per client per hour.
    async fn record_client_use(&self, client_id: &ClientId, now: i64) -> Result<(), StoreError>;

    /// Blocks the client (`blocked_at` set) or unblocks it (`None`). Returns false when there is
    /// no such client.
    async fn set_client_blocked(
        &self,
        client_id: &ClientId,
        blocked_at: Option<i64>,
    ) -> Result<bool, StoreError>;

    /// Up to `limit` clients that have expired by `cutoffs` ([`ExpiryCutoffs::expiry`]) and
    /// are not blocked, oldest first: what the housekeeping deletes. Empty when `cutoffs` is.
    async fn expired_clients(
        &self,
        cutoffs: &ExpiryCutoffs,
        limit: u32,
    ) -> Result<Vec<ExpiredClient>, StoreError>;

    /// Deletes the client with its secret, tokens and grants, as
    /// [`ClientStore::delete_client`] does, but only if it is still expired by `cutoffs` and not
    /// blocked, so that a use recorded since the client was selected keeps it. Returns whether
    /// it was deleted.
    async fn delete_expired_client(
        &self,
        client_id: &ClientId,
        cutoffs: &ExpiryCutoffs,
    ) -> Result<bool, StoreError>;

    /// Whether the backend answers; for readiness.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// An initial access token as stored. The token itself is never stored.
#[derive(Debug, Clone, PartialEq)]
pub struct InitialAccessToken {
    /// A public handle for listing and revoking, unrelated to the token value.
    pub id: String,
    /// The hash the presented bearer token is looked up by.
    pub token_hash: TokenHash,
    /// When the token was minted, in seconds since the epoch.
    pub created_at: i64,
    /// When the token stops working, in seconds since the epoch; `None` means never.
    pub expires_at: Option<i64>,
    /// How many clients the token may register; `None` means no limit.
    pub max_uses: Option<u32>,
    /// How many clients it has registered so far.
    pub uses: u32,
    /// A note for whoever lists tokens later.
    pub note: Option<String>,
    /// The policy clients registered with this token get (`initial-token create --policy`);
    /// `None` for the default policy.
    pub policy: Option<String>,
}

impl InitialAccessToken {
    /// Whether the token may register one more client at `now`.
    pub fn is_usable(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|expires_at| now < expires_at)
            && self.max_uses.is_none_or(|max_uses| self.uses < max_uses)
    }
}

/// Where initial access tokens live (RFC 7591 §3: they authorize registration).
#[async_trait]
pub trait InitialAccessTokenStore: Send + Sync + Debug {
    /// Stores a newly minted token.
    async fn insert_initial_token(&self, token: &InitialAccessToken) -> Result<(), StoreError>;
    /// The token with that hash, usable or not; `None` when there is none.
    async fn find_initial_token(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<InitialAccessToken>, StoreError>;
    /// Every token, oldest first.
    async fn list_initial_tokens(&self) -> Result<Vec<InitialAccessToken>, StoreError>;
    /// Deletes the token with that id, so it registers no more clients; returns false when
    /// there was none.
    async fn revoke_initial_token(&self, id: &str) -> Result<bool, StoreError>;
    /// Takes one use of the token if it is usable at `now`, as one atomic step; returns false,
    /// changing nothing, when it is unknown, expired or used up. The pipeline calls this only
    /// when the client store is a different backend (see [`Stores`]); a backend that holds both
    /// consumes the use inside [`ClientStore::insert_client`] instead.
    async fn consume_initial_token(
        &self,
        token_hash: &TokenHash,
        now: i64,
    ) -> Result<bool, StoreError>;
}

/// A backend that holds everything, as `registrar-store`'s SQLite and PostgreSQL stores do.
pub trait Store:
    ClientStore
    + InitialAccessTokenStore
    + IdempotencyStore
    + SigningKeyStore
    + ReplayCache
    + UserStore
    + AuthorizationStore
    + EventStore
    + RecordedClientStore
{
}

impl<
    T: ClientStore
        + InitialAccessTokenStore
        + IdempotencyStore
        + SigningKeyStore
        + ReplayCache
        + UserStore
        + AuthorizationStore
        + EventStore
        + RecordedClientStore,
> Store for T
{
}

/// How a registration with an initial access token takes the token's use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenConsumption {
    /// The client store holds the tokens too and consumes the use in the insert's transaction:
    /// exact under concurrency and crashes alike.
    WithInsert,
    /// The stores are separate: the use is taken first with
    /// [`InitialAccessTokenStore::consume_initial_token`], then the client is inserted. A crash or
    /// a failed insert in between costs one use, never grants an extra registration.
    BeforeInsert,
}

/// The stores Registrar works on, each injectable on its own: swap one and keep the rest.
///
/// ```no_run
/// # use std::sync::Arc;
/// # use registrar_core::store::{ClientStore, Store, Stores};
/// # fn example(backend: Arc<dyn Store>, my_clients: Arc<dyn ClientStore>) {
/// let stores = Stores::from_backend(backend).with_clients(my_clients);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Stores {
    // Private, so that a swap always goes through a method that keeps `consumption` right.
    clients: Arc<dyn ClientStore>,
    initial_tokens: Arc<dyn InitialAccessTokenStore>,
    signing_keys: Arc<dyn SigningKeyStore>,
    replay: Arc<dyn ReplayCache>,
    users: Arc<dyn UserStore>,
    authorizations: Arc<dyn AuthorizationStore>,
    /// `None` once the client store was swapped: the backend's records would then be inserted
    /// beside clients it does not hold.
    idempotency: Option<Arc<dyn IdempotencyStore>>,
    events: Arc<dyn EventStore>,
    /// The backend that records a change's event in the change's transaction, while clients
    /// and events are both its own; `None` once either was swapped.
    recorded: Option<Arc<dyn RecordedClientStore>>,
    consumption: TokenConsumption,
}

impl Stores {
    /// Records `client`'s use at `now` when [`LifecycleSettings::use_is_due`]: at most one write
    /// per client per [`LifecycleSettings::use_granularity`]. A failure is logged, never the
    /// caller's error: the request it belongs to succeeded, and the next use writes again.
    pub async fn record_use(
        &self,
        client: &RegisteredClient,
        settings: &LifecycleSettings,
        now: i64,
    ) {
        if !settings.use_is_due(&client.state, now) {
            return;
        }
        if let Err(error) = self.clients.record_client_use(&client.client_id, now).await {
            tracing::warn!(%error, client_id = %client.client_id, "cannot record the client's use");
        }
    }

    /// Every store from one backend, which consumes initial access token uses in its inserts.
    pub fn from_backend(backend: Arc<dyn Store>) -> Self {
        Self {
            clients: backend.clone(),
            initial_tokens: backend.clone(),
            signing_keys: backend.clone(),
            replay: backend.clone(),
            users: backend.clone(),
            idempotency: Some(backend.clone()),
            authorizations: backend.clone(),
            events: backend.clone(),
            recorded: Some(backend),
            consumption: TokenConsumption::WithInsert,
        }
    }

    /// Replaces the client store; initial access token uses are then taken before the insert,
    /// and `Idempotency-Key`s are ignored until [`Stores::with_idempotency`] names a store that
    /// inserts into these clients; and a change's event is recorded once the change committed (a crash in
    /// between loses it).
    pub fn with_clients(mut self, clients: Arc<dyn ClientStore>) -> Self {
        self.clients = clients;
        self.idempotency = None;
        self.consumption = TokenConsumption::BeforeInsert;
        self.recorded = None;
        self
    }

    /// Replaces the idempotency store, which inserts clients with their records: it must hold
    /// the clients of [`Stores::clients`].
    pub fn with_idempotency(mut self, idempotency: Arc<dyn IdempotencyStore>) -> Self {
        self.idempotency = Some(idempotency);
        self
    }

    /// Registrations' `Idempotency-Key`s; `None` when the client store was swapped without one.
    pub fn idempotency(&self) -> Option<&Arc<dyn IdempotencyStore>> {
        self.idempotency.as_ref()
    }

    /// Replaces the audit event store ([`NoEvents`] keeps only the log lines); a change's event
    /// is then recorded once the change committed.
    pub fn with_events(mut self, events: Arc<dyn EventStore>) -> Self {
        self.events = events;
        self.recorded = None;
        self
    }

    /// The same stores recording no audit events, only logging them.
    pub fn without_events(self) -> Self {
        self.with_events(Arc::new(NoEvents))
    }

    /// Replaces the initial access token store; uses are then taken before the insert.
    pub fn with_initial_tokens(mut self, initial_tokens: Arc<dyn InitialAccessTokenStore>) -> Self {
        self.initial_tokens = initial_tokens;
        self.consumption = TokenConsumption::BeforeInsert;
        self
    }

    /// Replaces the signing key store.
    pub fn with_signing_keys(mut self, signing_keys: Arc<dyn SigningKeyStore>) -> Self {
        self.signing_keys = signing_keys;
        self
    }

    /// Replaces the replay cache.
    pub fn with_replay(mut self, replay: Arc<dyn ReplayCache>) -> Self {
        self.replay = replay;
        self
    }

    /// Replaces the user store (the built-in login's users).
    pub fn with_users(mut self, users: Arc<dyn UserStore>) -> Self {
        self.users = users;
        self
    }

    /// Replaces the store of sessions, consents, codes, grants and refresh tokens.
    pub fn with_authorizations(mut self, authorizations: Arc<dyn AuthorizationStore>) -> Self {
        self.authorizations = authorizations;
        self
    }

    /// End users of the built-in login.
    pub fn users(&self) -> &Arc<dyn UserStore> {
        &self.users
    }

    /// Sessions, consents, codes, grants and refresh tokens.
    pub fn authorizations(&self) -> &Arc<dyn AuthorizationStore> {
        &self.authorizations
    }

    /// Registered clients.
    pub fn clients(&self) -> &Arc<dyn ClientStore> {
        &self.clients
    }

    /// Initial access tokens.
    pub fn initial_tokens(&self) -> &Arc<dyn InitialAccessTokenStore> {
        &self.initial_tokens
    }

    /// The server's signing keys.
    pub fn signing_keys(&self) -> &Arc<dyn SigningKeyStore> {
        &self.signing_keys
    }

    /// The `jti`s of accepted client assertions.
    pub fn replay(&self) -> &Arc<dyn ReplayCache> {
        &self.replay
    }

    /// Audit events and client provenance.
    pub fn events(&self) -> &Arc<dyn EventStore> {
        &self.events
    }

    /// The backend that records a change with its event atomically, while it holds both.
    pub fn recorded(&self) -> Option<&Arc<dyn RecordedClientStore>> {
        self.recorded.as_ref()
    }

    /// How an initial access token's use is taken on registration.
    pub fn token_consumption(&self) -> TokenConsumption {
        self.consumption
    }

    /// Applies `change` with its audit `event`: in one transaction when the backend holds
    /// clients and events ([`RecordedClientStore`]), otherwise the change, then the event once
    /// it committed. A failure to record after the commit is logged, not returned: the change
    /// stands, and failing it would make a client retry what happened. Returns whether the
    /// change applied; nothing is recorded when it did not.
    pub async fn apply_recorded(
        &self,
        change: ClientChange<'_>,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        if let Some(recorded) = &self.recorded {
            return recorded.apply_recorded(change, event).await;
        }
        let applied = match (change, &self.idempotency) {
            (
                ClientChange::Insert {
                    client,
                    initial_token,
                    now,
                    max_clients,
                    idempotency: Some(record),
                },
                Some(store),
            ) => store
                .insert_client_with_idempotency_record(
                    client,
                    initial_token,
                    now,
                    max_clients,
                    record,
                )
                .await
                .map(|()| true)?,
            _ => apply_change(self.clients.as_ref(), change).await?,
        };
        if applied && let Err(error) = self.events.record_event(event).await {
            tracing::warn!(%error, client_id = event.client_id.as_deref(), "cannot record the audit event of a change");
        }
        Ok(applied)
    }
}
