//! `jwks` and `jwks_uri`: RFC 7591 §2, RFC 7517, OpenID Connect DCR 1.0 §2.
//!
//! A key meant for signatures (no `use`, or `use: sig`, and no `key_ops` or ones with `verify`)
//! must be one this server can verify with: a key that never verifies anything is a mistake the
//! client learns about only at the token endpoint, so it is refused at registration instead.
//! Keys marked for encryption are only checked for form.

use std::str::FromStr as _;

use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use super::StepResult;
use crate::context::RegistrationContext;
use crate::error::RegistrationError;
use crate::protocol::AuthMethod;
use crate::token::jwk::PublicKey;
use crate::token::jwt::from_base64url;

/// Members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const MAX_KEYS: usize = 32;
const MIN_RSA_MODULUS_BYTES: usize = 256;
/// The RSA moduli the verifier takes: RFC 7518 §3.3 asks for 2048 bits or more, and
/// `token::jwk` refuses more than 4096, which bounds what one verification costs.
const RSA_MODULUS_BITS: std::ops::RangeInclusive<usize> = 2048..=4096;

fn invalid(reason: String) -> RegistrationError {
    RegistrationError::metadata(reason)
}

/// `jwks` and `jwks_uri` are exclusive; a `jwks` value holds only sound public keys, each one
/// meant for signatures verifiable here, and a `private_key_jwt` client's set holds at least one
/// key that verifies its assertions.
pub fn jwks(cx: &RegistrationContext) -> StepResult {
    let metadata = cx.metadata();
    if metadata.jwks.is_some() && metadata.jwks_uri.is_some() {
        return Err(invalid(
            "jwks and jwks_uri must not both be present".to_owned(),
        ));
    }
    let Some(jwks) = &metadata.jwks else {
        return Ok(());
    };
    let Some(Value::Array(keys)) = jwks.get("keys") else {
        return Err(invalid(
            "jwks must be a JWK Set with a \"keys\" array".to_owned(),
        ));
    };
    if keys.is_empty() {
        return Err(invalid("jwks must hold at least one key".to_owned()));
    }
    if keys.len() > MAX_KEYS {
        return Err(invalid(format!("jwks must hold at most {MAX_KEYS} keys")));
    }
    let server_algs = &cx.settings().asymmetric_signing_algs;
    let mut key_ids = Vec::new();
    // The algorithms each signature key verifies, to check the set as a whole.
    let mut verifiable_algs: Vec<&str> = Vec::new();
    for (index, key) in keys.iter().enumerate() {
        let field = format!("jwks.keys[{index}]");
        let Value::Object(key) = key else {
            return Err(invalid(format!("{field} must be a JSON object")));
        };
        public_key(&field, key)?;
        if is_for_signatures(&field, key)? {
            verifiable_algs.extend(signature_algs(&field, key, server_algs)?);
        }
        if let Some(Value::String(key_id)) = key.get("kid") {
            if key_ids.contains(&key_id) {
                return Err(invalid(format!("{field} repeats the kid \"{key_id}\"")));
            }
            key_ids.push(key_id);
        }
    }
    if metadata.auth_method() != Some(AuthMethod::PrivateKeyJwt) {
        return Ok(());
    }
    match metadata.token_endpoint_auth_signing_alg.as_deref() {
        _ if verifiable_algs.is_empty() => Err(invalid(
            "jwks holds no key to verify private_key_jwt assertions with: every key is marked for \
             encryption (use 'enc', or key_ops without 'verify')"
                .to_owned(),
        )),
        Some(registered) if !verifiable_algs.contains(&registered) => Err(invalid(format!(
            "jwks holds no key that verifies the token_endpoint_auth_signing_alg '{registered}'"
        ))),
        _ => Ok(()),
    }
}

/// Whether the key may verify signatures (RFC 7517 §4.2, §4.3): not `use: enc`, and `key_ops`,
/// when present, includes `verify`. The verifier at the token endpoint reads them the same way.
fn is_for_signatures(field: &str, key: &Map<String, Value>) -> Result<bool, RegistrationError> {
    let operations = match key.get("key_ops") {
        None => None,
        Some(Value::Array(operations)) if operations.iter().all(Value::is_string) => {
            Some(operations)
        }
        Some(_) => {
            return Err(invalid(format!(
                "{field}.key_ops must be an array of strings"
            )));
        }
    };
    let use_allows = string_member(field, key, "use")? != Some("enc");
    let operations_allow = operations
        .is_none_or(|operations| operations.iter().any(|operation| operation == "verify"));
    Ok(use_allows && operations_allow)
}

/// The algorithms of `server_algs` that a signature key verifies, which must be some; the
/// refusal names the key and why it never verifies.
fn signature_algs<'a>(
    field: &str,
    key: &Map<String, Value>,
    server_algs: &'a [String],
) -> Result<Vec<&'a str>, RegistrationError> {
    let public_key = verifying_key(field, key)?;
    let fitting: Vec<&str> = server_algs
        .iter()
        .map(String::as_str)
        .filter(|alg| Algorithm::from_str(alg).is_ok_and(|algorithm| public_key.fits(algorithm)))
        .collect();
    let Some(key_alg) = string_member(field, key, "alg")? else {
        if fitting.is_empty() {
            return Err(invalid(format!(
                "{field} fits none of the algorithms this server verifies ({}); mark a key for \
                 encryption with use 'enc'",
                server_algs.join(", ")
            )));
        }
        return Ok(fitting);
    };
    if let Some(alg) = fitting.iter().find(|alg| **alg == key_alg) {
        return Ok(vec![*alg]);
    }
    let choice = match fitting.is_empty() {
        true => "this server verifies no algorithm with this key".to_owned(),
        false => format!("this key verifies {}", fitting.join(", ")),
    };
    Err(invalid(format!(
        "{field}.alg '{key_alg}' never verifies here: {choice}; mark a key for encryption with \
         use 'enc'"
    )))
}

