//! A client assertion checked in the order that costs least (RFC 7523 §3, OpenID Connect Core
//! §9): its form and claims first, which need neither the client nor a key; then the method and
//! algorithm the client registered; a signature last.
//!
//! The token endpoint runs every check that needs no key before it looks for one, so a junk,
//! expired or misaddressed assertion never makes Registrar fetch a client's `jwks_uri`.

use std::fmt;
use std::str::FromStr as _;

use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use serde_json::{Map, Value};

use super::{
    AssertionError, AssertionLimits, MAX_CANDIDATE_KEYS, MAX_JTI_LENGTH, VerifiedAssertion, invalid,
};
use crate::token::jwk::PublicKey;
use crate::token::jwt::{self, RawHeader};
use crate::token::verifier::VerifyingKey;

/// What every assertion is checked against before its client is looked up: nothing here depends
/// on the client, so a refusal says nothing about it either.
#[derive(Debug, Clone, Copy)]
pub struct AssertionRules<'a> {
    /// The values `aud` must contain one of: the issuer and the token endpoint URL, compared
    /// exactly (RFC 7523 §3 item 3).
    pub audiences: &'a [String],
    /// The algorithms the server accepts for client assertions
    /// (`token_endpoint_auth_signing_alg_values_supported`).
    pub allowed_algs: &'a [String],
    /// The time of the request, in seconds since the epoch.
    pub now: i64,
    /// Clock leeway and the longest lifetime accepted.
    pub limits: AssertionLimits,
}

/// How a client signs its assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssertionMethod {
    /// `private_key_jwt`: an asymmetric signature, verified with the client's JWK Set.
    PrivateKeyJwt,
    /// `client_secret_jwt`: an HMAC keyed with the client secret.
    ClientSecretJwt,
}

/// An assertion whose form and claims passed every check that needs no key.
///
/// UNVERIFIED: nothing in it may be trusted before [`verify_with_jwks`](Self::verify_with_jwks)
/// or [`verify_with_secret`](Self::verify_with_secret) succeeded.
pub struct ParsedAssertion<'a> {
    token: &'a str,
    header: RawHeader,
    algorithm: Algorithm,
    client_id: String,
    accepted: VerifiedAssertion,
}

impl fmt::Debug for ParsedAssertion<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The token itself is a credential until its jti is recorded: it is left out.
        formatter
            .debug_struct("ParsedAssertion")
            .field("alg", &self.header.alg)
            .field("kid", &self.header.kid)
            .field("client_id", &self.client_id)
            .field("jti", &self.accepted.jti)
            .finish_non_exhaustive()
    }
}

/// Reads `assertion` and checks everything that needs no key: a compact JWS without `crit`, an
/// `alg` the server accepts, `iss` and `sub` naming one client, `aud`, `exp` (present, not
/// passed, within the lifetime bound), `nbf`, `iat` and a `jti`.
pub fn parse_assertion<'a>(
    assertion: &'a str,
    rules: &AssertionRules<'_>,
) -> Result<ParsedAssertion<'a>, AssertionError> {
    let header = parse_header(assertion)?;
    let algorithm = server_algorithm(&header, rules.allowed_algs)?;
    let claims = jwt::unverified_claims(assertion).ok_or_else(not_a_jwt)?;
    let client_id = client_of(&claims)?;
    let accepted = check_claims(&claims, rules)?;
    Ok(ParsedAssertion {
        token: assertion,
        header,
        algorithm,
        client_id,
        accepted,
    })
}

