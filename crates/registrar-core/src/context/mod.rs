//! `RegistrationContext`: the one value every step of a request sees, built once per request
//! and passed by `&mut` from step to step.
//!
//! It holds the raw request object (every member, unknown ones included), the metadata being
//! built, the caller, the time, where the request came from, what the processor has issued so
//! far, extension members to keep, and a typed [`Items`] map for state between custom steps.

mod items;
mod services;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value};

pub use items::Items;
pub use services::Services;

use crate::caller::Caller;
use crate::error::RegistrationError;
use crate::ids::ClientId;
use crate::metadata::{ClientMetadata, is_known_member};
use crate::policy::Policy;
use crate::secrets::Secret;
use crate::settings::Settings;
use crate::store::{IdempotencyRecord, RegisteredClient, StoredSecret};

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// RFC 7591 §3.1: `POST /connect/dcr`.
    Register,
    /// RFC 7592 §2.1: `GET` at the client's `registration_client_uri`.
    Read,
    /// RFC 7592 §2.2: `PUT`, a full replacement.
    Update,
    /// RFC 7592 §2.3: `DELETE`.
    Delete,
}

/// Where a request came from, for rate limits and provenance; each part is what the transport
/// knew, `None` otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestSource {
    /// The peer address of the connection.
    pub ip: Option<IpAddr>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
}

/// A software statement whose signature and issuer a validator step accepted (RFC 7591 §2.3).
#[derive(Debug, Clone, PartialEq)]
pub struct SoftwareStatement {
    /// The trusted issuer (`iss`).
    pub issuer: String,
    /// The `software_id` claim, which policies can be bound to.
    pub software_id: Option<String>,
    /// Every claim of the statement.
    pub claims: Map<String, Value>,
    /// Whether the issuer's statements authorize a registration on their own in protected mode.
    pub authorizes_registration: bool,
}

/// Members the server sets, which a step may not add as extensions.
const SERVER_MEMBERS: [&str; 6] = [
    "client_id",
    "client_secret",
    "client_id_issued_at",
    "client_secret_expires_at",
    "registration_access_token",
    "registration_client_uri",
];

/// Whether `name` is a member Registrar itself sets or reads (metadata, language-tagged
/// variants, server-managed members), which extensions and added response members may not use.
pub fn is_reserved_member(name: &str) -> bool {
    is_known_member(name) || SERVER_MEMBERS.contains(&name) || name.contains('#')
}

/// The state of one registration, read, update or delete request.
///
/// Its `Debug` names the request's members but not their values: an update may carry the
/// client's current `client_secret` in clear.
pub struct RegistrationContext {
    services: Arc<Services>,
    operation: Operation,
    caller: Caller,
    source: RequestSource,
    now: i64,
    request: Map<String, Value>,
    metadata: ClientMetadata,
    current: Option<RegisteredClient>,
    software_statement: Option<SoftwareStatement>,
    policy: Option<Arc<Policy>>,
    dry_run: bool,
    extensions: Map<String, Value>,
    items: Items,
    client_id: Option<ClientId>,
    secret: Option<StoredSecret>,
    issued_secret: Option<Secret>,
    registration_access_token: Option<Secret>,
    client: Option<RegisteredClient>,
    idempotency: Option<IdempotencyRecord>,
    /// Whether the store recorded the audit event of the request's change with the change.
    /// Atomic, since the store rules see the context shared.
    change_recorded: AtomicBool,
}

