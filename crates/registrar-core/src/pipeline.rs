//! `Pipeline`: runs registration (RFC 7591) and management (RFC 7592) requests through the
//! steps, independent of transport.
//!
//! The pipeline owns what no step may change: deciding the caller from its token,
//! authenticating a client by its registration access token, and the RFC 7592 §2.2 checks of an
//! update. Everything after that is a step ([`Steps`]), and every failure of the pipeline is
//! passed through [`Responder::respond_error`]; what the transport refuses before (a malformed
//! header, a body that is not JSON) is answered by the server.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::admission::Admission;
use crate::audit::{AuditEvent, log_event};
use crate::bearer::BearerAuthenticator;
use crate::caller::{Caller, Principal};
use crate::cimd::DocumentFreshness;
use crate::clock::{Clock, SystemClock};
use crate::context::{Operation, RegistrationContext, RequestSource, Services};
use crate::error::{BuildError, RegistrationError};
use crate::idempotency::{self, IdempotencyKey, KeyHashes, Registration};
use crate::ids::ClientId;
use crate::lifecycle::Standing;
use crate::net::{DocumentSource, NoDocumentSource};
use crate::observer::{RegistrationObserver, RegistrationOutcome};
use crate::record::{self, Attempt};
use crate::respond::ClientInformation;
use crate::secrets::{OsRandom, Secret, SecretGenerator, TokenHasher};
use crate::settings::{RegistrationMode, Settings};
use crate::steps::{Persister, Processor, Responder, Steps, Validator};
use crate::store::{RegisteredClient, Stores, TokenCheck};
use crate::token::SecretCipher;
use crate::trust::{KeySource, NoKeySource, looks_like_jwt};
use crate::{persist, validate};

mod document_clients;

/// A client whose registration access token [`Pipeline::authorize_update`] checked, with the
/// caller that token makes; only the pipeline makes one, so [`Pipeline::update`] cannot be
/// handed a client no one authenticated.
#[derive(Debug)]
pub struct AuthorizedClient {
    client: RegisteredClient,
    caller: Caller,
}

impl AuthorizedClient {
    /// The stored client.
    pub fn client(&self) -> &RegisteredClient {
        &self.client
    }
}

/// The shortest server secret accepted: it keys every credential hash.
pub const MIN_SERVER_SECRET_BYTES: usize = 32;

/// Runs requests through the steps against the stores.
#[derive(Debug, Clone)]
pub struct Pipeline {
    services: Arc<Services>,
    steps: Steps,
    bearer: Option<Arc<dyn BearerAuthenticator>>,
    /// Until when each Client ID Metadata Document fetched may be used unfetched.
    documents: Arc<DocumentFreshness>,
    admission: Option<Arc<dyn Admission>>,
    observers: Vec<Arc<dyn RegistrationObserver>>,
    /// Whether the builder chose the key source, which [`Pipeline::with_key_source`] then
    /// keeps.
    key_source_chosen: bool,
    /// Whether the builder chose the document source, which [`Pipeline::with_document_source`]
    /// then keeps.
    document_source_chosen: bool,
}

/// Builds a [`Pipeline`]: settings and stores are required, a server secret of at least
/// [`MIN_SERVER_SECRET_BYTES`] too; clock, random source and steps have defaults.
#[derive(Debug)]
pub struct PipelineBuilder {
    settings: Settings,
    stores: Stores,
    server_secret: Option<Vec<u8>>,
    clock: Arc<dyn Clock>,
    generator: Arc<dyn SecretGenerator>,
    steps: Steps,
    bearer: Option<Arc<dyn BearerAuthenticator>>,
    key_source: Option<Arc<dyn KeySource>>,
    document_source: Option<Arc<dyn DocumentSource>>,
}

impl PipelineBuilder {
    /// Where trusted issuers' JWK Sets at a URL are fetched from; without one only issuers
    /// configured with `jwks` by value can be verified. (`registrar_server::AppState` attaches
    /// its SSRF-safe fetcher with [`Pipeline::with_key_source`].)
    pub fn key_source(mut self, key_source: Arc<dyn KeySource>) -> Self {
        self.key_source = Some(key_source);
        self
    }

