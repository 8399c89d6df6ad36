//! The `[lifecycle]` section: when unused and inactive clients expire.

use anyhow::{Context, bail};
use registrar_core::lifecycle::LifecycleSettings;
use serde::Deserialize;

/// The shortest TTL: a minute. Anything shorter would expire a client between its
/// registration and its first token request.
const MIN_TTL: u64 = 60;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleSection {
    /// How long after its registration a client that was never used is deleted (`24h`);
    /// unset or `0s`: never.
    pub unused_ttl: Option<String>,
    /// How long after its last use a client is deleted (`90d`); unset or `0s`: never.
    pub inactive_ttl: Option<String>,
}

fn ttl(name: &str, text: Option<String>) -> anyhow::Result<u64> {
    let Some(text) = text else {
        return Ok(0);
    };
    let seconds = humantime::parse_duration(&text)
        .with_context(|| {
            format!(
                "lifecycle.{name}: \"{}\" is not a duration such as 24h or 90d",
                text.escape_debug()
            )
        })?
        .as_secs();
    if seconds != 0 && seconds < MIN_TTL {
        bail!("lifecycle.{name} must be at least 1 minute, or 0s to turn it off");
    }
    Ok(seconds)
}

pub fn lifecycle(section: LifecycleSection) -> anyhow::Result<LifecycleSettings> {
    Ok(LifecycleSettings {
        unused_ttl: ttl("unused_ttl", section.unused_ttl)?,
        inactive_ttl: ttl("inactive_ttl", section.inactive_ttl)?,
    })
}
