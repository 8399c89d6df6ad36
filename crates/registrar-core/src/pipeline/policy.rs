//! `RegistrationPolicy`: every pipeline step as an overridable default method.

use std::fmt::Debug;

use async_trait::async_trait;

use super::process::{Issued, ProcessContext, ProcessedClient};
use super::response::ClientInformation;
use crate::ClientId;
use crate::error::{RegistrationError, StoreError};
use crate::metadata::ClientMetadata;
use crate::secrets::{Secret, SecretGenerator, TokenHash, random_token};
use crate::settings::Settings;
use crate::store::{ClientStore, RegisteredClient};
use crate::validate::{self, StepResult, ValidationContext};

/// The steps of registration. Override one to change it; call the free function its default
/// calls to keep the default behaviour and add to it:
///
/// ```
/// use registrar_core::validate::{self, StepResult, ValidationContext};
/// use registrar_core::{ClientMetadata, RegistrationError, RegistrationPolicy};
///
/// /// Only clients of example.com may register.
/// #[derive(Debug)]
/// struct ExampleOnly;
///
/// impl RegistrationPolicy for ExampleOnly {
///     fn validate_redirect_uris(&self, context: &ValidationContext<'_>, metadata: &ClientMetadata) -> StepResult {
///         validate::redirect_uris(context, metadata)?;
///         if metadata.redirect_uris.iter().all(|uri| uri.starts_with("https://example.com/")) {
///             return Ok(());
///         }
///         Err(RegistrationError::InvalidRedirectUri("redirect_uris must be on example.com".into()))
///     }
/// }
/// ```
#[async_trait]
pub trait RegistrationPolicy: Send + Sync + Debug {
    /// Runs the validation steps in order; see `validate::default_validate`.
    fn validate(&self, context: &ValidationContext<'_>, metadata: &ClientMetadata) -> StepResult {
        validate::default_validate(self, context, metadata)
    }

    fn validate_application_type(
        &self,
        context: &ValidationContext<'_>,
        metadata: &ClientMetadata,
    ) -> StepResult {
        validate::application_type(context, metadata)
    }

    fn validate_grant_types(
        &self,
        context: &ValidationContext<'_>,
        metadata: &ClientMetadata,
    ) -> StepResult {
        validate::grant_types(context, metadata)
    }

    fn validate_response_types(
        &self,
        context: &ValidationContext<'_>,
        metadata: &ClientMetadata,
    ) -> StepResult {
        validate::response_types(context, metadata)
    }

    fn validate_redirect_uris(
        &self,
        context: &ValidationContext<'_>,
        metadata: &ClientMetadata,
    ) -> StepResult {
        validate::redirect_uris(context, metadata)
    }

    fn validate_post_logout_redirect_uris(
        &self,
        context: &ValidationContext<'_>,
        metadata: &ClientMetadata,
    ) -> StepResult {
        validate::post_logout_redirect_uris(context, metadata)
    }

    fn validate_token_endpoint_auth_method(
        &self,
        context: &ValidationContext<'_>,
        metadata: &ClientMetadata,
    ) -> StepResult {
        validate::token_endpoint_auth_method(context, metadata)
    }

    fn validate_jwks(
        &self,
        context: &ValidationContext<'_>,
        metadata: &ClientMetadata,
    ) -> StepResult {
        validate::jwks(context, metadata)
    }

    fn validate_scope(
        &self,
        context: &ValidationContext<'_>,
        metadata: &ClientMetadata,
    ) -> StepResult {
        validate::scope(context, metadata)
    }

    fn validate_contacts(
        &self,
        context: &ValidationContext<'_>,
        metadata: &ClientMetadata,
    ) -> StepResult {
        validate::contacts(context, metadata)
    }

    fn validate_urls(
        &self,
        context: &ValidationContext<'_>,
        metadata: &ClientMetadata,
    ) -> StepResult {
        validate::https_urls(context, metadata)
    }

    fn validate_algorithms(
        &self,
        context: &ValidationContext<'_>,
        metadata: &ClientMetadata,
    ) -> StepResult {
        validate::algorithms(context, metadata)
    }

    fn validate_lifetimes(
        &self,
        context: &ValidationContext<'_>,
        metadata: &ClientMetadata,
    ) -> StepResult {
        validate::lifetimes(context, metadata)
    }

    /// Fills in what the client left out; the result is what gets stored and returned.
    fn apply_defaults(&self, settings: &Settings, metadata: &mut ClientMetadata) {
        super::process::apply_defaults(settings, metadata);
    }

    /// A new client identifier: 160 random bits (RFC 6749 §10.10 asks for at least 128).
    fn generate_client_id(&self, generator: &dyn SecretGenerator) -> ClientId {
        ClientId::parse(&random_token(generator, 20))
            .unwrap_or_else(|| unreachable!("base64url is made of unreserved characters"))
    }

    /// A new client secret: 256 random bits.
    fn generate_client_secret(&self, generator: &dyn SecretGenerator) -> Secret {
        Secret::new(random_token(generator, 32))
    }

    /// A new registration access token: 256 random bits.
    fn generate_registration_access_token(&self, generator: &dyn SecretGenerator) -> Secret {
        Secret::new(random_token(generator, 32))
    }

    /// Turns validated metadata into a client record and the credentials issued with it.
    /// `current` is the stored client on update, `None` on create.
    fn process(
        &self,
        context: &ProcessContext<'_>,
        metadata: ClientMetadata,
        current: Option<&RegisteredClient>,
    ) -> Result<ProcessedClient, RegistrationError> {
        super::process::default_process(self, context, metadata, current)
    }

    /// Persists a new client, consuming one use of the initial access token in the same
    /// transaction.
    async fn store(
        &self,
        store: &dyn ClientStore,
        processed: &ProcessedClient,
        initial_token: Option<&TokenHash>,
        now: i64,
    ) -> Result<(), StoreError> {
        store
            .insert_client(&processed.client, initial_token, now)
            .await
    }

    /// The client information response (RFC 7591 §3.2.1).
    fn respond(
        &self,
        settings: &Settings,
        client: &RegisteredClient,
        issued: &Issued,
    ) -> ClientInformation {
        super::response::default_respond(settings, client, issued)
    }
}

/// The policy with every default step.
#[derive(Debug, Default, Clone, Copy)]
pub struct DefaultPolicy;

impl RegistrationPolicy for DefaultPolicy {}