    /// Where the documents clients register the URL of are fetched from (`sector_identifier_uri`,
    /// OpenID Connect DCR 1.0 §5); without one a registration naming such a document is
    /// refused. (`registrar_server::AppState` attaches its SSRF-safe fetcher with
    /// [`Pipeline::with_document_source`].)
    pub fn document_source(mut self, document_source: Arc<dyn DocumentSource>) -> Self {
        self.document_source = Some(document_source);
        self
    }

    /// Verifies bearer access tokens, so that one carrying `registration.bearer_scope` may
    /// register and administer clients; without one, only initial access tokens register.
    /// (`registrar_server::AppState` attaches the server's own with
    /// [`Pipeline::with_bearer_authenticator`].)
    pub fn bearer_authenticator(mut self, authenticator: Arc<dyn BearerAuthenticator>) -> Self {
        self.bearer = Some(authenticator);
        self
    }

    /// The secret that keys the credential hashes and seals the secrets that must be kept; it
    /// must not live in the database, and every instance on one database needs the same one.
    pub fn server_secret(mut self, secret: &[u8]) -> Self {
        self.server_secret = Some(secret.to_vec());
        self
    }

    /// The clock every timestamp and expiry is read from.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The random source every identifier and credential is drawn from.
    pub fn generator(mut self, generator: Arc<dyn SecretGenerator>) -> Self {
        self.generator = generator;
        self
    }

    /// Replaces the validator step.
    pub fn validator(mut self, validator: Arc<dyn Validator>) -> Self {
        self.steps.validator = validator;
        self
    }

    /// Replaces the processor step.
    pub fn processor(mut self, processor: Arc<dyn Processor>) -> Self {
        self.steps.processor = processor;
        self
    }

    /// Replaces the store step.
    pub fn persister(mut self, persister: Arc<dyn Persister>) -> Self {
        self.steps.persister = persister;
        self
    }

    /// Replaces the response step.
    pub fn responder(mut self, responder: Arc<dyn Responder>) -> Self {
        self.steps.responder = responder;
        self
    }

    /// The pipeline; refuses a missing or short server secret.
    pub fn build(self) -> Result<Pipeline, BuildError> {
        let Some(secret) = self.server_secret else {
            return Err(BuildError::MissingServerSecret);
        };
        if secret.len() < MIN_SERVER_SECRET_BYTES {
            return Err(BuildError::ShortServerSecret {
                minimum: MIN_SERVER_SECRET_BYTES,
                actual: secret.len(),
            });
        }
        let key_source_chosen = self.key_source.is_some();
        let document_source_chosen = self.document_source.is_some();
        let documents = Arc::new(DocumentFreshness::new(
            self.settings.metadata_documents.max_cached_documents,
        ));
        Ok(Pipeline {
            services: Arc::new(Services {
                settings: self.settings,
                stores: self.stores,
                clock: self.clock,
                generator: self.generator,
                hasher: TokenHasher::new(&secret),
                cipher: SecretCipher::new(&secret),
                key_source: self.key_source.unwrap_or_else(|| Arc::new(NoKeySource)),
                document_source: self
                    .document_source
                    .unwrap_or_else(|| Arc::new(NoDocumentSource)),
            }),
            steps: self.steps,
            bearer: self.bearer,
            documents,
            admission: None,
            observers: Vec::new(),
            key_source_chosen,
            document_source_chosen,
        })
    }
}

impl Pipeline {
    /// A builder with the default steps, the system clock and the OS random source.
    pub fn builder(settings: Settings, stores: Stores) -> PipelineBuilder {
        PipelineBuilder {
            settings,
            stores,
            server_secret: None,
            clock: Arc::new(SystemClock),
            generator: Arc::new(OsRandom),
            steps: Steps::default(),
            bearer: None,
            key_source: None,
            document_source: None,
        }
    }

    /// The same pipeline with `admission` admitting validated registrations before they are
    /// processed and stored (`registrar_server::AppState` attaches its per-policy rate limit).
    pub fn with_admission(mut self, admission: Arc<dyn Admission>) -> Self {
        self.admission = Some(admission);
        self
    }

