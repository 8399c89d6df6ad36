//! `Validator`: every validation rule as an overridable async step.

use std::fmt::Debug;

use async_trait::async_trait;

use crate::context::RegistrationContext;
use crate::validate::{self, StepResult};

/// The validation steps of registration and update, in the order [`Validator::validate`] runs
/// them. Read and delete validate nothing.
///
/// ```
/// use async_trait::async_trait;
/// use registrar_core::context::RegistrationContext;
/// use registrar_core::steps::Validator;
/// use registrar_core::validate::{self, StepResult};
/// use registrar_core::RegistrationError;
///
/// /// Only clients of app.example.com may register.
/// #[derive(Debug)]
/// struct OnlyOurHosts;
///
/// #[async_trait]
/// impl Validator for OnlyOurHosts {
///     async fn validate_redirect_uris(&self, cx: &mut RegistrationContext) -> StepResult {
///         validate::redirect_uris(cx)?; // Keep the default rule, then add ours.
///         let ours = |uri: &String| uri.starts_with("https://app.example.com/");
///         if cx.metadata().redirect_uris.iter().all(ours) {
///             return Ok(());
///         }
///         Err(RegistrationError::InvalidRedirectUri(
///             "redirect_uris must be on app.example.com".to_owned(),
///         ))
///     }
/// }
/// ```
#[async_trait]
pub trait Validator: Send + Sync + Debug {
    /// Runs every step in order, stopping at the first error: the software statement first (its
    /// claims are merged before any other rule runs), reading the typed metadata, the policy,
    /// then one step per rule, and last the sector identifier document, the one rule that
    /// fetches. (The RFC 7592 §2.2 members of an update are checked by the pipeline before.)
    async fn validate(&self, cx: &mut RegistrationContext) -> StepResult {
        self.validate_software_statement(cx).await?;
        self.read_metadata(cx).await?;
        self.validate_policy(cx).await?;
        self.validate_application_type(cx).await?;
        self.validate_grant_types(cx).await?;
        self.validate_response_types(cx).await?;
        self.validate_redirect_uris(cx).await?;
        self.validate_post_logout_redirect_uris(cx).await?;
        self.validate_token_endpoint_auth_method(cx).await?;
        self.validate_jwks(cx).await?;
        self.validate_scope(cx).await?;
        self.validate_contacts(cx).await?;
        self.validate_urls(cx).await?;
        self.validate_outbound_hosts(cx).await?;
        self.validate_algorithms(cx).await?;
        self.validate_lifetimes(cx).await?;
        // Last, so that a request failing any other rule costs no fetch.
        self.validate_sector_identifier_uri(cx).await
    }

    /// RFC 7591 §2.3; see [`validate::software_statement`].
    async fn validate_software_statement(&self, cx: &mut RegistrationContext) -> StepResult {
        validate::software_statement(cx).await
    }

    /// Reads the typed metadata from the (possibly merged) request; see
    /// [`validate::read_metadata`].
    async fn read_metadata(&self, cx: &mut RegistrationContext) -> StepResult {
        validate::read_metadata(cx)
    }

    /// Finds the policy of the route of registration and holds the metadata to it; see
    /// [`validate::policy`]. Later rules (the scope rule) read the policy it records.
    async fn validate_policy(&self, cx: &mut RegistrationContext) -> StepResult {
        validate::policy(cx)
    }

    /// See [`validate::application_type`].
    async fn validate_application_type(&self, cx: &mut RegistrationContext) -> StepResult {
        validate::application_type(cx)
    }

    /// See [`validate::grant_types`].
    async fn validate_grant_types(&self, cx: &mut RegistrationContext) -> StepResult {
        validate::grant_types(cx)
    }

    /// See [`validate::response_types`].
    async fn validate_response_types(&self, cx: &mut RegistrationContext) -> StepResult {
        validate::response_types(cx)
    }

    /// See [`validate::redirect_uris`].
    async fn validate_redirect_uris(&self, cx: &mut RegistrationContext) -> StepResult {
        validate::redirect_uris(cx)
    }

    /// See [`validate::post_logout_redirect_uris`].
    async fn validate_post_logout_redirect_uris(&self, cx: &mut RegistrationContext) -> StepResult {
        validate::post_logout_redirect_uris(cx)
    }

    /// See [`validate::token_endpoint_auth_method`].
    async fn validate_token_endpoint_auth_method(
        &self,
        cx: &mut RegistrationContext,
    ) -> StepResult {
        validate::token_endpoint_auth_method(cx)
    }

    /// See [`validate::jwks`].
    async fn validate_jwks(&self, cx: &mut RegistrationContext) -> StepResult {
        validate::jwks(cx)
    }

    /// See [`validate::scope`].
    async fn validate_scope(&self, cx: &mut RegistrationContext) -> StepResult {
        validate::scope(cx)
    }

    /// See [`validate::contacts`].
    async fn validate_contacts(&self, cx: &mut RegistrationContext) -> StepResult {
        validate::contacts(cx)
    }

    /// See [`validate::https_urls`].
    async fn validate_urls(&self, cx: &mut RegistrationContext) -> StepResult {
        validate::https_urls(cx)
    }

    /// See [`validate::outbound_hosts`].
    async fn validate_outbound_hosts(&self, cx: &mut RegistrationContext) -> StepResult {
        validate::outbound_hosts(cx)
    }

    /// Fetches the sector identifier document through the pipeline's document source; see
    /// [`validate::sector_identifier_uri`].
    async fn validate_sector_identifier_uri(&self, cx: &mut RegistrationContext) -> StepResult {
        validate::sector_identifier_uri(cx).await
    }

    /// See [`validate::algorithms`].
    async fn validate_algorithms(&self, cx: &mut RegistrationContext) -> StepResult {
        validate::algorithms(cx)
    }

    /// See [`validate::lifetimes`].
    async fn validate_lifetimes(&self, cx: &mut RegistrationContext) -> StepResult {
        validate::lifetimes(cx)
    }
}

/// Every default validation step.
#[derive(Debug, Default, Clone, Copy)]
pub struct DefaultValidator;

impl Validator for DefaultValidator {}
