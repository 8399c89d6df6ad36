//! The key ring: one active signing key per algorithm the server signs with, every public key
//! still published, and the two store operations built on them (load with creation of the missing
//! keys, and rotation).
//!
//! The ring signs with the access token algorithm (`tokens.signing_alg`) and with every ID token
//! algorithm (`Settings::id_token_signing_algs`), since OpenID Connect signs each client's ID
//! tokens with its registered `id_token_signed_response_alg`. A key is active when it is the
//! newest non-retired key of its algorithm, for each algorithm of the ring (ties broken by kid, so
//! every instance picks the same one). A key is published (in the JWKS, and accepted by
//! [`KeyRing::verify`]) while it is not retired or was retired less than the longest access token
//! lifetime ago: every token it signed has expired by the time it disappears.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::cipher::SecretCipher;
use super::error::TokenError;
use super::jwk::PublicKey;
use super::jwt;
use super::keys::{
    KeyError, SigningAlgorithm, SigningKey, SigningKeyStore, StoredSigningKey, generate_signing_key,
};
use super::signer::{JwsHeader, PrivateKey, compact_jws};
use super::verifier::VerifyingKey;
use crate::secrets::SecretGenerator;

/// Which keys a ring signs with and publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRingConfig {
    /// `tokens.signing_alg`: access tokens are signed with it ([`KeyRing::sign`]).
    pub algorithm: SigningAlgorithm,
    /// The algorithms ID tokens are signed with (`Settings::id_token_signing_algs`, the ones this
    /// server can sign with); each has an active key too ([`KeyRing::sign_with`]).
    pub id_token_algorithms: Vec<SigningAlgorithm>,
    /// The longest lifetime of any access token this server issues, in seconds; a retired key
    /// stays published this long.
    pub max_access_token_lifetime: i64,
}

impl KeyRingConfig {
    /// Every algorithm the ring signs with, each once: the access token algorithm first, then the
    /// ID token algorithms in their order.
    pub fn algorithms(&self) -> Vec<SigningAlgorithm> {
        let mut algorithms = vec![self.algorithm];
        for algorithm in &self.id_token_algorithms {
            if !algorithms.contains(algorithm) {
                algorithms.push(*algorithm);
            }
        }
        algorithms
    }
}

/// What `registrar keys list` shows for a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Signs new tokens: the newest non-retired key of one of the ring's algorithms.
    Active,
    /// Not retired but not signing: an older key, or one of an algorithm the ring does not sign
    /// with. Published.
    Standby,
    /// Retired, still published until the tokens it signed have expired.
    Retired,
    /// Retired long enough ago that it is no longer published.
    Expired,
}

impl KeyState {
    /// The state's name in `registrar keys list`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Standby => "standby",
            Self::Retired => "retired",
            Self::Expired => "expired",
        }
    }
}

/// Whether a key is in the JWKS at `now`.
fn is_published(retired_at: Option<i64>, now: i64, max_access_token_lifetime: i64) -> bool {
    retired_at.is_none_or(|retired_at| now < retired_at.saturating_add(max_access_token_lifetime))
}

/// The newest non-retired key of `algorithm`; ties are broken by kid.
pub fn active_key(
    keys: &[StoredSigningKey],
    algorithm: SigningAlgorithm,
) -> Option<&StoredSigningKey> {
    keys.iter()
        .filter(|key| key.algorithm == algorithm && key.retired_at.is_none())
        .max_by(|left, right| (left.created_at, &left.kid).cmp(&(right.created_at, &right.kid)))
}

/// The active key of each of the ring's algorithms that has one, in the order of
/// [`KeyRingConfig::algorithms`]: the access token key first.
pub fn active_keys<'a>(
    keys: &'a [StoredSigningKey],
    config: &KeyRingConfig,
) -> Vec<&'a StoredSigningKey> {
    config
        .algorithms()
        .into_iter()
        .filter_map(|algorithm| active_key(keys, algorithm))
        .collect()
}

