//! The policy rule: finds the policy of the request's route of registration and holds the
//! metadata to its limits. Every refusal names the policy and the rule.

use std::sync::Arc;

use url::Url;

use super::{StepResult, effective_application_type, effective_grant_types, uses_redirects};
use crate::caller::Caller;
use crate::context::{Operation, RegistrationContext};
use crate::error::RegistrationError;
use crate::policy::{Policy, Route, StatementRoute};
use crate::protocol::{AuthMethod, GrantType};
use crate::settings::RegistrationMode;
use crate::trust::quote::quoted;

fn refused(policy: &Policy, rule: &str) -> RegistrationError {
    RegistrationError::InvalidClientMetadata(format!("policy '{}' {rule}", policy.name))
}

/// The policy that governs the request: for a registration, the one its route resolves to
/// (`Policies::resolve`); for an update, the one the client was registered under.
pub fn find_policy(cx: &RegistrationContext) -> Result<Arc<Policy>, RegistrationError> {
    let policies = &cx.settings().policies;
    // A document is registered anew on every fetch: its route's policy as configured now.
    if matches!(cx.caller(), Caller::MetadataDocument { .. }) {
        return Ok(policies.metadata_document_policy());
    }
    if let Some(current) = cx.current() {
        return Ok(policies.for_client(current.policy.as_deref(), current.registered_anonymously));
    }
    let statement = cx.software_statement().map(|statement| StatementRoute {
        issuer: &statement.issuer,
        software_id: statement.software_id.as_deref(),
    });
    policies
        .resolve(route_of_registration(cx), statement)
        .ok_or_else(|| {
            RegistrationError::AccessDenied(
                "the initial access token names a policy that is not configured".to_owned(),
            )
        })
}

/// How the request's caller came to register.
pub fn route_of_registration(cx: &RegistrationContext) -> Route<'_> {
    match cx.caller() {
        Caller::InitialAccessToken { policy, .. } => Route::InitialToken {
            policy: policy.as_deref(),
        },
        Caller::Bearer(_) => Route::Bearer,
        Caller::Anonymous => match cx.settings().mode {
            RegistrationMode::Open => Route::Open,
            // Only a statement whose issuer authorizes registration gets this far.
            RegistrationMode::Protected => Route::SoftwareStatement,
        },
        Caller::SoftwareStatement { .. } => Route::SoftwareStatement,
        Caller::Principal(_) | Caller::Client { .. } => Route::Host,
        Caller::MetadataDocument { .. } => Route::MetadataDocument,
    }
}

/// Finds the request's policy, records it in the context, and checks the metadata against it.
pub fn policy(cx: &mut RegistrationContext) -> StepResult {
    let policy = find_policy(cx)?;
    check_policy(cx, &policy)?;
    cx.set_policy(policy);
    Ok(())
}

/// Every limit of `policy` against the request's metadata.
pub fn check_policy(cx: &RegistrationContext, policy: &Policy) -> StepResult {
    if cx.operation() == Operation::Register && !policy.allow_registration {
        return Err(RegistrationError::AccessDenied(format!(
            "policy '{}' does not allow registration by this route",
            policy.name
        )));
    }
    if policy.requires_software_statement && cx.operation() == Operation::Update {
        // The statement must be one that would have chosen this policy: another trusted
        // issuer's cannot take the client over.
        let fits = cx.software_statement().is_some_and(|statement| {
            policy.binds_statement(&statement.issuer, statement.software_id.as_deref())
        });
        if !fits {
            return Err(RegistrationError::InvalidSoftwareStatement(format!(
                "clients of policy '{}' must present a valid software_statement of its issuer on update",
                policy.name
            )));
        }
    }
    let metadata = cx.metadata();
    for grant_type in effective_grant_types(metadata) {
        let Some(grant) = GrantType::parse(&grant_type) else {
            continue; // Unknown grants are refused by the grant type rule.
        };
        if grant == GrantType::ClientCredentials && !policy.allow_client_credentials {
            return Err(refused(
                policy,
                "does not allow the client_credentials grant",
            ));
        }
        if let Some(allowed) = &policy.grant_types
            && !allowed.contains(&grant)
        {
            return Err(refused(
                policy,
                &format!(
                    "does not allow grant_types {grant}; allowed: {}",
                    join(allowed.iter().map(|grant| grant.as_str()))
                ),
            ));
        }
    }
    let bearer_scope = cx.settings().bearer_scope.as_str();
    for scope in metadata.scopes() {
        if scope == bearer_scope {
            if !policy.allow_registration_scope {
                return Err(refused(
                    policy,
                    &format!(
                        "does not allow the registration scope {}",
                        quoted(bearer_scope)
                    ),
                ));
            }
            continue;
        }
        if let Some(allowed) = &policy.scopes
            && !allowed.iter().any(|allowed| allowed == scope)
        {
            return Err(refused(
                policy,
                &format!(
                    "does not allow scope {}; allowed: {}",
                    quoted(scope),
                    join(allowed.iter().map(String::as_str))
                ),
            ));
        }
    }
    if let Some(allowed) = &policy.auth_methods {
        let method = metadata.auth_method_name();
        if !AuthMethod::parse(method).is_some_and(|method| allowed.contains(&method)) {
            return Err(refused(
                policy,
                &format!(
                    "does not allow token_endpoint_auth_method {}; allowed: {}",
                    quoted(method),
                    join(allowed.iter().map(|method| method.as_str()))
                ),
            ));
        }
    }
    if let Some(allowed) = &policy.application_types {
        let application_type = effective_application_type(metadata);
        if !allowed.contains(&application_type) {
            return Err(refused(
                policy,
                &format!(
                    "does not allow application_type {application_type}; allowed: {}",
                    join(allowed.iter().map(|kind| kind.as_str()))
                ),
            ));
        }
    }
    if let Some(patterns) = &policy.redirect_uri_hosts
        && uses_redirects(metadata)
    {
        for (index, uri) in metadata.redirect_uris.iter().enumerate() {
            // Malformed URIs are the redirect rule's to refuse, with its own message; a URI
            // without a host (a private-use scheme) can match no host pattern.
            let Ok(url) = Url::parse(uri) else {
                continue;
            };
            let host = url.host_str().unwrap_or_default();
            if !patterns
                .iter()
                .any(|pattern| !host.is_empty() && pattern.matches(host))
            {
                return Err(RegistrationError::InvalidRedirectUri(format!(
                    "policy '{}' does not allow the host of redirect_uris[{index}]; allowed: {}",
                    policy.name,
                    join(patterns.iter().map(|pattern| pattern.as_str()))
                )));
            }
        }
    }
    let lifetimes = [
        (
            "access_token_lifetime",
            metadata.access_token_lifetime,
            policy.max_access_token_lifetime,
        ),
        (
            "absolute_refresh_token_lifetime",
            metadata.absolute_refresh_token_lifetime,
            policy.max_refresh_token_lifetime,
        ),
        (
            "sliding_refresh_token_lifetime",
            metadata.sliding_refresh_token_lifetime,
            policy.max_refresh_token_lifetime,
        ),
    ];
    for (member, value, max) in lifetimes {
        if let (Some(value), Some(max)) = (value, max)
            && value > max
        {
            return Err(refused(
                policy,
                &format!("allows {member} of at most {max} seconds, not {value}"),
            ));
        }
    }
    Ok(())
}

fn join<'a>(values: impl Iterator<Item = &'a str>) -> String {
    values.collect::<Vec<_>>().join(", ")
}
