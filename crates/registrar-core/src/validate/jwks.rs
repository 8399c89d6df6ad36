//! `jwks` and `jwks_uri`: RFC 7591 §2, RFC 7517, OpenID Connect DCR 1.0 §2.

use serde_json::{Map, Value};

use super::StepResult;
use crate::context::RegistrationContext;
use crate::error::RegistrationError;

/// Members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const MAX_KEYS: usize = 32;
const MIN_RSA_MODULUS_BYTES: usize = 256;

fn invalid(reason: String) -> RegistrationError {
    RegistrationError::metadata(reason)
}

/// `jwks` and `jwks_uri` are exclusive; a `jwks` value holds only sound public keys.
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
    let mut key_ids = Vec::new();
    for (index, key) in keys.iter().enumerate() {
        let field = format!("jwks.keys[{index}]");
        let Value::Object(key) = key else {
            return Err(invalid(format!("{field} must be a JSON object")));
        };
        public_key(&field, key)?;
        if let Some(Value::String(key_id)) = key.get("kid") {
            if key_ids.contains(&key_id) {
                return Err(invalid(format!("{field} repeats the kid \"{key_id}\"")));
            }
            key_ids.push(key_id);
        }
    }
    Ok(())
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
