//! The `client_assertion` target: a `client_assertion` (RFC 7523) through the unverified
//! readers the token endpoint uses to find the client, `private_key_jwt` verification against a
//! JWK Set and `client_secret_jwt` verification against a secret, and the replay cache.
//!
//! Input: a compact JWS as sent, or, when it starts with `{`, JSON claims that the target signs
//! with the fixture's Ed25519 key, which is in the client's JWK Set, so the claim checks behind
//! the signature are fuzzed too.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

use async_trait::async_trait;
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use registrar_core::StoreError;
use registrar_core::token::{
    ASYMMETRIC_ASSERTION_ALGS, AssertionCheck, AssertionError, AssertionLimits,
    HMAC_ASSERTION_ALGS, ReplayCache, TokenError, VerifiedAssertion, record_assertion,
    unverified_header_kid, unverified_subject, verify_client_secret_jwt, verify_private_key_jwt,
};
use serde_json::{Value, json};

use super::support::{FIXTURE_KEYS, NOW, block_on, check_error, sign};
use crate::error::ApiError;

/// The client every assertion must be from.
const CLIENT_ID: &str = "fuzz-client";
/// The `client_secret_jwt` secret.
const CLIENT_SECRET: &[u8] = b"the fuzz client's secret of at least 32 bytes";

/// The client's JWK Set: the fixture keys, and keys of every other kind a JWK Set may hold,
/// which verification must pass over.
static CLIENT_JWKS: LazyLock<Value> = LazyLock::new(|| {
    let mut jwks = FIXTURE_KEYS.jwks(NOW);
    if let Some(Value::Array(keys)) = jwks.get_mut("keys") {
        keys.extend(other_keys());
    }
    jwks
});

