//! The registration pipeline: validate → process → store → respond, for RFC 7591 registration and
//! RFC 7592 read, update and delete.
//!
//! Every step is a default method of [`RegistrationPolicy`]; a deployment overrides the steps it
//! wants to change and keeps the rest. [`Pipeline`] runs the steps in the written order and owns
//! the parts no policy may change: authentication of the caller and the atomic store calls.

mod policy;
mod process;
mod response;

use std::sync::Arc;

use serde_json::{Map, Value};

pub use policy::{DefaultPolicy, RegistrationPolicy};
pub use process::{
    Issued, ProcessContext, ProcessedClient, apply_defaults, default_process, needs_secret,
    needs_stored_secret,
};
pub use response::{ClientInformation, default_respond};

use crate::clock::{Clock, SystemClock};
use crate::error::{RegistrationError, StoreError};
use crate::ids::ClientId;
use crate::metadata::ClientMetadata;
use crate::secrets::{OsRandom, Secret, SecretGenerator, TokenHash, TokenHasher};
use crate::settings::{RegistrationMode, Settings};
use crate::store::{RegisteredClient, Store, TokenCheck};
use crate::token::SecretCipher;
use crate::validate::ValidationContext;

/// Who is calling, as established before any metadata is looked at.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No token, in open mode.
    Anonymous,
    /// A holder of a usable initial access token.
    InitialAccessToken { id: String, token_hash: TokenHash },
    /// A registered client managing itself with its registration access token.
    Client {
        client_id: ClientId,
        registered_anonymously: bool,
    },
}

impl Caller {
    /// Whether the caller proved nothing about itself; rules for open registration apply, on
    /// update as on create.
    pub fn is_anonymous(&self) -> bool {
        match self {
            Self::Anonymous => true,
            Self::InitialAccessToken { .. } => false,
            Self::Client {
                registered_anonymously,
                ..
            } => *registered_anonymously,
        }
    }
}

/// Members a client may not send in an RFC 7592 update (§2.2).
const SERVER_MANAGED_MEMBERS: [&str; 4] = [
    "registration_access_token",
    "registration_client_uri",
    "client_secret_expires_at",
    "client_id_issued_at",
];

/// Runs registration and management requests through a policy against a store.
#[derive(Debug, Clone)]
pub struct Pipeline {
    policy: Arc<dyn RegistrationPolicy>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    generator: Arc<dyn SecretGenerator>,
    hasher: TokenHasher,
    cipher: SecretCipher,
    settings: Arc<Settings>,
}

impl Pipeline {
    /// A pipeline with the default policy, the system clock and the OS random source.
    /// `server_secret` keys the credential hashes and the encryption of secrets that must be
    /// kept (see `secrets` and `token::cipher`); it must not live in the database.
    pub fn new(settings: Settings, store: Arc<dyn Store>, server_secret: &[u8]) -> Self {
        Self {
            policy: Arc::new(DefaultPolicy),
            store,
            clock: Arc::new(SystemClock),
            generator: Arc::new(OsRandom),
            hasher: TokenHasher::new(server_secret),
            cipher: SecretCipher::new(server_secret),
            settings: Arc::new(settings),
        }
    }