/// The key as the verifier reads it; the refusal says why it can never verify a signature.
fn verifying_key(field: &str, key: &Map<String, Value>) -> Result<PublicKey, RegistrationError> {
    let curve = string_member(field, key, "crv")?;
    match (string_member(field, key, "kty")?, curve) {
        (Some("EC"), Some(curve)) if curve != "P-256" && curve != "P-384" => {
            return Err(invalid(format!(
                "{field} is an EC key on {curve}, which never verifies here: this server \
                 verifies EC signatures on P-256 (ES256) and P-384 (ES384); mark a key for \
                 encryption with use 'enc'"
            )));
        }
        (Some("OKP"), Some(curve)) if curve != "Ed25519" => {
            let kind = match curve {
                "X25519" | "X448" => "a key agreement curve, not a signature one",
                _ => "not a curve this server verifies with",
            };
            return Err(invalid(format!(
                "{field} is an OKP key on {curve}, {kind}: this server verifies OKP signatures \
                 on Ed25519 (EdDSA); mark a key for encryption with use 'enc'"
            )));
        }
        (Some("RSA"), _) => {
            let bits = key
                .get("n")
                .and_then(Value::as_str)
                .and_then(from_base64url)
                .map(|modulus| bit_length(&modulus));
            if let Some(bits) = bits
                && !RSA_MODULUS_BITS.contains(&bits)
            {
                return Err(invalid(format!(
                    "{field} is an RSA key of {bits} bits, which never verifies here: this \
                     server verifies RSA signatures with keys of {} to {} bits",
                    RSA_MODULUS_BITS.start(),
                    RSA_MODULUS_BITS.end()
                )));
            }
        }
        _ => {}
    }
    PublicKey::from_jwk(key)
        .map_err(|reason| invalid(format!("{field} never verifies a signature: {reason}")))
}

/// The number of significant bits of a big-endian integer.
fn bit_length(big_endian: &[u8]) -> usize {
    let significant: Vec<u8> = big_endian
        .iter()
        .copied()
        .skip_while(|byte| *byte == 0)
        .collect();
    match significant.first() {
        None => 0,
        Some(first) => significant.len() * 8 - first.leading_zeros() as usize,
    }
}

fn base64url_member(
    field: &str,
    key: &Map<String, Value>,
    member: &str,
) -> Result<usize, RegistrationError> {
    match key.get(member) {
        // A length of 4n + 1 characters encodes no whole number of bytes (RFC 4648 §4).
        Some(Value::String(text))
            if !text.is_empty()
                && text.len() % 4 != 1
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Ok(text.len() * 3 / 4)
        }
        Some(_) => Err(invalid(format!(
            "{field}.{member} must be a base64url string"
        ))),
        None => Err(invalid(format!("{field} lacks the member \"{member}\""))),
    }
}

fn string_member<'a>(
    field: &str,
    key: &'a Map<String, Value>,
    member: &str,
) -> Result<Option<&'a str>, RegistrationError> {
    match key.get(member) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(invalid(format!("{field}.{member} must be a string"))),
    }
}

fn public_key(field: &str, key: &Map<String, Value>) -> StepResult {
    if let Some(member) = PRIVATE_MEMBERS
        .iter()
        .find(|member| key.contains_key(**member))
    {
        return Err(invalid(format!(
            "{field} contains the private member \"{member}\"; register public keys only"
        )));
    }
    for member in ["kid", "alg"] {
        string_member(field, key, member)?;
    }
    if let Some(key_use) = string_member(field, key, "use")?
        && key_use != "sig"
        && key_use != "enc"
    {
        return Err(invalid(format!("{field}.use must be \"sig\" or \"enc\"")));
    }
    let curve = string_member(field, key, "crv")?;
    match string_member(field, key, "kty")? {
        None => Err(invalid(format!("{field} lacks the member \"kty\""))),
        Some("oct") => Err(invalid(format!(
            "{field} is a symmetric (oct) key; register public keys only"
        ))),
        Some("RSA") => {
            let modulus_bytes = base64url_member(field, key, "n")?;
            base64url_member(field, key, "e")?;
            if modulus_bytes < MIN_RSA_MODULUS_BYTES {
                return Err(invalid(format!(
                    "{field} is an RSA key shorter than 2048 bits"
                )));
            }
            Ok(())
        }
        Some("EC") => {
            if !matches!(curve, Some("P-256" | "P-384" | "P-521")) {
                return Err(invalid(format!(
                    "{field}.crv must be P-256, P-384 or P-521"
                )));
            }
            base64url_member(field, key, "x")?;
            base64url_member(field, key, "y")?;
            Ok(())
        }
        Some("OKP") => {
            if !matches!(curve, Some("Ed25519" | "Ed448" | "X25519" | "X448")) {
                return Err(invalid(format!(
                    "{field}.crv must be Ed25519, Ed448, X25519 or X448"
                )));
            }
            base64url_member(field, key, "x")?;
            Ok(())
        }
        Some(other) => Err(invalid(format!(
            "{field}.kty \"{other}\" is not supported; use RSA, EC or OKP"
        ))),
    }
}
