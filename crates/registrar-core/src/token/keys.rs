//! Signing keys: the algorithms this server signs with, key generation, the stored form (private
//! key encrypted) and the store trait.
//!
//! A key's `kid` is its RFC 7638 JWK thumbprint (SHA-256, base64url), so it names the public key
//! itself: loading checks that the decrypted private key, the kid and the public JWK agree.

use std::fmt::{self, Debug};

use async_trait::async_trait;
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::Value;

use super::cipher::SecretCipher;
use super::jwk::{EcCurve, PublicKey};
use crate::error::StoreError;
use crate::secrets::SecretGenerator;

/// RSA keys are generated with this many bits (RFC 7518 §3.3 asks for at least 2048).
const RSA_BITS: usize = 2048;

/// The algorithms this server signs with: access tokens with one (`tokens.signing_alg`), ID tokens
/// with each client's choice among `id_token_signing_algs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    /// ECDSA with P-256 and SHA-256; the default.
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, for resource servers that know only RSA.
    Rs256,
    /// Ed25519 (RFC 8037).
    EdDsa,
}

impl SigningAlgorithm {
    /// Every algorithm this server can sign with.
    pub const ALL: [Self; 3] = [Self::Es256, Self::Rs256, Self::EdDsa];

    /// The algorithm named by its JWA name (case-sensitive, RFC 7518 §3.1).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "ES256" => Some(Self::Es256),
            "RS256" => Some(Self::Rs256),
            "EdDSA" => Some(Self::EdDsa),
            _ => None,
        }
    }

    /// The JWA name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
            Self::EdDsa => "EdDSA",
        }
    }

    pub(crate) fn jwt_algorithm(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::Es256 => jsonwebtoken::Algorithm::ES256,
            Self::Rs256 => jsonwebtoken::Algorithm::RS256,
            Self::EdDsa => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A signing key in clear, as generated or as decrypted for use. Its `Debug` never shows the
/// private key.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// The RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// The algorithm the key signs with.
    pub algorithm: SigningAlgorithm,
    /// PKCS#8 DER.
    pub private_pkcs8_der: Vec<u8>,
    /// `kty` and the key members, `kid`, `alg` and `use: sig`.
    pub public_jwk: Value,
    /// When the key was generated, in seconds since the epoch.
    pub created_at: i64,
    /// When the key stopped signing, if it did.
    pub retired_at: Option<i64>,
}

impl Debug for SigningKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("private_pkcs8_der", &"..")
            .field("public_jwk", &self.public_jwk)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

/// A signing key as the store holds it: the private key sealed by [`SecretCipher`] with the kid as
/// associated data, so the database alone never holds a usable private key.
#[derive(Clone, PartialEq)]
pub struct StoredSigningKey {
    /// The RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// The algorithm the key signs with.
    pub algorithm: SigningAlgorithm,
    /// `SecretCipher::encrypt(private_pkcs8_der, kid)`.
    pub encrypted_private_key: String,
    /// The public key as a JWK, as the JWKS publishes it.
    pub public_jwk: Value,
    /// When the key was generated, in seconds since the epoch.
    pub created_at: i64,
    /// When the key stopped signing; it stays published for the longest access token lifetime
    /// after that.
    pub retired_at: Option<i64>,
}

impl Debug for StoredSigningKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("StoredSigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("encrypted_private_key", &"..")
            .field("public_jwk", &self.public_jwk)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

/// What can go wrong with a signing key. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// No key of the algorithm is active, or the key ring does not sign with it.
    #[error("no active {0} signing key")]
    NoActiveKey(SigningAlgorithm),
    /// The secret key differs from the one the key was sealed with, or the row was altered.
    #[error("signing key {kid} cannot be decrypted with the configured secret key")]
    Undecryptable {
        /// The key's kid.
        kid: String,
    },
    /// The key's parts disagree: its private key, public JWK, algorithm and kid must all fit.
    #[error("signing key {kid} is malformed: {reason}")]
    Malformed {
        /// The key's kid.
        kid: String,
        /// What does not fit.
        reason: String,
    },
    /// Generating a key failed.
    #[error("signing key generation failed: {0}")]
    Generation(String),
    /// Signing a token failed.
    #[error("signing failed: {0}")]
    Signing(String),
}

