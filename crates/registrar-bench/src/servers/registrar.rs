//! Registrar itself: the release `registrar` binary on a temporary SQLite file or a fresh
//! PostgreSQL database, with initial access tokens minted and a user of the login page added
//! before it starts.

use std::path::PathBuf;

use anyhow::Context;
use registrar_core::initial_token::{InitialTokenOptions, mint_initial_token};
use registrar_core::secrets::{OsRandom, TokenHasher, random_token};
use registrar_core::store::Stores;
use registrar_core::{Clock as _, SystemClock};
use registrar_store::PoolOptions;

use super::process::{self, ScratchDatabase, ServerProcess};
use crate::sign_in::Credentials;

/// The user the code and refresh scenarios sign in as.
const BENCH_USERNAME: &str = "bench";

/// The store Registrar runs on.
#[derive(Debug, Clone)]
pub enum Database {
    /// A SQLite file in a temporary folder (WAL, `synchronous = FULL`: Registrar's own setting).
    Sqlite,
    /// A fresh database on the PostgreSQL server at this URL.
    Postgres(String),
}

/// Whether the rate limits are as shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Limits {
    /// The default `[rate_limits]`: on, with the shipped quotas. Its
    /// `policy_registrations` quota (600 per 60 s under the `default` policy, for the whole
    /// server) refuses a registration flood after its burst.
    Default,
    /// On, with the registration quotas (per address, per initial access token, per policy)
    /// raised beyond reach: every check is still made, none refuses.
    Raised,
    /// `rate_limits.enabled = false`.
    Off,
}

/// A billion per second: checked on every registration, never reached.
const RAISED_QUOTAS: &str = "
[rate_limits]
registration = { burst = 1000000000, per_seconds = 1 }
initial_token = { burst = 1000000000, per_seconds = 1 }
policy_registrations = { burst = 1000000000, per_seconds = 1 }
";

/// How to start Registrar.
#[derive(Debug, Clone)]
pub struct RegistrarOptions {
    /// The `registrar` binary.
    pub binary: PathBuf,
    /// Its store.
    pub database: Database,
    /// `tokens.signing_alg`: the algorithm of access tokens.
    pub signing_alg: String,
    /// The rate limits.
    pub limits: Limits,
    /// `database_pool.max_connections`, when not the default.
    pub pool: Option<u32>,
    /// Initial access tokens to mint before the start.
    pub initial_tokens: usize,
    /// Whether to pin the server to its core.
    pub pin: bool,
}

/// A running Registrar.
#[derive(Debug)]
pub struct RunningRegistrar {
    /// Where it listens.
    pub address: std::net::SocketAddr,
    /// The minted initial access tokens (no use limit, no expiry).
    pub initial_tokens: Vec<String>,
    /// The user of the login page.
    pub user: Credentials,
    /// The configuration, as one line for the report.
    pub description: String,
    /// The store's URL, as the server was configured with it.
    pub database_url: String,
    process: ServerProcess,
    _folder: tempfile::TempDir,
}

impl RunningRegistrar {
    /// Writes the configuration, mints the tokens and starts the server.
    pub async fn start(options: &RegistrarOptions) -> anyhow::Result<Self> {
        let folder = tempfile::tempdir().context("cannot create a temporary folder")?;
        let address = process::free_address()?;
        let (database_url, scratch, store_name) = match &options.database {
            Database::Sqlite => {
                let path = folder.path().join("registrar.db");
                (format!("sqlite://{}", path.display()), None, "SQLite")
            }
            Database::Postgres(server_url) => {
                let scratch = ScratchDatabase::create(server_url).await?;
                (scratch.url.clone(), Some(scratch), "PostgreSQL")
            }
        };
        let secret_key = random_token(&OsRandom, 32);
        let mut config = format!(
            "listen = \"{address}\"\ndatabase = \"{database_url}\"\nsecret_key = \"{secret_key}\"\n\n[tokens]\nsigning_alg = \"{}\"\n",
            options.signing_alg
        );
        if let Some(pool) = options.pool {
            config.push_str(&format!("\n[database_pool]\nmax_connections = {pool}\n"));
        }
        match options.limits {
            Limits::Default => {}
            Limits::Raised => config.push_str(RAISED_QUOTAS),
            Limits::Off => config.push_str("\n[rate_limits]\nenabled = false\n"),
        }
        let config_path = folder.path().join("registrar.toml");
        std::fs::write(&config_path, config).context("cannot write the configuration")?;

        let initial_tokens =
            mint_tokens(&database_url, secret_key.as_bytes(), options.initial_tokens).await?;
        let user = Credentials {
            username: BENCH_USERNAME.to_owned(),
            password: random_token(&OsRandom, 24),
        };
        add_user(&options.binary, &config_path, &user).await?;

        let mut command = std::process::Command::new(&options.binary);
        command.arg("--config").arg(&config_path).arg("serve");
        let log = folder.path().join("registrar.log");
        let process =
            ServerProcess::start(scratch, command, options.pin, &log, address, "/healthz")
                .await
                .with_context(|| format!("cannot start {}", options.binary.display()))?;
        let limits = match options.limits {
            Limits::Default => "rate limits default (on)",
            Limits::Raised => {
                "rate limits on, registration quotas (per address, per initial access token, per policy) raised beyond reach"
            }
            Limits::Off => "rate limits off",
        };
        Ok(Self {
            address,
            initial_tokens,
            user,
            description: format!(
                "{store_name}{}, protected registration, {} access tokens, {limits}, audit and policies default",
                match options.pool {
                    Some(pool) => format!(" (database_pool.max_connections = {pool})"),
                    None => String::new(),
                },
                options.signing_alg
            ),
            database_url,
            process,
            _folder: folder,
        })
    }

    /// The server's peak resident memory so far, in KiB ([`ServerProcess::peak_rss_kib`]).
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.process.peak_rss_kib()
    }

    /// Stops the server and drops its PostgreSQL database.
    pub async fn stop(self) {
        self.process.stop().await;
    }
}

/// Adds `user` with the real CLI, `registrar --config FILE users add USERNAME --password-stdin`,
/// as an operator would.
async fn add_user(
    binary: &std::path::Path,
    config_path: &std::path::Path,
    user: &Credentials,
) -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt as _;
    let mut child = tokio::process::Command::new(binary)
        .arg("--config")
        .arg(config_path)
        .args(["users", "add", &user.username, "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(format!("{}\n", user.password).as_bytes())
            .await
            .context("cannot write the password to `registrar users add`")?;
    }
    let output = child
        .wait_with_output()
        .await
        .context("`registrar users add` did not finish")?;
    anyhow::ensure!(
        output.status.success(),
        "`registrar users add {}` failed with {}: {}",
        user.username,
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(())
}

/// Mints `count` initial access tokens through the library, as `registrar initial-token
/// create` does, but in one process: the CLI would pay a process start for each.
async fn mint_tokens(
    database_url: &str,
    secret: &[u8],
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let (store, closer) =
        registrar_store::connect_with_closer(database_url, PoolOptions::default())
            .await
            .context("cannot open the bench database")?;
    let stores = Stores::from_backend(store);
    let hasher = TokenHasher::new(secret);
    let mut tokens = Vec::with_capacity(count);
    for _ in 0..count {
        let (token, _) = mint_initial_token(
            stores.initial_tokens().as_ref(),
            &OsRandom,
            &hasher,
            SystemClock.now(),
            InitialTokenOptions::default(),
        )
        .await
        .context("cannot mint an initial access token")?;
        tokens.push(token.expose().to_owned());
    }
    closer.close().await;
    Ok(tokens)
}
