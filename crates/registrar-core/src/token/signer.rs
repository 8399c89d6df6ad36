//! An active key's private half, parsed once when the key ring is built, and the JWS Compact
//! Serialization it signs.
//!
//! Each algorithm signs with the fastest well-kept implementation measured (docs/benchmarks.md):
//! `ring` for ES256, about six times faster than the `p256` crate, and RS256; `ed25519-dalek`,
//! whose AVX2 code signs Ed25519 in about half the time `ring` takes, for EdDSA. `jsonwebtoken`
//! would read the PKCS#8 document again on every signature; here it is read once.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::pkcs8::der::SecretDocument;
use ring::error::KeyRejected;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use serde::Serialize;

use super::keys::{KeyError, SigningAlgorithm, SigningKey};

/// A private key ready to sign. `ed25519-dalek` zeroizes its key when it is dropped; `ring` does
/// not, and nor is the PKCS#8 document of a [`SigningKey`] zeroized.
pub(crate) enum PrivateKey {
    /// RFC 7518 §3.4: ECDSA P-256 with SHA-256. `ring` draws a fresh nonce for every signature
    /// rather than deriving it as RFC 6979 does, so two signatures of one input differ; RFC 7518
    /// asks for neither.
    Es256(EcdsaKeyPair),
    /// RFC 7518 §3.3: RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256(RsaKeyPair),
    /// RFC 8037 §3.1: Ed25519.
    EdDsa(ed25519_dalek::SigningKey),
}

/// Shows the algorithm only, never key material.
impl fmt::Debug for PrivateKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_tuple("PrivateKey")
            .field(&self.algorithm())
            .finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// Reads the PKCS#8 private key of `key`, which [`SigningKey::unseal`] has already matched
    /// against its kid and public JWK.
    pub(crate) fn parse(key: &SigningKey) -> Result<Self, KeyError> {
        match key.algorithm {
            SigningAlgorithm::Es256 => {
                let rng = SystemRandom::new();
                read_pkcs8(key, |der| {
                    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
                })
                .map(Self::Es256)
            }
            SigningAlgorithm::Rs256 => read_pkcs8(key, RsaKeyPair::from_pkcs8).map(Self::Rs256),
            SigningAlgorithm::EdDsa => {
                use ed25519_dalek::pkcs8::DecodePrivateKey as _;
                ed25519_dalek::SigningKey::from_pkcs8_der(&key.private_pkcs8_der)
                    .map(Self::EdDsa)
                    .map_err(|_| KeyError::Malformed {
                        kid: key.kid.clone(),
                        reason: "not an Ed25519 PKCS#8 private key".to_owned(),
                    })
            }
        }
    }

    pub(crate) fn algorithm(&self) -> SigningAlgorithm {
        match self {
            Self::Es256(_) => SigningAlgorithm::Es256,
            Self::Rs256(_) => SigningAlgorithm::Rs256,
            Self::EdDsa(_) => SigningAlgorithm::EdDsa,
        }
    }

    /// The JWS Signature over `signing_input`, as the JWS carries it: for ES256 the fixed-size
    /// 64 bytes of R and S (RFC 7518 §3.4), not DER; for RS256 as many bytes as the modulus; for
    /// EdDSA the 64-byte signature of RFC 8032.
    pub(crate) fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, KeyError> {
        let signing_error = |_| KeyError::Signing("the private-key operation failed".to_owned());
        // The operating system's generator, as `ring` needs its own; the injected
        // `SecretGenerator` cannot stand in for it.
        let rng = SystemRandom::new();
        match self {
            Self::Es256(key) => key
                .sign(&rng, signing_input)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(signing_error),
            // `ring` blinds the private-key operation with `rng`; PKCS#1 v1.5 signatures are
            // deterministic all the same.
            Self::Rs256(key) => {
                let mut signature = vec![0; key.public().modulus_len()];
                key.sign(&RSA_PKCS1_SHA256, &rng, signing_input, &mut signature)
                    .map_err(signing_error)?;
                Ok(signature)
            }
            Self::EdDsa(key) => {
                use ed25519_dalek::Signer as _;
                Ok(key.sign(signing_input).to_bytes().to_vec())
            }
        }
    }
}

/// Reads the PKCS#8 document of `key` with `read`, one of `ring`'s parsers.
///
/// `ring` wants the public key inside the document, where RFC 5915 and RFC 5958 make it optional.
/// The `p256` crate, which generates this server's P-256 keys, writes it, but a P-256 document
/// without it is written again by `p256`, with it, and read once more.
fn read_pkcs8<T>(
    key: &SigningKey,
    read: impl Fn(&[u8]) -> Result<T, KeyRejected>,
) -> Result<T, KeyError> {
    let malformed = |error: KeyRejected| KeyError::Malformed {
        kid: key.kid.clone(),
        reason: format!(
            "ring refuses the {} PKCS#8 private key: {error}",
            key.algorithm
        ),
    };
    let refused = match read(&key.private_pkcs8_der) {
        Ok(key_pair) => return Ok(key_pair),
        Err(refused) => refused,
    };
    let Some(rewritten) = with_public_key(key) else {
        return Err(malformed(refused));
    };
    read(rewritten.as_bytes()).map_err(malformed)
}

/// The private key of `key` as a PKCS#8 document that holds its public key too; `None` for the
/// other algorithms (an RSA document always holds it) or a document `p256` cannot read.
fn with_public_key(key: &SigningKey) -> Option<SecretDocument> {
    let der = key.private_pkcs8_der.as_slice();
    match key.algorithm {
        SigningAlgorithm::Es256 => {
            use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
            p256::SecretKey::from_pkcs8_der(der)
                .and_then(|secret| secret.to_pkcs8_der())
                .ok()
        }
        SigningAlgorithm::Rs256 | SigningAlgorithm::EdDsa => None,
    }
}

/// The protected header of every JWS this server signs: exactly `typ`, `alg` and `kid`, in the
/// order `jsonwebtoken` wrote them, so tokens keep the bytes they had.
#[derive(Debug, Serialize)]
pub(crate) struct JwsHeader<'a> {
    pub typ: &'a str,
    pub alg: &'static str,
    pub kid: &'a str,
}

/// RFC 7515 §7.1, the JWS Compact Serialization: `base64url(header) "." base64url(claims) "."
/// base64url(signature)`, where the signature covers the first two parts as ASCII (§5.1).
pub(crate) fn compact_jws<T: Serialize>(
    header: &JwsHeader<'_>,
    claims: &T,
    key: &PrivateKey,
) -> Result<String, KeyError> {
    let serialization_error = |error: serde_json::Error| KeyError::Signing(error.to_string());
    let header_json = serde_json::to_vec(header).map_err(serialization_error)?;
    let claims_json = serde_json::to_vec(claims).map_err(serialization_error)?;
    let mut token = String::new();
    URL_SAFE_NO_PAD.encode_string(header_json, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(claims_json, &mut token);
    let signature = key.sign(token.as_bytes())?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(token)
}
