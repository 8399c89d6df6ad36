//! Claim readers shared by software statements and access tokens: typed members and the
//! `exp`/`nbf`/`iat` window (RFC 7519 §4.1.4–4.1.6), always against the injected `now`.

use serde_json::{Map, Value};

use super::jws::Refusal;
use crate::token::jwt;

/// The time claims of a JWT that passed the window check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Lifetime {
    pub(super) exp: Option<i64>,
    pub(super) iat: Option<i64>,
}

/// `Ok(None)` when absent; a refusal when present but not a NumericDate.
fn date_claim(claims: &Map<String, Value>, name: &str, noun: &str) -> Result<Option<i64>, Refusal> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => jwt::numeric_date(value)
            .map(Some)
            .ok_or_else(|| Refusal::invalid(format!("the {noun}'s {name} is not a number"))),
    }
}

/// Checks `exp` (required when `exp_required`), `nbf` and `iat`, each with `leeway` seconds of
/// clock skew (a negative leeway counts as none).
pub(super) fn check_lifetime(
    claims: &Map<String, Value>,
    now: i64,
    leeway: i64,
    exp_required: bool,
    noun: &str,
) -> Result<Lifetime, Refusal> {
    let leeway = leeway.max(0);
    let exp = date_claim(claims, "exp", noun)?;
    let nbf = date_claim(claims, "nbf", noun)?;
    let iat = date_claim(claims, "iat", noun)?;
    match exp {
        None if exp_required => return Err(Refusal::invalid(format!("the {noun} has no exp"))),
        Some(exp) if now >= exp.saturating_add(leeway) => {
            return Err(Refusal::invalid(format!("the {noun} has expired")));
        }
        None | Some(_) => {}
    }
    if nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
        return Err(Refusal::invalid(format!(
            "the {noun} is not valid yet (nbf)"
        )));
    }
    if iat.is_some_and(|iat| iat > now.saturating_add(leeway)) {
        return Err(Refusal::invalid(format!(
            "the {noun} was issued in the future (iat)"
        )));
    }
    Ok(Lifetime { exp, iat })
}

/// `Ok(None)` when absent; a refusal when present but not a string.
pub(super) fn optional_string<'a>(
    claims: &'a Map<String, Value>,
    name: &str,
    noun: &str,
) -> Result<Option<&'a str>, Refusal> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(Refusal::invalid(format!(
            "the {noun}'s {name} must be a string"
        ))),
    }
}
