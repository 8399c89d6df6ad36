//! The validation rules, as free functions of the request's [`RegistrationContext`].
//!
//! Each rule is a leaf: it reads the context and returns the first violation, and knows nothing
//! of the order rules run in. The order belongs to `steps::Validator`, whose default methods call
//! these functions, so an override can call the function and add its own rule.
//! The rules see the metadata as sent; the defaults the server applies come after, in the
//! processor, so rules that depend on a default read it through [`effective_grant_types`] and
//! friends.
//!
//! [`RegistrationContext`]: crate::RegistrationContext

mod jwks;
mod outbound;
mod policy;
mod read;
mod redirect;
mod rules;
#[cfg(test)]
mod tests;

pub use jwks::jwks;
pub use outbound::{outbound_hosts, sector_identifier_uri};
pub use policy::{check_policy, find_policy, policy, route_of_registration};
pub use read::{read_metadata, software_statement, update_request};
pub use redirect::{post_logout_redirect_uris, redirect_uri, redirect_uris};
pub use rules::{
    algorithms, application_type, contacts, grant_types, https_urls, lifetimes, response_types,
    scope, token_endpoint_auth_method,
};

use crate::error::RegistrationError;
use crate::metadata::ClientMetadata;
use crate::protocol::{ApplicationType, GrantType};

/// What a step returns: `Ok` to go on, or the error the request fails with.
pub type StepResult = Result<(), RegistrationError>;

/// The application type, `web` when omitted or unknown (OpenID Connect DCR 1.0 §2); an unknown
/// one is refused by [`application_type`].
pub fn effective_application_type(metadata: &ClientMetadata) -> ApplicationType {
    metadata
        .application_type
        .as_deref()
        .and_then(ApplicationType::parse)
        .unwrap_or(ApplicationType::Web)
}

/// The grant types, `authorization_code` when omitted (RFC 7591 §2).
pub fn effective_grant_types(metadata: &ClientMetadata) -> Vec<String> {
    if metadata.grant_types.is_empty() {
        return vec![GrantType::AuthorizationCode.as_str().to_owned()];
    }
    metadata.grant_types.clone()
}

/// Whether `grant` is among the effective grant types.
pub fn has_effective_grant(metadata: &ClientMetadata, grant: GrantType) -> bool {
    match metadata.grant_types.is_empty() {
        true => grant == GrantType::AuthorizationCode,
        false => metadata.has_grant_type(grant),
    }
}

/// The response types: as sent, or derived from the grant types when omitted. RFC 7591's default
/// is `code`, which only fits `authorization_code`; a client-only client gets none at all.
pub fn effective_response_types(metadata: &ClientMetadata) -> Vec<String> {
    if !metadata.response_types.is_empty() {
        return metadata.response_types.clone();
    }
    let mut response_types = Vec::new();
    if has_effective_grant(metadata, GrantType::AuthorizationCode) {
        response_types.push("code".to_owned());
    }
    if has_effective_grant(metadata, GrantType::Implicit) {
        response_types.push("id_token".to_owned());
    }
    response_types
}

/// Whether any effective grant type sends the user agent back to a redirect URI.
pub fn uses_redirects(metadata: &ClientMetadata) -> bool {
    GrantType::ALL
        .iter()
        .any(|grant| grant.uses_redirects() && has_effective_grant(metadata, *grant))
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
