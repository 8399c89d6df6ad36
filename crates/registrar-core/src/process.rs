//! The processor rules, as free functions of the context: defaults, identifiers, credentials,
//! and the client record they make. `steps::Processor` orders them.

use crate::context::{Operation, RegistrationContext};
use crate::error::RegistrationError;
use crate::ids::ClientId;
use crate::protocol::AuthMethod;
use crate::secrets::{Secret, random_token};
use crate::store::{RegisteredClient, StoredSecret};
use crate::validate::{
    effective_application_type, effective_grant_types, effective_response_types,
};

/// Writes the server's defaults into the metadata, so the response and the store show what
/// actually applies (RFC 7591 §3.2.1).
pub fn apply_defaults(cx: &mut RegistrationContext) {
    let mut default_access_token = cx.settings().lifetimes.default_access_token;
    if let Some(max) = cx
        .policy()
        .and_then(|policy| policy.max_access_token_lifetime)
    {
        default_access_token = default_access_token.min(max);
    }
    // RFC 7591 §2: a server may register a default scope for a client that sends none; within
    // what the client's policy allows, so the default never breaks the policy's own rule.
    let default_scope: Vec<String> = cx
        .settings()
        .default_scopes
        .iter()
        .filter(|scope| {
            cx.policy()
                .and_then(|policy| policy.scopes.as_ref())
                .is_none_or(|allowed| allowed.contains(scope))
        })
        .cloned()
        .collect();
    let metadata = cx.metadata_mut();
    if metadata.scope.is_none() && !default_scope.is_empty() {
        metadata.scope = Some(default_scope.join(" "));
    }
    metadata.application_type = Some(effective_application_type(metadata).as_str().to_owned());
    metadata.grant_types = effective_grant_types(metadata);
    metadata.response_types = effective_response_types(metadata);
    metadata.token_endpoint_auth_method = Some(metadata.auth_method_name().to_owned());
    if metadata.subject_type.is_none() {
        metadata.subject_type = Some("public".to_owned());
    }
    if metadata.id_token_signed_response_alg.is_none() && !metadata.response_types.is_empty() {
        // OpenID Connect DCR 1.0 §2: the default is RS256.
        metadata.id_token_signed_response_alg = Some("RS256".to_owned());
    }
    if metadata.access_token_lifetime.is_none() {
        metadata.access_token_lifetime = Some(default_access_token);
    }
    drop_unsupported(metadata);
}

/// Removes the members this server accepts but does not act on, so the response never shows
/// them as if they were honoured (RFC 7591 §3.2.1 lets the server replace requested values):
/// encrypted ID tokens, signed or encrypted userinfo, request objects, ACR values, third-party
/// initiated login, and front- and back-channel logout.
fn drop_unsupported(metadata: &mut crate::metadata::ClientMetadata) {
    metadata.id_token_encrypted_response_alg = None;
    metadata.id_token_encrypted_response_enc = None;
    metadata.userinfo_signed_response_alg = None;
    metadata.userinfo_encrypted_response_alg = None;
    metadata.userinfo_encrypted_response_enc = None;
    metadata.request_object_signing_alg = None;
    metadata.request_object_encryption_alg = None;
    metadata.request_object_encryption_enc = None;
    metadata.default_acr_values = Vec::new();
    metadata.initiate_login_uri = None;
    metadata.request_uris = Vec::new();
    metadata.frontchannel_logout_uri = None;
    metadata.frontchannel_logout_session_required = None;
    metadata.backchannel_logout_uri = None;
    metadata.backchannel_logout_session_required = None;
}

/// A client identifier of 160 random bits (RFC 6749 §10.10 asks for at least 128).
pub fn random_client_id(cx: &RegistrationContext) -> ClientId {
    ClientId::parse(&random_token(cx.services().generator().as_ref(), 20))
        .unwrap_or_else(|| unreachable!("base64url is made of unreserved characters"))
}

/// A credential of 256 random bits: registration access tokens.
pub fn random_credential(cx: &RegistrationContext) -> Secret {
    Secret::new(random_token(cx.services().generator().as_ref(), 32))
}

/// The random bytes of a client secret.
///
/// OpenID Connect Core §9 keys `client_secret_jwt`'s HMAC with the octets of the secret, and
/// RFC 7518 §3.2 wants an HMAC key at least as long as the hash output: 64 bytes for HS512, the
/// longest this server offers. 64 random bytes are 86 base64url characters, so every offered
/// HMAC algorithm gets a key of full length and full strength.
pub const CLIENT_SECRET_BYTES: usize = 64;

/// A client secret of 512 random bits ([`CLIENT_SECRET_BYTES`]).
pub fn random_client_secret(cx: &RegistrationContext) -> Secret {
    Secret::new(random_token(
        cx.services().generator().as_ref(),
        CLIENT_SECRET_BYTES,
    ))
}

