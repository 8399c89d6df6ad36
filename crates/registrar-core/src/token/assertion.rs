//! Client assertions (RFC 7523 §2.2 and §3, OpenID Connect Core §9): `private_key_jwt` against the
//! client's JWK Set, `client_secret_jwt` against its secret, and the replay cache for `jti`.
//!
//! Every refusal is an [`AssertionError`], which the token endpoint answers with `invalid_client`.

use std::fmt::Debug;
use std::str::FromStr as _;

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use serde_json::{Map, Value};

use super::error::TokenError;
use super::jwk::PublicKey;
use super::jwt::{self, RawHeader};
use crate::error::StoreError;

/// The asymmetric algorithms this server verifies `private_key_jwt` assertions with.
pub const ASYMMETRIC_ASSERTION_ALGS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];
/// The HMAC algorithms this server verifies `client_secret_jwt` assertions with.
pub const HMAC_ASSERTION_ALGS: [&str; 3] = ["HS256", "HS384", "HS512"];
/// At most this many keys of a client's JWK Set are tried for an assertion without a `kid`.
const MAX_CANDIDATE_KEYS: usize = 32;
/// A `jti` is recorded in the replay cache, so its size is bounded.
pub(crate) const MAX_JTI_LENGTH: usize = 256;

/// Clock tolerance and the longest assertion lifetime accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssertionLimits {
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: i64,
    /// RFC 7523 §3 item 4 lets the server limit how far `exp` lies ahead; assertions are meant to
    /// be short-lived, and the replay cache must hold each `jti` until then.
    pub max_lifetime: i64,
}

impl Default for AssertionLimits {
    fn default() -> Self {
        Self {
            leeway: 30,
            max_lifetime: 300,
        }
    }
}

/// What an assertion is checked against.
#[derive(Debug, Clone, Copy)]
pub struct AssertionCheck<'a> {
    /// The client the assertion must be from: `iss` and `sub` (RFC 7523 §3 items 1 and 2).
    pub client_id: &'a str,
    /// The values `aud` must contain one of: the issuer and the token endpoint URL, compared
    /// exactly (RFC 7523 §3 item 3).
    pub audiences: &'a [String],
    /// The algorithms the server accepts for client assertions
    /// (`token_endpoint_auth_signing_alg_values_supported`); each method further keeps only its
    /// own family.
    pub allowed_algs: &'a [String],
    /// The client's registered `token_endpoint_auth_signing_alg`, which then is the only one
    /// accepted (OpenID Connect Dynamic Client Registration 1.0 §2).
    pub registered_alg: Option<&'a str>,
    /// The time of the request, in seconds since the epoch.
    pub now: i64,
    /// Clock leeway and the longest lifetime accepted.
    pub limits: AssertionLimits,
}

/// An assertion that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    /// The assertion's `jti`, to record in the [`ReplayCache`].
    pub jti: String,
    /// The last second the assertion could still be accepted (`exp` plus the leeway): record the
    /// `jti` at least until then.
    pub expires_at: i64,
}

/// Why an assertion was refused; the message is fit for `error_description`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    /// No key of the client's JWK Set fits the assertion's `kid` and `alg`. A client with a
    /// `jwks_uri` may have rotated its keys: fetch the set again (once, rate-limited) and retry.
    #[error("no key in the client's jwks fits the client assertion's kid and alg")]
    NoMatchingKey,
    /// Any other refusal, with its reason.
    #[error("{0}")]
    Invalid(String),
}

impl From<AssertionError> for TokenError {
    fn from(error: AssertionError) -> Self {
        TokenError::invalid_client(error.to_string())
    }
}

fn invalid(reason: impl Into<String>) -> AssertionError {
    AssertionError::Invalid(reason.into())
}