/// Where the server's signing keys live, sealed.
#[async_trait]
pub trait SigningKeyStore: Send + Sync + Debug {
    /// Inserts a key; a kid that exists is `StoreError::Duplicate("kid")`.
    async fn insert_signing_key(&self, key: &StoredSigningKey) -> Result<(), StoreError>;
    /// Every key, retired ones included, oldest first and then by kid, so that every instance
    /// lists them in one order.
    async fn list_signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError>;
    /// Sets `retired_at` of a key that is not retired yet. Returns false when there is no such key
    /// or it was already retired, in which case nothing changes.
    async fn retire_signing_key(&self, kid: &str, retired_at: i64) -> Result<bool, StoreError>;
}

/// Lets key generation draw from a [`SecretGenerator`].
struct GeneratorRng<'a>(&'a dyn SecretGenerator);

impl rand_core::RngCore for GeneratorRng<'_> {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }

    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }

    fn fill_bytes(&mut self, destination: &mut [u8]) {
        self.0.fill(destination);
    }

    fn try_fill_bytes(&mut self, destination: &mut [u8]) -> Result<(), rand_core::Error> {
        self.0.fill(destination);
        Ok(())
    }
}

/// A `SecretGenerator` is a CSPRNG by contract: it issues every credential.
impl rand_core::CryptoRng for GeneratorRng<'_> {}

fn generation_error(error: impl fmt::Display) -> KeyError {
    KeyError::Generation(error.to_string())
}

/// Generates a key pair: P-256, RSA 2048 bits or Ed25519, drawing randomness from `generator`.
pub fn generate_signing_key(
    algorithm: SigningAlgorithm,
    generator: &dyn SecretGenerator,
    now: i64,
) -> Result<SigningKey, KeyError> {
    let mut rng = GeneratorRng(generator);
    let private_pkcs8_der = match algorithm {
        SigningAlgorithm::Es256 => {
            use p256::pkcs8::EncodePrivateKey as _;
            p256::SecretKey::random(&mut rng)
                .to_pkcs8_der()
                .map_err(generation_error)?
                .as_bytes()
                .to_vec()
        }
        SigningAlgorithm::Rs256 => {
            use rsa::pkcs8::EncodePrivateKey as _;
            rsa::RsaPrivateKey::new(&mut rng, RSA_BITS)
                .map_err(generation_error)?
                .to_pkcs8_der()
                .map_err(generation_error)?
                .as_bytes()
                .to_vec()
        }
        SigningAlgorithm::EdDsa => {
            use ed25519_dalek::pkcs8::EncodePrivateKey as _;
            let mut seed = [0u8; 32];
            generator.fill(&mut seed);
            ed25519_dalek::SigningKey::from_bytes(&seed)
                .to_pkcs8_der()
                .map_err(generation_error)?
                .as_bytes()
                .to_vec()
        }
    };
    let public_key = public_key_of(algorithm, &private_pkcs8_der).map_err(generation_error)?;
    let kid = public_key.thumbprint();
    Ok(SigningKey {
        public_jwk: public_key.to_jwk(&kid, algorithm.as_str()),
        kid,
        algorithm,
        private_pkcs8_der,
        created_at: now,
        retired_at: None,
    })
}

