//! The `[cimd]` section: Client ID Metadata Documents (https URLs as client ids).

use anyhow::{Context, bail};
use registrar_core::policy::HostPattern;
use registrar_core::settings::MetadataDocumentSettings;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CimdSection {
    /// Whether an https URL is accepted as a client id; default true.
    pub enabled: Option<bool>,
    /// Host patterns whose documents are used; default `["*"]`.
    pub allowed_hosts: Option<Vec<String>>,
    /// Host patterns whose documents are never used; default `[]`.
    pub denied_hosts: Option<Vec<String>>,
    /// The shortest time a document is reused (`5m`), whatever its `Cache-Control` says.
    pub min_cache: Option<String>,
    /// The longest (`24h`).
    pub max_cache: Option<String>,
    /// How many documents' freshness each instance remembers; default 10000.
    pub max_cached_documents: Option<usize>,
}

fn patterns(name: &str, entries: Vec<String>) -> anyhow::Result<Vec<HostPattern>> {
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            HostPattern::parse(entry)
                .map_err(|reason| anyhow::anyhow!("cimd.{name}[{index}]: {reason}"))
        })
        .collect()
}

fn duration(name: &str, text: Option<String>, default: u64) -> anyhow::Result<u64> {
    let Some(text) = text else {
        return Ok(default);
    };
    let seconds = humantime::parse_duration(&text)
        .with_context(|| {
            format!(
                "cimd.{name}: \"{}\" is not a duration such as 5m or 24h",
                text.escape_debug()
            )
        })?
        .as_secs();
    if seconds == 0 {
        bail!("cimd.{name} must be at least 1 second");
    }
    Ok(seconds)
}

pub fn cimd(section: CimdSection) -> anyhow::Result<MetadataDocumentSettings> {
    let defaults = MetadataDocumentSettings::default();
    let settings = MetadataDocumentSettings {
        enabled: section.enabled.unwrap_or(defaults.enabled),
        allowed_hosts: match section.allowed_hosts {
            Some(entries) => patterns("allowed_hosts", entries)?,
            None => defaults.allowed_hosts,
        },
        denied_hosts: patterns("denied_hosts", section.denied_hosts.unwrap_or_default())?,
        min_cache_seconds: duration("min_cache", section.min_cache, defaults.min_cache_seconds)?,
        max_cache_seconds: duration("max_cache", section.max_cache, defaults.max_cache_seconds)?,
        max_cached_documents: section
            .max_cached_documents
            .unwrap_or(defaults.max_cached_documents),
    };
    if settings.min_cache_seconds > settings.max_cache_seconds {
        bail!("cimd.min_cache must not be longer than cimd.max_cache");
    }
    if settings.max_cached_documents == 0 {
        bail!("cimd.max_cached_documents must be at least 1");
    }
    Ok(settings)
}
