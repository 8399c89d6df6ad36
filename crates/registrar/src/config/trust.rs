//! `[[registration.trusted_token_issuers]]` and `[software_statement]`: the issuers whose bearer
//! tokens and software statements this server trusts.

use anyhow::{anyhow, bail};
use registrar_core::trust::{
    IssuerKeys, StatementIssuer, StatementMode, StatementSettings, TokenIssuer, TrustedIssuer,
};
use serde::Deserialize;

use super::SoftwareStatementSection;

/// The longest `software_statement.leeway`: more would make `exp` meaningless.
const MAX_LEEWAY: u64 = 3_600;

/// One `[[registration.trusted_token_issuers]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenIssuerSection {
    pub issuer: String,
    pub jwks_uri: Option<String>,
    /// A JWK Set by value, as an inline table: `jwks = { keys = [ { kty = "EC", ... } ] }`.
    pub jwks: Option<serde_json::Value>,
    #[serde(default)]
    pub algs: Vec<String>,
    /// RFC 9068 §4: the `aud` values accepted, one string or a list.
    pub audience: Option<Audience>,
}

/// `audience = "https://registrar.example.com"` or `audience = ["a", "b"]`.
#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "a string or a list of strings")]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

/// One `[[software_statement.trusted_issuers]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementIssuerSection {
    pub issuer: String,
    pub jwks_uri: Option<String>,
    /// A JWK Set by value, as an inline table.
    pub jwks: Option<serde_json::Value>,
    #[serde(default)]
    pub algs: Vec<String>,
    /// A statement of this issuer alone may authorize a registration in protected mode.
    #[serde(default)]
    pub authorizes_registration: bool,
    /// Each statement is accepted once (its `jti` is then required).
    #[serde(default)]
    pub single_use: bool,
    /// Only statements with one of these `software_id` values are approved.
    pub software_ids: Option<Vec<String>>,
    /// Seconds: the oldest statement accepted (`iat` is then required).
    pub max_age: Option<u64>,
}

/// The issuer, its keys (exactly one of `jwks_uri` and `jwks`) and algorithms, checked with
/// [`TrustedIssuer::check`]; errors start with `at`, the entry's place in the file.
fn trusted_issuer(
    at: &str,
    issuer: String,
    jwks_uri: Option<String>,
    jwks: Option<serde_json::Value>,
    algs: Vec<String>,
) -> anyhow::Result<TrustedIssuer> {
    let keys = match (jwks_uri, jwks) {
        (Some(uri), None) => IssuerKeys::Uri(uri),
        (None, Some(jwks)) => IssuerKeys::Inline(jwks),
        (Some(_), Some(_)) => bail!("{at}: set jwks_uri or jwks, not both"),
        (None, None) => bail!("{at}: set jwks_uri (an https URL) or jwks (an inline JWK Set)"),
    };
    let trusted = TrustedIssuer { issuer, keys, algs };
    trusted
        .check()
        .map_err(|reason| anyhow!("{at}: {reason}"))?;
    Ok(trusted)
}

/// The `iss` of an unverified JWT chooses its issuer, so an issuer listed twice is ambiguous.
fn refuse_duplicate(at: &str, seen: &mut Vec<String>, issuer: &str) -> anyhow::Result<()> {
    if seen.iter().any(|known| known == issuer) {
        bail!("{at}: the issuer {issuer} is listed twice");
    }
    seen.push(issuer.to_owned());
    Ok(())
}

/// `registration.trusted_token_issuers`.
pub fn token_issuers(sections: Vec<TokenIssuerSection>) -> anyhow::Result<Vec<TokenIssuer>> {
    let mut issuers = Vec::with_capacity(sections.len());
    let mut seen = Vec::new();
    for (index, section) in sections.into_iter().enumerate() {
        let at = format!("registration.trusted_token_issuers[{index}]");
        refuse_duplicate(&at, &mut seen, &section.issuer)?;
        let audience = match section.audience {
            None => bail!(
                "{at}: audience is required: the aud value(s) the issuer puts in tokens for this server (RFC 9068 §4)"
            ),
            Some(Audience::One(audience)) => vec![audience],
            Some(Audience::Many(audience)) => audience,
        };
        if audience.is_empty() || audience.iter().any(String::is_empty) {
            bail!("{at}.audience: needs at least one non-empty value");
        }
        let trusted = trusted_issuer(
            &at,
            section.issuer,
            section.jwks_uri,
            section.jwks,
            section.algs,
        )?;
        issuers.push(TokenIssuer { trusted, audience });
    }
    Ok(issuers)
}

/// `[software_statement]`: the mode, the leeway and the trusted issuers.
pub fn statement_settings(section: SoftwareStatementSection) -> anyhow::Result<StatementSettings> {
    let mode = match section.mode.as_deref() {
        None | Some("ignore") => StatementMode::Ignore,
        Some("accept") => StatementMode::Accept,
        Some("require") => StatementMode::Require,
        Some(other) => {
            bail!("software_statement.mode: \"{other}\" must be ignore, accept or require")
        }
    };
    let leeway = match section.leeway {
        None => StatementSettings::default().leeway,
        Some(leeway) if leeway > MAX_LEEWAY => {
            bail!("software_statement.leeway: at most {MAX_LEEWAY} seconds, not {leeway}")
        }
        Some(leeway) => i64::try_from(leeway).unwrap_or(i64::MAX),
    };
    let mut issuers = Vec::with_capacity(section.trusted_issuers.len());
    let mut seen = Vec::new();
    for (index, entry) in section.trusted_issuers.into_iter().enumerate() {
        let at = format!("software_statement.trusted_issuers[{index}]");
        refuse_duplicate(&at, &mut seen, &entry.issuer)?;
        if let Some(software_ids) = &entry.software_ids
            && (software_ids.is_empty() || software_ids.iter().any(String::is_empty))
        {
            bail!(
                "{at}.software_ids: list at least one non-empty software_id, or leave it out to approve any"
            );
        }
        if entry.max_age == Some(0) {
            bail!("{at}.max_age: at least 1 second");
        }
        let trusted = trusted_issuer(&at, entry.issuer, entry.jwks_uri, entry.jwks, entry.algs)?;
        issuers.push(StatementIssuer {
            trusted,
            authorizes_registration: entry.authorizes_registration,
            single_use: entry.single_use,
            software_ids: entry.software_ids,
            max_age: entry.max_age,
        });
    }
    if mode != StatementMode::Ignore && issuers.is_empty() {
        let mode = section.mode.unwrap_or_default();
        bail!(
            "software_statement.mode: {mode} needs at least one [[software_statement.trusted_issuers]] entry"
        );
    }
    Ok(StatementSettings {
        mode,
        issuers,
        leeway,
    })
}