/// Records the `jti` of each accepted assertion so it is accepted once (RFC 7523 §3 item 7).
#[async_trait]
pub trait ReplayCache: Send + Sync + Debug {
    /// Records a jti; false when it was already recorded (a replay). Entries may be dropped once
    /// `expires_at` has passed.
    async fn record_jti(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError>;
}

/// Records the assertion's `jti`, refusing a replay with `invalid_client`.
pub async fn record_assertion(
    cache: &dyn ReplayCache,
    client_id: &str,
    assertion: &VerifiedAssertion,
) -> Result<(), TokenError> {
    if cache
        .record_jti(client_id, &assertion.jti, assertion.expires_at)
        .await?
    {
        return Ok(());
    }
    Err(TokenError::invalid_client(
        "the client assertion was already used",
    ))
}

/// The `kid` of the assertion's header. UNVERIFIED: only for choosing which key to verify with.
pub fn unverified_header_kid(assertion: &str) -> Option<String> {
    jwt::header(assertion)?.kid
}

/// The `sub` of the assertion, which RFC 7523 §3 requires to be the client_id. UNVERIFIED: only
/// for finding the client whose keys or secret then verify the assertion; never trust it before
/// [`verify_private_key_jwt`] or [`verify_client_secret_jwt`] succeeded.
pub fn unverified_subject(assertion: &str) -> Option<String> {
    match jwt::unverified_claims(assertion)?.remove("sub")? {
        Value::String(subject) => Some(subject),
        _ => None,
    }
}

/// Verifies a `private_key_jwt` assertion with the client's JWK Set (`{"keys": [...]}`).
///
/// With a `kid`, only the key of that kid is used; without one, every key whose type fits `alg`
/// is tried. A key's own `alg`, `use` and `key_ops`, when present, must allow the signature.
pub fn verify_private_key_jwt(
    assertion: &str,
    jwks: &Value,
    check: &AssertionCheck<'_>,
) -> Result<VerifiedAssertion, AssertionError> {
    let header = parse_header(assertion)?;
    let algorithm = accepted_algorithm(&header, check, Method::PrivateKeyJwt)?;
    let candidates = candidate_keys(jwks, &header, algorithm);
    if candidates.is_empty() {
        return Err(AssertionError::NoMatchingKey);
    }
    let claims = candidates
        .iter()
        .find_map(|key| verify_signature(assertion, key, algorithm))
        .ok_or_else(|| invalid("the client assertion signature does not verify"))?;
    check_claims(&claims, check)
}

/// Verifies a `client_secret_jwt` assertion: HMAC keyed with the octets of the client secret's
/// UTF-8 form (OpenID Connect Core §9), which the caller has decrypted.
pub fn verify_client_secret_jwt(
    assertion: &str,
    client_secret: &[u8],
    check: &AssertionCheck<'_>,
) -> Result<VerifiedAssertion, AssertionError> {
    let header = parse_header(assertion)?;
    let algorithm = accepted_algorithm(&header, check, Method::ClientSecretJwt)?;
    if client_secret.is_empty() {
        return Err(invalid("the client has no secret to verify the assertion"));
    }
    let claims = verify_signature(
        assertion,
        &DecodingKey::from_secret(client_secret),
        algorithm,
    )
    .ok_or_else(|| invalid("the client assertion signature does not verify"))?;
    check_claims(&claims, check)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    PrivateKeyJwt,
    ClientSecretJwt,
}

fn parse_header(assertion: &str) -> Result<RawHeader, AssertionError> {
    let header = jwt::header(assertion)
        .ok_or_else(|| invalid("the client assertion is not a well-formed signed jwt"))?;
    // RFC 7515 §4.1.11: a recipient must refuse a JWS whose crit lists an extension it does not
    // understand; this server understands none.
    if header.crit.is_some() {
        return Err(invalid(
            "the client assertion's crit header names extensions this server does not support",
        ));
    }
    Ok(header)
}

/// The header's `alg`, when the method, the server and the client's registration all allow it.
/// This is what stops algorithm confusion: the key type is chosen by the method, never by the
/// token, so an HMAC "signed" with a public key is refused before any key is touched.
fn accepted_algorithm(
    header: &RawHeader,
    check: &AssertionCheck<'_>,
    method: Method,
) -> Result<Algorithm, AssertionError> {
    if header.alg == "none" {
        return Err(invalid(
            "an unsigned client assertion (alg none) is not accepted",
        ));
    }
    let algorithm = Algorithm::from_str(&header.alg)
        .map_err(|_| invalid("the client assertion's alg is not supported"))?;
    let is_hmac = algorithm.family() == AlgorithmFamily::Hmac;
    match method {
        Method::PrivateKeyJwt if is_hmac => {
            return Err(invalid(
                "private_key_jwt needs an asymmetric alg; an HMAC alg is not accepted",
            ));
        }
        Method::ClientSecretJwt if !is_hmac => {
            return Err(invalid(
                "client_secret_jwt needs an HMAC alg (HS256, HS384 or HS512)",
            ));
        }
        Method::PrivateKeyJwt | Method::ClientSecretJwt => {}
    }
    if !check.allowed_algs.contains(&header.alg) {
        return Err(invalid(format!(
            "the client assertion's alg {} is not accepted by this server",
            header.alg
        )));
    }
    if let Some(registered) = check.registered_alg
        && registered != header.alg
    {
        return Err(invalid(format!(
            "the client assertion's alg {} is not the registered token_endpoint_auth_signing_alg {registered}",
            header.alg
        )));
    }
    Ok(algorithm)
}

/// Whether the key's optional `alg`, `use` and `key_ops` allow verifying with `alg`
/// (RFC 7517 §4.2–4.4).
fn key_allows(key: &Map<String, Value>, alg: &str) -> bool {
    let alg_allows = match key.get("alg") {
        None => true,
        Some(key_alg) => key_alg == alg,
    };
    let use_allows = match key.get("use") {
        None => true,
        Some(key_use) => key_use == "sig",
    };
    let operations_allow = match key.get("key_ops") {
        None => true,
        Some(Value::Array(operations)) => operations.iter().any(|operation| operation == "verify"),
        Some(_) => false,
    };
    alg_allows && use_allows && operations_allow
}

/// The verifying keys of the client's JWK Set that may have signed with `algorithm`.
pub(crate) fn candidate_keys(
    jwks: &Value,
    header: &RawHeader,
    algorithm: Algorithm,
) -> Vec<DecodingKey> {
    let Some(Value::Array(keys)) = jwks.get("keys") else {
        return Vec::new();
    };
    keys.iter()
        .filter_map(Value::as_object)
        .filter(|key| match &header.kid {
            Some(kid) => key.get("kid").and_then(Value::as_str) == Some(kid.as_str()),
            None => true,
        })
        .filter(|key| key_allows(key, &header.alg))
        .filter_map(|key| PublicKey::from_jwk(key).ok())
        .filter(|public_key| public_key.fits(algorithm))
        .filter_map(|public_key| public_key.decoding_key().ok())
        .take(MAX_CANDIDATE_KEYS)
        .collect()
}

/// The claims, when the signature verifies with `key`. `jsonwebtoken` checks only the signature
/// and the algorithm here; the claims are checked against the injected clock afterwards.
fn verify_signature(
    assertion: &str,
    key: &DecodingKey,
    algorithm: Algorithm,
) -> Option<Map<String, Value>> {
    jsonwebtoken::decode::<Map<String, Value>>(assertion, key, &jwt::signature_only(algorithm))
        .ok()
        .map(|data| data.claims)
}

fn string_claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str)
}

