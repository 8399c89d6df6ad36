//! Registrar's core: OAuth 2.0 Dynamic Client Registration (RFC 7591) and management
//! (RFC 7592) as a library, with no HTTP and no SQL.
//!
//! # The shape
//!
//! Every request builds one [`RegistrationContext`]: the raw request object (every member,
//! unknown ones included), the metadata being built, the [`Caller`], the time, where the request
//! came from, and a typed [`Items`](context::Items) map for state between custom steps. The
//! [`Pipeline`] passes it by `&mut` through four step traits, each an async default method you
//! may override alone:
//!
//! 1. [`Validator`]: the software statement first, then one step per RFC rule;
//! 2. [`Processor`]: defaults, client id, secret, registration access token;
//! 3. [`Persister`]: insert, replace or delete in the [`Stores`];
//! 4. [`Responder`]: the [`ClientInformation`] response, and how errors are answered.
//!
//! Registration, read, update and delete all run through the same steps, so an override governs
//! every operation. A default step calls a free function of `validate`, `process`, `persist` or
//! `respond`; an override that only adds a rule calls that function and then its own check.
//!
//! # Overriding one step
//!
//! ```
//! use std::sync::Arc;
//!
//! use async_trait::async_trait;
//! use registrar_core::validate::{self, StepResult};
//! use registrar_core::{RegistrationContext, RegistrationError, Validator};
//!
//! #[derive(Debug)]
//! struct OnlyOurHosts;
//!
//! #[async_trait]
//! impl Validator for OnlyOurHosts {
//!     async fn validate_redirect_uris(&self, cx: &mut RegistrationContext) -> StepResult {
//!         validate::redirect_uris(cx)?;
//!         if cx.metadata().redirect_uris.iter().all(|uri| uri.starts_with("https://app.example.com/")) {
//!             return Ok(());
//!         }
//!         Err(RegistrationError::InvalidRedirectUri("redirect_uris must be on app.example.com".into()))
//!     }
//! }
//!
//! # fn build(settings: registrar_core::Settings, stores: registrar_core::Stores) -> Result<(), registrar_core::BuildError> {
//! let pipeline = registrar_core::Pipeline::builder(settings, stores)
//!     .server_secret(b"at least thirty-two bytes of secret key material")
//!     .validator(Arc::new(OnlyOurHosts))
//!     .build()?;
//! # let _ = pipeline; Ok(()) }
//! ```
//!
//! # Stores
//!
//! [`ClientStore`], [`InitialAccessTokenStore`], [`SigningKeyStore`](token::SigningKeyStore) and
//! [`ReplayCache`](token::ReplayCache) are separate traits bundled in [`Stores`]: swap one and
//! keep the rest. `registrar-store` implements all of them on SQLite and PostgreSQL.
//!
//! Every request the pipeline answers is an [`audit::AuditEvent`]: logged (target
//! `registrar::audit`), and for a create, update, delete or refusal recorded in the
//! [`audit::EventStore`] of the [`Stores`], in the change's own transaction on the built-in
//! backends.
//!
//! This crate is an API boundary: it knows RFC error codes but not HTTP, and it depends on neither
//! axum nor sqlx. Time and randomness are injected ([`Clock`], [`SecretGenerator`]).

#![warn(missing_docs)]

pub mod admission;
pub mod audit;
pub mod authz;
pub mod bearer;
pub mod caller;
pub mod cimd;
pub mod clock;
pub mod context;
/// The store contract suite, for the tests of a store implementation (feature `contract`).
#[cfg(feature = "contract")]
pub mod contract;
pub mod error;
pub mod idempotency;
pub mod ids;
pub mod initial_token;
pub mod json;
pub mod lifecycle;
pub mod metadata;
pub mod net;
pub mod observer;
pub mod persist;
mod pipeline;
pub mod policy;
pub mod process;
pub mod protocol;
pub mod record;
pub mod respond;
pub mod secrets;
pub mod settings;
pub mod steps;
pub mod store;
pub mod token;
pub mod trust;
pub mod validate;

pub use admission::Admission;
pub use bearer::BearerAuthenticator;
pub use caller::{Caller, Principal};
pub use clock::{Clock, ManualClock, SystemClock};
pub use context::{Operation, RegistrationContext, RequestSource, Services, SoftwareStatement};
pub use error::{BuildError, RegistrationError, StoreError};
pub use idempotency::{IdempotencyKey, Registration};
pub use ids::ClientId;
pub use metadata::ClientMetadata;
pub use observer::{RegistrationObserver, RegistrationOutcome};
pub use pipeline::{
    AuthorizedClient, EarlyRefusal, MIN_SERVER_SECRET_BYTES, Pipeline, PipelineBuilder,
};
pub use policy::{Policies, Policy};
pub use protocol::{ApplicationType, AuthMethod, GrantType};
pub use respond::ClientInformation;
pub use secrets::{Secret, SecretGenerator, TokenHash, TokenHasher};
pub use settings::{AuditSettings, DEFAULT_BEARER_SCOPE, RegistrationMode, Settings};
pub use steps::{
    DefaultPersister, DefaultProcessor, DefaultResponder, DefaultValidator, Persister, Processor,
    Responder, Steps, Validator,
};
pub use store::{
    ClientStore, InitialAccessToken, InitialAccessTokenStore, RegisteredClient, Store, Stores,
};
