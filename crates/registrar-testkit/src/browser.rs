//! A real headless Chromium driven over WebDriver, for the tests of pages a person sees (login,
//! consent): `Browser` starts chromedriver on a loopback port and opens one session in it.
//!
//! Debian's `chromium` and `chromium-driver` packages provide both programs; `.ci/run`
//! installs them. A test asks for the browser with [`Browser::start_or_skip`], which fails the
//! test under `CI` when they are missing and skips it, printing why, elsewhere:
//!
//! ```no_run
//! use registrar_testkit::browser::Browser;
//!
//! # async fn login_page_signs_the_user_in() -> Result<(), registrar_testkit::browser::BrowserError> {
//! let Some(browser) = Browser::start_or_skip("login_page_signs_the_user_in").await else {
//!     return Ok(());
//! };
//! browser.goto("http://127.0.0.1:8080/login").await?;
//! browser.fill("input[name=username]", "alice").await?;
//! browser.fill("input[name=password]", "correct horse").await?;
//! browser.screenshot("login-filled").await?;
//! browser.click("button[type=submit]").await?;
//! assert_eq!(browser.text("h1").await?, "Welcome, alice");
//! assert_eq!(browser.current_url().await?.path(), "/consent");
//!
//! // The same page as a phone shows it.
//! browser.set_window_size(390, 844).await?;
//! browser.screenshot("consent-phone").await?;
//! browser.close().await
//! # }
//! ```
//!
//! Screenshots are PNG files in `<target dir>/screenshots/`, so CI keeps them beside the build.

use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::error::{CmdError, NewSessionError};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;
use url::Url;

/// The environment variable naming the chromedriver program, when not `/usr/bin/chromedriver`.
pub const CHROMEDRIVER_ENV: &str = "REGISTRAR_CHROMEDRIVER";
/// The environment variable naming the Chromium program, when not `/usr/bin/chromium`.
pub const CHROMIUM_ENV: &str = "REGISTRAR_CHROMIUM";

const DEFAULT_CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// How often chromedriver's `/status` is asked whether it is ready, and how long apart: it is
/// usually ready after a few tries; the bound only keeps a broken install from hanging a test.
const STATUS_TRIES: u32 = 100;
const STATUS_INTERVAL: Duration = Duration::from_millis(50);
/// How long an element may take to appear after a navigation before the test fails.
const ELEMENT_WAIT: Duration = Duration::from_secs(10);

/// Chromium's flags. Headless without a sandbox, since CI runs as root in a container; the
/// background-networking flags keep Chromium from reaching out (component updates, sync,
/// QUIC probes), which the closed network of the test machines answers by refusing
/// connections; `/dev/shm` is small in containers.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1000,1000",
];

