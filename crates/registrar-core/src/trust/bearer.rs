//! Bearer access tokens of trusted external issuers (RFC 9068 JWT access tokens, presented as
//! RFC 6750 bearer tokens), for a registration endpoint protected by another authorization server.

use serde_json::Value;

use super::claims::{check_lifetime, optional_string};
use super::issuer::{KeySource, TrustedIssuer};
use super::jws::{self, Refusal, is_access_token_type};
use super::looks_like_jwt;

/// An issuer whose access tokens are trusted, and the audiences they must name.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenIssuer {
    /// The issuer, its keys and its algorithms.
    pub trusted: TrustedIssuer,
    /// RFC 9068 §4: `aud` must contain one of these (this server's resource identifiers).
    pub audience: Vec<String>,
}

/// An access token that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedBearer {
    /// The token's `iss`, one of the trusted issuers.
    pub issuer: String,
    /// The token's `sub`.
    pub subject: String,
    /// The token's `client_id`, if any.
    pub client_id: Option<String>,
    /// The scopes granted: `scope` split at spaces, or else the `scp` array.
    pub scopes: Vec<String>,
    /// The token's `exp`, in seconds since the epoch.
    pub expires_at: i64,
    /// Whether `typ` named an access token (`at+jwt`, RFC 9068 §2.1) rather than a plain JWT or
    /// nothing: a caller that must tell access tokens from other JWTs of the same issuer (its
    /// software statements) requires it.
    pub typed_as_access_token: bool,
}

/// Why a bearer token was refused. RFC 6750 §3.1 answers all of them with `invalid_token`; the
/// message is fit for `error_description`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BearerError {
    /// The token is not shaped like a JWT (see [`looks_like_jwt`]): it may be an opaque token of
    /// another kind, such as an initial access token.
    #[error("the access token is not a jwt")]
    NotAJwt,
    /// The token's `iss` is not a trusted issuer.
    #[error("the access token is not from a trusted issuer")]
    UntrustedIssuer,
    /// Any other refusal, with its reason.
    #[error("{0}")]
    Invalid(String),
}

impl From<Refusal> for BearerError {
    fn from(refusal: Refusal) -> Self {
        Self::Invalid(refusal.0)
    }
}

const NOUN: &str = "access token";

fn invalid(description: impl Into<String>) -> BearerError {
    BearerError::Invalid(description.into())
}

/// Verifies a JWT access token of one of `issuers`.
///
/// `typ`, when present, must be `at+jwt`, `application/at+jwt` or `JWT`; `alg` must be one of the
/// issuer's `algs` (never `none` or HMAC), and the signature must verify with the issuer's keys.
/// `exp` is required, `nbf` and `iat` are checked when present (each with `leeway` seconds),
/// `aud` must name one of the issuer's audiences, and `sub` is required.
pub async fn verify_bearer_token(
    token: &str,
    issuers: &[TokenIssuer],
    keys: &dyn KeySource,
    now: i64,
    leeway: i64,
) -> Result<VerifiedBearer, BearerError> {
    if !looks_like_jwt(token) {
        return Err(BearerError::NotAJwt);
    }
    let unverified = jws::parse(token, NOUN)?;
    if let Some(typ) = &unverified.header.typ
        && !is_access_token_type(typ)
        && !typ.eq_ignore_ascii_case("JWT")
    {
        return Err(invalid("the access token's typ must be at+jwt"));
    }
    let Some(token_issuer) = issuers
        .iter()
        .find(|candidate| candidate.trusted.issuer == unverified.issuer)
    else {
        return Err(BearerError::UntrustedIssuer);
    };
    jws::verify_signature(&unverified, &token_issuer.trusted, keys, NOUN).await?;
    let claims = unverified.claims;
    let lifetime = check_lifetime(&claims, now, leeway, true, NOUN)?;
    let Some(expires_at) = lifetime.exp else {
        return Err(invalid("the access token has no exp"));
    };

    let audience_matches = |value: &Value| {
        value.as_str().is_some_and(|audience| {
            token_issuer
                .audience
                .iter()
                .any(|accepted| accepted == audience)
        })
    };
    let audience_ok = match claims.get("aud") {
        Some(Value::Array(audiences)) => audiences.iter().any(audience_matches),
        Some(single) => audience_matches(single),
        None => false,
    };
    if !audience_ok {
        return Err(invalid("the access token's aud does not name this server"));
    }

    let Some(subject) = optional_string(&claims, "sub", NOUN)? else {
        return Err(invalid("the access token has no sub"));
    };
    let client_id = optional_string(&claims, "client_id", NOUN)?.map(str::to_owned);
    let scopes = scopes(&claims)?;
    let typed_as_access_token = unverified
        .header
        .typ
        .as_deref()
        .is_some_and(is_access_token_type);
    Ok(VerifiedBearer {
        issuer: unverified.issuer,
        subject: subject.to_owned(),
        client_id,
        scopes,
        expires_at,
        typed_as_access_token,
    })
}

/// RFC 9068 §2.2.3: `scope` is a space-separated string (RFC 6749 §3.3); some issuers send an
/// `scp` array instead, read only when `scope` is absent. Neither means no scope.
fn scopes(claims: &serde_json::Map<String, Value>) -> Result<Vec<String>, BearerError> {
    match (claims.get("scope"), claims.get("scp")) {
        (Some(Value::String(scope)), _) => Ok(scope
            .split(' ')
            .filter(|scope| !scope.is_empty())
            .map(str::to_owned)
            .collect()),
        (Some(_), _) => Err(invalid("the access token's scope must be a string")),
        (None, Some(Value::Array(scopes))) => scopes
            .iter()
            .map(|scope| match scope {
                Value::String(scope) if !scope.is_empty() => Ok(scope.clone()),
                _ => Err(invalid(
                    "the access token's scp must be an array of strings",
                )),
            })
            .collect(),
        (None, Some(_)) => Err(invalid(
            "the access token's scp must be an array of strings",
        )),
        (None, None) => Ok(Vec::new()),
    }
}