/// Every key with its state at `now`, newest first.
pub fn key_states<'a>(
    keys: &'a [StoredSigningKey],
    config: &KeyRingConfig,
    now: i64,
) -> Vec<(&'a StoredSigningKey, KeyState)> {
    let active = active_keys(keys, config);
    let mut states: Vec<_> = keys
        .iter()
        .map(|key| {
            let state = match key.retired_at {
                None if active.iter().any(|active| active.kid == key.kid) => KeyState::Active,
                None => KeyState::Standby,
                Some(_) if is_published(key.retired_at, now, config.max_access_token_lifetime) => {
                    KeyState::Retired
                }
                Some(_) => KeyState::Expired,
            };
            (key, state)
        })
        .collect();
    states.sort_by(|(left, _), (right, _)| {
        (right.created_at, &right.kid).cmp(&(left.created_at, &left.kid))
    });
    states
}

/// Why a token did not verify against the ring. Carries nothing from the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The token is not a well-formed JWS, or it has a `crit` header, which this server never
    /// writes.
    #[error("the token is not a well-formed signed jwt")]
    Malformed,
    /// No published key has the token's kid, or the token names none.
    #[error("the token's kid names no published key")]
    UnknownKey,
    /// Also a token whose `alg` is not its key's algorithm.
    #[error("the token's signature does not verify")]
    BadSignature,
}

/// A token whose signature verified, with its header values.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedJwt<T> {
    /// The `kid` of the key that verified the signature.
    pub kid: String,
    /// The `typ` header, if any, for the caller to check.
    pub typ: Option<String>,
    /// The claims, not yet checked.
    pub claims: T,
}

struct PublishedKey {
    kid: String,
    algorithm: SigningAlgorithm,
    created_at: i64,
    retired_at: Option<i64>,
    public_jwk: Value,
    /// Built once, here, rather than on every verification.
    verifying_key: VerifyingKey,
}

/// An active key, ready to sign.
struct ActiveKey {
    kid: String,
    /// Parsed once, here, rather than on every signature.
    private_key: PrivateKey,
}

/// The active signing keys and the published public keys, built from the stored keys.
pub struct KeyRing {
    config: KeyRingConfig,
    /// One per algorithm of the ring that has an active key, the access token key first.
    active: Vec<ActiveKey>,
    /// The active access token key first, then newest first.
    published: Vec<PublishedKey>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let active_kids: Vec<&str> = self.active.iter().map(|key| key.kid.as_str()).collect();
        let kids: Vec<&str> = self.published.iter().map(|key| key.kid.as_str()).collect();
        formatter
            .debug_struct("KeyRing")
            .field("config", &self.config)
            .field("active_kids", &active_kids)
            .field("published_kids", &kids)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Builds the ring. Only the active keys are decrypted, one per algorithm of the ring; every
    /// other key contributes its public JWK, whose kid must be its thumbprint. Fails when the
    /// access token algorithm has no active key or a key is malformed, so a bad row shows at start
    /// rather than as unverifiable tokens. An ID token algorithm without an active key is left out
    /// of [`signing_algorithms`](Self::signing_algorithms); [`load_key_ring`] creates one.
    pub fn new(
        keys: &[StoredSigningKey],
        cipher: &SecretCipher,
        config: KeyRingConfig,
    ) -> Result<Self, KeyError> {
        let access_token_key =
            active_key(keys, config.algorithm).ok_or(KeyError::NoActiveKey(config.algorithm))?;
        let mut active = Vec::new();
        for key in active_keys(keys, &config) {
            active.push(ActiveKey {
                kid: key.kid.clone(),
                private_key: PrivateKey::parse(&SigningKey::unseal(key, cipher)?)?,
            });
        }
        let mut published = Vec::new();
        for key in keys {
            published.push(published_key(key)?);
        }
        published.sort_by(|left, right| {
            let left_rank = (left.kid == access_token_key.kid, left.created_at, &left.kid);
            let right_rank = (
                right.kid == access_token_key.kid,
                right.created_at,
                &right.kid,
            );
            right_rank.cmp(&left_rank)
        });
        Ok(Self {
            config,
            active,
            published,
        })
    }

