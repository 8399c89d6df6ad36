//! The `tokens.default_*_lifetime` keys and `tokens.session_lifetime`: the lifetimes a client
//! gets when it registers none, and how long a login session lasts.

use anyhow::bail;
use registrar_core::settings::LifetimeLimits;

use super::TokensSection;

/// The longest `tokens.session_lifetime`: a year, as long as the longest remembered consent.
const MAX_SESSION_LIFETIME: u64 = 365 * 86_400;

/// One lifetime in seconds: at least one, at most `max`; `max_reason` says where `max` comes from.
fn seconds(key: &str, value: u64, max: u64, max_reason: &str) -> anyhow::Result<u64> {
    if value == 0 {
        bail!("tokens.{key} must be at least 1 second");
    }
    if value > max {
        bail!("tokens.{key}: at most {max} seconds ({max_reason}), not {value}");
    }
    Ok(value)
}

/// `limits` with the configured defaults and session lifetime. Each default is at most the
/// largest value a client may register for it, so it is a value a client could have asked for;
/// the sliding refresh token default is at most the absolute one, as in a registration.
pub fn lifetimes(
    section: &TokensSection,
    mut limits: LifetimeLimits,
) -> anyhow::Result<LifetimeLimits> {
    let registrable = "the largest a client may register";
    if let Some(value) = section.default_identity_token_lifetime {
        limits.default_identity_token = seconds(
            "default_identity_token_lifetime",
            value,
            limits.max_identity_token,
            registrable,
        )?;
    }
    if let Some(value) = section.default_authorization_code_lifetime {
        limits.default_authorization_code = seconds(
            "default_authorization_code_lifetime",
            value,
            limits.max_authorization_code,
            registrable,
        )?;
    }
    if let Some(value) = section.default_absolute_refresh_token_lifetime {
        limits.default_absolute_refresh_token = seconds(
            "default_absolute_refresh_token_lifetime",
            value,
            limits.max_absolute_refresh_token,
            registrable,
        )?;
    }
    if let Some(value) = section.default_sliding_refresh_token_lifetime {
        limits.default_sliding_refresh_token = seconds(
            "default_sliding_refresh_token_lifetime",
            value,
            limits.max_sliding_refresh_token,
            registrable,
        )?;
    }
    if let Some(value) = section.default_consent_lifetime {
        limits.default_consent = seconds(
            "default_consent_lifetime",
            value,
            limits.max_consent,
            registrable,
        )?;
    }
    if let Some(value) = section.session_lifetime {
        limits.session = seconds("session_lifetime", value, MAX_SESSION_LIFETIME, "a year")?;
    }
    // A refresh token's sliding lifetime is capped by its grant's absolute one: a longer sliding
    // default would be a number that never applies. Unset, it follows a shorter absolute default,
    // as the access token default follows `max_access_token_lifetime`.
    if limits.default_sliding_refresh_token > limits.default_absolute_refresh_token {
        if section.default_sliding_refresh_token_lifetime.is_some() {
            bail!(
                "tokens.default_sliding_refresh_token_lifetime: {} seconds is longer than tokens.default_absolute_refresh_token_lifetime, {} seconds",
                limits.default_sliding_refresh_token,
                limits.default_absolute_refresh_token
            );
        }
        limits.default_sliding_refresh_token = limits.default_absolute_refresh_token;
    }
    Ok(limits)
}