    /// The same pipeline also telling `observer` how each registration ended, after the
    /// observers attached before it (`registrar_server::AppState` attaches its metrics). An
    /// observer already attached (the same `Arc`) is not attached twice.
    pub fn with_observer(mut self, observer: Arc<dyn RegistrationObserver>) -> Self {
        if !self
            .observers
            .iter()
            .any(|attached| Arc::ptr_eq(attached, &observer))
        {
            self.observers.push(observer);
        }
        self
    }

    /// The same pipeline fetching trusted issuers' key sets through `key_source`, unless one was
    /// set on the builder already.
    pub fn with_key_source(mut self, key_source: Arc<dyn KeySource>) -> Self {
        if self.key_source_chosen {
            return self;
        }
        let mut services = (*self.services).clone();
        services.key_source = key_source;
        self.services = Arc::new(services);
        self
    }

    /// The same pipeline fetching clients' documents through `document_source`, unless one was
    /// set on the builder already.
    pub fn with_document_source(mut self, document_source: Arc<dyn DocumentSource>) -> Self {
        if self.document_source_chosen {
            return self;
        }
        let mut services = (*self.services).clone();
        services.document_source = document_source;
        self.services = Arc::new(services);
        self
    }

    /// The same pipeline with `authenticator` verifying bearer access tokens, unless one was
    /// set on the builder already.
    pub fn with_bearer_authenticator(
        mut self,
        authenticator: Arc<dyn BearerAuthenticator>,
    ) -> Self {
        if self.bearer.is_none() {
            self.bearer = Some(authenticator);
        }
        self
    }

    /// The settings, stores, clock, random source, hasher and cipher.
    pub fn services(&self) -> &Arc<Services> {
        &self.services
    }

    /// What the server supports and allows.
    pub fn settings(&self) -> &Settings {
        self.services.settings()
    }

    /// The steps requests run through.
    pub fn steps(&self) -> &Steps {
        &self.steps
    }

    /// Decides who is registering from the bearer token, if any, before the body is read.
    /// A token that is present must be valid even in open mode: a mistyped token is an error,
    /// not a silent downgrade to anonymous. `source` is for the audit event of a refusal.
    pub async fn authorize_registration(
        &self,
        bearer: Option<&str>,
        source: &RequestSource,
    ) -> Result<Caller, RegistrationError> {
        self.authorize_registration_with_key(bearer, source, None)
            .await
    }

    /// [`Pipeline::authorize_registration`] for a request with an `Idempotency-Key`: an initial
    /// access token that is used up or expired still authorizes a retry of a registration it
    /// made with that key within the window (a single-use token's retry is the case that needs
    /// it); [`Pipeline::register_idempotent`] then only replays, since the token can take no
    /// further use. A revoked token authorizes nothing.
    pub async fn authorize_registration_with_key(
        &self,
        bearer: Option<&str>,
        source: &RequestSource,
        key: Option<&IdempotencyKey>,
    ) -> Result<Caller, RegistrationError> {
        let result = self.find_registration_caller(bearer, key).await;
        let attempt = Attempt {
            source,
            route: record::attempt_route(Operation::Register, bearer),
            client_id: None,
        };
        self.answer(Operation::Register, Audited::Attempt(attempt), result)
            .await
    }

    async fn find_registration_caller(
        &self,
        bearer: Option<&str>,
        key: Option<&IdempotencyKey>,
    ) -> Result<Caller, RegistrationError> {
        let Some(token) = bearer else {
            return match self.settings().mode {
                RegistrationMode::Open => Ok(Caller::Anonymous),
                // The body may carry a statement that authorizes the registration on its own;
                // `register` refuses the request if it does not.
                RegistrationMode::Protected if self.settings().statements_authorize() => {
                    Ok(Caller::Anonymous)
                }
                RegistrationMode::Protected => Err(RegistrationError::InvalidToken),
            };
        };
        if looks_like_jwt(token) {
            return Ok(Caller::Bearer(self.authenticate_bearer(token).await?));
        }
        let token_hash = self.services.hasher().hash(token);
        let stores = self.services.stores();
        let Some(initial_token) = stores
            .initial_tokens()
            .find_initial_token(&token_hash)
            .await?
        else {
            return Err(RegistrationError::InvalidToken);
        };
        let now = self.services.clock().now();
        let usable = initial_token.is_usable(now);
        let caller = Caller::InitialAccessToken {
            id: initial_token.id,
            token_hash,
            policy: initial_token.policy,
        };
        if usable || self.has_idempotency_record(&caller, key, now).await? {
            return Ok(caller);
        }
        Err(RegistrationError::InvalidToken)
    }