/// Why the browser could not be started or a command to it failed.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// A program is not installed where it was looked for.
    #[error("{program} not found at '{}' (install Debian's chromium and chromium-driver, or set {env})", path.display())]
    Missing {
        /// `chromedriver` or `chromium`.
        program: &'static str,
        /// Where it was looked for.
        path: PathBuf,
        /// The environment variable that names another place.
        env: &'static str,
    },
    /// chromedriver did not come up.
    #[error("chromedriver did not start: {0}")]
    Driver(String),
    /// chromedriver refused to open a session, most often because Chromium did not start.
    #[error("chromedriver opened no session: {0}")]
    Session(#[from] NewSessionError),
    /// A WebDriver command failed: no element matched, the page did not load, ….
    #[error("webdriver command failed: {0}")]
    Command(#[from] CmdError),
    /// A screenshot could not be written, or a temporary folder made.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl BrowserError {
    /// Whether the error is that chromedriver or Chromium is not installed.
    pub fn is_missing(&self) -> bool {
        matches!(self, Self::Missing { .. })
    }
}

/// One headless Chromium session, through a chromedriver of its own that is killed on drop.
#[derive(Debug)]
pub struct Browser {
    client: Client,
    driver: Child,
    screenshots: PathBuf,
    // Declared last so that it is removed after chromedriver (and with it Chromium) is gone.
    _profile: TempDir,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a headless Chromium session with a
    /// fresh profile; [`BrowserError::Missing`] says which program is not installed.
    pub async fn start() -> Result<Self, BrowserError> {
        let chromedriver = program("chromedriver", CHROMEDRIVER_ENV, DEFAULT_CHROMEDRIVER)?;
        let chromium = program("chromium", CHROMIUM_ENV, DEFAULT_CHROMIUM)?;
        let profile = tempfile::Builder::new()
            .prefix("registrar-chromium-")
            .tempdir()?;
        let port = free_port()?;
        let mut driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            // It greets on stdout; what goes wrong goes to stderr, which the test's shows.
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            // A process group of its own, which Chromium's processes join, so that drop can
            // end them all even when the session was never closed.
            .process_group(0)
            .spawn()
            .map_err(|error| {
                BrowserError::Driver(format!("'{}': {error}", chromedriver.display()))
            })?;
        let webdriver = format!("http://127.0.0.1:{port}");
        if let Err(error) = wait_until_ready(&mut driver, &webdriver).await {
            kill_group(&mut driver);
            return Err(error);
        }

        let mut args: Vec<Value> = CHROMIUM_ARGS.iter().map(|arg| json!(arg)).collect();
        args.push(json!(format!(
            "--user-data-dir={}",
            profile.path().join("user-data").display()
        )));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({ "binary": chromium.to_string_lossy(), "args": args }),
        );
        // chromedriver is plain HTTP on loopback: no TLS connector, so no TLS stack either.
        let session = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&webdriver)
            .await;
        let client = match session {
            Ok(client) => client,
            Err(error) => {
                kill_group(&mut driver);
                return Err(error.into());
            }
        };
        Ok(Self {
            client,
            driver,
            screenshots: target_dir().join("screenshots"),
            _profile: profile,
        })
    }

    /// Starts the browser for the test named `test`. When chromedriver or Chromium is missing,
    /// returns `None` after printing why, so that `cargo test` passes on a machine without
    /// them; under `CI` a missing browser fails the test instead, as does any other error.
    pub async fn start_or_skip(test: &str) -> Option<Self> {
        match Self::start().await {
            Ok(browser) => Some(browser),
            Err(error) if error.is_missing() && std::env::var_os("CI").is_none() => {
                eprintln!("skipping {test}: {error}");
                None
            }
            Err(error) => panic!("{test} needs a browser: {error}"),
        }
    }

    /// The fantoccini client, for what the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `url` and waits until the page has loaded.
    pub async fn goto(&self, url: &str) -> Result<(), BrowserError> {
        Ok(self.client.goto(url).await?)
    }

    /// Replaces the value of the field that matches the CSS selector `css` with `text`, typed.
    pub async fn fill(&self, css: &str, text: &str) -> Result<(), BrowserError> {
        let field = self.find(css).await?;
        field.clear().await?;
        Ok(field.send_keys(text).await?)
    }

    /// Clicks the element that matches `css`; a submit button submits its form, and the next
    /// command waits for the page it loads.
    pub async fn click(&self, css: &str) -> Result<(), BrowserError> {
        Ok(self.find(css).await?.click().await?)
    }

    /// The element `css` selects, once the page shows it: after a click that navigates, the next
    /// page may still be loading. Polled within WebDriver's own bounded wait, not a sleep.
    async fn find(&self, css: &str) -> Result<fantoccini::elements::Element, BrowserError> {
        Ok(self
            .client
            .wait()
            .at_most(ELEMENT_WAIT)
            .for_element(Locator::Css(css))
            .await?)
    }

    /// The rendered text of the element that matches `css`, as a person reads it.
    pub async fn text(&self, css: &str) -> Result<String, BrowserError> {
        Ok(self.find(css).await?.text().await?)
    }

    /// The URL of the page shown now, after any redirects.
    pub async fn current_url(&self) -> Result<Url, BrowserError> {
        Ok(self.client.current_url().await?)
    }

    /// Sizes the window so that the page gets `width` × `height` CSS pixels, e.g. 390 × 844
    /// for a phone; screenshots are then that size.
    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<(), BrowserError> {
        // Headless Chromium still keeps room for the toolbars it does not draw (143 pixels of
        // height in Chromium 156), so the window is set, the viewport measured, and the window
        // grown by the difference.
        self.client.set_window_size(width, height).await?;
        let (inner_width, inner_height) = self.viewport_size().await?;
        let outer_width = (2 * width).saturating_sub(inner_width);
        let outer_height = (2 * height).saturating_sub(inner_height);
        Ok(self
            .client
            .set_window_size(outer_width, outer_height)
            .await?)
    }

    /// The page's viewport, `window.innerWidth` × `window.innerHeight`, in CSS pixels.
    pub async fn viewport_size(&self) -> Result<(u32, u32), BrowserError> {
        let size = self
            .client
            .execute(
                "return [window.innerWidth, window.innerHeight];",
                Vec::new(),
            )
            .await?;
        let dimension = |index: usize| {
            size[index]
                .as_u64()
                .and_then(|pixels| u32::try_from(pixels).ok())
                .ok_or_else(|| CmdError::NotW3C(size.clone()))
        };
        Ok((dimension(0)?, dimension(1)?))
    }

    /// Saves what the window shows as `<target dir>/screenshots/<name>.png` and returns its path.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf, BrowserError> {
        let png = self.client.screenshot().await?;
        std::fs::create_dir_all(&self.screenshots)?;
        let path = self.screenshots.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Ends the session, which quits Chromium; chromedriver is killed when `self` is dropped.
    pub async fn close(self) -> Result<(), BrowserError> {
        Ok(self.client.clone().close().await?)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill_group(&mut self.driver);
    }
}

