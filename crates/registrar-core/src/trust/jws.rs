//! The signed-JWT checks shared by software statements and access tokens: the compact JWS
//! structure, the header, the algorithm, the unverified `iss` that chooses an issuer, and the
//! signature against that issuer's configured keys only.
//!
//! RFC 8725 §3.1 and §3.10: the algorithm is pinned per issuer and never `none` or HMAC, and the
//! `jku`, `x5u`, `jwk` and `x5c` header members are never read, so a token cannot bring its own
//! key or send this server to fetch one.

use std::borrow::Cow;
use std::str::FromStr as _;

use jsonwebtoken::{Algorithm, AlgorithmFamily};
use serde_json::{Map, Value};

use super::issuer::{IssuerKeys, KeySource, TrustedIssuer};
use super::quote::quoted;
use crate::json::parse_object;
use crate::token::assertion::candidate_keys;
use crate::token::jwt::{self, MAX_JWT_LENGTH, RawHeader};

/// Why a JWT was refused, with a description fit for `error_description`; each caller wraps it
/// in its own error type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refusal(pub(super) String);

impl Refusal {
    pub(super) fn invalid(description: impl Into<String>) -> Self {
        Self(description.into())
    }
}

/// RFC 9068 §2.1: the media type of a JWT access token, with or without `application/`
/// (RFC 7515 §4.1.9), compared case-insensitively.
pub(super) fn is_access_token_type(typ: &str) -> bool {
    typ.eq_ignore_ascii_case("at+jwt") || typ.eq_ignore_ascii_case("application/at+jwt")
}

/// A JWT whose structure, header and `iss` were read. UNVERIFIED until
/// [`verify_signature`] succeeds: `issuer` only chooses which keys to verify with.
#[derive(Debug)]
pub(super) struct UnverifiedJwt<'a> {
    signing_input: &'a str,
    signature: &'a str,
    pub(super) header: RawHeader,
    pub(super) algorithm: Algorithm,
    pub(super) claims: Map<String, Value>,
    pub(super) issuer: String,
}

/// A part of a compact JWS as a JSON object; member names must be unique (RFC 7519 §4 allows
/// refusing duplicates, and two parsers reading different duplicates is how values get past a
/// check).
fn json_object_part(part: &str) -> Option<Map<String, Value>> {
    parse_object(&jwt::from_base64url(part)?).ok()
}

/// Reads `token` as a JWS Compact Serialization (RFC 7515 §7.1) with an asymmetric `alg`, no
/// `crit`, claims that are a JSON object, and a string `iss`. Checks no signature.
pub(super) fn parse<'a>(token: &'a str, noun: &str) -> Result<UnverifiedJwt<'a>, Refusal> {
    if token.len() > MAX_JWT_LENGTH {
        return Err(Refusal::invalid(format!(
            "the {noun} is longer than {MAX_JWT_LENGTH} bytes"
        )));
    }
    let Some([header_part, payload_part, signature]) = jwt::split(token) else {
        if token.split('.').count() == 5 {
            return Err(Refusal::invalid(format!(
                "the {noun} is encrypted (jwe); only a signed jwt is accepted"
            )));
        }
        return Err(Refusal::invalid(format!(
            "the {noun} is not a signed jwt in compact serialization"
        )));
    };
    let malformed_header = || Refusal::invalid(format!("the {noun}'s header is not valid"));
    let header_members = json_object_part(header_part).ok_or_else(malformed_header)?;
    // RFC 7515 §4.1.11: extensions the recipient does not understand must be refused, and this
    // server understands none. Present at all, even as null, is refused.
    if header_members.contains_key("crit") {
        return Err(Refusal::invalid(format!(
            "the {noun}'s crit header names extensions this server does not support"
        )));
    }
    let header: RawHeader =
        serde_json::from_value(Value::Object(header_members)).map_err(|_| malformed_header())?;
    let algorithm = accepted_algorithm(&header.alg, noun)?;
    let claims = json_object_part(payload_part)
        .ok_or_else(|| Refusal::invalid(format!("the {noun}'s claims are not a json object")))?;
    let issuer = match claims.get("iss") {
        Some(Value::String(issuer)) => issuer.clone(),
        Some(_) => {
            return Err(Refusal::invalid(format!(
                "the {noun}'s iss must be a string"
            )));
        }
        None => return Err(Refusal::invalid(format!("the {noun} has no iss"))),
    };
    Ok(UnverifiedJwt {
        signing_input: token
            .get(..header_part.len() + 1 + payload_part.len())
            .unwrap_or_default(),
        signature,
        header,
        algorithm,
        claims,
        issuer,
    })
}