/// Keys that cannot verify this target's signatures: RFC 7517 Appendix A's RSA and P-256 keys,
/// a key for encryption only, a symmetric key, curves this server does not verify, and junk.
fn other_keys() -> Vec<Value> {
    vec![
        json!({"kty": "RSA", "kid": "2011-04-29", "alg": "RS256", "e": "AQAB",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}),
        json!({"kty": "EC", "crv": "P-256", "kid": "1", "use": "enc",
            "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
            "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}),
        json!({"kty": "EC", "crv": "P-256", "kid": "ops", "key_ops": ["encrypt"],
            "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
            "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}),
        json!({"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}),
        json!({"kty": "EC", "crv": "P-521", "kid": "p521", "x": "AA", "y": "AA"}),
        json!({"kty": "OKP", "crv": "Ed448", "kid": "ed448", "x": "AA"}),
        json!({"kty": "RSA", "kid": "tiny", "n": "AQ", "e": "AQAB"}),
        json!({"kty": "EC", "crv": "P-256", "kid": "off-curve", "x": "AA", "y": "AA"}),
        json!("not a key"),
    ]
}

/// The `jti`s seen, for one input.
#[derive(Debug, Default)]
struct MemoryReplayCache(Mutex<HashSet<(String, String)>>);

#[async_trait]
impl ReplayCache for MemoryReplayCache {
    async fn record_jti(
        &self,
        client_id: &str,
        jti: &str,
        _expires_at: i64,
    ) -> Result<bool, StoreError> {
        let mut seen = self.0.lock().expect("the replay cache lock");
        Ok(seen.insert((client_id.to_owned(), jti.to_owned())))
    }

    async fn is_jti_recorded(
        &self,
        client_id: &str,
        jti: &str,
        _expires_at: i64,
    ) -> Result<bool, StoreError> {
        let seen = self.0.lock().expect("the replay cache lock");
        Ok(seen.contains(&(client_id.to_owned(), jti.to_owned())))
    }
}

/// Runs `data` as a client assertion; panics when an answer breaks a property. True when it
/// verified.
pub fn client_assertion(data: &[u8]) -> bool {
    // A form value is text; the form parser has refused anything else.
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let assertion = match serde_json::from_str::<Value>(text) {
        Ok(claims) if text.starts_with('{') => sign(&claims),
        _ => text.to_owned(),
    };
    // What the token endpoint reads before it knows the client: never trusted, never a panic.
    let subject = unverified_subject(&assertion);
    let _ = unverified_header_kid(&assertion);

    let issuer = "https://issuer.example".to_owned();
    let audiences = [issuer.clone(), format!("{issuer}/connect/token")];
    let allowed_algs: Vec<String> = ASYMMETRIC_ASSERTION_ALGS
        .iter()
        .chain(HMAC_ASSERTION_ALGS.iter())
        .map(|alg| (*alg).to_owned())
        .collect();
    let mut verified = false;
    for registered_alg in [None, Some("EdDSA"), Some("HS256")] {
        let check = AssertionCheck {
            client_id: CLIENT_ID,
            audiences: &audiences,
            allowed_algs: &allowed_algs,
            registered_alg,
            now: NOW,
            limits: AssertionLimits::default(),
        };
        let by_key = verify_private_key_jwt(&assertion, &CLIENT_JWKS, &check);
        verified |= check_outcome(by_key, &assertion, &check, subject.as_deref());
        let by_secret = verify_client_secret_jwt(&assertion, CLIENT_SECRET, &check);
        verified |= check_outcome(by_secret, &assertion, &check, subject.as_deref());
    }
    verified
}

/// An accepted assertion is from the client, unexpired, short-lived and accepted once; a
/// refused one is `401 invalid_client` with a description within RFC 6749 §5.2's characters.
/// True when it was accepted.
fn check_outcome(
    outcome: Result<VerifiedAssertion, AssertionError>,
    assertion: &str,
    check: &AssertionCheck<'_>,
    subject: Option<&str>,
) -> bool {
    let verified = match outcome {
        Ok(verified) => verified,
        Err(error) => {
            check_error(
                ApiError::Token(TokenError::from(error)),
                &[(StatusCode::UNAUTHORIZED, "invalid_client")],
            );
            return false;
        }
    };
    // The unverified reading that chose the client agrees with the verified claims.
    assert_eq!(subject, Some(check.client_id), "{verified:?}");
    check_claims(assertion, check);
    let jti = &verified.jti;
    assert!(
        !jti.is_empty() && jti.len() <= 256 && !jti.chars().any(char::is_control),
        "the jti {jti:?} was accepted"
    );
    let limits = check.limits;
    assert!(
        verified.expires_at > check.now
            && verified.expires_at <= check.now + limits.max_lifetime + 2 * limits.leeway,
        "an assertion valid until {} was accepted at {}",
        verified.expires_at,
        check.now
    );
    let cache = MemoryReplayCache::default();
    assert!(block_on(record_assertion(&cache, check.client_id, &verified)).is_ok());
    let replay = block_on(record_assertion(&cache, check.client_id, &verified))
        .expect_err("a replayed assertion was accepted");
    check_error(
        ApiError::Token(replay),
        &[(StatusCode::UNAUTHORIZED, "invalid_client")],
    );
    true
}

/// RFC 7523 §3 read from the accepted assertion's payload by this target itself: `iss` and `sub`
/// the client, an `aud` of this server, `nbf` and `iat` not ahead of the clock beyond the
/// leeway.
fn check_claims(assertion: &str, check: &AssertionCheck<'_>) {
    let payload = assertion
        .split('.')
        .nth(1)
        .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .unwrap_or_else(|| panic!("an accepted assertion without a JSON payload: {assertion}"));
    let claim = |name: &str| payload.get(name);
    let is_client = |value: Option<&Value>| value.and_then(Value::as_str) == Some(check.client_id);
    assert!(
        is_client(claim("iss")) && is_client(claim("sub")),
        "accepted with iss or sub not the client: {payload}"
    );
    let ours = |value: &Value| {
        value
            .as_str()
            .is_some_and(|audience| check.audiences.iter().any(|accepted| accepted == audience))
    };
    let audience_ok = match claim("aud") {
        Some(Value::Array(audiences)) => audiences.iter().any(ours),
        Some(audience) => ours(audience),
        None => false,
    };
    assert!(
        audience_ok,
        "accepted with an aud of another server: {payload}"
    );
    let latest = check.now + check.limits.leeway;
    for name in ["nbf", "iat"] {
        if let Some(time) = claim(name).and_then(Value::as_f64) {
            assert!(
                time < (latest + 1) as f64,
                "accepted with {name} ahead: {payload}"
            );
        }
    }
}
