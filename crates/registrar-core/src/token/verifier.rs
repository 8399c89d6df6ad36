//! Verifying the asymmetric JWS algorithms (RFC 7518 §3.3 to §3.5, RFC 8037 §3.1): this server's
//! own tokens, clients' assertions and trusted issuers' statements.
//!
//! `ring` verifies ECDSA and RSA three to five times faster than the RustCrypto crates behind
//! `jsonwebtoken` (docs/benchmarks.md); `ed25519-dalek` verifies Ed25519 as fast as `ring` and
//! decodes the key once, here. HMAC stays with `jsonwebtoken`.

use std::fmt;

use jsonwebtoken::Algorithm;
use ring::signature::{self, RsaParameters, RsaPublicKeyComponents, UnparsedPublicKey};

use super::jwk::{EcCurve, PublicKey};

/// A public key with the one algorithm it verifies; built once per key, so each verification
/// only decodes the signature.
pub(crate) enum VerifyingKey {
    /// ECDSA, with the uncompressed point (SEC 1 §2.3.3).
    Ecdsa(UnparsedPublicKey<Vec<u8>>),
    /// Ed25519, the point decoded.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// RSA, with the modulus and exponent without leading zeros, as `PublicKey` holds them.
    Rsa {
        parameters: &'static RsaParameters,
        components: RsaPublicKeyComponents<Vec<u8>>,
    },
}

/// Public keys are public, but the ring's `Debug` output need not show them.
impl fmt::Debug for VerifyingKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Self::Ecdsa(_) => "Ecdsa",
            Self::Ed25519(_) => "Ed25519",
            Self::Rsa { .. } => "Rsa",
        };
        formatter
            .debug_tuple("VerifyingKey")
            .field(&kind)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// The key that checks signatures made with `algorithm` by `public_key`, or `None` when the
    /// key cannot have made them (see [`PublicKey::fits`]), the algorithm is HMAC, or an Ed25519
    /// key is no point of the curve.
    ///
    /// RSA moduli are 2048 to 4096 bits long: [`PublicKey::from_jwk`] refuses others, and
    /// `ring`'s `2048_8192` parameters refuse shorter ones again. RFC 7518 §3.5: PS256, PS384 and
    /// PS512 use a salt as long as the hash, which is what `ring` expects.
    pub(crate) fn new(public_key: &PublicKey, algorithm: Algorithm) -> Option<Self> {
        if !public_key.fits(algorithm) {
            return None;
        }
        match public_key {
            PublicKey::Ec { curve, x, y } => {
                let verification: &'static dyn signature::VerificationAlgorithm = match curve {
                    EcCurve::P256 => &signature::ECDSA_P256_SHA256_FIXED,
                    EcCurve::P384 => &signature::ECDSA_P384_SHA384_FIXED,
                };
                let mut uncompressed = Vec::with_capacity(1 + x.len() + y.len());
                uncompressed.push(0x04);
                uncompressed.extend_from_slice(x);
                uncompressed.extend_from_slice(y);
                Some(Self::Ecdsa(UnparsedPublicKey::new(
                    verification,
                    uncompressed,
                )))
            }
            PublicKey::Ed25519 { x } => {
                let bytes: &[u8; 32] = x.as_slice().try_into().ok()?;
                ed25519_dalek::VerifyingKey::from_bytes(bytes)
                    .ok()
                    .map(Self::Ed25519)
            }
            PublicKey::Rsa { n, e } => {
                let parameters = match algorithm {
                    Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
                    Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
                    Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
                    Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                    Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
                    Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
                    _ => return None,
                };
                Some(Self::Rsa {
                    parameters,
                    components: RsaPublicKeyComponents {
                        n: n.clone(),
                        e: e.clone(),
                    },
                })
            }
        }
    }

    /// Whether `signature`, as the JWS carries it (for ECDSA R and S of fixed size, not DER), is
    /// a signature of `signing_input`.
    pub(crate) fn verify(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Ecdsa(key) => key.verify(signing_input, signature).is_ok(),
            // RFC 8032 §5.1.7, as `jsonwebtoken` verified: `verify`, not `verify_strict`, which
            // would also refuse keys of small order.
            Self::Ed25519(key) => {
                use ed25519_dalek::Verifier as _;
                ed25519_dalek::Signature::from_slice(signature)
                    .is_ok_and(|signature| key.verify(signing_input, &signature).is_ok())
            }
            Self::Rsa {
                parameters,
                components,
            } => components
                .verify(parameters, signing_input, signature)
                .is_ok(),
        }
    }
}
