//! An active key's private half, parsed once when the key ring is built, and the JWS Compact
//! Serialization it signs.
//!
//! `jsonwebtoken` reads the PKCS#8 document again on every signature, and `p256` then derives the
//! public key to check it against the document: two thirds of an ES256 signature. Verification
//! stays with `jsonwebtoken`; only signing is done here.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
// One `pkcs8::DecodePrivateKey` trait and one `signature` crate serve `p256`, `rsa` and
// `ed25519-dalek`.
use p256::pkcs8::DecodePrivateKey as _;
use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _, Signer as _};
use serde::Serialize;
use sha2::Sha256;

use super::keys::{GeneratorRng, KeyError, SigningAlgorithm, SigningKey};
use crate::secrets::OsRandom;

/// A private key ready to sign. Each crate zeroizes its key when it is dropped.
pub(crate) enum PrivateKey {
    /// RFC 7518 §3.4: ECDSA P-256 with SHA-256, with the nonce derived as RFC 6979 describes.
    Es256(p256::ecdsa::SigningKey),
    /// RFC 7518 §3.3: RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256(rsa::pkcs1v15::SigningKey<Sha256>),
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
        let malformed = |reason: &str| KeyError::Malformed {
            kid: key.kid.clone(),
            reason: reason.to_owned(),
        };
        let der = key.private_pkcs8_der.as_slice();
        match key.algorithm {
            SigningAlgorithm::Es256 => p256::ecdsa::SigningKey::from_pkcs8_der(der)
                .map(Self::Es256)
                .map_err(|_| malformed("not a P-256 PKCS#8 private key")),
            SigningAlgorithm::Rs256 => rsa::RsaPrivateKey::from_pkcs8_der(der)
                .map(|private| Self::Rs256(rsa::pkcs1v15::SigningKey::new(private)))
                .map_err(|_| malformed("not an RSA PKCS#8 private key")),
            SigningAlgorithm::EdDsa => ed25519_dalek::SigningKey::from_pkcs8_der(der)
                .map(Self::EdDsa)
                .map_err(|_| malformed("not an Ed25519 PKCS#8 private key")),
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
        let signing_error = |error: rsa::signature::Error| KeyError::Signing(error.to_string());
        match self {
            Self::Es256(key) => {
                let signature: p256::ecdsa::Signature =
                    key.try_sign(signing_input).map_err(signing_error)?;
                Ok(signature.to_bytes().to_vec())
            }
            // Blinded with fresh randomness, as `jsonwebtoken` did: the private-key operation of
            // `rsa` is not constant-time. Blinding does not change the signature, which PKCS#1
            // v1.5 makes deterministic.
            Self::Rs256(key) => key
                .try_sign_with_rng(&mut GeneratorRng(&OsRandom), signing_input)
                .map(|signature| signature.to_vec())
                .map_err(signing_error),
            Self::EdDsa(key) => key
                .try_sign(signing_input)
                .map(|signature| signature.to_bytes().to_vec())
                .map_err(signing_error),
        }
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
