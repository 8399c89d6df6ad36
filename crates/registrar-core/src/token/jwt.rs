//! Compact JWS plumbing shared by access tokens and client assertions: the size cap, the header
//! fields this server reads, unverified claims and NumericDate values.
//!
//! Nothing here checks a signature; callers verify it (with a `VerifyingKey`, or with
//! `jsonwebtoken` for HMAC) before trusting a claim.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The longest token accepted; an RSA-4096 signature and generous claims fit well within it, and
/// nothing larger is parsed at all.
pub(crate) const MAX_JWT_LENGTH: usize = 16 * 1024;

/// The header members this server acts on (RFC 7515 §4.1). A repeated member is an error, so no
/// two parsers can read different values from one header.
#[derive(Debug, Deserialize)]
pub(crate) struct RawHeader {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub typ: Option<String>,
    /// RFC 7515 §4.1.11: extensions the recipient must understand. This server understands none.
    #[serde(default)]
    pub crit: Option<Value>,
}

/// The three base64url parts of a compact JWS, or `None` for anything else (a JWE has five).
pub(crate) fn split(token: &str) -> Option<[&str; 3]> {
    if token.len() > MAX_JWT_LENGTH {
        return None;
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    // An empty signature is let through so that `alg: none` gets its own refusal; no verifier
    // accepts an empty signature.
    if header.is_empty() || payload.is_empty() {
        return None;
    }
    Some([header, payload, signature])
}

/// The JWS Signing Input of a compact JWS, its first two parts as they are (RFC 7515 §5.2), and
/// its signature part, still base64url.
pub(crate) fn signing_input_and_signature(token: &str) -> Option<(&str, &str)> {
    split(token)?;
    token.rsplit_once('.')
}

fn decode_json<T: for<'de> Deserialize<'de>>(part: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The header of a compact JWS, unverified.
pub(crate) fn header(token: &str) -> Option<RawHeader> {
    let [header, _, _] = split(token)?;
    decode_json(header)
}

/// The payload of a compact JWS as `T`: unverified, unless the caller has checked the signature.
pub(crate) fn payload<T: for<'de> Deserialize<'de>>(token: &str) -> Option<T> {
    let [_, payload, _] = split(token)?;
    decode_json(payload)
}

/// The claims of a compact JWS, unverified.
pub(crate) fn unverified_claims(token: &str) -> Option<Map<String, Value>> {
    payload(token)
}

/// RFC 7519 §2: a NumericDate is seconds since the epoch and may have a fraction, which is
/// dropped. `None` for anything that is not a number.
pub(crate) fn numeric_date(value: &Value) -> Option<i64> {
    let Value::Number(number) = value else {
        return None;
    };
    match number.as_i64() {
        Some(seconds) => Some(seconds),
        // A float within i64's range; `as` saturates, and NaN cannot come from JSON.
        None => number
            .as_f64()
            .filter(|seconds| seconds.is_finite())
            .map(|seconds| seconds.floor() as i64),
    }
}

/// A `jsonwebtoken` validation that checks the signature and the algorithm only, for HMAC.
///
/// `jsonwebtoken` would otherwise read the wall clock for `exp` and `nbf`; every time check here
/// uses the injected `now` instead, and every claim check is done by the caller.
pub(crate) fn signature_only(algorithm: Algorithm) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation.leeway = 0;
    validation
}

/// base64url without padding, as every JOSE member is encoded.
pub(crate) fn base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict base64url without padding; non-canonical trailing bits are refused.
pub(crate) fn from_base64url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}
