//! Software statements (RFC 7591 §2.3 and §3.1.1): signed JWTs from trusted issuers that vouch
//! for a client's metadata.

use serde_json::{Map, Value};

use super::claims::{check_lifetime, optional_string};
use super::issuer::{KeySource, TrustedIssuer};
use super::jws::{self, Refusal, is_access_token_type};
use super::quote::quoted;
use crate::error::RegistrationError;
use crate::token::ReplayCache;
use crate::token::assertion::MAX_JTI_LENGTH;

/// How this server treats the `software_statement` member of a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StatementMode {
    /// RFC 7591 §3.1.1: a server that does not support statements may ignore them. The member is
    /// dropped unread, and [`verify_software_statement`] refuses every statement.
    #[default]
    Ignore,
    /// A statement, when present, is verified and its claims take precedence over the JSON.
    Accept,
    /// Every registration must carry a statement from a trusted issuer.
    Require,
}

/// An issuer trusted to sign software statements, and what its statements may do.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementIssuer {
    /// The issuer, its keys and its algorithms.
    pub trusted: TrustedIssuer,
    /// A statement of this issuer alone may authorize a registration in protected mode (in place
    /// of an initial access token).
    pub authorizes_registration: bool,
    /// Each statement is accepted once: its `jti` is then required, and a replay is refused.
    pub single_use: bool,
    /// When `Some`, only statements whose `software_id` is one of these are approved.
    pub software_ids: Option<Vec<String>>,
    /// When `Some`, seconds: `iat` is then required and the statement must be at most this old.
    pub max_age: Option<u64>,
}

/// `software_statement` in the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementSettings {
    /// Whether statements are ignored, accepted or required.
    pub mode: StatementMode,
    /// The issuers whose statements are trusted; any other issuer's are unapproved.
    pub issuers: Vec<StatementIssuer>,
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: i64,
}

impl Default for StatementSettings {
    /// Statements ignored, no issuer, a minute of leeway.
    fn default() -> Self {
        Self {
            mode: StatementMode::Ignore,
            issuers: Vec::new(),
            leeway: 60,
        }
    }
}

/// A statement that passed every check.
///
/// The claims are returned as signed. Which of them become client metadata is the caller's
/// decision: server-controlled members (`client_id`, `client_secret`, `registration_access_token`
/// and the like) must never be taken from a statement.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedStatement {
    /// The statement's `iss`, one of the trusted issuers.
    pub issuer: String,
    /// The statement's `software_id` claim, if any.
    pub software_id: Option<String>,
    /// Every claim of the statement.
    pub claims: Map<String, Value>,
    /// The statement as presented, which RFC 7591 §3.2.1 returns unmodified.
    pub jwt: String,
    /// Whether the issuer's statements may authorize a registration on their own.
    pub authorizes_registration: bool,
}

/// Why a statement was refused; the message is fit for `error_description`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// RFC 7591 §3.2.2 `invalid_software_statement`: malformed, badly signed, expired, replayed.
    #[error("{0}")]
    Invalid(String),
    /// RFC 7591 §3.2.2 `unapproved_software_statement`: well-formed, but not from a trusted
    /// issuer, or for software this server does not approve.
    #[error("{0}")]
    Unapproved(String),
}

impl StatementError {
    /// The RFC 7591 §3.2.2 error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid_software_statement",
            Self::Unapproved(_) => "unapproved_software_statement",
        }
    }
}

impl From<StatementError> for RegistrationError {
    fn from(error: StatementError) -> Self {
        match error {
            StatementError::Invalid(description) => Self::InvalidSoftwareStatement(description),
            StatementError::Unapproved(description) => {
                Self::UnapprovedSoftwareStatement(description)
            }
        }
    }
}

impl From<Refusal> for StatementError {
    fn from(refusal: Refusal) -> Self {
        Self::Invalid(refusal.0)
    }
}

const NOUN: &str = "software statement";
/// How long a single-use statement's `jti` is kept when the statement sets no end of its own.
const ONE_YEAR: i64 = 365 * 24 * 60 * 60;

fn invalid(description: impl Into<String>) -> StatementError {
    StatementError::Invalid(description.into())
}

