//! Public JSON Web Keys (RFC 7517, RFC 7518 §6, RFC 8037 §2): parsing with exact sizes, the
//! RFC 7638 thumbprint, rendering for the JWKS, and which algorithms a key fits.
//!
//! Both this server's own keys and clients' registered keys go through [`PublicKey::from_jwk`],
//! so a malformed client key is refused here rather than deep inside a verifier.

use jsonwebtoken::Algorithm;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::jwt::{base64url, from_base64url};

/// RFC 7518 §3.3: RSA keys of 2048 bits or more.
const MIN_RSA_MODULUS_BITS: usize = 2048;
/// The largest modulus verified, as registration tells clients (`validate::jwks`). `ring` would
/// verify up to 8192 bits, at four times the cost per signature to an unauthenticated caller.
const MAX_RSA_MODULUS_BITS: usize = 4096;

/// The curves of `kty: EC` keys this server verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EcCurve {
    P256,
    P384,
}

impl EcCurve {
    fn name(self) -> &'static str {
        match self {
            Self::P256 => "P-256",
            Self::P384 => "P-384",
        }
    }

    fn coordinate_length(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
        }
    }
}

/// A public key with its members decoded and their sizes checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PublicKey {
    Ec {
        curve: EcCurve,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    Ed25519 {
        x: Vec<u8>,
    },
}

fn string_member<'a>(key: &'a Map<String, Value>, member: &str) -> Option<&'a str> {
    key.get(member).and_then(Value::as_str)
}

fn bytes_member(key: &Map<String, Value>, member: &str) -> Result<Vec<u8>, &'static str> {
    string_member(key, member)
        .and_then(from_base64url)
        .ok_or("a key member is missing or not base64url")
}

fn without_leading_zeros(bytes: &[u8]) -> Vec<u8> {
    let first = bytes
        .iter()
        .position(|byte| *byte != 0)
        .unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default().to_vec()
}

fn bit_length(big_endian: &[u8]) -> usize {
    match big_endian.first() {
        None => 0,
        Some(first) => big_endian.len() * 8 - first.leading_zeros() as usize,
    }
}

impl PublicKey {
    /// Parses the key members of a public JWK. Members other than the key's own are ignored here;
    /// `alg`, `use` and `key_ops` are the caller's to check.
    pub(crate) fn from_jwk(key: &Map<String, Value>) -> Result<Self, &'static str> {
        match string_member(key, "kty") {
            Some("EC") => {
                let curve = match string_member(key, "crv") {
                    Some("P-256") => EcCurve::P256,
                    Some("P-384") => EcCurve::P384,
                    _ => return Err("the EC curve is not supported"),
                };
                let x = bytes_member(key, "x")?;
                let y = bytes_member(key, "y")?;
                if x.len() != curve.coordinate_length() || y.len() != curve.coordinate_length() {
                    return Err("an EC coordinate has the wrong length");
                }
                Ok(Self::Ec { curve, x, y })
            }
            Some("RSA") => {
                let n = without_leading_zeros(&bytes_member(key, "n")?);
                let e = without_leading_zeros(&bytes_member(key, "e")?);
                if !(MIN_RSA_MODULUS_BITS..=MAX_RSA_MODULUS_BITS).contains(&bit_length(&n)) {
                    return Err("the RSA modulus must have 2048 to 4096 bits");
                }
                if e.is_empty() || e.len() > 8 {
                    return Err("the RSA exponent is out of range");
                }
                Ok(Self::Rsa { n, e })
            }
            Some("OKP") => {
                if string_member(key, "crv") != Some("Ed25519") {
                    return Err("the OKP curve is not supported");
                }
                let x = bytes_member(key, "x")?;
                // The size is checked here, before any verifier sees the key.
                if x.len() != 32 {
                    return Err("an Ed25519 key has 32 bytes");
                }
                Ok(Self::Ed25519 { x })
            }
            _ => Err("the key type is not supported"),
        }
    }

    /// Whether a signature made with `algorithm` can come from this key (RFC 7518 §3.1).
    pub(crate) fn fits(&self, algorithm: Algorithm) -> bool {
        match self {
            Self::Ec {
                curve: EcCurve::P256,
                ..
            } => algorithm == Algorithm::ES256,
            Self::Ec {
                curve: EcCurve::P384,
                ..
            } => algorithm == Algorithm::ES384,
            Self::Rsa { .. } => matches!(
                algorithm,
                Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512
            ),
            Self::Ed25519 { .. } => algorithm == Algorithm::EdDSA,
        }
    }

    /// The RFC 7638 JWK thumbprint: SHA-256 over the required members in lexicographic order,
    /// without whitespace, base64url-encoded.
    pub(crate) fn thumbprint(&self) -> String {
        // Every value is base64url or a fixed name, so none needs JSON escaping.
        let canonical = match self {
            Self::Ec { curve, x, y } => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                curve.name(),
                base64url(x),
                base64url(y)
            ),
            Self::Rsa { n, e } => format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                base64url(e),
                base64url(n)
            ),
            Self::Ed25519 { x } => {
                format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, base64url(x))
            }
        };
        base64url(&Sha256::digest(canonical.as_bytes()))
    }

    /// The public JWK as published: the key members, `kid`, `alg` and `use: sig`, and nothing
    /// else, so no stored extra member can ever reach the JWKS.
    pub(crate) fn to_jwk(&self, kid: &str, algorithm: &str) -> Value {
        let mut jwk = match self {
            Self::Ec { curve, x, y } => json!({
                "kty": "EC", "crv": curve.name(), "x": base64url(x), "y": base64url(y),
            }),
            Self::Rsa { n, e } => json!({ "kty": "RSA", "n": base64url(n), "e": base64url(e) }),
            Self::Ed25519 { x } => json!({ "kty": "OKP", "crv": "Ed25519", "x": base64url(x) }),
        };
        if let Value::Object(members) = &mut jwk {
            members.insert("kid".to_owned(), Value::from(kid));
            members.insert("alg".to_owned(), Value::from(algorithm));
            members.insert("use".to_owned(), Value::from("sig"));
        }
        jwk
    }
}