/// The secret the client ends up with: none when its method needs none; on update the current
/// one (RFC 7592 §2.2: the client never chooses one); otherwise `generate()` is called and the
/// new secret is hashed (and sealed, for `client_secret_jwt`).
pub fn add_client_secret(
    cx: &mut RegistrationContext,
    generate: impl FnOnce(&RegistrationContext) -> Secret,
) -> Result<(), RegistrationError> {
    let Some(method) = AuthMethod::parse(cx.metadata().auth_method_name()) else {
        return Err(RegistrationError::InvalidClientMetadata(
            "token_endpoint_auth_method is not supported".to_owned(),
        ));
    };
    if !method.uses_secret() {
        cx.set_secret(None, None);
        return Ok(());
    }
    let kept = cx
        .current()
        .and_then(|current| current.secret.clone())
        // A secret that was stored as a hash alone cannot serve client_secret_jwt, which needs
        // the secret itself; such a change of method gets a new secret.
        .filter(|kept| !method.needs_stored_secret() || kept.encrypted.is_some());
    if let Some(mut kept) = kept {
        if !method.needs_stored_secret() {
            // Keep no more than the method needs.
            kept.encrypted = None;
        }
        cx.set_secret(Some(kept), None);
        return Ok(());
    }
    let Some(client_id) = cx.client_id().cloned() else {
        return Err(missing("a client id before the secret"));
    };
    let secret = generate(cx);
    let services = cx.services();
    let stored = StoredSecret {
        hash: services.hasher().hash(secret.expose()),
        expires_at: secret_expiry(cx),
        encrypted: method.needs_stored_secret().then(|| {
            services
                .cipher()
                .encrypt(secret.expose().as_bytes(), client_id.as_str().as_bytes())
        }),
    };
    cx.set_secret(Some(stored), Some(secret));
    Ok(())
}

/// Builds the client record to store from what the earlier steps set.
pub fn build_client(cx: &mut RegistrationContext) -> Result<(), RegistrationError> {
    let Some(client_id) = cx.client_id().cloned() else {
        return Err(missing("a client id"));
    };
    let current = cx.current();
    let registration_token = match (cx.registration_access_token(), current) {
        (Some(token), _) => Some(cx.services().hasher().hash(token.expose())),
        // An administrator's update keeps the client's token.
        (None, Some(current)) if cx.caller().is_administrator() => {
            current.registration_token.clone()
        }
        (None, _) => return Err(missing("a registration access token")),
    };
    let client = RegisteredClient {
        client_id,
        client_id_issued_at: current.map_or(cx.now(), |current| current.client_id_issued_at),
        secret: cx.stored_secret().cloned(),
        registration_token,
        metadata: cx.metadata().clone(),
        initial_token_id: match (cx.operation(), current) {
            (Operation::Register, _) | (_, None) => {
                cx.caller().initial_token_id().map(str::to_owned)
            }
            (_, Some(current)) => current.initial_token_id.clone(),
        },
        registered_anonymously: match current {
            Some(current) => current.registered_anonymously,
            None => cx.caller().is_anonymous(),
        },
        updated_at: cx.now(),
        extensions: cx.extensions().clone(),
        // The policy of registration stays the client's for good.
        policy: match current {
            Some(current) => current.policy.clone(),
            None => cx.policy().map(|policy| policy.name.clone()),
        },
        // A registration is not a use: `lifecycle.unused_ttl` counts from it.
        state: current.map(|current| current.state).unwrap_or_default(),
    };
    cx.set_client(client);
    Ok(())
}

/// Builds the client a Client ID Metadata Document makes: its id is the document's URL, and it
/// has no secret and no registration access token, since nobody registered it; a refetch keeps
/// when it was first seen and its standing.
pub fn build_document_client(cx: &mut RegistrationContext) -> Result<(), RegistrationError> {
    let Some(client_id) = cx.client_id().cloned() else {
        return Err(missing("a client id"));
    };
    let current = cx.current();
    let client = RegisteredClient {
        client_id,
        client_id_issued_at: current.map_or(cx.now(), |current| current.client_id_issued_at),
        secret: None,
        registration_token: None,
        metadata: cx.metadata().clone(),
        initial_token_id: None,
        registered_anonymously: true,
        // For a document client: when its document was last fetched and found valid.
        updated_at: cx.now(),
        extensions: cx.extensions().clone(),
        // The route's policy as it is now: a refetch registers the document anew.
        policy: cx.policy().map(|policy| policy.name.clone()),
        state: current.map(|current| current.state).unwrap_or_default(),
    };
    cx.set_client(client);
    Ok(())
}

/// A processor override that skipped a step the record needs is a bug in that override; it is
/// reported, not panicked on.
fn missing(what: &str) -> RegistrationError {
    RegistrationError::Store(crate::error::StoreError::Backend(format!(
        "the processor did not set {what}"
    )))
}

fn secret_expiry(cx: &RegistrationContext) -> i64 {
    match cx.settings().client_secret_lifetime {
        0 => 0,
        lifetime => cx
            .now()
            .saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX)),
    }
}
