//! The signing keys in memory, reloaded from the store now and then so that a rotation by the CLI
//! or by another instance is picked up without a restart.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use registrar_core::Services;
use registrar_core::token::{KeyRing, KeyRingConfig, SigningAlgorithm, TokenError, load_key_ring};

/// The shortest time between two reloads caused by a token signed with an unknown key.
const MIN_RELOAD_INTERVAL: i64 = 5;

/// The server's [`KeyRing`], shared by every request; [`current`](Self::current) reloads it from
/// the store once it is older than the reload interval.
#[derive(Debug)]
pub struct KeyRingCell {
    ring: RwLock<Arc<KeyRing>>,
    loaded_at: AtomicI64,
    reloading: tokio::sync::Mutex<()>,
    interval: i64,
}

/// Access tokens are signed with `tokens.signing_alg`, ID tokens with any of
/// `id_token_signing_algs` that this server can sign with; the ring keeps a key of each.
fn config(services: &Services) -> KeyRingConfig {
    let settings = services.settings();
    KeyRingConfig {
        algorithm: settings.token_signing_alg,
        id_token_algorithms: settings
            .id_token_signing_algs
            .iter()
            .filter_map(|name| SigningAlgorithm::parse(name))
            .collect(),
        max_access_token_lifetime: i64::try_from(settings.lifetimes.max_access_token)
            .unwrap_or(i64::MAX),
    }
}

async fn load(services: &Services) -> Result<KeyRing, TokenError> {
    load_key_ring(
        services.stores().signing_keys().as_ref(),
        services.cipher(),
        config(services),
        services.generator().as_ref(),
        services.clock().now(),
    )
    .await
}

impl KeyRingCell {
    /// Loads the ring from the signing key store, creating a key of each algorithm that has none
    /// (on first start, or after a configuration change); `interval` is the seconds between
    /// reloads.
    pub async fn load(services: &Services, interval: i64) -> Result<Self, TokenError> {
        let ring = load(services).await?;
        Ok(Self {
            ring: RwLock::new(Arc::new(ring)),
            loaded_at: AtomicI64::new(services.clock().now()),
            reloading: tokio::sync::Mutex::new(()),
            interval,
        })
    }

    fn snapshot(&self) -> Arc<KeyRing> {
        // A poisoned lock only means a writer panicked after replacing the Arc; the value is whole.
        match self.ring.read() {
            Ok(ring) => ring.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The current ring, reloaded first when it is older than the reload interval. A failed
    /// reload keeps the ring in memory: signing goes on while the store is briefly away.
    pub async fn current(&self, services: &Services) -> Arc<KeyRing> {
        if services.clock().now() - self.loaded_at.load(Ordering::Relaxed) >= self.interval {
            self.reload(services).await;
        }
        self.snapshot()
    }

    /// Reloads after a token named a key this instance does not know (another instance may have
    /// rotated), at most every few seconds so unknown kids cannot hammer the store.
    pub async fn reload_for_unknown_key(&self, services: &Services) -> Arc<KeyRing> {
        if services.clock().now() - self.loaded_at.load(Ordering::Relaxed) >= MIN_RELOAD_INTERVAL {
            self.reload(services).await;
        }
        self.snapshot()
    }

    async fn reload(&self, services: &Services) {
        // One reload at a time; whoever finds one running uses the ring it has.
        let Ok(_guard) = self.reloading.try_lock() else {
            return;
        };
        match load(services).await {
            Ok(ring) => {
                let ring = Arc::new(ring);
                match self.ring.write() {
                    Ok(mut slot) => *slot = ring,
                    Err(poisoned) => *poisoned.into_inner() = ring,
                }
                self.loaded_at
                    .store(services.clock().now(), Ordering::Relaxed);
            }
            Err(error) => tracing::warn!(%error, "cannot reload the signing keys"),
        }
    }
}