    /// Whether `caller` registered a client with `key` within the window.
    async fn has_idempotency_record(
        &self,
        caller: &Caller,
        key: Option<&IdempotencyKey>,
        now: i64,
    ) -> Result<bool, RegistrationError> {
        let (Some(key), Some(store)) = (key, self.services.stores().idempotency()) else {
            return Ok(false);
        };
        if self.settings().idempotency_window == 0 {
            return Ok(false);
        }
        let key_hash = idempotency::key_hash(&self.services, caller, key)?;
        Ok(store
            .find_idempotency_record(&key_hash, now)
            .await?
            .is_some())
    }

    /// A bearer access token's principal, if it carries the registration scope (RFC 6750 §3.1:
    /// `insufficient_scope` otherwise).
    async fn authenticate_bearer(&self, token: &str) -> Result<Principal, RegistrationError> {
        let Some(authenticator) = &self.bearer else {
            return Err(RegistrationError::InvalidToken);
        };
        let Some(principal) = authenticator.authenticate(token, &self.services).await? else {
            return Err(RegistrationError::InvalidToken);
        };
        let scope = &self.settings().bearer_scope;
        if !principal.has_scope(scope) {
            return Err(RegistrationError::InsufficientScope {
                scope: scope.clone(),
            });
        }
        Ok(principal)
    }

    /// RFC 7591 §3: registers a client from a request object, for `caller` as decided by
    /// [`Pipeline::authorize_registration`] or by the host application.
    pub async fn register(
        &self,
        caller: Caller,
        request: Map<String, Value>,
        source: RequestSource,
    ) -> Result<ClientInformation, RegistrationError> {
        let mut cx = self.context(Operation::Register, caller, source, request, None);
        let result = self.run_register(&mut cx, None).await;
        let answer = self
            .answer(Operation::Register, Audited::Context(&cx), result)
            .await;
        self.observe(&cx, answer.as_ref().err(), RegistrationOutcome::Created);
        answer
    }

    /// [`Pipeline::register`] with an `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header):
    /// the first request registers and stores, with the client and in its transaction, its
    /// answer sealed under the key; a retry by the same credential with the same body within
    /// `Settings::idempotency_window` gets that answer back ([`Registration::Replayed`]) and
    /// registers nothing. The same key with another body, or for a client updated or deleted
    /// since, is `422`; a key another request is storing at the same time is `409`; an
    /// anonymous caller's key must look like 128 random bits (`400` otherwise). With a window
    /// of 0, or stores without an idempotency store, the key is ignored.
    ///
    /// The responder runs before the store step here, so that the answer stored is the answer
    /// given.
    pub async fn register_idempotent(
        &self,
        caller: Caller,
        request: Map<String, Value>,
        source: RequestSource,
        key: &IdempotencyKey,
    ) -> Result<Registration, RegistrationError> {
        if self.settings().idempotency_window == 0 || self.services.stores().idempotency().is_none()
        {
            return self
                .register(caller, request, source)
                .await
                .map(|information| Registration::Created(Box::new(information)));
        }
        let mut cx = self.context(Operation::Register, caller, source, request, None);
        let result = self.run_register_idempotent(&mut cx, key).await;
        let answer = self
            .answer(Operation::Register, Audited::Context(&cx), result)
            .await;
        let success = match &answer {
            Ok(Registration::Replayed(_)) => RegistrationOutcome::Replayed,
            _ => RegistrationOutcome::Created,
        };
        self.observe(&cx, answer.as_ref().err(), success);
        answer
    }

    async fn run_register_idempotent(
        &self,
        cx: &mut RegistrationContext,
        key: &IdempotencyKey,
    ) -> Result<Registration, RegistrationError> {
        let hashes = idempotency::key_hashes(cx, key)?;
        if let Some(replayed) = idempotency::replay(cx.services(), &hashes).await? {
            // A replay changes nothing: its audit event names the client in the log, and
            // records no second registration.
            if let Some(client_id) = ClientId::parse(replayed.client_id()) {
                cx.set_client_id(client_id);
            }
            cx.mark_change_recorded();
            return Ok(Registration::Replayed(replayed));
        }
        self.run_register(cx, Some(&hashes))
            .await
            .map(|information| Registration::Created(Box::new(information)))
    }