/// The header's `alg` when it is asymmetric. `none` and HMAC are refused whatever an issuer
/// lists: a public key must never serve as an HMAC secret (algorithm confusion).
fn accepted_algorithm(alg: &str, noun: &str) -> Result<Algorithm, Refusal> {
    if alg == "none" {
        return Err(Refusal::invalid(format!(
            "an unsigned {noun} (alg none) is not accepted"
        )));
    }
    match Algorithm::from_str(alg) {
        Ok(algorithm) if algorithm.family() == AlgorithmFamily::Hmac => {
            Err(Refusal::invalid(format!(
                "the {noun}'s alg {} is an HMAC alg; only public key signatures are accepted",
                quoted(alg)
            )))
        }
        Ok(algorithm) => Ok(algorithm),
        Err(_) => Err(Refusal::invalid(format!(
            "the {noun}'s alg {} is not supported",
            quoted(alg)
        ))),
    }
}

/// Verifies the signature with `issuer`'s keys: its `algs` must list the header's `alg`, and
/// only keys of a fitting type (and matching `kid`, when the header has one) are tried.
pub(super) async fn verify_signature(
    jwt: &UnverifiedJwt<'_>,
    issuer: &TrustedIssuer,
    keys: &dyn KeySource,
    noun: &str,
) -> Result<(), Refusal> {
    if !issuer.algs.contains(&jwt.header.alg) {
        return Err(Refusal::invalid(format!(
            "the {noun}'s alg {} is not accepted from issuer {}",
            quoted(&jwt.header.alg),
            quoted(&issuer.issuer)
        )));
    }
    let jwks = match &issuer.keys {
        IssuerKeys::Inline(jwks) => Cow::Borrowed(jwks),
        // The key source is told the kid, so it can refetch a set that lacks it.
        IssuerKeys::Uri(uri) => match keys.jwk_set(uri, jwt.header.kid.as_deref()).await {
            Ok(jwks) => Cow::Owned(jwks),
            // The reason may describe the server's network; it is the key source's to log.
            Err(_) => {
                return Err(Refusal::invalid(format!(
                    "the keys of issuer {} cannot be fetched now",
                    quoted(&issuer.issuer)
                )));
            }
        },
    };
    let candidates = candidate_keys(&jwks, &jwt.header, jwt.algorithm);
    if candidates.is_empty() {
        return Err(Refusal::invalid(match &jwt.header.kid {
            Some(kid) => format!(
                "no key of issuer {} has kid {} and fits alg {}",
                quoted(&issuer.issuer),
                quoted(kid),
                quoted(&jwt.header.alg)
            ),
            None => format!(
                "no key of issuer {} fits alg {}",
                quoted(&issuer.issuer),
                quoted(&jwt.header.alg)
            ),
        }));
    }
    // A signature that is not base64url verifies with no key.
    let signature = jwt::from_base64url(jwt.signature).unwrap_or_default();
    let verifies = candidates
        .iter()
        .any(|key| key.verify(jwt.signing_input.as_bytes(), &signature));
    if !verifies {
        return Err(Refusal::invalid(format!(
            "the {noun}'s signature does not verify"
        )));
    }
    Ok(())
}
