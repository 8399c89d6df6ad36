//! Safe retries of registration with an `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header):
//! the key's rules, the credential it is bound to, the hash of the request it must repeat, and the
//! answer to a retry, opened from the record sealed when the client was registered.
//!
//! Secrets and tokens are stored only as hashes, so the `201` body cannot be rebuilt from the
//! client row: it is kept sealed by `SecretCipher` for the idempotency window, bound to the
//! record's key hash, and handed out again only while the client is as it was registered.

use std::fmt;

use serde_json::Value;

use crate::caller::Caller;
use crate::context::{RegistrationContext, Services};
use crate::error::{IdempotencyError, RegistrationError, StoreError};
use crate::respond::ClientInformation;
use crate::secrets::TokenHash;
use crate::store::{IdempotencyRecord, RegisteredClient};

/// The longest key accepted.
pub const MAX_KEY_CHARS: usize = 255;

/// The shortest run of base64url characters an anonymous caller's key may be: 22 of them carry
/// 132 bits, the shortest that carries 128.
pub const MIN_ANONYMOUS_KEY_CHARS: usize = 22;

/// A well-formed `Idempotency-Key` value: 1 to 255 visible ASCII characters. `Debug` hides it:
/// for an anonymous caller, whoever knows the key gets the client back.
#[derive(Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The key, or why it is refused.
    pub fn parse(value: &str) -> Result<Self, IdempotencyError> {
        if value.is_empty() || value.len() > MAX_KEY_CHARS {
            return Err(IdempotencyError::Malformed(format!(
                "the Idempotency-Key must be 1 to {MAX_KEY_CHARS} characters"
            )));
        }
        if !value.bytes().all(|byte| (0x21..=0x7e).contains(&byte)) {
            return Err(IdempotencyError::Malformed(
                "the Idempotency-Key must be visible ASCII characters without spaces".to_owned(),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the key has the shape of a random value of at least 128 bits: a UUID (as version
    /// 4 makes them), or at least [`MIN_ANONYMOUS_KEY_CHARS`] base64url characters (32 hex
    /// digits are that too). A shape is all a server can check; the client draws the bits.
    pub fn looks_unguessable(&self) -> bool {
        is_uuid(&self.0)
            || (self.0.len() >= MIN_ANONYMOUS_KEY_CHARS
                && self
                    .0
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'))
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("IdempotencyKey(..)")
    }
}

/// `8-4-4-4-12` hex digits.
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(group, length)| {
            group.len() == length && group.bytes().all(|byte| byte.is_ascii_hexdigit())
        })
}

/// What a registration with an `Idempotency-Key` answered.
#[derive(Debug)]
pub enum Registration {
    /// The client was registered now.
    Created(Box<ClientInformation>),
    /// A retry: the answer the client was registered with, byte for byte.
    Replayed(ReplayedRegistration),
}

/// The `201` body a registration with the same key and body got before.
pub struct ReplayedRegistration {
    client_id: String,
    body: Vec<u8>,
}

impl ReplayedRegistration {
    /// The client registered then.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The JSON body it was answered with, credentials included.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

impl fmt::Debug for ReplayedRegistration {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ReplayedRegistration")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The hashes one request's key is stored and looked up under, and its window.
#[derive(Debug, Clone)]
pub(crate) struct KeyHashes {
    key: TokenHash,
    request: TokenHash,
    now: i64,
    expires_at: i64,
}

/// The credential a key is bound to, in a form no two callers share: the initial access token's
/// id, a bearer token's issuer and subject, the host's principal; every anonymous caller shares
/// one namespace, which is why their keys must be unguessable.
fn binding(caller: &Caller) -> Value {
    match caller {
        Caller::InitialAccessToken { id, .. } => Value::from(vec!["initial_token", id]),
        Caller::Bearer(principal) => Value::from(vec![
            Value::from("bearer"),
            principal.issuer.clone().map_or(Value::Null, Value::from),
            Value::from(principal.subject.as_str()),
        ]),
        Caller::Principal(principal) => Value::from(vec!["principal", &principal.subject]),
        Caller::Client { client_id, .. } => Value::from(vec!["client", client_id.as_str()]),
        // A statement's caller is decided after validation; the key was bound before.
        Caller::Anonymous | Caller::SoftwareStatement { .. } => Value::from(vec!["anonymous"]),
        // The server's own resolution never carries a key.
        Caller::MetadataDocument { url } => Value::from(vec!["metadata_document", url]),
    }
}

/// The keyed hash a caller's key is stored under.
pub(crate) fn key_hash(
    services: &Services,
    caller: &Caller,
    key: &IdempotencyKey,
) -> Result<TokenHash, RegistrationError> {
    if matches!(caller, Caller::Anonymous) && !key.looks_unguessable() {
        return Err(RegistrationError::IdempotencyKey(
            IdempotencyError::Malformed(format!(
                "without a credential the Idempotency-Key must carry 128 random bits: a UUID, or at least {MIN_ANONYMOUS_KEY_CHARS} base64url characters"
            )),
        ));
    }
    // A JSON array, so that no binding and key can be shifted into another's.
    let bound = Value::from(vec![
        Value::from("registration idempotency key"),
        binding(caller),
        Value::from(key.as_str()),
    ]);
    Ok(services.hasher().hash(&bound.to_string()))
}

/// The key and request hashes of a registration, with its window from the context's time.
pub(crate) fn key_hashes(
    cx: &RegistrationContext,
    key: &IdempotencyKey,
) -> Result<KeyHashes, RegistrationError> {
    let mut canonical = String::from("registration request\n");
    write_canonical(&Value::Object(cx.request().clone()), &mut canonical);
    let window = i64::try_from(cx.settings().idempotency_window).unwrap_or(i64::MAX);
    Ok(KeyHashes {
        key: key_hash(cx.services(), cx.caller(), key)?,
        request: cx.services().hasher().hash(&canonical),
        now: cx.now(),
        expires_at: cx.now().saturating_add(window),
    })
}

/// The same JSON value is the same request, whatever its member order or white space: members
/// sorted by name at every level, no white space, strings and numbers as serde_json writes them.
/// Written out rather than relying on serde_json's map order, which a feature elsewhere in a
/// build (`preserve_order`) could change.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(members) => {
            let mut names: Vec<&String> = members.keys().collect();
            names.sort();
            out.push('{');
            for (index, name) in names.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(name.as_str()).to_string());
                out.push(':');
                write_canonical(&members[name], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The record to store with the client: the answer sealed under the key hash.
pub(crate) fn record(
    services: &Services,
    hashes: &KeyHashes,
    information: &ClientInformation,
    client: &RegisteredClient,
) -> Result<IdempotencyRecord, RegistrationError> {
    let body = serde_json::to_vec(information).map_err(|error| {
        RegistrationError::Store(StoreError::Backend(format!(
            "cannot encode the registration answer: {error}"
        )))
    })?;
    Ok(IdempotencyRecord {
        key_hash: hashes.key.clone(),
        request_hash: hashes.request.clone(),
        client_id: client.client_id.clone(),
        sealed_response: services
            .cipher()
            .encrypt(&body, hashes.key.to_hex().as_bytes()),
        created_at: hashes.now,
        expires_at: hashes.expires_at,
    })
}

/// The answer to a retry, if the key was used within the window: the sealed `201` when the body
/// is the same and the client is as it was registered; `422` when the body differs, or when the
/// client was updated, had its token rotated or revoked, or was deleted since, so no stale
/// credentials are handed out.
pub(crate) async fn replay(
    services: &Services,
    hashes: &KeyHashes,
) -> Result<Option<ReplayedRegistration>, RegistrationError> {
    let Some(store) = services.stores().idempotency() else {
        return Ok(None);
    };
    let Some(record) = store
        .find_idempotency_record(&hashes.key, hashes.now)
        .await?
    else {
        return Ok(None);
    };
    if !record.request_hash.matches(&hashes.request) {
        return Err(reused(
            "this Idempotency-Key was used with a different request body; send a new key",
        ));
    }
    let Some(body) = services
        .cipher()
        .decrypt(&record.sealed_response, hashes.key.to_hex().as_bytes())
    else {
        return Err(RegistrationError::Store(StoreError::Backend(
            "a sealed registration answer does not open".to_owned(),
        )));
    };
    let answer: Value = serde_json::from_slice(&body).map_err(|error| {
        RegistrationError::Store(StoreError::Backend(format!(
            "a sealed registration answer is not JSON: {error}"
        )))
    })?;
    let current = services
        .stores()
        .clients()
        .get_client(&record.client_id)
        .await?;
    if !is_as_registered(services, current.as_ref(), &record, &answer) {
        return Err(reused(
            "the client registered with this Idempotency-Key was updated or deleted since; send a new key",
        ));
    }
    Ok(Some(ReplayedRegistration {
        client_id: record.client_id.as_str().to_owned(),
        body,
    }))
}

fn reused(description: &str) -> RegistrationError {
    RegistrationError::IdempotencyKey(IdempotencyError::Reused(description.to_owned()))
}

/// Whether the stored client still has the credentials and metadata of the sealed answer.
fn is_as_registered(
    services: &Services,
    current: Option<&RegisteredClient>,
    record: &IdempotencyRecord,
    answer: &Value,
) -> bool {
    let Some(client) = current else {
        return false;
    };
    let hasher = services.hasher();
    let token_current = match answer
        .get("registration_access_token")
        .and_then(Value::as_str)
    {
        Some(token) => client
            .registration_token
            .as_ref()
            .is_some_and(|stored| hasher.verify(token, stored)),
        None => true,
    };
    let secret_current = match answer.get("client_secret").and_then(Value::as_str) {
        Some(secret) => client
            .secret
            .as_ref()
            .is_some_and(|stored| hasher.verify(secret, &stored.hash)),
        None => client.secret.is_none(),
    };
    // An administrator's update keeps the token but changes the metadata, and the time.
    token_current && secret_current && client.updated_at == record.created_at
}

/// The canonical form of a request object, for the unit tests.
#[cfg(test)]
fn canonical(request: &serde_json::Map<String, Value>) -> String {
    let mut out = String::new();
    write_canonical(&Value::Object(request.clone()), &mut out);
    out
}

#[cfg(test)]
mod tests;