    /// `?dry_run=true`: validates, applies the policy and processes the request as
    /// [`Pipeline::register`] does, and returns the client that would be registered, without
    /// its credentials. Nothing is stored and no initial access token use is taken.
    pub async fn register_dry_run(
        &self,
        caller: Caller,
        request: Map<String, Value>,
        source: RequestSource,
    ) -> Result<ClientInformation, RegistrationError> {
        let mut cx = self.context(Operation::Register, caller, source, request, None);
        cx.set_dry_run();
        let result = self.run_dry_run(&mut cx).await;
        let answer = self
            .answer(Operation::Register, Audited::Context(&cx), result)
            .await;
        self.observe(&cx, answer.as_ref().err(), RegistrationOutcome::DryRun);
        answer
    }

    /// Tells the observers how a registration ended: `success` unless it was refused with
    /// `error`.
    fn observe(
        &self,
        cx: &RegistrationContext,
        error: Option<&RegistrationError>,
        success: RegistrationOutcome<'_>,
    ) {
        let outcome = match error {
            Some(error) => RegistrationOutcome::Refused(error),
            None => success,
        };
        for observer in &self.observers {
            observer.registration_ended(cx, outcome);
        }
    }

    async fn run_register(
        &self,
        cx: &mut RegistrationContext,
        idempotency: Option<&KeyHashes>,
    ) -> Result<ClientInformation, RegistrationError> {
        self.validate_registration(cx).await?;
        if let Some(admission) = &self.admission {
            admission.admit(cx).await?;
        }
        self.steps.processor.process(cx).await?;
        let Some(hashes) = idempotency else {
            self.steps.persister.insert(cx).await?;
            return self.steps.responder.respond(cx).await;
        };
        // The answer is sealed into the record the store step inserts with the client.
        let information = self.steps.responder.respond(cx).await?;
        let Some(client) = cx.client() else {
            return Err(RegistrationError::Store(crate::error::StoreError::Backend(
                "the store step needs the client the processor builds".to_owned(),
            )));
        };
        let record = idempotency::record(cx.services(), hashes, &information, client)?;
        cx.set_idempotency_record(record);
        self.steps.persister.insert(cx).await?;
        Ok(information)
    }

    async fn run_dry_run(
        &self,
        cx: &mut RegistrationContext,
    ) -> Result<ClientInformation, RegistrationError> {
        self.validate_registration(cx).await?;
        self.steps.processor.process(cx).await?;
        persist::check_capacity(cx).await?;
        self.steps.responder.respond(cx).await
    }

    /// A validator that replaced the policy step without recording a policy still gets the
    /// default one: what open registration may not have (`client_credentials`, the registration
    /// scope) is not left to every override to remember.
    fn ensure_policy(cx: &mut RegistrationContext) -> Result<(), RegistrationError> {
        if cx.policy().is_none() {
            validate::policy(cx)?;
        }
        Ok(())
    }

    /// The validator's steps, then the one rule of protected mode no step may waive: an
    /// anonymous caller got this far only for a statement that authorizes registration.
    async fn validate_registration(
        &self,
        cx: &mut RegistrationContext,
    ) -> Result<(), RegistrationError> {
        let unauthorized = self.settings().mode == RegistrationMode::Protected
            && matches!(cx.caller(), Caller::Anonymous);
        // Without a statement nothing could authorize it: no rule runs, so an unauthorized
        // caller learns nothing from validation errors.
        if unauthorized && !cx.request().contains_key("software_statement") {
            return Err(RegistrationError::InvalidToken);
        }
        self.steps.validator.validate(cx).await?;
        Self::ensure_policy(cx)?;
        if !unauthorized {
            return Ok(());
        }
        match cx.software_statement() {
            Some(statement) if statement.authorizes_registration => {
                let caller = Caller::SoftwareStatement {
                    issuer: statement.issuer.clone(),
                    software_id: statement.software_id.clone(),
                };
                cx.set_caller(caller);
                Ok(())
            }
            _ => Err(RegistrationError::InvalidToken),
        }
    }

