//! The validation steps, in the order `default_validate` runs them.
//!
//! Each step is a plain function here and a default method of `RegistrationPolicy`, so an
//! override can call the function and add its own rule. Validation is pure: no I/O, no clock.
//! It sees the metadata as sent; the defaults the server applies come after, in `process`, so
//! steps that depend on a default read it through [`effective_grant_types`] and friends.

mod jwks;
mod redirect;
mod rules;
#[cfg(test)]
mod tests;

pub use jwks::jwks;
pub use redirect::{post_logout_redirect_uris, redirect_uri, redirect_uris};
pub use rules::{
    algorithms, application_type, contacts, grant_types, https_urls, lifetimes, response_types,
    scope, token_endpoint_auth_method,
};

use crate::error::RegistrationError;
use crate::metadata::ClientMetadata;
use crate::pipeline::{Caller, RegistrationPolicy};
use crate::settings::Settings;

/// What a validation step may consult besides the metadata.
#[derive(Debug, Clone, Copy)]
pub struct ValidationContext<'a> {
    pub settings: &'a Settings,
    pub caller: &'a Caller,
}

pub type StepResult = Result<(), RegistrationError>;

/// Runs every step of `policy` in the documented order, stopping at the first error.
pub fn default_validate<P: RegistrationPolicy + ?Sized>(
    policy: &P,
    context: &ValidationContext<'_>,
    metadata: &ClientMetadata,
) -> StepResult {
    policy.validate_application_type(context, metadata)?;
    policy.validate_grant_types(context, metadata)?;
    policy.validate_response_types(context, metadata)?;
    policy.validate_redirect_uris(context, metadata)?;
    policy.validate_post_logout_redirect_uris(context, metadata)?;
    policy.validate_token_endpoint_auth_method(context, metadata)?;
    policy.validate_jwks(context, metadata)?;
    policy.validate_scope(context, metadata)?;
    policy.validate_contacts(context, metadata)?;
    policy.validate_urls(context, metadata)?;
    policy.validate_algorithms(context, metadata)?;
    policy.validate_lifetimes(context, metadata)
}

/// The application type, `web` when omitted (OpenID Connect DCR 1.0 §2).
pub fn effective_application_type(metadata: &ClientMetadata) -> &str {
    metadata.application_type.as_deref().unwrap_or("web")
}

/// The grant types, `authorization_code` when omitted (RFC 7591 §2).
pub fn effective_grant_types(metadata: &ClientMetadata) -> Vec<String> {
    if metadata.grant_types.is_empty() {
        return vec!["authorization_code".to_owned()];
    }
    metadata.grant_types.clone()
}

/// The response types: as sent, or derived from the grant types when omitted. RFC 7591's default
/// is `code`, which only fits `authorization_code`; a client-only client gets none at all.
pub fn effective_response_types(metadata: &ClientMetadata) -> Vec<String> {
    if !metadata.response_types.is_empty() {
        return metadata.response_types.clone();
    }
    let grant_types = effective_grant_types(metadata);
    let mut response_types = Vec::new();
    if grant_types
        .iter()
        .any(|grant| grant == "authorization_code")
    {
        response_types.push("code".to_owned());
    }
    if grant_types.iter().any(|grant| grant == "implicit") {
        response_types.push("id_token".to_owned());
    }
    response_types
}

/// Whether any grant type sends the user agent back to a redirect URI.
pub fn uses_redirects(grant_types: &[String]) -> bool {
    grant_types
        .iter()
        .any(|grant| grant == "authorization_code" || grant == "implicit")
}

/// Refuses a list that names the same value twice.
fn no_duplicates(
    field: &str,
    values: &[String],
    error: fn(String) -> RegistrationError,
) -> StepResult {
    for (index, value) in values.iter().enumerate() {
        if values[..index].contains(value) {
            return Err(error(format!("{field}[{index}] repeats \"{value}\"")));
        }
    }
    Ok(())
}
