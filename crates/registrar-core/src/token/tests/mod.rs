//! Tests of the token module: keys and the JWKS, access tokens, client assertions, the cipher.
//!
//! Signatures are also checked independently of the code under test: with `jsonwebtoken`'s own
//! JWK parsing, and with the raw RustCrypto verifiers.

mod access_token;
mod assertion;
mod cipher;
mod errors;
mod keys;

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::Value;

use super::jwt::base64url;
use super::{
    KeyRing, KeyRingConfig, ReplayCache, SecretCipher, SigningAlgorithm, SigningKey,
    SigningKeyStore, StoredSigningKey, generate_signing_key,
};
use crate::error::StoreError;
use crate::secrets::{OsRandom, SecretGenerator};

pub(super) const NOW: i64 = 1_700_000_000;
pub(super) const ISSUER: &str = "https://issuer.example";
pub(super) const TOKEN_ENDPOINT: &str = "https://issuer.example/connect/token";
pub(super) const MAX_LIFETIME: i64 = 3_600;

pub(super) fn cipher() -> SecretCipher {
    SecretCipher::new(b"test server secret")
}

fn generate_all() -> Vec<SigningKey> {
    SigningAlgorithm::ALL
        .iter()
        .map(|algorithm| generate_signing_key(*algorithm, &OsRandom, NOW).unwrap())
        .collect()
}

fn find(keys: &[SigningKey], algorithm: SigningAlgorithm) -> &SigningKey {
    keys.iter().find(|key| key.algorithm == algorithm).unwrap()
}

/// The server's key of each algorithm, generated once: RSA generation is slow in a debug build.
pub(super) fn server_key(algorithm: SigningAlgorithm) -> &'static SigningKey {
    static KEYS: OnceLock<Vec<SigningKey>> = OnceLock::new();
    find(KEYS.get_or_init(generate_all), algorithm)
}

/// A client's key pair of each algorithm, distinct from the server's.
pub(super) fn client_key(algorithm: SigningAlgorithm) -> &'static SigningKey {
    static KEYS: OnceLock<Vec<SigningKey>> = OnceLock::new();
    find(KEYS.get_or_init(generate_all), algorithm)
}

/// A ring that signs with `algorithm` only.
pub(super) fn config(algorithm: SigningAlgorithm) -> KeyRingConfig {
    config_with(algorithm, &[])
}

/// A ring that signs access tokens with `algorithm` and ID tokens with `id_token_algorithms`.
pub(super) fn config_with(
    algorithm: SigningAlgorithm,
    id_token_algorithms: &[SigningAlgorithm],
) -> KeyRingConfig {
    KeyRingConfig {
        algorithm,
        id_token_algorithms: id_token_algorithms.to_vec(),
        max_access_token_lifetime: MAX_LIFETIME,
    }
}

/// A ring holding `keys`, sealed and loaded as the server would.
pub(super) fn ring(keys: &[&SigningKey], algorithm: SigningAlgorithm) -> KeyRing {
    let cipher = cipher();
    let stored: Vec<StoredSigningKey> = keys.iter().map(|key| key.seal(&cipher)).collect();
    KeyRing::new(&stored, &cipher, config(algorithm)).unwrap()
}

/// Signs `header.claims` with `key` as `algorithm`, whatever the header says.
pub(super) fn sign_jwt(
    header: &Value,
    claims: &Value,
    key: &EncodingKey,
    algorithm: Algorithm,
) -> String {
    let signing_input = format!(
        "{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes())
    );
    let signature = jsonwebtoken::crypto::sign(signing_input.as_bytes(), key, algorithm).unwrap();
    format!("{signing_input}.{signature}")
}

/// An unsigned JWT with the given signature part.
pub(super) fn unsigned_jwt(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes())
    )
}

/// `base` with each member of `patch` set, or removed where the patch says `null`.
pub(super) fn patched(base: Value, patch: &Value) -> Value {
    let (Value::Object(mut members), Value::Object(changes)) = (base, patch.clone()) else {
        panic!("both are objects");
    };
    for (name, value) in changes {
        match value {
            Value::Null => members.remove(&name),
            value => members.insert(name, value),
        };
    }
    Value::Object(members)
}

/// Fills every byte with the same value, so generated values are predictable.
#[derive(Debug)]
pub(super) struct FixedGenerator(pub u8);

impl SecretGenerator for FixedGenerator {
    fn fill(&self, bytes: &mut [u8]) {
        bytes.fill(self.0);
    }
}

#[derive(Debug, Default)]
pub(super) struct MemoryKeyStore(Mutex<Vec<StoredSigningKey>>);

#[async_trait]
impl SigningKeyStore for MemoryKeyStore {
    async fn insert_signing_key(&self, key: &StoredSigningKey) -> Result<(), StoreError> {
        let mut keys = self.0.lock().unwrap();
        if keys.iter().any(|existing| existing.kid == key.kid) {
            return Err(StoreError::Duplicate("kid"));
        }
        keys.push(key.clone());
        Ok(())
    }

    async fn list_signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        Ok(self.0.lock().unwrap().clone())
    }

    async fn retire_signing_key(&self, kid: &str, retired_at: i64) -> Result<bool, StoreError> {
        let mut keys = self.0.lock().unwrap();
        match keys
            .iter_mut()
            .find(|key| key.kid == kid && key.retired_at.is_none())
        {
            Some(key) => {
                key.retired_at = Some(retired_at);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct MemoryReplayCache(Mutex<HashSet<(String, String)>>);

#[async_trait]
impl ReplayCache for MemoryReplayCache {
    async fn record_jti(
        &self,
        client_id: &str,
        jti: &str,
        _expires_at: i64,
    ) -> Result<bool, StoreError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .insert((client_id.to_owned(), jti.to_owned())))
    }

    async fn is_jti_recorded(
        &self,
        client_id: &str,
        jti: &str,
        _expires_at: i64,
    ) -> Result<bool, StoreError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .contains(&(client_id.to_owned(), jti.to_owned())))
    }
}
