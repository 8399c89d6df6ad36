//! The `[log]` section: how `serve` writes its log lines.

use anyhow::bail;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// `json` or `pretty`; unset, `pretty` on a terminal and `json` otherwise.
    pub format: Option<String>,
}

/// How log lines are written; `RUST_LOG` chooses which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, with the fields of the spans it is in: for log collectors.
    Json,
    /// One line of text per event, coloured on a terminal: for people.
    Pretty,
}

/// `REGISTRAR_LOG_FORMAT` over `log.format`; `None` leaves the choice to whether the log goes
/// to a terminal.
pub fn log_format(
    environment: Option<String>,
    section: LogSection,
) -> anyhow::Result<Option<LogFormat>> {
    let (source, value) = match (environment, section.format) {
        (Some(value), _) => ("REGISTRAR_LOG_FORMAT", value),
        (None, Some(value)) => ("log.format", value),
        (None, None) => return Ok(None),
    };
    match value.as_str() {
        "json" => Ok(Some(LogFormat::Json)),
        "pretty" => Ok(Some(LogFormat::Pretty)),
        other => bail!(
            "{source}: \"{}\" must be json or pretty",
            other.escape_debug()
        ),
    }
}
