//! The server secret: `secret_key` / `REGISTRAR_SECRET_KEY`, or a key file created beside the
//! SQLite file on first start. It keys the credential hashes, so it lives outside the database.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const MIN_KEY_BYTES: usize = 32;

/// The secret for this configuration, creating the key file if the store is SQLite and none
/// exists yet.
pub fn load(configured: Option<&str>, database: &str) -> anyhow::Result<Vec<u8>> {
    if let Some(key) = configured {
        if key.len() < MIN_KEY_BYTES {
            bail!("secret_key must be at least {MIN_KEY_BYTES} characters");
        }
        return Ok(key.as_bytes().to_vec());
    }
    let Some(database_path) = sqlite_path(database) else {
        bail!(
            "secret_key (REGISTRAR_SECRET_KEY) is required with {}: every instance must hash credentials with the same key",
            database.split(':').next().unwrap_or("this database")
        );
    };
    load_or_create(&key_file_path(&database_path))
}

/// The file path of a `sqlite://` URL, without its query.
pub fn sqlite_path(database: &str) -> Option<PathBuf> {
    let rest = database
        .strip_prefix("sqlite://")
        .or_else(|| database.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// `registrar.db` → `registrar.key`, in the same folder.
fn key_file_path(database_path: &Path) -> PathBuf {
    database_path.with_extension("key")
}

fn load_or_create(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut key = [0u8; MIN_KEY_BYTES];
    getrandom::fill(&mut key)
        .map_err(|error| anyhow::anyhow!("the operating system's random source failed: {error}"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(URL_SAFE_NO_PAD.encode(key).as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write the key file {}", path.display()))?;
            tracing::info!(path = %path.display(), "created the secret key file");
            Ok(key.to_vec())
        }
        // Another process created it first, or it exists from an earlier start.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => read(path),
        Err(error) => {
            Err(error).with_context(|| format!("cannot create the key file {}", path.display()))
        }
    }
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the key file {}", path.display()))?;
    let key = URL_SAFE_NO_PAD
        .decode(text.trim())
        .with_context(|| format!("the key file {} is corrupt", path.display()))?;
    if key.len() < MIN_KEY_BYTES {
        bail!("the key file {} is too short", path.display());
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_once_and_then_reused() {
        let folder = tempfile::tempdir().unwrap();
        let database = format!(
            "sqlite://{}/data/registrar.db?mode=rwc",
            folder.path().display()
        );
        let first = load(None, &database).unwrap();
        let second = load(None, &database).unwrap();
        assert_eq!(first, second);
        assert!(folder.path().join("data/registrar.key").exists());
    }

    #[test]
    fn postgres_needs_a_configured_key_and_short_keys_are_refused() {
        assert!(load(None, "postgres://localhost/db").is_err());
        assert!(load(Some("short"), "postgres://localhost/db").is_err());
        let key = "k".repeat(32);
        assert_eq!(
            load(Some(&key), "postgres://localhost/db").unwrap(),
            key.as_bytes()
        );
    }
}
