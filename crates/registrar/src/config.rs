//! Configuration: command-line flag > environment variable > TOML file > default.

mod audit;
mod cimd;
mod lifecycle;
mod lifetimes;
mod log_format;
mod metrics;
mod outbound;
mod policies;
#[cfg(test)]
mod tests;
mod trust;
mod uris;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use registrar_core::token::SigningAlgorithm;
use registrar_core::{RegistrationMode, Settings};
use registrar_server::RateLimitConfig;
use registrar_server::outbound::FetchConfig;
use registrar_server::serve::ServeOptions;
use registrar_store::PoolOptions;
use serde::Deserialize;
use url::Url;

pub use log_format::LogFormat;
use outbound::OutboundSection;
use trust::{StatementIssuerSection, TokenIssuerSection};

/// The TOML file; unknown keys are errors, so a typo cannot silently leave a default in place.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub issuer: Option<String>,
    pub database: Option<String>,
    pub secret_key: Option<String>,
    pub scopes: Option<Vec<String>>,
    /// The scope registered for a client that sends none (RFC 7591 §2); a subset of `scopes`.
    pub default_scopes: Option<Vec<String>>,
    /// RFC 8707 resource indicators tokens may be issued for; unset, any absolute https URI.
    pub resources: Option<Vec<String>>,
    /// Lifetime of issued client secrets in seconds; 0 means they never expire.
    pub client_secret_lifetime: Option<u64>,
    #[serde(default)]
    pub registration: RegistrationSection,
    #[serde(default)]
    pub software_statement: SoftwareStatementSection,
    #[serde(default)]
    pub tokens: TokensSection,
    #[serde(default)]
    pub database_pool: DatabasePoolSection,
    #[serde(default)]
    pub cors: CorsSection,
    /// `[policies.NAME]`, kept as tables so that every error can name `policies.NAME.key`
    /// (see [`policies::section`]).
    #[serde(default)]
    pub policies: BTreeMap<String, toml::Table>,
    #[serde(default)]
    pub rate_limits: RateLimitConfig,
    /// `[outbound]`: `allow_hosts` and `extra_ca_file`.
    #[serde(default)]
    pub outbound: OutboundSection,
    #[serde(default)]
    pub log: log_format::LogSection,
    /// `[metrics]`: `listen`.
    #[serde(default)]
    pub metrics: metrics::MetricsSection,
    /// `[audit]`: `retention` and `max_refusals`.
    #[serde(default)]
    pub audit: audit::AuditSection,
    /// `[lifecycle]`: `unused_ttl` and `inactive_ttl`.
    #[serde(default)]
    pub lifecycle: lifecycle::LifecycleSection,
    /// `[cimd]`: Client ID Metadata Documents.
    #[serde(default)]
    pub cimd: cimd::CimdSection,
    /// Seconds in-flight requests may take to finish once `serve` is told to stop.
    pub shutdown_grace_period: Option<u64>,
}

/// The longest `shutdown_grace_period`: an hour.
const MAX_SHUTDOWN_GRACE_PERIOD: u64 = 3600;