impl ParsedAssertion<'_> {
    /// The client the assertion claims to be from: its `sub`, which `iss` equals. UNVERIFIED.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The header's `kid`, for choosing a key. UNVERIFIED.
    pub fn kid(&self) -> Option<&str> {
        self.header.kid.as_deref()
    }

    /// The header's `alg`, one the server accepts.
    pub fn alg(&self) -> &str {
        &self.header.alg
    }

    /// The `jti`, to look up in the replay cache before verifying. UNVERIFIED.
    pub fn jti(&self) -> &str {
        &self.accepted.jti
    }

    /// The last second the assertion could be accepted: `exp` plus the leeway.
    pub fn expires_at(&self) -> i64 {
        self.accepted.expires_at
    }

    /// Whether the client's method and its registered `token_endpoint_auth_signing_alg` (which
    /// then is the only one accepted, OpenID Connect DCR 1.0 §2) allow the assertion's `alg`.
    ///
    /// The method chooses the key type, never the token, which is what stops algorithm
    /// confusion: an HMAC "signed" with a public key is refused before any key is touched.
    pub fn check_method(
        &self,
        method: AssertionMethod,
        registered_alg: Option<&str>,
    ) -> Result<(), AssertionError> {
        let is_hmac = self.algorithm.family() == AlgorithmFamily::Hmac;
        match method {
            AssertionMethod::PrivateKeyJwt if is_hmac => {
                return Err(invalid(
                    "private_key_jwt needs an asymmetric alg; an HMAC alg is not accepted",
                ));
            }
            AssertionMethod::ClientSecretJwt if !is_hmac => {
                return Err(invalid(
                    "client_secret_jwt needs an HMAC alg (HS256, HS384 or HS512)",
                ));
            }
            AssertionMethod::PrivateKeyJwt | AssertionMethod::ClientSecretJwt => {}
        }
        if let Some(registered) = registered_alg
            && registered != self.header.alg
        {
            return Err(invalid(format!(
                "the client assertion's alg {} is not the registered token_endpoint_auth_signing_alg {registered}",
                self.header.alg
            )));
        }
        Ok(())
    }

    /// Verifies a `private_key_jwt` signature with the client's JWK Set (`{"keys": [...]}`).
    ///
    /// With a `kid`, only the key of that kid is used; without one, every key whose type fits
    /// `alg` is tried. A key's own `alg`, `use` and `key_ops`, when present, must allow the
    /// signature; keys this server cannot verify with (other curves, RSA outside 2048 to 4096
    /// bits) are skipped.
    pub fn verify_with_jwks(
        &self,
        jwks: &Value,
        registered_alg: Option<&str>,
    ) -> Result<VerifiedAssertion, AssertionError> {
        self.check_method(AssertionMethod::PrivateKeyJwt, registered_alg)?;
        let candidates = candidate_keys(jwks, &self.header, self.algorithm);
        if candidates.is_empty() {
            return Err(AssertionError::NoMatchingKey);
        }
        let (signing_input, signature) =
            jwt::signing_input_and_signature(self.token).ok_or_else(not_a_jwt)?;
        // A signature that is not base64url verifies with no key.
        let signature = jwt::from_base64url(signature).unwrap_or_default();
        if !candidates
            .iter()
            .any(|key| key.verify(signing_input.as_bytes(), &signature))
        {
            return Err(invalid("the client assertion signature does not verify"));
        }
        Ok(self.accepted.clone())
    }

    /// Verifies a `client_secret_jwt` signature: HMAC keyed with the octets of the client
    /// secret's UTF-8 form (OpenID Connect Core §9), which the caller has decrypted.
    ///
    /// RFC 7518 §3.2: the key must be at least as long as the hash output, so a secret shorter
    /// than 32, 48 or 64 bytes never verifies HS256, HS384 or HS512.
    pub fn verify_with_secret(
        &self,
        client_secret: &[u8],
        registered_alg: Option<&str>,
    ) -> Result<VerifiedAssertion, AssertionError> {
        self.check_method(AssertionMethod::ClientSecretJwt, registered_alg)?;
        if client_secret.is_empty() {
            return Err(invalid("the client has no secret to verify the assertion"));
        }
        let needed = min_hmac_key_bytes(self.algorithm);
        if client_secret.len() < needed {
            return Err(invalid(format!(
                "the client secret is shorter than the {needed} bytes {} needs (RFC 7518 section 3.2)",
                self.header.alg
            )));
        }
        let key = DecodingKey::from_secret(client_secret);
        let validation = jwt::signature_only(self.algorithm);
        if jsonwebtoken::decode::<Map<String, Value>>(self.token, &key, &validation).is_err() {
            return Err(invalid("the client assertion signature does not verify"));
        }
        Ok(self.accepted.clone())
    }
}

/// RFC 7518 §3.2: an HMAC key has at least as many bytes as the hash output.
pub(crate) fn min_hmac_key_bytes(algorithm: Algorithm) -> usize {
    match algorithm {
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        _ => 32,
    }
}

fn not_a_jwt() -> AssertionError {
    invalid("the client assertion is not a well-formed signed jwt")
}

fn parse_header(assertion: &str) -> Result<RawHeader, AssertionError> {
    let header = jwt::header(assertion).ok_or_else(not_a_jwt)?;
    // RFC 7515 §4.1.11: a recipient must refuse a JWS whose crit lists an extension it does not
    // understand; this server understands none.
    if header.crit.is_some() {
        return Err(invalid(
            "the client assertion's crit header names extensions this server does not support",
        ));
    }
    Ok(header)
}

/// The header's `alg`, when the server accepts it for some client.
fn server_algorithm(
    header: &RawHeader,
    allowed_algs: &[String],
) -> Result<Algorithm, AssertionError> {
    if header.alg == "none" {
        return Err(invalid(
            "an unsigned client assertion (alg none) is not accepted",
        ));
    }
    let algorithm = Algorithm::from_str(&header.alg)
        .map_err(|_| invalid("the client assertion's alg is not supported"))?;
    if !allowed_algs.contains(&header.alg) {
        return Err(invalid(format!(
            "the client assertion's alg {} is not accepted by this server",
            header.alg
        )));
    }
    Ok(algorithm)
}

fn string_claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str)
}

/// RFC 7523 §3 items 1 and 2: `iss` and `sub` are both the client_id, so `sub` names the client.
fn client_of(claims: &Map<String, Value>) -> Result<String, AssertionError> {
    let Some(subject) = string_claim(claims, "sub") else {
        return Err(invalid("the client assertion's sub must be the client_id"));
    };
    if string_claim(claims, "iss") != Some(subject) {
        return Err(invalid(
            "the client assertion's iss and sub must both be the client_id",
        ));
    }
    Ok(subject.to_owned())
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

/// RFC 7523 §3 items 3 to 7, against the injected `now`.
fn check_claims(
    claims: &Map<String, Value>,
    rules: &AssertionRules<'_>,
) -> Result<VerifiedAssertion, AssertionError> {
    let audience_matches = |value: &Value| {
        value
            .as_str()
            .is_some_and(|audience| rules.audiences.iter().any(|accepted| accepted == audience))
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

    let limits = rules.limits;
    let now = rules.now;
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

/// The verifying keys of a JWK Set that may have signed with `algorithm`; keys this server
/// cannot verify with are skipped.
pub(crate) fn candidate_keys(
    jwks: &Value,
    header: &RawHeader,
    algorithm: Algorithm,
) -> Vec<VerifyingKey> {
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
        .filter_map(|public_key| VerifyingKey::new(&public_key, algorithm))
        .take(MAX_CANDIDATE_KEYS)
        .collect()
}
