//! The log of `serve`: `RUST_LOG` chooses which lines, `log.format` how they are written.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// What is logged when `RUST_LOG` is unset or invalid: sqlx logs every statement at `info`.
const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// Installs the global subscriber, writing to stdout. Unset, the format is `pretty` when stdout
/// is a terminal and `json` otherwise, where a collector reads it.
pub fn init(format: Option<LogFormat>) {
    let terminal = std::io::stdout().is_terminal();
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let format = format.unwrap_or(if terminal {
        LogFormat::Pretty
    } else {
        LogFormat::Json
    });
    match format {
        // The fields of every span the event is in ride along (`spans`, outermost first), so
        // each line of a request carries its method, path and request id.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .init(),
        // Colours only for a terminal (and not under `NO_COLOR`): escape codes in a file are
        // noise.
        LogFormat::Pretty => builder
            .with_ansi(
                terminal && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty()),
            )
            .init(),
    }
}