/// The longest `registration.idempotency_window`: a retry comes within minutes, and a longer
/// window only keeps sealed credentials around longer.
const MAX_IDEMPOTENCY_WINDOW: u64 = 7 * 24 * 60 * 60;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabasePoolSection {
    pub max_connections: Option<u32>,
    /// Seconds a request waits for a connection before it is answered 503.
    pub acquire_timeout: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokensSection {
    /// `ES256` (default), `RS256` or `EdDSA`.
    pub signing_alg: Option<String>,
    /// Upper bound of access token lifetimes, in seconds.
    pub max_access_token_lifetime: Option<u64>,
    /// The `identity_token_lifetime` of a client that registered none, in seconds.
    pub default_identity_token_lifetime: Option<u64>,
    /// The `authorization_code_lifetime` of a client that registered none, in seconds.
    pub default_authorization_code_lifetime: Option<u64>,
    /// The `absolute_refresh_token_lifetime` of a client that registered none, in seconds.
    pub default_absolute_refresh_token_lifetime: Option<u64>,
    /// The `sliding_refresh_token_lifetime` of a client that registered none, in seconds.
    pub default_sliding_refresh_token_lifetime: Option<u64>,
    /// The `consent_lifetime` of a client that registered none, in seconds.
    pub default_consent_lifetime: Option<u64>,
    /// How long a login session lasts, in seconds.
    pub session_lifetime: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsSection {
    /// Origins (`scheme://host[:port]`) allowed to call the browser-facing endpoints; `*` for any.
    pub allowed_origins: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationSection {
    pub mode: Option<String>,
    /// The scope a bearer access token needs to register and manage clients.
    pub bearer_scope: Option<String>,
    /// Seconds a rotated registration access token stays valid.
    pub token_grace_period: Option<u64>,
    /// Seconds a registration with an `Idempotency-Key` answers retries; 0 ignores the header.
    pub idempotency_window: Option<u64>,
    /// `[[registration.trusted_token_issuers]]`: external issuers whose access tokens may carry
    /// the bearer scope.
    #[serde(default)]
    pub trusted_token_issuers: Vec<TokenIssuerSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoftwareStatementSection {
    /// `ignore` (default), `accept` or `require`.
    pub mode: Option<String>,
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: Option<u64>,
    /// `[[software_statement.trusted_issuers]]`.
    #[serde(default)]
    pub trusted_issuers: Vec<StatementIssuerSection>,
}

/// The resolved configuration every command runs with.
#[derive(Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database: String,
    pub pool: PoolOptions,
    /// Settings that were read but have no effect as configured; `serve` logs them.
    pub warnings: Vec<String>,
    pub secret_key: Option<String>,
    pub settings: Settings,
    /// `[rate_limits]`, validated; `serve` hands them to the server.
    pub rate_limits: RateLimitConfig,
    /// The outbound fetcher's `[outbound]` allow-list and extra trust roots; `serve` hands it
    /// to the server. (The allow-list is in `settings` too, for the registration rules.)
    pub fetch: FetchConfig,
    /// `None`: `pretty` on a terminal, `json` otherwise.
    pub log_format: Option<LogFormat>,
    /// Where `GET /metrics` is served; `None`: on `listen`.
    pub metrics_listen: Option<SocketAddr>,
    /// How long in-flight requests may take to finish once `serve` is told to stop.
    pub shutdown_grace: Duration,
}

// `Debug` by hand: the server secret and a password in the database URL must never reach a log
// or a panic message.
impl std::fmt::Debug for FileConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("FileConfig")
            .field("listen", &self.listen)
            .field("issuer", &self.issuer)
            .field("database", &self.database.as_deref().map(redact_database))
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Config")
            .field("listen", &self.listen)
            .field("metrics_listen", &self.metrics_listen)
            .field("database", &redact_database(&self.database))
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<redacted>"),
            )
            .field("settings", &self.settings)
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

/// `database` with any password replaced, for logs and `Debug`.
pub fn redact_database(database: &str) -> String {
    match url::Url::parse(database) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => database.to_owned(),
    }
}

/// Overrides from the command line and the environment, highest precedence first.
#[derive(Debug, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub issuer: Option<String>,
    pub database: Option<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

pub fn load(file: Option<&Path>, flags: Overrides) -> anyhow::Result<Config> {
    let file_config = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the config file {}", path.display()))?;
            toml::from_str::<FileConfig>(&text)
                .with_context(|| format!("invalid config file {}", path.display()))?
        }
        None => FileConfig::default(),
    };
    resolve(file_config, flags)
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
fn is_scope_token(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|byte| matches!(byte, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

/// `default_scopes`, checked against the resolved `scopes` and bearer scope. Left unset, the
/// built-in default keeps only the values `scopes` offers, so a configuration that narrows
/// `scopes` need not repeat itself.
fn set_default_scopes(
    settings: &mut Settings,
    configured: Option<Vec<String>>,
) -> anyhow::Result<()> {
    match configured {
        Some(default_scopes) => {
            for (index, scope) in default_scopes.iter().enumerate() {
                if default_scopes[..index].contains(scope) {
                    bail!("default_scopes: \"{scope}\" is listed twice");
                }
            }
            settings.default_scopes = default_scopes;
        }
        None => {
            let offered = settings.scopes.clone();
            settings
                .default_scopes
                .retain(|scope| offered.contains(scope));
        }
    }
    settings
        .check_default_scopes()
        .map_err(|reason| anyhow::anyhow!("{reason}"))
}

fn resolve(file: FileConfig, flags: Overrides) -> anyhow::Result<Config> {
    let listen_text = flags
        .listen
        .or_else(|| env("REGISTRAR_LISTEN"))
        .or(file.listen)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let listen: SocketAddr = listen_text.parse().with_context(|| {
        format!("listen: \"{listen_text}\" is not an address such as 127.0.0.1:8080")
    })?;
    let issuer_text = flags
        .issuer
        .or_else(|| env("REGISTRAR_ISSUER"))
        .or(file.issuer)
        .unwrap_or_else(|| format!("http://{listen}"));
    let issuer = Url::parse(&issuer_text)
        .with_context(|| format!("issuer: \"{issuer_text}\" is not a URL"))?;
    if issuer.query().is_some() || issuer.fragment().is_some() {
        bail!("issuer: \"{issuer_text}\" must not have a query or fragment");
    }
    let database = flags
        .database
        .or_else(|| env("REGISTRAR_DATABASE"))
        .or(file.database)
        .unwrap_or_else(|| "sqlite://registrar.db".to_owned());
    let mode = match env("REGISTRAR_REGISTRATION_MODE")
        .or(file.registration.mode)
        .as_deref()
    {
        None | Some("protected") => RegistrationMode::Protected,
        Some("open") => RegistrationMode::Open,
        Some(other) => bail!("registration.mode: \"{other}\" must be protected or open"),
    };
    let mut settings = Settings::new(issuer);
    settings.mode = mode;
    if let Some(scopes) = file.scopes {
        for scope in &scopes {
            if !is_scope_token(scope) {
                bail!("scopes: \"{scope}\" is not a scope value (RFC 6749 §3.3)");
            }
        }
        settings.scopes = scopes;
    }
    if let Some(bearer_scope) = file.registration.bearer_scope {
        if !is_scope_token(&bearer_scope) {
            bail!(
                "registration.bearer_scope: \"{bearer_scope}\" is not a scope value (RFC 6749 §3.3: no spaces, quotes or backslashes)"
            );
        }
        settings.bearer_scope = bearer_scope;
    }
    // The bearer scope is granted only under a policy that allows it, never as a plain scope.
    if settings.scopes.contains(&settings.bearer_scope) {
        bail!(
            "scopes: \"{}\" is registration.bearer_scope, which is never in scopes; a policy with allow_registration_scope = true grants it",
            settings.bearer_scope
        );
    }
    set_default_scopes(&mut settings, file.default_scopes)?;
    if let Some(resources) = file.resources {
        settings.resources = Some(uris::resources(resources)?);
    }
    if let Some(allowed_origins) = file.cors.allowed_origins {
        settings.cors_allowed_origins = uris::cors_origins(allowed_origins)?;
    }
    if let Some(lifetime) = file.client_secret_lifetime {
        settings.client_secret_lifetime = lifetime;
    }
    if let Some(grace) = file.registration.token_grace_period {
        settings.registration_token_grace = grace;
    }
    if let Some(window) = file.registration.idempotency_window {
        // The record keeps the client's credentials, sealed, for the whole window.
        if window > MAX_IDEMPOTENCY_WINDOW {
            bail!(
                "registration.idempotency_window: at most {MAX_IDEMPOTENCY_WINDOW} seconds (7 days), not {window}"
            );
        }
        settings.idempotency_window = window;
    }
    if let Some(name) = &file.tokens.signing_alg {
        settings.token_signing_alg = SigningAlgorithm::parse(name).with_context(|| {
            format!("tokens.signing_alg: \"{name}\" must be ES256, RS256 or EdDSA")
        })?;
    }
    if let Some(max) = file.tokens.max_access_token_lifetime {
        if max == 0 {
            bail!("tokens.max_access_token_lifetime must be at least 1 second");
        }
        settings.lifetimes.max_access_token = max;
        settings.lifetimes.default_access_token = settings.lifetimes.default_access_token.min(max);
    }
    settings.lifetimes = lifetimes::lifetimes(&file.tokens, settings.lifetimes)?;
    settings.trusted_token_issuers = trust::token_issuers(file.registration.trusted_token_issuers)?;
    settings.software_statements = trust::statement_settings(file.software_statement)?;
    settings.audit = audit::audit(file.audit)?;
    settings.lifecycle = lifecycle::lifecycle(file.lifecycle)?;
    settings.metadata_documents = cimd::cimd(file.cimd)?;
    let (outbound_allow_hosts, fetch) = outbound::outbound(file.outbound)?;
    settings.outbound_allow_hosts = outbound_allow_hosts;
    let mut warnings = Vec::new();
    // Last: policies are checked against the scopes, methods and issuers resolved above.
    settings.policies = policies::policies(file.policies, &settings, &mut warnings)?;
    file.rate_limits.validate().context("rate_limits")?;
    let mut pool = PoolOptions::default();
    if let Some(max_connections) = file.database_pool.max_connections {
        if max_connections == 0 {
            bail!("database_pool.max_connections must be at least 1");
        }
        pool.max_connections = max_connections;
    }
    if let Some(seconds) = file.database_pool.acquire_timeout {
        pool.acquire_timeout = std::time::Duration::from_secs(seconds.max(1));
    }
    let log_format = log_format::log_format(env("REGISTRAR_LOG_FORMAT"), file.log)?;
    let metrics_listen = metrics::metrics_listen(file.metrics, listen)?;
    let shutdown_grace = match file.shutdown_grace_period {
        Some(seconds) if seconds > MAX_SHUTDOWN_GRACE_PERIOD => bail!(
            "shutdown_grace_period: at most {MAX_SHUTDOWN_GRACE_PERIOD} seconds, not {seconds}"
        ),
        Some(seconds) => Duration::from_secs(seconds),
        None => ServeOptions::default().shutdown_grace,
    };
    Ok(Config {
        listen,
        database,
        pool,
        warnings,
        secret_key: env("REGISTRAR_SECRET_KEY").or(file.secret_key),
        settings,
        rate_limits: file.rate_limits,
        fetch,
        log_format,
        metrics_listen,
        shutdown_grace,
    })
}
