//! Client assertions (RFC 7523 §2.2 and §3, OpenID Connect Core §9): `private_key_jwt` against the
//! client's JWK Set, `client_secret_jwt` against its secret, and the replay cache for `jti`.
//!
//! The token endpoint takes an assertion in steps, cheapest first ([`parse_assertion`], then
//! [`ParsedAssertion::check_method`], [`refuse_recorded_jti`], and only then a key and
//! [`ParsedAssertion::verify_with_jwks`] or [`ParsedAssertion::verify_with_secret`], then
//! [`record_assertion`]); [`verify_private_key_jwt`] and [`verify_client_secret_jwt`] run the
//! same checks in one call for a caller that already holds the keys.
//!
//! Every refusal is an [`AssertionError`], which the token endpoint answers with `invalid_client`.

mod parsed;

use std::fmt::Debug;

use async_trait::async_trait;
use serde_json::Value;

use super::error::TokenError;
use super::jwt;
use crate::error::StoreError;

pub(crate) use parsed::candidate_keys;
pub use parsed::{AssertionMethod, AssertionRules, ParsedAssertion, parse_assertion};

/// The asymmetric algorithms this server verifies `private_key_jwt` assertions with.
pub const ASYMMETRIC_ASSERTION_ALGS: [&str; 9] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];
/// The HMAC algorithms this server verifies `client_secret_jwt` assertions with.
pub const HMAC_ASSERTION_ALGS: [&str; 3] = ["HS256", "HS384", "HS512"];
/// At most this many keys of a client's JWK Set are tried for an assertion without a `kid`.
pub(crate) const MAX_CANDIDATE_KEYS: usize = 32;
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

/// What an assertion is checked against, when its client is known.
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

impl AssertionCheck<'_> {
    /// The checks that do not depend on the client.
    pub fn rules(&self) -> AssertionRules<'_> {
        AssertionRules {
            audiences: self.audiences,
            allowed_algs: self.allowed_algs,
            now: self.now,
            limits: self.limits,
        }
    }
}

/// The description of a refused replay.
const ALREADY_USED: &str = "the client assertion was already used";

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

    /// Whether [`record_jti`](Self::record_jti) with these arguments would now refuse the jti as
    /// a replay. A read that records nothing: the token endpoint asks before it fetches any key,
    /// and records only after the signature verified, so an assertion that fails cannot use up
    /// its jti; `record_jti` stays the one atomic step.
    async fn is_jti_recorded(
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
    Err(TokenError::invalid_client(ALREADY_USED))
}

/// Refuses an assertion whose `jti` the client already used, recording nothing
/// ([`ReplayCache::is_jti_recorded`]).
pub async fn refuse_recorded_jti(
    cache: &dyn ReplayCache,
    assertion: &ParsedAssertion<'_>,
) -> Result<(), TokenError> {
    if cache
        .is_jti_recorded(
            assertion.client_id(),
            assertion.jti(),
            assertion.expires_at(),
        )
        .await?
    {
        return Err(TokenError::invalid_client(ALREADY_USED));
    }
    Ok(())
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

/// Verifies a `private_key_jwt` assertion of the client `check.client_id` with its JWK Set
/// (`{"keys": [...]}`): [`parse_assertion`], then [`ParsedAssertion::verify_with_jwks`].
pub fn verify_private_key_jwt(
    assertion: &str,
    jwks: &Value,
    check: &AssertionCheck<'_>,
) -> Result<VerifiedAssertion, AssertionError> {
    let parsed = parse_for_client(assertion, check)?;
    parsed.verify_with_jwks(jwks, check.registered_alg)
}

/// Verifies a `client_secret_jwt` assertion of the client `check.client_id` with its secret,
/// which the caller has decrypted: [`parse_assertion`], then
/// [`ParsedAssertion::verify_with_secret`].
pub fn verify_client_secret_jwt(
    assertion: &str,
    client_secret: &[u8],
    check: &AssertionCheck<'_>,
) -> Result<VerifiedAssertion, AssertionError> {
    let parsed = parse_for_client(assertion, check)?;
    parsed.verify_with_secret(client_secret, check.registered_alg)
}

fn parse_for_client<'a>(
    assertion: &'a str,
    check: &AssertionCheck<'_>,
) -> Result<ParsedAssertion<'a>, AssertionError> {
    let parsed = parse_assertion(assertion, &check.rules())?;
    if parsed.client_id() != check.client_id {
        return Err(invalid(
            "the client assertion's iss and sub must both be the client_id",
        ));
    }
    Ok(parsed)
}
