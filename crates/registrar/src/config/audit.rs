//! The `[audit]` section: how long audit events are kept and how many refusals at most.

use anyhow::Context;
use registrar_core::AuditSettings;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSection {
    /// How long events are kept, as a duration (`90d`, `12h`); `0s` keeps them for ever.
    pub retention: Option<String>,
    /// How many refusals are kept at most; 0 logs refusals without recording them.
    pub max_refusals: Option<u64>,
}

pub fn audit(section: AuditSection) -> anyhow::Result<AuditSettings> {
    let mut settings = AuditSettings::default();
    if let Some(retention) = section.retention {
        settings.retention = humantime::parse_duration(&retention)
            .with_context(|| {
                format!(
                    "audit.retention: \"{}\" is not a duration such as 90d or 12h",
                    retention.escape_debug()
                )
            })?
            .as_secs();
    }
    if let Some(max_refusals) = section.max_refusals {
        settings.max_refusals = max_refusals;
    }
    Ok(settings)
}
