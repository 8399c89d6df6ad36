//! Configuration: command-line flag > environment variable > TOML file > default.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, bail};
use registrar_core::token::SigningAlgorithm;
use registrar_core::{RegistrationMode, Settings};
use registrar_store::PoolOptions;
use serde::Deserialize;
use url::Url;

/// The TOML file; unknown keys are errors, so a typo cannot silently leave a default in place.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub issuer: Option<String>,
    pub database: Option<String>,
    pub secret_key: Option<String>,
    pub scopes: Option<Vec<String>>,
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
}

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
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationSection {
    pub mode: Option<String>,
    pub bearer_scope: Option<String>,
    /// Seconds a rotated registration access token stays valid.
    pub token_grace_period: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoftwareStatementSection {
    pub mode: Option<String>,
}

/// The resolved configuration every command runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database: String,
    pub pool: PoolOptions,
    /// Settings that were read but have no effect yet; `serve` logs them.
    pub warnings: Vec<String>,
    pub secret_key: Option<String>,
    pub settings: Settings,
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
    match file.software_statement.mode.as_deref() {
        None | Some("ignore") => {}
        Some(other) => bail!(
            "software_statement.mode: \"{other}\" is not available yet; only ignore is supported"
        ),
    }
    let mut settings = Settings::new(issuer);
    settings.mode = mode;
    if let Some(scopes) = file.scopes {
        settings.scopes = scopes;
    }
    if let Some(lifetime) = file.client_secret_lifetime {
        settings.client_secret_lifetime = lifetime;
    }
    if let Some(grace) = file.registration.token_grace_period {
        settings.registration_token_grace = grace;
    }
    if let Some(name) = file.tokens.signing_alg {
        settings.token_signing_alg = SigningAlgorithm::parse(&name).with_context(|| {
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
    let mut warnings = Vec::new();
    if file.registration.bearer_scope.is_some() {
        warnings.push(
            "registration.bearer_scope is not supported yet: registration takes initial access tokens only"
                .to_owned(),
        );
    }
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
    Ok(Config {
        listen,
        database,
        pool,
        warnings,
        secret_key: env("REGISTRAR_SECRET_KEY").or(file.secret_key),
        settings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_and_defaults_fill_the_rest() {
        let file: FileConfig = toml::from_str(
            "listen = \"127.0.0.1:9000\"\ndatabase = \"sqlite://file.db\"\nscopes = [\"openid\"]\n[registration]\nmode = \"open\"\n",
        )
        .unwrap();
        let config = resolve(
            file,
            Overrides {
                database: Some("sqlite://flag.db".to_owned()),
                ..Overrides::default()
            },
        )
        .unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(config.database, "sqlite://flag.db");
        assert_eq!(config.settings.issuer.as_str(), "http://127.0.0.1:9000/");
        assert_eq!(config.settings.scopes, vec!["openid".to_owned()]);
        assert_eq!(config.settings.mode, RegistrationMode::Open);
        assert_eq!(config.settings.token_signing_alg, SigningAlgorithm::Es256);
    }

    #[test]
    fn settings_without_effect_yet_are_reported() {
        let file: FileConfig =
            toml::from_str("[registration]\nbearer_scope = \"registrar.configuration\"").unwrap();
        let config = resolve(file, Overrides::default()).unwrap();
        assert_eq!(config.warnings.len(), 1);
        assert!(config.warnings[0].contains("bearer_scope"));
        assert!(
            resolve(FileConfig::default(), Overrides::default())
                .unwrap()
                .warnings
                .is_empty()
        );
    }

    #[test]
    fn signing_algorithm_comes_from_the_tokens_section() {
        let file: FileConfig = toml::from_str("[tokens]\nsigning_alg = \"EdDSA\"").unwrap();
        let config = resolve(file, Overrides::default()).unwrap();
        assert_eq!(config.settings.token_signing_alg, SigningAlgorithm::EdDsa);
        let file: FileConfig = toml::from_str("[tokens]\nsigning_alg = \"HS256\"").unwrap();
        assert!(resolve(file, Overrides::default()).is_err());
    }

    #[test]
    fn typos_and_bad_values_are_errors() {
        assert!(toml::from_str::<FileConfig>("lisen = \"x\"").is_err());
        let file: FileConfig = toml::from_str("[registration]\nmode = \"wide-open\"").unwrap();
        let error = resolve(file, Overrides::default()).unwrap_err();
        assert!(error.to_string().contains("registration.mode"));
        let error = resolve(
            FileConfig::default(),
            Overrides {
                listen: Some("nowhere".to_owned()),
                ..Overrides::default()
            },
        )
        .unwrap_err();
        assert!(error.to_string().contains("listen"));
    }
}