/// Kills chromedriver and every Chromium process in its group. Killing chromedriver alone
/// would leave a Chromium whose session was never closed (a test that panicked) running.
fn kill_group(driver: &mut Child) {
    // `kill -- -PGID` signals the group; std has no safe call for it.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", driver.id())])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = driver.kill();
    let _ = driver.wait();
}

/// The program named by `env`, else the default path, if it exists.
fn program(
    program: &'static str,
    env: &'static str,
    default: &str,
) -> Result<PathBuf, BrowserError> {
    let path = std::env::var_os(env)
        .filter(|value| !value.is_empty())
        .map_or_else(|| PathBuf::from(default), PathBuf::from);
    if path.is_file() {
        return Ok(path);
    }
    Err(BrowserError::Missing { program, path, env })
}

/// A loopback port nobody listens on now; chromedriver binds it a moment later.
fn free_port() -> Result<u16, BrowserError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Asks chromedriver's `/status` until it says it is ready, a bounded number of times.
async fn wait_until_ready(driver: &mut Child, webdriver: &str) -> Result<(), BrowserError> {
    let http = reqwest::Client::new();
    let status_url = format!("{webdriver}/status");
    for _ in 0..STATUS_TRIES {
        if let Some(exit) = driver.try_wait()? {
            return Err(BrowserError::Driver(format!("it exited with {exit}")));
        }
        if let Ok(response) = http.get(&status_url).send().await
            && let Ok(status) = response.json::<Value>().await
            && status["value"]["ready"] == true
        {
            return Ok(());
        }
        tokio::time::sleep(STATUS_INTERVAL).await;
    }
    Err(BrowserError::Driver(format!(
        "{status_url} did not answer ready after {STATUS_TRIES} tries"
    )))
}

/// The workspace's target folder: `CARGO_TARGET_DIR` (relative to the workspace root when
/// relative), else `target/` beside the workspace's `Cargo.toml`.
fn target_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let workspace = workspace.canonicalize().unwrap_or(workspace);
    match std::env::var_os("CARGO_TARGET_DIR").filter(|value| !value.is_empty()) {
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    }
}
