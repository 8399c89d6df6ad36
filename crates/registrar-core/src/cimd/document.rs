//! The rules a Client ID Metadata Document meets before the registration rules see it.

use serde_json::Value;

use crate::caller::Caller;
use crate::context::RegistrationContext;
use crate::error::RegistrationError;
use crate::metadata::ClientMetadata;
use crate::validate::StepResult;

/// Members a document never carries: a secret would be published to anyone who fetches the
/// URL, and the rest are what a server issues.
const FORBIDDEN_MEMBERS: [&str; 6] = [
    "client_secret",
    "client_secret_expires_at",
    "client_id_issued_at",
    "registration_access_token",
    "registration_client_uri",
    "software_statement",
];

/// The methods a document client may use: none with PKCE, or its own published keys.
const AUTH_METHODS: [&str; 2] = ["none", "private_key_jwt"];

/// The grants a document client may register: the user is always in the loop.
const GRANT_TYPES: [&str; 2] = ["authorization_code", "refresh_token"];

fn refused(description: impl Into<String>) -> RegistrationError {
    RegistrationError::InvalidClientMetadata(description.into())
}

/// The document's own rules (draft-ietf-oauth-client-id-metadata-document §4): its `client_id`
/// equals the URL it was fetched from, compared as a plain string; no secret or server-issued
/// member; `token_endpoint_auth_method` `none` (the default when absent) or `private_key_jwt`;
/// only the authorization code and refresh token grants.
pub fn document_rules(cx: &mut RegistrationContext) -> StepResult {
    let Caller::MetadataDocument { url } = cx.caller() else {
        return Ok(());
    };
    let url = url.clone();
    let request = cx.request_mut();
    match request.get("client_id") {
        Some(Value::String(client_id)) if *client_id == url => {}
        Some(_) => {
            return Err(refused(
                "client_id in the document must equal the url it was fetched from",
            ));
        }
        None => return Err(refused("the document must hold client_id")),
    }
    if let Some(member) = FORBIDDEN_MEMBERS
        .iter()
        .find(|member| request.contains_key(**member))
    {
        return Err(refused(format!(
            "{member} must not be in a client metadata document"
        )));
    }
    match request.get("token_endpoint_auth_method") {
        None | Some(Value::Null) => {
            request.insert(
                "token_endpoint_auth_method".to_owned(),
                Value::String("none".to_owned()),
            );
        }
        Some(Value::String(method)) if AUTH_METHODS.contains(&method.as_str()) => {}
        Some(_) => {
            return Err(refused(
                "a metadata document client authenticates with none or private_key_jwt",
            ));
        }
    }
    // Whatever a policy bound to the route allows: a URL must never mint an administrator.
    let bearer_scope = cx.settings().bearer_scope.clone();
    let request = cx.request_mut();
    if let Some(Value::String(scope)) = request.get("scope")
        && scope.split(' ').any(|value| value == bearer_scope)
    {
        return Err(refused(format!(
            "a metadata document client may not have the scope {bearer_scope}"
        )));
    }
    if let Some(Value::Array(grants)) = request.get("grant_types") {
        let other = grants.iter().find(|grant| {
            !grant
                .as_str()
                .is_some_and(|name| GRANT_TYPES.contains(&name))
        });
        if other.is_some() {
            return Err(refused(
                "a metadata document client may use only authorization_code and refresh_token",
            ));
        }
    }
    Ok(())
}

/// Whether the keys a client authenticates with changed: its method, `jwks` or `jwks_uri`.
pub fn keys_changed(before: &ClientMetadata, after: &ClientMetadata) -> bool {
    before.token_endpoint_auth_method != after.token_endpoint_auth_method
        || before.jwks != after.jwks
        || before.jwks_uri != after.jwks_uri
}