/// Verifies a software statement against the trusted issuers.
///
/// The unverified `iss` only chooses the issuer whose keys then must verify the signature; the
/// statement's `alg` must be one of that issuer's `algs` (never `none` or HMAC), and its
/// `jku`, `x5u`, `jwk` and `x5c` headers are ignored. `exp`, `nbf` and `iat` are checked when
/// present, with `settings.leeway`; the issuer's `max_age`, `software_ids` and `single_use`
/// then apply, and a single-use `jti` is recorded in `replay` last, so a refused statement does
/// not use it up.
pub async fn verify_software_statement(
    jwt: &str,
    settings: &StatementSettings,
    keys: &dyn KeySource,
    replay: &dyn ReplayCache,
    now: i64,
) -> Result<VerifiedStatement, StatementError> {
    if settings.mode == StatementMode::Ignore {
        return Err(StatementError::Unapproved(
            "this server does not accept software statements".to_owned(),
        ));
    }
    let unverified = jws::parse(jwt, NOUN)?;
    // RFC 8725 §3.11: a JWT typed as an access token is not a statement, whoever signed it.
    if let Some(typ) = &unverified.header.typ
        && is_access_token_type(typ)
    {
        return Err(invalid(
            "the software statement is typed as an access token (at+jwt)",
        ));
    }
    let Some(statement_issuer) = settings
        .issuers
        .iter()
        .find(|candidate| candidate.trusted.issuer == unverified.issuer)
    else {
        return Err(StatementError::Unapproved(format!(
            "the software statement is issued by an untrusted issuer {}",
            quoted(&unverified.issuer)
        )));
    };
    jws::verify_signature(&unverified, &statement_issuer.trusted, keys, NOUN).await?;
    let claims = unverified.claims;
    let lifetime = check_lifetime(&claims, now, settings.leeway, false, NOUN)?;

    // The last second the statement can be accepted, for the replay cache.
    let mut accepted_until = lifetime
        .exp
        .map(|exp| exp.saturating_add(settings.leeway.max(0)));
    if let Some(max_age) = statement_issuer.max_age {
        let max_age = i64::try_from(max_age).unwrap_or(i64::MAX);
        let Some(iat) = lifetime.iat else {
            return Err(invalid(
                "the software statement has no iat, which its issuer requires",
            ));
        };
        if now.saturating_sub(iat) > max_age {
            return Err(invalid(format!(
                "the software statement is older than {max_age} seconds"
            )));
        }
        let age_limit = iat.saturating_add(max_age);
        accepted_until = Some(accepted_until.map_or(age_limit, |until| until.min(age_limit)));
    }

    let software_id = optional_string(&claims, "software_id", NOUN)?.map(str::to_owned);
    if let Some(approved) = &statement_issuer.software_ids {
        match &software_id {
            Some(software_id) if approved.contains(software_id) => {}
            Some(software_id) => {
                return Err(StatementError::Unapproved(format!(
                    "software_id {} is not approved",
                    quoted(software_id)
                )));
            }
            None => {
                return Err(StatementError::Unapproved(
                    "the software statement has no software_id, which its issuer requires"
                        .to_owned(),
                ));
            }
        }
    }

    if statement_issuer.single_use {
        let jti = match claims.get("jti") {
            Some(Value::String(jti)) if !jti.is_empty() && jti.len() <= MAX_JTI_LENGTH => jti,
            Some(Value::String(_)) => {
                return Err(invalid(format!(
                    "the software statement's jti must have 1 to {MAX_JTI_LENGTH} bytes"
                )));
            }
            Some(_) => return Err(invalid("the software statement's jti must be a string")),
            None => {
                return Err(invalid(
                    "the software statement has no jti, which its issuer requires",
                ));
            }
        };
        let expires_at = accepted_until.unwrap_or_else(|| now.saturating_add(ONE_YEAR));
        let replay_key = format!("software_statement:{}", unverified.issuer);
        match replay.record_jti(&replay_key, jti, expires_at).await {
            Ok(true) => {}
            Ok(false) => return Err(invalid("the software statement was already used")),
            // Failing closed: a statement whose use cannot be recorded is not accepted.
            Err(_) => {
                return Err(invalid(
                    "the software statement's jti cannot be recorded now",
                ));
            }
        }
    }

    Ok(VerifiedStatement {
        issuer: unverified.issuer,
        software_id,
        claims,
        jwt: jwt.to_owned(),
        authorizes_registration: statement_issuer.authorizes_registration,
    })
}