    /// The configuration the ring was built with.
    pub fn config(&self) -> &KeyRingConfig {
        &self.config
    }

    /// The `kid` of the key access tokens are signed with.
    pub fn active_kid(&self) -> &str {
        // `new` makes the access token key the first active key, and refuses a ring without it.
        &self.active[0].kid
    }

    /// The `kid` of the active key of `algorithm`, if the ring signs with it and has one.
    pub fn active_kid_for(&self, algorithm: SigningAlgorithm) -> Option<&str> {
        self.active_key_for(algorithm).map(|key| key.kid.as_str())
    }

    /// The algorithm access tokens are signed with.
    pub fn algorithm(&self) -> SigningAlgorithm {
        self.config.algorithm
    }

    /// The algorithms the ring has an active key of, the access token algorithm first: what
    /// [`sign_with`](Self::sign_with) accepts.
    pub fn signing_algorithms(&self) -> Vec<SigningAlgorithm> {
        self.active
            .iter()
            .map(|key| key.private_key.algorithm())
            .collect()
    }

    /// Signs `claims` with the access token key; the header carries `typ`, `alg` and `kid`.
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, KeyError> {
        self.sign_with(self.config.algorithm, typ, claims)
    }

    /// Signs `claims` with the active key of `algorithm`, e.g. an ID token with the client's
    /// `id_token_signed_response_alg`; the header carries `typ`, `alg` and `kid`. Fails with
    /// [`KeyError::NoActiveKey`] when the ring has no key of `algorithm`.
    pub fn sign_with<T: Serialize>(
        &self,
        algorithm: SigningAlgorithm,
        typ: &str,
        claims: &T,
    ) -> Result<String, KeyError> {
        let key = self
            .active_key_for(algorithm)
            .ok_or(KeyError::NoActiveKey(algorithm))?;
        let header = JwsHeader {
            typ,
            alg: algorithm.as_str(),
            kid: &key.kid,
        };
        compact_jws(&header, claims, &key.private_key)
    }

    fn active_key_for(&self, algorithm: SigningAlgorithm) -> Option<&ActiveKey> {
        self.active
            .iter()
            .find(|key| key.private_key.algorithm() == algorithm)
    }

    /// Verifies the signature of a token this server signed, with the published key its `kid`
    /// names; `alg` must be that key's algorithm. Checks no claim: that is the caller's job.
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        now: i64,
    ) -> Result<VerifiedJwt<T>, VerifyError> {
        let header = jwt::header(token).ok_or(VerifyError::Malformed)?;
        if header.crit.is_some() {
            return Err(VerifyError::Malformed);
        }
        let kid = header.kid.ok_or(VerifyError::UnknownKey)?;
        let key = self
            .published_at(now)
            .find(|key| key.kid == kid)
            .ok_or(VerifyError::UnknownKey)?;
        if header.alg != key.algorithm.as_str() {
            return Err(VerifyError::BadSignature);
        }
        let (signing_input, signature) =
            jwt::signing_input_and_signature(token).ok_or(VerifyError::Malformed)?;
        let signature = jwt::from_base64url(signature).ok_or(VerifyError::Malformed)?;
        if !key
            .verifying_key
            .verify(signing_input.as_bytes(), &signature)
        {
            return Err(VerifyError::BadSignature);
        }
        let claims = jwt::payload(token).ok_or(VerifyError::Malformed)?;
        Ok(VerifiedJwt {
            kid,
            typ: header.typ,
            claims,
        })
    }

    /// The JWK Set of every key published at `now`, the active access token key first, then
    /// newest first (RFC 7517 §5).
    pub fn jwks(&self, now: i64) -> Value {
        let keys: Vec<&Value> = self.published_at(now).map(|key| &key.public_jwk).collect();
        json!({ "keys": keys })
    }

    fn published_at(&self, now: i64) -> impl Iterator<Item = &PublishedKey> {
        let lifetime = self.config.max_access_token_lifetime;
        self.published
            .iter()
            .filter(move |key| is_published(key.retired_at, now, lifetime))
    }
}

