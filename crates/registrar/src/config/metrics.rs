//! The `[metrics]` section: where `GET /metrics` is served.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// An address of its own for `GET /metrics`; unset, it is served on `listen`.
    pub listen: Option<String>,
}

/// `metrics.listen`, which must be an address other than `listen`'s.
pub fn metrics_listen(
    section: MetricsSection,
    listen: SocketAddr,
) -> anyhow::Result<Option<SocketAddr>> {
    let Some(text) = section.listen else {
        return Ok(None);
    };
    let address: SocketAddr = text.parse().with_context(|| {
        format!(
            "metrics.listen: \"{}\" is not an address such as 127.0.0.1:9100",
            text.escape_debug()
        )
    })?;
    if address == listen {
        bail!(
            "metrics.listen: {address} is also listen; leave metrics.listen unset to serve /metrics there"
        );
    }
    Ok(Some(address))
}