    /// RFC 7592 §2.1: the client's current registration.
    pub async fn read(
        &self,
        client_id: &str,
        token: &str,
        source: RequestSource,
    ) -> Result<ClientInformation, RegistrationError> {
        let AuthorizedClient {
            client: current,
            caller,
        } = match self.authenticate_client(client_id, token).await {
            Ok(authorized) => authorized,
            Err(error) => {
                let attempt = Self::management_attempt(&source, client_id, token);
                return self
                    .answer(Operation::Read, Audited::Attempt(attempt), Err(error))
                    .await;
            }
        };
        let administrator = caller.is_administrator();
        let mut cx = self.context(Operation::Read, caller, source, Map::new(), Some(current));
        if !administrator {
            // The presented token is by definition the current one; echoing it keeps the
            // response in the shape of the create response without storing tokens in clear.
            cx.set_registration_access_token(Secret::new(token.to_owned()));
        }
        let result = self.steps.responder.respond(&mut cx).await;
        self.answer(Operation::Read, Audited::Context(&cx), result)
            .await
    }

    /// RFC 7592 §2.2: replaces the registration of a client [`Pipeline::authorize_update`]
    /// authenticated, and rotates the registration access token.
    pub async fn update(
        &self,
        authorized: AuthorizedClient,
        request: Map<String, Value>,
        source: RequestSource,
    ) -> Result<ClientInformation, RegistrationError> {
        let AuthorizedClient {
            client: current,
            caller,
        } = authorized;
        let mut cx = self.context(Operation::Update, caller, source, request, Some(current));
        let result = self.run_update(&mut cx).await;
        self.answer(Operation::Update, Audited::Context(&cx), result)
            .await
    }

    async fn run_update(
        &self,
        cx: &mut RegistrationContext,
    ) -> Result<ClientInformation, RegistrationError> {
        // A metadata document client is what its document says: an administrator's update
        // would give it what the document rules refuse, and the next fetch would undo it.
        if cx
            .current()
            .is_some_and(|current| current.client_id.is_metadata_document())
        {
            return Err(RegistrationError::InvalidClientMetadata(
                "a metadata document client changes only through its document".to_owned(),
            ));
        }
        // RFC 7592 §2.2 is the protocol's integrity, not a rule to override: the pipeline checks
        // the identity and server-managed members before any step runs.
        validate::update_request(cx)?;
        self.steps.validator.validate(cx).await?;
        Self::ensure_policy(cx)?;
        self.steps.processor.process(cx).await?;
        self.steps.persister.replace(cx).await?;
        self.steps.responder.respond(cx).await
    }

    /// RFC 7592 §2.3: deletes the client, its secret and its tokens.
    pub async fn delete(
        &self,
        client_id: &str,
        token: &str,
        source: RequestSource,
    ) -> Result<(), RegistrationError> {
        let AuthorizedClient {
            client: current,
            caller,
        } = match self.authenticate_client(client_id, token).await {
            Ok(authorized) => authorized,
            Err(error) => {
                let attempt = Self::management_attempt(&source, client_id, token);
                return self
                    .answer(Operation::Delete, Audited::Attempt(attempt), Err(error))
                    .await;
            }
        };
        let mut cx = self.context(Operation::Delete, caller, source, Map::new(), Some(current));
        let result = self.steps.persister.delete(&mut cx).await;
        self.answer(Operation::Delete, Audited::Context(&cx), result)
            .await
    }

    /// Authenticates an update by the client's registration access token or an
    /// administrator's bearer token, before its body is read; a failure is answered through
    /// [`Responder::respond_error`] like every other. `source` is for the audit event of a
    /// refusal.
    pub async fn authorize_update(
        &self,
        client_id: &str,
        token: &str,
        source: &RequestSource,
    ) -> Result<AuthorizedClient, RegistrationError> {
        let result = self.authenticate_client(client_id, token).await;
        let attempt = Self::management_attempt(source, client_id, token);
        self.answer(Operation::Update, Audited::Attempt(attempt), result)
            .await
    }

