//! What the tests of the real binary share: a store to run it on (a SQLite file, or a fresh
//! PostgreSQL database dropped afterwards), CLI runs on that store, and `registrar serve` on a
//! free loopback port, polled until ready and killed when dropped.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use registrar_core::secrets::{OsRandom, random_token};

pub const BINARY: &str = env!("CARGO_BIN_EXE_registrar");

/// The PostgreSQL server for tests, as in the testkit: `postgres://postgres@127.0.0.1:5432/test`.
pub const POSTGRES_ENV: &str = "REGISTRAR_TEST_POSTGRES";

/// The server secret of PostgreSQL stores, which have no key file beside them.
const POSTGRES_SECRET_KEY: &str = "registrar binary test secret key, 32 bytes or more";

/// How long `registrar serve` may take to answer `/readyz`: the first start creates the signing
/// keys, an RSA key among them, in a debug build on a busy machine.
const READY_WITHIN: Duration = Duration::from_secs(30);

/// The PostgreSQL server URL, or `None` when the test should be skipped: without
/// `REGISTRAR_TEST_POSTGRES` a local `cargo test` passes, but under `CI` a missing server fails.
pub fn postgres_server_or_skip(test: &str) -> Option<String> {
    match std::env::var(POSTGRES_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{test}: {POSTGRES_ENV} must be set under CI"
            );
            eprintln!("{test}: skipped, {POSTGRES_ENV} is not set");
            None
        }
    }
}

/// A store for one test, its configuration file and the log of the servers run on it; removed
/// (the folder, and the PostgreSQL database) when dropped.
pub struct Store {
    pub folder: tempfile::TempDir,
    pub database: String,
    secret_key: Option<&'static str>,
    postgres_server: Option<String>,
}

impl Store {
    /// A SQLite file in a fresh folder; the CLI creates the key file beside it.
    pub fn sqlite() -> Self {
        let folder = tempfile::tempdir().unwrap();
        let database = format!("sqlite://{}", folder.path().join("registrar.db").display());
        Self {
            folder,
            database,
            secret_key: None,
            postgres_server: None,
        }
    }

    /// A new database on the PostgreSQL server at `server_url`.
    pub async fn postgres(server_url: &str) -> Self {
        use sqlx::Connection as _;
        let name = format!(
            "binary_test_{}",
            random_token(&OsRandom, 9)
                .to_ascii_lowercase()
                .replace(['-', '_'], "x")
        );
        let mut connection = sqlx::PgConnection::connect(server_url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut connection)
            .await
            .unwrap();
        let mut url = url::Url::parse(server_url).unwrap();
        url.set_path(&format!("/{name}"));
        Self {
            folder: tempfile::tempdir().unwrap(),
            database: url.to_string(),
            secret_key: Some(POSTGRES_SECRET_KEY),
            postgres_server: Some(server_url.to_owned()),
        }
    }

    /// Writes `text` to `name` in the store's folder and returns its path.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.folder.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The binary with `arguments`, on this store, and none of the caller's `REGISTRAR_*`
    /// settings.
    pub fn command(&self, arguments: &[&str]) -> Command {
        let mut command = Command::new(BINARY);
        command.args(arguments).args(["--database", &self.database]);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("REGISTRAR_") {
                command.env_remove(name);
            }
        }
        if let Some(secret_key) = self.secret_key {
            command.env("REGISTRAR_SECRET_KEY", secret_key);
        }
        command
    }

    /// Runs a CLI command with `input` on stdin; it must succeed, and its stdout is returned.
    pub fn cli(&self, arguments: &[&str], input: &str) -> String {
        let mut child = self
            .command(arguments)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().unwrap();
        assert!(
            status.success(),
            "{arguments:?} failed: {}",
            String::from_utf8_lossy(&stderr)
        );
        String::from_utf8(stdout).unwrap()
    }

    /// `registrar serve` on a free loopback port with `extra` arguments and environment, its
    /// stdout and stderr appended to `log`, once it answers `/readyz`.
    pub async fn serve(&self, extra: &[&str], environment: &[(&str, &str)], log: &Path) -> Server {
        let listen = format!("127.0.0.1:{}", free_port());
        let output = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = self
            .command(&["serve", "--listen", &listen])
            .args(extra)
            .envs(environment.iter().copied())
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .unwrap();
        let mut server = Server {
            child,
            base: format!("http://{listen}"),
        };
        server.wait_until_ready(log).await;
        server
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let Some(server_url) = self.postgres_server.take() else {
            return;
        };
        let name = url::Url::parse(&self.database)
            .unwrap()
            .path()
            .trim_start_matches('/')
            .to_owned();
        // Drop cannot await, and the test's runtime may be shutting down: a runtime of its own.
        let dropped = std::thread::spawn(move || {
            use sqlx::Connection as _;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut connection = sqlx::PgConnection::connect(&server_url).await.unwrap();
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut connection)
                    .await
                    .unwrap();
            });
        })
        .join();
        if dropped.is_err() {
            eprintln!("could not drop the test database {}", self.database);
        }
    }
}

/// A running `registrar serve`, killed (SIGKILL) when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Polls `/readyz` until it answers 200; fails with the server's log if the process exits
    /// or the deadline passes.
    async fn wait_until_ready(&mut self, log: &Path) {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let deadline = Instant::now() + READY_WITHIN;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "registrar serve exited with {status}:\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            if let Ok(response) = http.get(self.url("/readyz")).send().await
                && response.status().is_success()
            {
                return;
            }
            // Polling, not waiting for readiness: the next probe follows shortly.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "registrar serve was not ready on {} within {READY_WITHIN:?}:\n{}",
            self.base,
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }

    /// SIGKILL: no graceful shutdown, no flush, whatever is in flight is cut off.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends `signal` (`TERM`, `INT`) with kill(1), which needs no extra crate.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} failed: {status}");
    }

    /// The exit status once the process ends; fails if it is still running after `within`.
    pub async fn exit_status(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "registrar serve still running {within:?} after it was told to stop"
            );
            // Polling the child, which has no async wait here.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> &str {
        self.base.trim_start_matches("http://")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