impl RegistrationContext {
    /// The context of a request, as the pipeline starts it. `current` is the stored client for
    /// read, update and delete; its metadata and extensions are the starting point.
    pub fn new(
        services: Arc<Services>,
        operation: Operation,
        caller: Caller,
        source: RequestSource,
        request: Map<String, Value>,
        current: Option<RegisteredClient>,
    ) -> Self {
        let now = services.clock().now();
        let (metadata, client_id) = match &current {
            Some(current) => (current.metadata.clone(), Some(current.client_id.clone())),
            None => (ClientMetadata::default(), None),
        };
        let extensions = match (operation, &current) {
            // An update is a full replacement: extension members are kept only if a step keeps
            // them again from the new request.
            (Operation::Read | Operation::Delete, Some(current)) => current.extensions.clone(),
            _ => Map::new(),
        };
        Self {
            services,
            operation,
            caller,
            source,
            now,
            request,
            metadata,
            // Read and delete answer with the stored client itself: see `client()`.
            client: None,
            current,
            software_statement: None,
            policy: None,
            dry_run: false,
            extensions,
            items: Items::default(),
            client_id,
            secret: None,
            issued_secret: None,
            registration_access_token: None,
            idempotency: None,
            change_recorded: AtomicBool::new(false),
        }
    }

    /// Whether the audit event of the request's change was recorded, with the change or after.
    pub fn change_recorded(&self) -> bool {
        self.change_recorded.load(Ordering::Relaxed)
    }

    /// Notes that the change's audit event is recorded, so the pipeline records it no more.
    pub(crate) fn mark_change_recorded(&self) {
        self.change_recorded.store(true, Ordering::Relaxed);
    }

    /// What the request asks for.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// Who is calling.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// Replaces the caller, as the pipeline does once a statement authorized an anonymous
    /// registration.
    pub(crate) fn set_caller(&mut self, caller: Caller) {
        self.caller = caller;
    }

    /// Where the request came from.
    pub fn source(&self) -> &RequestSource {
        &self.source
    }

    /// The request's time, read once from the injected clock: every step sees the same instant.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The server's settings.
    pub fn settings(&self) -> &Settings {
        self.services.settings()
    }

    /// The stores, generator, hasher and cipher the default steps use.
    pub fn services(&self) -> &Services {
        &self.services
    }

    /// The request object as sent, every member included; empty for read and delete.
    pub fn request(&self) -> &Map<String, Value> {
        &self.request
    }

