//! Registrar's core: RFC 7591/7592 client metadata, the registration pipeline, errors and store
//! traits.
//!
//! This crate is an API boundary: it knows RFC error codes but not HTTP, and it depends on neither
//! axum nor sqlx, so the pipeline can be reused and tested without a server or a database.

pub mod clock;
/// The store contract suite, for the tests of a store implementation (feature `contract`).
#[cfg(feature = "contract")]
pub mod contract;
pub mod error;
pub mod ids;
pub mod initial_token;
pub mod json;
pub mod metadata;
pub mod pipeline;
pub mod secrets;
pub mod settings;
pub mod store;
pub mod token;
pub mod validate;

pub use clock::{Clock, SystemClock};
pub use error::{RegistrationError, StoreError};
pub use ids::ClientId;
pub use metadata::ClientMetadata;
pub use pipeline::{Caller, ClientInformation, Pipeline, RegistrationPolicy};
pub use secrets::{Secret, SecretGenerator, TokenHash, TokenHasher};
pub use settings::{RegistrationMode, Settings};
pub use store::{ClientStore, InitialAccessToken, InitialAccessTokenStore, RegisteredClient};