    /// What the audit event of a management request refused before its context knows.
    fn management_attempt<'a>(
        source: &'a RequestSource,
        client_id: &'a str,
        token: &str,
    ) -> Attempt<'a> {
        Attempt {
            source,
            route: record::attempt_route(Operation::Read, Some(token)),
            client_id: Some(client_id),
        }
    }

    /// RFC 7592 §2: the client the token belongs to, if it is the one in the path, and the caller
    /// the token makes (its hash is computed once, here). A valid token presented for another
    /// client is revoked (RFC 7592 §2.1), and every failure looks the same.
    async fn authenticate_client(
        &self,
        client_id: &str,
        token: &str,
    ) -> Result<AuthorizedClient, RegistrationError> {
        if looks_like_jwt(token) {
            return self.authenticate_administrator(client_id, token).await;
        }
        let presented = self.services.hasher().hash(token);
        let check = TokenCheck {
            presented: &presented,
            now: self.services.clock().now(),
        };
        let clients = &self.services.stores().clients();
        let Some(client) = clients.find_client_by_registration_token(check).await? else {
            return Err(RegistrationError::InvalidToken);
        };
        if client.client_id.as_str() != client_id {
            clients.revoke_registration_token(&client.client_id).await?;
            return Err(RegistrationError::InvalidToken);
        }
        // A blocked or expired client cannot manage itself, and is told what an unknown one is.
        let lifecycle = &self.services.settings().lifecycle;
        let standing = client.standing(lifecycle, check.now);
        if !standing.is_active() {
            tracing::debug!(client_id = %client.client_id, reason = standing.reason(), "registration access token refused");
            return Err(RegistrationError::InvalidToken);
        }
        self.services
            .stores()
            .record_use(&client, lifecycle, check.now)
            .await;
        let caller = Caller::Client {
            client_id: client.client_id.clone(),
            token_hash: presented,
            registered_anonymously: client.registered_anonymously,
        };
        Ok(AuthorizedClient { client, caller })
    }

    /// A bearer token with the registration scope manages any client; an unknown client looks
    /// the same as to a client with a wrong token.
    async fn authenticate_administrator(
        &self,
        client_id: &str,
        token: &str,
    ) -> Result<AuthorizedClient, RegistrationError> {
        let principal = self.authenticate_bearer(token).await?;
        let Some(client_id) = ClientId::parse(client_id) else {
            return Err(RegistrationError::InvalidToken);
        };
        let Some(client) = self
            .services
            .stores()
            .clients()
            .get_client(&client_id)
            .await?
        else {
            return Err(RegistrationError::InvalidToken);
        };
        // An administrator still manages a blocked client (to inspect or delete it), but an
        // expired one is as good as deleted. An administrator's call is not the client's use.
        let standing = client.standing(
            &self.services.settings().lifecycle,
            self.services.clock().now(),
        );
        if let Standing::Expired(_) = standing {
            return Err(RegistrationError::InvalidToken);
        }
        Ok(AuthorizedClient {
            client,
            caller: Caller::Bearer(principal),
        })
    }

    fn context(
        &self,
        operation: Operation,
        caller: Caller,
        source: RequestSource,
        request: Map<String, Value>,
        current: Option<RegisteredClient>,
    ) -> RegistrationContext {
        RegistrationContext::new(
            self.services.clone(),
            operation,
            caller,
            source,
            request,
            current,
        )
    }

    /// Passes a failure through the responder, which may change how it is answered, and
    /// audits how the request ended: a success of a whole request (not of its authorization
    /// alone) and every failure.
    async fn answer<T>(
        &self,
        operation: Operation,
        audited: Audited<'_>,
        result: Result<T, RegistrationError>,
    ) -> Result<T, RegistrationError> {
        let cx = match audited {
            Audited::Context(cx) => Some(cx),
            Audited::Attempt(_) => None,
        };
        let error = match result {
            Ok(value) => {
                if let Some(cx) = cx {
                    self.audit_success(cx).await;
                }
                return Ok(value);
            }
            Err(error) => {
                self.steps
                    .responder
                    .respond_error(operation, cx, error)
                    .await
            }
        };
        let event = match audited {
            Audited::Context(cx) => record::refusal_event(cx, &error),
            Audited::Attempt(attempt) => {
                record::attempt_event(operation, &attempt, self.services.clock().now(), &error)
            }
        };
        log_event(&event);
        // A change that committed before a later step failed has its event already; a refused
        // dry run, like a read that succeeds, costs no write.
        let recorded_already = cx.is_some_and(RegistrationContext::change_recorded);
        let dry_run = cx.is_some_and(RegistrationContext::is_dry_run);
        if !recorded_already && !dry_run {
            self.store_refusal(&event).await;
        }
        Err(error)
    }

    /// Stores a refusal's event within `audit.max_refusals`; a failure to store is logged, since
    /// the request is refused either way.
    async fn store_refusal(&self, event: &AuditEvent) {
        let keep = self.settings().audit.max_refusals;
        if keep == 0 {
            return;
        }
        let recorded = self
            .services
            .stores()
            .events()
            .record_refusal(event, keep)
            .await;
        if let Err(store_error) = recorded {
            tracing::warn!(error = %store_error, "cannot record the audit event of a refusal");
        }
    }

    /// Audits a registration or management request the host refused before the pipeline saw
    /// it (a malformed header, parameter or body, a rate limit): logged and counted like every
    /// event, and stored within `audit.max_refusals` when `refusal.stored` says so.
    pub async fn audit_refusal(&self, refusal: EarlyRefusal<'_>) {
        let attempt = Attempt {
            source: refusal.source,
            route: record::attempt_route(refusal.operation, refusal.token),
            client_id: refusal.client_id,
        };
        let event = record::early_refusal_event(
            refusal.operation,
            &attempt,
            self.services.clock().now(),
            refusal.error,
        );
        log_event(&event);
        if refusal.stored {
            self.store_refusal(&event).await;
        }
    }

    /// Logs the event of a request that succeeded, and records a create's, update's or
    /// delete's if the store step did not (a persister of one's own that calls no rule of
    /// `persist`). A failure to record is logged: the change stands, and answering it as failed
    /// would make the client retry a registration that happened.
    async fn audit_success(&self, cx: &RegistrationContext) {
        let event = record::success_event(cx);
        log_event(&event);
        let changes = matches!(
            cx.operation(),
            Operation::Register | Operation::Update | Operation::Delete
        ) && !cx.is_dry_run();
        if !changes || cx.change_recorded() {
            return;
        }
        match self.services.stores().events().record_event(&event).await {
            Ok(()) => cx.mark_change_recorded(),
            Err(store_error) => {
                tracing::warn!(error = %store_error, client_id = event.client_id.as_deref(), "cannot record the audit event of a change");
            }
        }
    }
}