    pub fn with_policy(mut self, policy: Arc<dyn RegistrationPolicy>) -> Self {
        self.policy = policy;
        self
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_generator(mut self, generator: Arc<dyn SecretGenerator>) -> Self {
        self.generator = generator;
        self
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn hasher(&self) -> &TokenHasher {
        &self.hasher
    }

    pub fn cipher(&self) -> &SecretCipher {
        &self.cipher
    }

    pub fn generator(&self) -> &Arc<dyn SecretGenerator> {
        &self.generator
    }

    /// Decides who is registering from the bearer token, if any, before the body is read.
    /// A token that is present must be valid even in open mode: a mistyped token is an error,
    /// not a silent downgrade to anonymous.
    pub async fn authorize_registration(
        &self,
        bearer: Option<&str>,
    ) -> Result<Caller, RegistrationError> {
        let Some(token) = bearer else {
            return match self.settings.mode {
                RegistrationMode::Open => Ok(Caller::Anonymous),
                RegistrationMode::Protected => Err(RegistrationError::InvalidToken),
            };
        };
        let token_hash = self.hasher.hash(token);
        match self.store.find_initial_token(&token_hash).await? {
            Some(initial_token) if initial_token.is_usable(self.clock.now()) => {
                Ok(Caller::InitialAccessToken {
                    id: initial_token.id,
                    token_hash,
                })
            }
            _ => Err(RegistrationError::InvalidToken),
        }
    }

    /// RFC 7591 §3: registers a client from a request object.
    pub async fn register(
        &self,
        caller: &Caller,
        request: &Map<String, Value>,
    ) -> Result<ClientInformation, RegistrationError> {
        let metadata = ClientMetadata::from_object(request)?;
        let validation = ValidationContext {
            settings: &self.settings,
            caller,
        };
        self.policy.validate(&validation, &metadata)?;
        let context = self.process_context(caller);
        let processed = self.policy.process(&context, metadata, None)?;
        let initial_token = match caller {
            Caller::InitialAccessToken { token_hash, .. } => Some(token_hash),
            Caller::Anonymous | Caller::Client { .. } => None,
        };
        match self
            .policy
            .store(self.store.as_ref(), &processed, initial_token, context.now)
            .await
        {
            Ok(()) => {}
            // Another request used the token's last use between our check and the insert.
            Err(StoreError::InitialTokenRejected) => return Err(RegistrationError::InvalidToken),
            Err(error) => return Err(error.into()),
        }
        Ok(self
            .policy
            .respond(&self.settings, &processed.client, &processed.issued))
    }

    /// RFC 7592 §2.1: the client's current registration.
    pub async fn read(
        &self,
        client_id: &str,
        token: &str,
    ) -> Result<ClientInformation, RegistrationError> {
        let client = self.authenticate_client(client_id, token).await?;
        // The presented token is by definition the current one; echoing it keeps the response in
        // the shape of the create response without storing tokens in clear.
        let issued = Issued {
            client_secret: None,
            registration_access_token: Secret::new(token.to_owned()),
        };
        Ok(self.policy.respond(&self.settings, &client, &issued))
    }

    /// RFC 7592 §2.2: replaces the registration of `current`, a client authenticated by
    /// [`Pipeline::authenticate_client`] with `token`, and rotates the registration access token.
    pub async fn update(
        &self,
        current: RegisteredClient,
        token: &str,
        request: &Map<String, Value>,
    ) -> Result<ClientInformation, RegistrationError> {
        self.check_update_request(&current, request)?;
        let metadata = ClientMetadata::from_object(request)?;
        let caller = Caller::Client {
            client_id: current.client_id.clone(),
            registered_anonymously: current.initial_token_id.is_none(),
        };
        let validation = ValidationContext {
            settings: &self.settings,
            caller: &caller,
        };
        self.policy.validate(&validation, &metadata)?;
        let context = self.process_context(&caller);
        let processed = self.policy.process(&context, metadata, Some(&current))?;
        let presented = self.hasher.hash(token);
        let check = TokenCheck {
            presented: &presented,
            now: context.now,
        };
        let grace = i64::try_from(self.settings.registration_token_grace).unwrap_or(i64::MAX);
        let replaced = self
            .store
            .replace_client(&processed.client, check, context.now.saturating_add(grace))
            .await?;
        if !replaced {
            // A concurrent update rotated the token first.
            return Err(RegistrationError::InvalidToken);
        }
        Ok(self
            .policy
            .respond(&self.settings, &processed.client, &processed.issued))
    }

    /// RFC 7592 §2.3: deletes the client, its secret and its tokens.
    pub async fn delete(&self, client_id: &str, token: &str) -> Result<(), RegistrationError> {
        let client = self.authenticate_client(client_id, token).await?;
        if !self.store.delete_client(&client.client_id).await? {
            return Err(RegistrationError::InvalidToken);
        }
        Ok(())
    }

    /// RFC 7592 §2: the client the token belongs to, if it is the one in the path. A valid token
    /// presented for another client is revoked (RFC 7592 §2.1), and every failure looks the same.
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        token: &str,
    ) -> Result<RegisteredClient, RegistrationError> {
        let presented = self.hasher.hash(token);
        let check = TokenCheck {
            presented: &presented,
            now: self.clock.now(),
        };
        let Some(client) = self.store.find_client_by_registration_token(check).await? else {
            return Err(RegistrationError::InvalidToken);
        };
        if client.client_id.as_str() != client_id {
            self.store
                .revoke_registration_token(&client.client_id)
                .await?;
            return Err(RegistrationError::InvalidToken);
        }
        Ok(client)
    }

    /// RFC 7592 §2.2: the identity and server-managed members of an update request.
    fn check_update_request(
        &self,
        current: &RegisteredClient,
        request: &Map<String, Value>,
    ) -> Result<(), RegistrationError> {
        match request.get("client_id") {
            Some(Value::String(client_id)) if client_id == current.client_id.as_str() => {}
            Some(_) => {
                return Err(RegistrationError::InvalidClientMetadata(
                    "client_id must equal the client's identifier".to_owned(),
                ));
            }
            None => {
                return Err(RegistrationError::InvalidClientMetadata(
                    "client_id is required in an update (RFC 7592 §2.2)".to_owned(),
                ));
            }
        }
        if let Some(member) = SERVER_MANAGED_MEMBERS
            .iter()
            .find(|member| request.contains_key(**member))
        {
            return Err(RegistrationError::InvalidClientMetadata(format!(
                "{member} is set by the server and must not be sent in an update (RFC 7592 §2.2)"
            )));
        }
        let Some(sent_secret) = request.get("client_secret") else {
            return Ok(());
        };
        let matches = match (sent_secret, &current.secret) {
            (Value::String(sent), Some(stored)) => self.hasher.verify(sent, &stored.hash),
            _ => false,
        };
        if !matches {
            return Err(RegistrationError::InvalidClientMetadata(
                "client_secret must equal the current secret; a client cannot choose its secret"
                    .to_owned(),
            ));
        }
        Ok(())
    }

    fn process_context<'a>(&'a self, caller: &'a Caller) -> ProcessContext<'a> {
        ProcessContext {
            settings: &self.settings,
            generator: self.generator.as_ref(),
            hasher: &self.hasher,
            cipher: &self.cipher,
            now: self.clock.now(),
            caller,
        }
    }
}
