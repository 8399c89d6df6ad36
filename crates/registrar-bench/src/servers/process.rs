//! A server process of the bench: started pinned to its core, ready once it answers, killed
//! when dropped.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use hyper::{Method, Request};
use tokio::process::{Child, Command};

use crate::connection::Connection;
use crate::scenario::Body;

/// The core servers run on; the generator takes [`GENERATOR_CORE`].
pub const SERVER_CORE: usize = 0;
/// The core the generator runs on.
pub const GENERATOR_CORE: usize = 1;

/// How long a server may take to answer its readiness path.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running child process, killed on drop, with the scratch database it runs on.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    database: Option<ScratchDatabase>,
}

/// A free port on 127.0.0.1 (bound and released; the server binds it next).
pub fn free_address() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(listener.local_addr()?)
}

impl ServerProcess {
    /// Starts `program args` (through `taskset -c 0` when `pin`), its output appended to `log`,
    /// and waits until `GET ready_path` at `address` answers 2xx; `database` is dropped when it
    /// stops.
    pub async fn start(
        database: Option<ScratchDatabase>,
        mut command: std::process::Command,
        pin: bool,
        log: &Path,
        address: SocketAddr,
        ready_path: &str,
    ) -> anyhow::Result<Self> {
        if pin {
            let mut pinned = std::process::Command::new("taskset");
            pinned
                .arg("-c")
                .arg(SERVER_CORE.to_string())
                .arg(command.get_program());
            pinned.args(command.get_args());
            for (key, value) in command.get_envs() {
                match value {
                    Some(value) => pinned.env(key, value),
                    None => pinned.env_remove(key),
                };
            }
            if let Some(dir) = command.get_current_dir() {
                pinned.current_dir(dir);
            }
            command = pinned;
        }
        let output = std::fs::File::create(log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let mut command = Command::from(command);
        command
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output)
            .kill_on_drop(true);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {:?}", command.as_std().get_program()))?;
        let mut process = Self { child, database };
        process.wait_ready(address, ready_path, log).await?;
        Ok(process)
    }

    async fn wait_ready(
        &mut self,
        address: SocketAddr,
        ready_path: &str,
        log: &Path,
    ) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                let output = std::fs::read_to_string(log).unwrap_or_default();
                bail!("the server exited with {status} before it was ready:\n{output}");
            }
            if is_ready(address, ready_path).await {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                bail!("the server at {address} was not ready after {START_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The most memory the process has held resident so far (`VmHWM` in `/proc/PID/status`), in
    /// KiB; `None` where there is no procfs or the process is gone. `taskset` execs the server,
    /// so the pid is the server's own.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let pid = self.child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Stops the process, waits for it and drops its scratch database.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        if let Some(database) = self.database.take() {
            database.drop_now().await;
        }
    }
}

async fn is_ready(address: SocketAddr, path: &str) -> bool {
    let Ok(mut connection) = Connection::open(address, None).await else {
        return false;
    };
    let request = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(hyper::header::HOST, address.to_string())
        .body(Body::default());
    let Ok(request) = request else {
        return false;
    };
    matches!(connection.send(request).await, Ok(answer) if answer.status.is_success())
}

/// A fresh PostgreSQL database for one run, created as the workspace's tests create theirs:
/// every run starts from an empty schema.
#[derive(Debug)]
pub struct ScratchDatabase {
    server_url: String,
    /// Its URL.
    pub url: String,
}

impl ScratchDatabase {
    /// Creates it on the server at `server_url`.
    pub async fn create(server_url: &str) -> anyhow::Result<Self> {
        use sqlx::Connection as _;
        let name = format!("registrar_bench_{}", crate::bodies::run_tag());
        let mut connection = sqlx::PgConnection::connect(server_url)
            .await
            .context("cannot connect to PostgreSQL")?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut connection)
            .await
            .with_context(|| format!("cannot create the database {name}"))?;
        let mut url = url::Url::parse(server_url).context("--postgres is not a URL")?;
        url.set_path(&format!("/{name}"));
        Ok(Self {
            server_url: server_url.to_owned(),
            url: url.to_string(),
        })
    }

    /// Drops it, closing its connections.
    async fn drop_now(self) {
        use sqlx::Connection as _;
        let Ok(url) = url::Url::parse(&self.url) else {
            return;
        };
        let name = url.path().trim_start_matches('/').to_owned();
        if let Ok(mut connection) = sqlx::PgConnection::connect(&self.server_url).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut connection)
                .await;
        }
    }
}
