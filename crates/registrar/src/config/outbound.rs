//! `[outbound]`: the `host:port` exceptions to the special-use address rules, and extra trust
//! roots for outbound fetches. Both feed the registration rules and the fetcher.

use std::path::Path;

use anyhow::{Context, bail};
use registrar_server::outbound::{
    AllowedHost, Certificate, FetchConfig, root_certificates_from_pem,
};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundSection {
    /// `host:port` entries whose URLs may point at special-use addresses (development, tests).
    pub allow_hosts: Option<Vec<String>>,
    /// A PEM file of one or more certificates trusted beside the web PKI roots.
    pub extra_ca_file: Option<String>,
}

/// The allow-list and the fetcher configuration of `[outbound]`, checked whole: a malformed
/// entry or an unreadable or invalid PEM file stops the start.
pub fn outbound(section: OutboundSection) -> anyhow::Result<(Vec<AllowedHost>, FetchConfig)> {
    let mut allow_hosts: Vec<AllowedHost> = Vec::new();
    for (index, entry) in section.allow_hosts.unwrap_or_default().iter().enumerate() {
        let allowed = AllowedHost::parse(entry)
            .map_err(|reason| anyhow::anyhow!("outbound.allow_hosts[{index}]: {reason}"))?;
        if allow_hosts.contains(&allowed) {
            bail!("outbound.allow_hosts[{index}]: {entry:?} is listed twice");
        }
        allow_hosts.push(allowed);
    }
    let extra_root_certificates = match &section.extra_ca_file {
        Some(path) => extra_roots(Path::new(path))?,
        None => Vec::new(),
    };
    let fetch = FetchConfig {
        extra_root_certificates,
        allow_hosts: allow_hosts.clone(),
        ..FetchConfig::default()
    };
    Ok((allow_hosts, fetch))
}

fn extra_roots(path: &Path) -> anyhow::Result<Vec<Certificate>> {
    let pem = std::fs::read(path)
        .with_context(|| format!("outbound.extra_ca_file: cannot read {}", path.display()))?;
    root_certificates_from_pem(&pem)
        .map_err(|reason| anyhow::anyhow!("outbound.extra_ca_file: {} {reason}", path.display()))
}
