//! Starts the bare baseline (`registrar-bench baseline-server`) as a pinned process of its own.

use anyhow::Context;

use super::baseline_app::Synchronous;
use super::process::{self, ScratchDatabase, ServerProcess};

/// Where the baseline stores its rows.
#[derive(Debug, Clone)]
pub enum BaselineStore {
    /// A temporary SQLite file in WAL mode.
    Sqlite(Synchronous),
    /// A fresh database on the PostgreSQL server at this URL.
    Postgres(String),
}

/// A running baseline.
#[derive(Debug)]
pub struct RunningBaseline {
    /// Where it listens.
    pub address: std::net::SocketAddr,
    /// The configuration, as one line for the report.
    pub description: String,
    /// The system's name in the report.
    pub name: &'static str,
    process: ServerProcess,
    _folder: tempfile::TempDir,
}

impl RunningBaseline {
    /// Starts this binary again as the baseline server.
    pub async fn start(store: &BaselineStore, pin: bool) -> anyhow::Result<Self> {
        let folder = tempfile::tempdir().context("cannot create a temporary folder")?;
        let address = process::free_address()?;
        let (database, synchronous, scratch, name, description) = match store {
            BaselineStore::Sqlite(synchronous) => {
                let path = folder.path().join("baseline.db");
                let (name, description) = match synchronous {
                    Synchronous::Full => (
                        "baseline SQLite FULL",
                        "bare axum, one INSERT per request, SQLite WAL synchronous=FULL",
                    ),
                    Synchronous::Normal => (
                        "baseline SQLite NORMAL",
                        "bare axum, one INSERT per request, SQLite WAL synchronous=NORMAL (not durable)",
                    ),
                };
                (
                    format!("sqlite://{}", path.display()),
                    *synchronous,
                    None,
                    name,
                    description,
                )
            }
            BaselineStore::Postgres(server_url) => {
                let scratch = ScratchDatabase::create(server_url).await?;
                (
                    scratch.url.clone(),
                    Synchronous::Full,
                    Some(scratch),
                    "baseline PostgreSQL",
                    "bare axum, one INSERT per request, PostgreSQL (pool of 16)",
                )
            }
        };
        let mut command =
            std::process::Command::new(std::env::current_exe().context("cannot find this binary")?);
        command
            .arg("baseline-server")
            .arg("--listen")
            .arg(address.to_string())
            .arg("--database")
            .arg(&database)
            .arg("--synchronous")
            .arg(match synchronous {
                Synchronous::Full => "full",
                Synchronous::Normal => "normal",
            });
        let log = folder.path().join("baseline.log");
        let process =
            ServerProcess::start(scratch, command, pin, &log, address, "/healthz").await?;
        Ok(Self {
            address,
            description: description.to_owned(),
            name,
            process,
            _folder: folder,
        })
    }

    /// The server's peak resident memory so far, in KiB ([`ServerProcess::peak_rss_kib`]).
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.process.peak_rss_kib()
    }

    /// Stops it and drops its PostgreSQL database.
    pub async fn stop(self) {
        self.process.stop().await;
    }
}