fn published_key(key: &StoredSigningKey) -> Result<PublishedKey, KeyError> {
    let malformed = |reason: &str| KeyError::Malformed {
        kid: key.kid.clone(),
        reason: reason.to_owned(),
    };
    let Value::Object(members) = &key.public_jwk else {
        return Err(malformed("the public jwk is not an object"));
    };
    let public_key = PublicKey::from_jwk(members).map_err(malformed)?;
    if public_key.thumbprint() != key.kid {
        return Err(malformed("the kid is not the thumbprint of the public jwk"));
    }
    Ok(PublishedKey {
        kid: key.kid.clone(),
        algorithm: key.algorithm,
        created_at: key.created_at,
        retired_at: key.retired_at,
        verifying_key: VerifyingKey::new(&public_key, key.algorithm.jwt_algorithm())
            .ok_or_else(|| malformed("the public jwk does not fit the key's algorithm"))?,
        public_jwk: public_key.to_jwk(&key.kid, key.algorithm.as_str()),
    })
}

/// Generates a key, stores it sealed, and returns its stored form.
async fn create_key(
    store: &dyn SigningKeyStore,
    cipher: &SecretCipher,
    algorithm: SigningAlgorithm,
    generator: &dyn SecretGenerator,
    now: i64,
) -> Result<StoredSigningKey, TokenError> {
    let stored = generate_signing_key(algorithm, generator, now)?.seal(cipher);
    store.insert_signing_key(&stored).await?;
    Ok(stored)
}

/// Loads the ring from the store, first creating a key for each of the ring's algorithms that has
/// no active key (the first start, or a changed `tokens.signing_alg` or
/// `id_token_signing_algs`). An RSA key takes a moment to generate.
///
/// Instances that start together may each create a key of an algorithm; all of them then pick the
/// same newest one, and the others stay published as standby keys.
pub async fn load_key_ring(
    store: &dyn SigningKeyStore,
    cipher: &SecretCipher,
    config: KeyRingConfig,
    generator: &dyn SecretGenerator,
    now: i64,
) -> Result<KeyRing, TokenError> {
    let mut keys = store.list_signing_keys().await?;
    let missing: Vec<SigningAlgorithm> = config
        .algorithms()
        .into_iter()
        .filter(|algorithm| active_key(&keys, *algorithm).is_none())
        .collect();
    if !missing.is_empty() {
        for algorithm in missing {
            create_key(store, cipher, algorithm, generator, now).await?;
        }
        keys = store.list_signing_keys().await?;
    }
    Ok(KeyRing::new(&keys, cipher, config)?)
}

/// Rotation (`registrar keys rotate`): adds a new key of each of the ring's algorithms, then
/// retires every key that was not retired before, of any algorithm, so each stays published until
/// the tokens it signed have expired. Returns the new keys in the order of
/// [`KeyRingConfig::algorithms`].
///
/// The keys are listed once, before the first insert, and only those are retired, so of two
/// concurrent rotations at least the one that listed last keeps its new key of every algorithm.
/// Every new key is inserted before any old one is retired, so a ring loaded meanwhile still finds
/// an active key of each algorithm. Other instances sign with the old keys until they reload their
/// ring; reload it well within the access token lifetime.
pub async fn rotate_signing_key(
    store: &dyn SigningKeyStore,
    cipher: &SecretCipher,
    config: &KeyRingConfig,
    generator: &dyn SecretGenerator,
    now: i64,
) -> Result<Vec<StoredSigningKey>, TokenError> {
    let previous = store.list_signing_keys().await?;
    let mut created = Vec::new();
    for algorithm in config.algorithms() {
        created.push(create_key(store, cipher, algorithm, generator, now).await?);
    }
    for key in previous.iter().filter(|key| key.retired_at.is_none()) {
        store.retire_signing_key(&key.kid, now).await?;
    }
    Ok(created)
}
