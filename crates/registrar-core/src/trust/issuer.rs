//! Trusted issuers: who they are, where their public keys come from, which algorithms they sign
//! with, and the [`KeySource`] that fetches a key set published at a URL.

use std::fmt::Debug;
use std::str::FromStr as _;

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, AlgorithmFamily};
use serde_json::Value;

use crate::token::jwk::PublicKey;

/// Where a trusted issuer's public keys come from.
#[derive(Debug, Clone, PartialEq)]
pub enum IssuerKeys {
    /// A JWK Set (`{"keys": [...]}`) pinned in the configuration (`jwks`).
    Inline(Value),
    /// The `https` URL of the issuer's JWK Set (`jwks_uri`), fetched through a [`KeySource`].
    Uri(String),
}

/// An issuer whose JWTs are trusted (configuration: `{ issuer, jwks | jwks_uri, algs }`).
#[derive(Debug, Clone, PartialEq)]
pub struct TrustedIssuer {
    /// The exact `iss` value of its JWTs (RFC 7519 §4.1.1, compared as a case-sensitive string).
    pub issuer: String,
    /// Its public keys; the only keys its JWTs are verified with.
    pub keys: IssuerKeys,
    /// The JWS algorithms accepted from it (RFC 8725 §3.1: pinned per issuer). Only asymmetric
    /// algorithms ever verify: `none` and HMAC are refused even when listed here.
    pub algs: Vec<String>,
}

impl TrustedIssuer {
    /// Checks the configuration once, at start: a non-empty issuer, at least one algorithm and
    /// only asymmetric ones that this server verifies, an `https` key URL, and an inline set of
    /// public keys only, each fitting one of the algorithms. The error is a sentence for the
    /// operator.
    pub fn check(&self) -> Result<(), String> {
        if self.issuer.is_empty() {
            return Err("a trusted issuer needs a non-empty issuer".to_owned());
        }
        if self.algs.is_empty() {
            return Err(format!("trusted issuer {} lists no algs", self.issuer));
        }
        let mut algorithms = Vec::new();
        for alg in &self.algs {
            match asymmetric_algorithm(alg) {
                Some(algorithm) => algorithms.push(algorithm),
                None => {
                    return Err(format!(
                        "trusted issuer {}: alg {alg} is not an asymmetric alg this server verifies",
                        self.issuer
                    ));
                }
            }
        }
        match &self.keys {
            IssuerKeys::Uri(uri) => check_key_uri(uri)
                .map_err(|reason| format!("trusted issuer {}: {reason}", self.issuer)),
            IssuerKeys::Inline(jwks) => check_inline_keys(jwks, &algorithms)
                .map_err(|reason| format!("trusted issuer {}: {reason}", self.issuer)),
        }
    }
}

/// The algorithm named `alg` when it is one this module verifies with: asymmetric, never `none`
/// (which `jsonwebtoken` does not even name) and never HMAC, whose key would be a shared secret.
fn asymmetric_algorithm(alg: &str) -> Option<Algorithm> {
    let algorithm = Algorithm::from_str(alg).ok()?;
    match algorithm.family() {
        AlgorithmFamily::Hmac => None,
        AlgorithmFamily::Rsa | AlgorithmFamily::Ec | AlgorithmFamily::Ed => Some(algorithm),
    }
}

fn check_key_uri(uri: &str) -> Result<(), String> {
    let parsed = url::Url::parse(uri).map_err(|_| "jwks_uri is not a URL".to_owned())?;
    if parsed.scheme() != "https" || parsed.host_str().is_none() {
        return Err("jwks_uri must be an https URL".to_owned());
    }
    if parsed.fragment().is_some() {
        return Err("jwks_uri must not contain a fragment".to_owned());
    }
    Ok(())
}

/// RFC 7517 §5: a set with a `keys` array; every member a public key this server parses.
fn check_inline_keys(jwks: &Value, algorithms: &[Algorithm]) -> Result<(), String> {
    let Some(Value::Array(keys)) = jwks.get("keys") else {
        return Err("jwks must be a JWK Set with a keys array".to_owned());
    };
    if keys.is_empty() {
        return Err("jwks holds no keys".to_owned());
    }
    for (index, key) in keys.iter().enumerate() {
        let Value::Object(members) = key else {
            return Err(format!("jwks key {index} is not an object"));
        };
        // A private or symmetric key must never sit in a set of verifying keys.
        if ["d", "p", "q", "dp", "dq", "qi", "k"]
            .iter()
            .any(|member| members.contains_key(*member))
        {
            return Err(format!("jwks key {index} holds private key material"));
        }
        let public_key =
            PublicKey::from_jwk(members).map_err(|reason| format!("jwks key {index}: {reason}"))?;
        if !algorithms
            .iter()
            .any(|algorithm| public_key.fits(*algorithm))
        {
            return Err(format!("jwks key {index} fits none of the issuer's algs"));
        }
    }
    Ok(())
}

/// Fetches JWK Sets for [`IssuerKeys::Uri`]; the server implements it over its SSRF-safe fetcher
/// and a cache.
#[async_trait]
pub trait KeySource: Send + Sync + Debug {
    /// The JWK Set at `uri`. `kid` is the header's kid: when the cached set lacks it, the
    /// implementation refetches at most once per bounded interval (a rotated key is found, and a
    /// stream of unknown kids does not turn into a stream of fetches).
    ///
    /// The error is for the operator's log; it is never shown to the presenter of the JWT.
    async fn jwk_set(&self, uri: &str, kid: Option<&str>) -> Result<Value, String>;
}

/// A [`KeySource`] that fetches nothing: every [`IssuerKeys::Uri`] fails with a clear message.
/// The default when no fetcher is wired; issuers with inline keys still work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoKeySource;

#[async_trait]
impl KeySource for NoKeySource {
    async fn jwk_set(&self, uri: &str, _kid: Option<&str>) -> Result<Value, String> {
        Err(format!(
            "no key source is configured, so the JWK Set at {uri} cannot be fetched"
        ))
    }
}