/// `Ok(None)` when absent, an error when present but not a NumericDate.
fn date_claim(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, AssertionError> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => jwt::numeric_date(value)
            .map(Some)
            .ok_or_else(|| invalid(format!("the client assertion's {name} is not a number"))),
    }
}

/// RFC 7523 §3 items 1 to 7, against the injected `now`.
fn check_claims(
    claims: &Map<String, Value>,
    check: &AssertionCheck<'_>,
) -> Result<VerifiedAssertion, AssertionError> {
    if string_claim(claims, "iss") != Some(check.client_id) {
        return Err(invalid("the client assertion's iss must be the client_id"));
    }
    if string_claim(claims, "sub") != Some(check.client_id) {
        return Err(invalid("the client assertion's sub must be the client_id"));
    }
    let audience_matches = |value: &Value| {
        value
            .as_str()
            .is_some_and(|audience| check.audiences.iter().any(|accepted| accepted == audience))
    };
    let aud_ok = match claims.get("aud") {
        Some(Value::Array(audiences)) => audiences.iter().any(audience_matches),
        Some(single) => audience_matches(single),
        None => false,
    };
    if !aud_ok {
        return Err(invalid(
            "the client assertion's aud must name this server's issuer or token endpoint",
        ));
    }

    let limits = check.limits;
    let now = check.now;
    let exp =
        date_claim(claims, "exp")?.ok_or_else(|| invalid("the client assertion has no exp"))?;
    let iat = date_claim(claims, "iat")?;
    let nbf = date_claim(claims, "nbf")?;
    if now >= exp.saturating_add(limits.leeway) {
        return Err(invalid("the client assertion has expired"));
    }
    let too_long = exp.saturating_sub(now) > limits.max_lifetime.saturating_add(limits.leeway)
        || iat.is_some_and(|iat| exp.saturating_sub(iat) > limits.max_lifetime);
    if too_long {
        return Err(invalid(format!(
            "the client assertion must expire within {} seconds",
            limits.max_lifetime
        )));
    }
    if nbf.is_some_and(|nbf| nbf > now.saturating_add(limits.leeway)) {
        return Err(invalid("the client assertion is not valid yet (nbf)"));
    }
    if iat.is_some_and(|iat| iat > now.saturating_add(limits.leeway)) {
        return Err(invalid(
            "the client assertion was issued in the future (iat)",
        ));
    }

    let jti = match claims.get("jti") {
        // No control characters: a jti is stored, and PostgreSQL refuses a NUL in text.
        Some(Value::String(jti))
            if !jti.is_empty()
                && jti.len() <= MAX_JTI_LENGTH
                && !jti.chars().any(char::is_control) =>
        {
            jti
        }
        Some(Value::String(_)) => {
            return Err(invalid(format!(
                "the client assertion's jti must have 1 to {MAX_JTI_LENGTH} characters and no control characters"
            )));
        }
        _ => return Err(invalid("the client assertion has no jti")),
    };
    Ok(VerifiedAssertion {
        jti: jti.clone(),
        expires_at: exp.saturating_add(limits.leeway),
    })
}