/// The public half of a PKCS#8 private key.
fn public_key_of(algorithm: SigningAlgorithm, pkcs8_der: &[u8]) -> Result<PublicKey, String> {
    match algorithm {
        SigningAlgorithm::Es256 => {
            use p256::pkcs8::DecodePrivateKey as _;
            let secret = p256::SecretKey::from_pkcs8_der(pkcs8_der)
                .map_err(|_| "not a P-256 PKCS#8 private key".to_owned())?;
            let point = secret.public_key().to_encoded_point(false);
            match (point.x(), point.y()) {
                (Some(x), Some(y)) => Ok(PublicKey::Ec {
                    curve: EcCurve::P256,
                    x: x.to_vec(),
                    y: y.to_vec(),
                }),
                _ => Err("the P-256 public key is the identity".to_owned()),
            }
        }
        SigningAlgorithm::Rs256 => {
            use rsa::pkcs8::DecodePrivateKey as _;
            let private = rsa::RsaPrivateKey::from_pkcs8_der(pkcs8_der)
                .map_err(|_| "not an RSA PKCS#8 private key".to_owned())?;
            Ok(PublicKey::Rsa {
                n: private.n().to_bytes_be(),
                e: private.e().to_bytes_be(),
            })
        }
        SigningAlgorithm::EdDsa => {
            use ed25519_dalek::pkcs8::DecodePrivateKey as _;
            let signing_key = ed25519_dalek::SigningKey::from_pkcs8_der(pkcs8_der)
                .map_err(|_| "not an Ed25519 PKCS#8 private key".to_owned())?;
            Ok(PublicKey::Ed25519 {
                x: signing_key.verifying_key().to_bytes().to_vec(),
            })
        }
    }
}

impl SigningKey {
    /// The stored form: the private key sealed under `cipher` with the kid as associated data.
    pub fn seal(&self, cipher: &SecretCipher) -> StoredSigningKey {
        StoredSigningKey {
            kid: self.kid.clone(),
            algorithm: self.algorithm,
            encrypted_private_key: cipher.encrypt(&self.private_pkcs8_der, self.kid.as_bytes()),
            public_jwk: self.public_jwk.clone(),
            created_at: self.created_at,
            retired_at: self.retired_at,
        }
    }

    /// Decrypts a stored key and checks that its private key, kid and public JWK belong together.
    pub fn unseal(stored: &StoredSigningKey, cipher: &SecretCipher) -> Result<Self, KeyError> {
        let private_pkcs8_der = cipher
            .decrypt(&stored.encrypted_private_key, stored.kid.as_bytes())
            .ok_or_else(|| KeyError::Undecryptable {
                kid: stored.kid.clone(),
            })?;
        let malformed = |reason: String| KeyError::Malformed {
            kid: stored.kid.clone(),
            reason,
        };
        let public_key = public_key_of(stored.algorithm, &private_pkcs8_der).map_err(malformed)?;
        if public_key.thumbprint() != stored.kid {
            return Err(malformed(
                "the kid is not the thumbprint of the private key's public key".to_owned(),
            ));
        }
        if public_key.to_jwk(&stored.kid, stored.algorithm.as_str()) != stored.public_jwk {
            return Err(malformed(
                "the public jwk does not belong to the private key".to_owned(),
            ));
        }
        Ok(Self {
            kid: stored.kid.clone(),
            algorithm: stored.algorithm,
            private_pkcs8_der,
            public_jwk: stored.public_jwk.clone(),
            created_at: stored.created_at,
            retired_at: stored.retired_at,
        })
    }

    /// The same key for `jsonwebtoken`'s signer, which tests use as a second, independent
    /// implementation. `jsonwebtoken` reads RSA keys as PKCS#1 and EC and Ed25519 keys as PKCS#8.
    #[cfg(test)]
    pub(crate) fn encoding_key(&self) -> Result<jsonwebtoken::EncodingKey, KeyError> {
        use jsonwebtoken::EncodingKey;
        use rsa::pkcs1::EncodeRsaPrivateKey as _;

        match self.algorithm {
            SigningAlgorithm::Es256 => Ok(EncodingKey::from_ec_der(&self.private_pkcs8_der)),
            SigningAlgorithm::EdDsa => Ok(EncodingKey::from_ed_der(&self.private_pkcs8_der)),
            SigningAlgorithm::Rs256 => {
                use rsa::pkcs8::DecodePrivateKey as _;
                let malformed = || KeyError::Malformed {
                    kid: self.kid.clone(),
                    reason: "not an RSA PKCS#8 private key".to_owned(),
                };
                let private = rsa::RsaPrivateKey::from_pkcs8_der(&self.private_pkcs8_der)
                    .map_err(|_| malformed())?;
                let pkcs1 = private.to_pkcs1_der().map_err(|_| malformed())?;
                Ok(EncodingKey::from_rsa_der(pkcs1.as_bytes()))
            }
        }
    }
}
