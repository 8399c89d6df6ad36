//! The process step: defaults, identifiers and credentials.

use super::Caller;
use super::policy::RegistrationPolicy;
use crate::error::RegistrationError;
use crate::metadata::ClientMetadata;
use crate::secrets::{Secret, SecretGenerator, TokenHasher};
use crate::settings::Settings;
use crate::store::{RegisteredClient, StoredSecret};
use crate::token::SecretCipher;
use crate::validate::{
    effective_application_type, effective_grant_types, effective_response_types,
};

/// What the process step may use.
#[derive(Debug)]
pub struct ProcessContext<'a> {
    pub settings: &'a Settings,
    pub generator: &'a dyn SecretGenerator,
    pub hasher: &'a TokenHasher,
    pub cipher: &'a SecretCipher,
    pub now: i64,
    pub caller: &'a Caller,
}

/// Credentials in clear, returned once in the response and never stored.
#[derive(Debug, Clone)]
pub struct Issued {
    /// Present only when a secret was issued by this request.
    pub client_secret: Option<Secret>,
    pub registration_access_token: Secret,
}

/// The outcome of the process step.
#[derive(Debug, Clone)]
pub struct ProcessedClient {
    pub client: RegisteredClient,
    pub issued: Issued,
}

/// Whether a token endpoint auth method authenticates with a shared secret.
pub fn needs_secret(auth_method: &str) -> bool {
    matches!(
        auth_method,
        "client_secret_basic" | "client_secret_post" | "client_secret_jwt"
    )
}

/// Whether a method needs the secret itself at the token endpoint, not just its hash.
pub fn needs_stored_secret(auth_method: &str) -> bool {
    auth_method == "client_secret_jwt"
}

/// Writes the server's defaults into the metadata, so the response and the store show what
/// actually applies (RFC 7591 §3.2.1).
pub fn apply_defaults(settings: &Settings, metadata: &mut ClientMetadata) {
    metadata.application_type = Some(effective_application_type(metadata).to_owned());
    metadata.grant_types = effective_grant_types(metadata);
    metadata.response_types = effective_response_types(metadata);
    metadata.token_endpoint_auth_method = Some(metadata.auth_method().to_owned());
    if metadata.subject_type.is_none() {
        metadata.subject_type = Some("public".to_owned());
    }
    if metadata.id_token_signed_response_alg.is_none() && !metadata.response_types.is_empty() {
        // OpenID Connect DCR 1.0 §2: the default is RS256.
        metadata.id_token_signed_response_alg = Some("RS256".to_owned());
    }
    if metadata.access_token_lifetime.is_none() {
        metadata.access_token_lifetime = Some(settings.lifetimes.default_access_token);
    }
}

/// Applies defaults, issues identifiers and credentials, and builds the client record.
pub fn default_process<P: RegistrationPolicy + ?Sized>(
    policy: &P,
    context: &ProcessContext<'_>,
    mut metadata: ClientMetadata,
    current: Option<&RegisteredClient>,
) -> Result<ProcessedClient, RegistrationError> {
    policy.apply_defaults(context.settings, &mut metadata);
    let client_id = match current {
        Some(current) => current.client_id.clone(),
        None => policy.generate_client_id(context.generator),
    };
    let mut issued_secret = None;
    let method = metadata.auth_method();
    let kept = current
        .and_then(|current| current.secret.clone())
        // A secret that was stored as a hash alone cannot serve client_secret_jwt, which needs
        // the secret itself; such a change of method gets a new secret.
        .filter(|kept| !needs_stored_secret(method) || kept.encrypted.is_some());
    let secret = match (needs_secret(method), kept) {
        (false, _) => None,
        // RFC 7592 §2.2: an update keeps the secret; the client never chooses one.
        (true, Some(mut kept)) => {
            if !needs_stored_secret(method) {
                // Keep no more than the method needs.
                kept.encrypted = None;
            }
            Some(kept)
        }
        (true, None) => {
            let secret = policy.generate_client_secret(context.generator);
            let stored = StoredSecret {
                hash: context.hasher.hash(secret.expose()),
                expires_at: secret_expiry(context),
                encrypted: needs_stored_secret(method).then(|| {
                    context
                        .cipher
                        .encrypt(secret.expose().as_bytes(), client_id.as_str().as_bytes())
                }),
            };
            issued_secret = Some(secret);
            Some(stored)
        }
    };
    let registration_access_token = policy.generate_registration_access_token(context.generator);
    let client = RegisteredClient {
        client_id,
        client_id_issued_at: current.map_or(context.now, |current| current.client_id_issued_at),
        secret,
        registration_token: Some(context.hasher.hash(registration_access_token.expose())),
        metadata,
        initial_token_id: match (current, context.caller) {
            (Some(current), _) => current.initial_token_id.clone(),
            (None, Caller::InitialAccessToken { id, .. }) => Some(id.clone()),
            (None, Caller::Anonymous | Caller::Client { .. }) => None,
        },
        updated_at: context.now,
        extensions: serde_json::Map::new(),
    };
    Ok(ProcessedClient {
        client,
        issued: Issued {
            client_secret: issued_secret,
            registration_access_token,
        },
    })
}

fn secret_expiry(context: &ProcessContext<'_>) -> i64 {
    match context.settings.client_secret_lifetime {
        0 => 0,
        lifetime => context
            .now
            .saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX)),
    }
}