    /// The request object, for a step that merges members into it before the metadata is read
    /// (as the software statement step does).
    pub fn request_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.request
    }

    /// The metadata being built: read from the request by the validator, completed by the
    /// processor. For read and delete, the stored metadata.
    pub fn metadata(&self) -> &ClientMetadata {
        &self.metadata
    }

    /// The metadata, for a step that changes it.
    pub fn metadata_mut(&mut self) -> &mut ClientMetadata {
        &mut self.metadata
    }

    /// Replaces the metadata, as the step that reads the request does.
    pub fn set_metadata(&mut self, metadata: ClientMetadata) {
        self.metadata = metadata;
    }

    /// The stored client, for read, update and delete.
    pub fn current(&self) -> Option<&RegisteredClient> {
        self.current.as_ref()
    }

    /// The accepted software statement, once a step accepted one.
    pub fn software_statement(&self) -> Option<&SoftwareStatement> {
        self.software_statement.as_ref()
    }

    /// Records the software statement a step accepted.
    pub fn set_software_statement(&mut self, statement: SoftwareStatement) {
        self.software_statement = Some(statement);
    }

    /// The policy that governs the request, once the policy step found it
    /// (`validate::policy`).
    pub fn policy(&self) -> Option<&Arc<Policy>> {
        self.policy.as_ref()
    }

    /// Records the request's policy.
    pub fn set_policy(&mut self, policy: Arc<Policy>) {
        self.policy = Some(policy);
    }

    /// Whether the request only asks what would be registered (`?dry_run=true`): nothing is
    /// stored and no initial access token use is taken.
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    /// Marks the request as a dry run; the pipeline does, before any step runs.
    pub(crate) fn set_dry_run(&mut self) {
        self.dry_run = true;
    }

    /// The extension members that will be stored with the client and returned beside its
    /// metadata.
    pub fn extensions(&self) -> &Map<String, Value> {
        &self.extensions
    }

    /// Keeps the request's member `name`, an extension Registrar does not know: stored with the
    /// client, returned in responses. Does nothing when the request lacks it.
    pub fn keep_extension(&mut self, name: &str) -> Result<(), RegistrationError> {
        let Some(value) = self.request.get(name).cloned() else {
            return Ok(());
        };
        self.set_extension(name, value)
    }

    /// Sets an extension member. Names Registrar knows (RFC 7591, OpenID Connect DCR, the
    /// server-managed members) are refused: they would clash with the metadata in responses.
    pub fn set_extension(&mut self, name: &str, value: Value) -> Result<(), RegistrationError> {
        if is_reserved_member(name) {
            return Err(RegistrationError::InvalidClientMetadata(format!(
                "{name} is a registered member, not an extension"
            )));
        }
        self.extensions.insert(name.to_owned(), value);
        Ok(())
    }

    /// Removes an extension member.
    pub fn remove_extension(&mut self, name: &str) -> Option<Value> {
        self.extensions.remove(name)
    }

    /// State passed between custom steps.
    pub fn items(&self) -> &Items {
        &self.items
    }

    /// State passed between custom steps, mutably.
    pub fn items_mut(&mut self) -> &mut Items {
        &mut self.items
    }

    /// The client identifier: the stored one for management, the issued one after the
    /// processor's `add_client_id` on registration.
    pub fn client_id(&self) -> Option<&ClientId> {
        self.client_id.as_ref()
    }

    /// Sets the identifier of a client being registered.
    pub fn set_client_id(&mut self, client_id: ClientId) {
        self.client_id = Some(client_id);
    }

    /// The secret that will be stored, if any.
    pub fn stored_secret(&self) -> Option<&StoredSecret> {
        self.secret.as_ref()
    }

    /// The secret issued by this request, in clear, returned once in the response.
    pub fn issued_secret(&self) -> Option<&Secret> {
        self.issued_secret.as_ref()
    }

    /// Sets what is stored of the secret, and the secret in clear when this request issued it.
    pub fn set_secret(&mut self, stored: Option<StoredSecret>, issued: Option<Secret>) {
        self.secret = stored;
        self.issued_secret = issued;
    }

    /// The registration access token the response carries: issued by this request, or, on
    /// read, the one presented.
    pub fn registration_access_token(&self) -> Option<&Secret> {
        self.registration_access_token.as_ref()
    }

    /// Sets the registration access token the response carries.
    pub fn set_registration_access_token(&mut self, token: Secret) {
        self.registration_access_token = Some(token);
    }

    /// The client record the processor built (or, for read and delete, the stored one).
    pub fn client(&self) -> Option<&RegisteredClient> {
        match (self.operation, &self.client) {
            (_, Some(client)) => Some(client),
            (Operation::Read | Operation::Delete, None) => self.current.as_ref(),
            (Operation::Register | Operation::Update, None) => None,
        }
    }

    /// Sets the client record to store, as the processor's last step does.
    pub fn set_client(&mut self, client: RegisteredClient) {
        self.client = Some(client);
    }

    /// The `Idempotency-Key` record `persist::insert_client` stores with the client, set by the
    /// pipeline once the answer is built; `None` without a key.
    pub fn idempotency_record(&self) -> Option<&IdempotencyRecord> {
        self.idempotency.as_ref()
    }

    pub(crate) fn set_idempotency_record(&mut self, record: IdempotencyRecord) {
        self.idempotency = Some(record);
    }
}

impl std::fmt::Debug for RegistrationContext {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RegistrationContext")
            .field("operation", &self.operation)
            .field("caller", &self.caller)
            .field("source", &self.source)
            .field("now", &self.now)
            .field("request_members", &self.request.keys().collect::<Vec<_>>())
            .field("metadata", &self.metadata)
            .field("client_id", &self.client_id)
            .field("policy", &self.policy.as_ref().map(|policy| &policy.name))
            .field("dry_run", &self.dry_run)
            .field("extensions", &self.extensions.keys().collect::<Vec<_>>())
            .field("items", &self.items)
            .finish_non_exhaustive()
    }
}