/// A request refused before the pipeline saw it, for [`Pipeline::audit_refusal`].
#[derive(Debug, Clone, Copy)]
pub struct EarlyRefusal<'a> {
    /// What the request asked for.
    pub operation: Operation,
    /// Where it came from.
    pub source: &'a RequestSource,
    /// The token it presented, if one could be read: it names the event's route and is never
    /// recorded.
    pub token: Option<&'a str>,
    /// The client a management request named.
    pub client_id: Option<&'a str>,
    /// The RFC error code the request was answered with.
    pub error: &'static str,
    /// Whether the event is stored as well as logged: the server passes `false` for a request a
    /// rate limit refused, so that a flood the limiter absorbs costs no write per request.
    pub stored: bool,
}

/// What the audit event of an answer is made from.
enum Audited<'a> {
    /// The request's context.
    Context(&'a RegistrationContext),
    /// A request refused before its context existed.
    Attempt(Attempt<'a>),
}

#[cfg(test)]
mod tests {
    use url::Url;

    use super::*;

    fn builder() -> PipelineBuilder {
        let settings = Settings::new(Url::parse("https://issuer.example").expect("issuer"));
        Pipeline::builder(settings, Stores::unavailable())
    }

    #[test]
    fn the_builder_refuses_a_missing_or_short_server_secret() {
        assert!(matches!(
            builder().build(),
            Err(BuildError::MissingServerSecret)
        ));
        assert!(matches!(
            builder().server_secret(&[7; 31]).build(),
            Err(BuildError::ShortServerSecret {
                minimum: 32,
                actual: 31
            })
        ));
        assert!(builder().server_secret(&[7; 32]).build().is_ok());
    }
}
