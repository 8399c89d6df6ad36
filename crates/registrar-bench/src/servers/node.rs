//! node-oidc-provider, from a folder where `npm install oidc-provider@9` ran, started with the
//! launcher `node/server.mjs` of this crate.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::process::{self, ServerProcess};

/// The launcher, copied beside the folder's `node_modules` so its import resolves there.
const LAUNCHER: &str = include_str!("../../node/server.mjs");
const LAUNCHER_NAME: &str = "registrar-bench-server.mjs";

/// A running node-oidc-provider.
#[derive(Debug)]
pub struct RunningNode {
    /// Where it listens.
    pub address: std::net::SocketAddr,
    /// The configuration, as one line for the report.
    pub description: String,
    process: ServerProcess,
}

impl RunningNode {
    /// Starts the provider in `node_dir`, signing access tokens with `alg`.
    pub async fn start(node_dir: &Path, alg: &str, pin: bool) -> anyhow::Result<Self> {
        let version = installed_version(node_dir)?;
        let launcher: PathBuf = node_dir.join(LAUNCHER_NAME);
        std::fs::write(&launcher, LAUNCHER)
            .with_context(|| format!("cannot write {}", launcher.display()))?;
        let address = process::free_address()?;
        let mut command = std::process::Command::new("node");
        command
            .arg(&launcher)
            .current_dir(node_dir)
            .env("PORT", address.port().to_string())
            .env("ACCESS_TOKEN_ALG", alg)
            .env("NODE_ENV", "production");
        let log = node_dir.join(format!("registrar-bench-{alg}.log"));
        let process = ServerProcess::start(
            None,
            command,
            pin,
            &log,
            address,
            "/.well-known/openid-configuration",
        )
        .await
        .context("cannot start node-oidc-provider")?;
        Ok(Self {
            address,
            description: format!(
                "node-oidc-provider {version}, memory adapter (not durable), open registration, {alg} JWT access tokens"
            ),
            process,
        })
    }

    /// The server's peak resident memory so far, in KiB ([`ServerProcess::peak_rss_kib`]).
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.process.peak_rss_kib()
    }

    /// Stops it.
    pub async fn stop(self) {
        self.process.stop().await;
    }
}

fn installed_version(node_dir: &Path) -> anyhow::Result<String> {
    let manifest = node_dir.join("node_modules/oidc-provider/package.json");
    let text = std::fs::read_to_string(&manifest).with_context(|| {
        format!(
            "{} is missing: run `npm install oidc-provider@9` in {}",
            manifest.display(),
            node_dir.display()
        )
    })?;
    let value: serde_json::Value = serde_json::from_str(&text)?;
    Ok(value
        .get("version")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("unknown")
        .to_owned())
}
