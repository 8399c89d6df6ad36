//! Runs a list of scenarios on one session, filling the pools they need first.

use std::sync::Arc;

use crate::measurement::Measurement;
use crate::pool::PooledClient;
use crate::scenarios::{Introspect, Read, Token, Update};
use crate::session::{INTROSPECTION_PATH, Session, TOKEN_PATH, Timing};

/// The smallest pool of registered clients that read, update, token and introspect walk over.
const MIN_POOL: usize = 256;
/// Access tokens issued before the introspection runs.
const INTROSPECTED_TOKENS: usize = 256;

/// The pool registered for runs at `concurrencies`: at least one client per worker.
pub fn pool_size(concurrencies: &[usize]) -> usize {
    MIN_POOL.max(concurrencies.iter().copied().max().unwrap_or(1))
}

/// A scenario of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScenarioName {
    /// `POST /connect/dcr`, every body different.
    Register,
    /// RFC 7592 `GET` over a pool of clients.
    Read,
    /// RFC 7592 `PUT` over a pool of clients, keeping each rotated token.
    Update,
    /// `client_credentials` with `client_secret_basic`.
    Token,
    /// RFC 7662 introspection of issued tokens.
    Introspect,
    /// The bare baseline servers, registrations only.
    Baseline,
}

/// Runs `scenarios` (baseline excepted) on `session` at each concurrency; the token scenario is
/// reported as `token_label`. `pool`: clients registered already, or none to register them when
/// a scenario first needs them.
pub async fn run_scenarios(
    session: &mut Session,
    scenarios: &[ScenarioName],
    concurrencies: &[usize],
    timing: Timing,
    token_label: &str,
    mut pool: Vec<PooledClient>,
) -> anyhow::Result<Vec<Measurement>> {
    let mut measurements = Vec::new();
    for scenario in scenarios {
        // Registered just before the first scenario that needs it: node-oidc-provider's
        // memory adapter is an LRU, so registrations measured in between would evict it.
        if pool.is_empty() && !matches!(scenario, ScenarioName::Register | ScenarioName::Baseline) {
            pool = session.register_pool(pool_size(concurrencies)).await?;
        }
        for &concurrency in concurrencies {
            let measurement = match scenario {
                ScenarioName::Register => session.measure_register(concurrency, timing).await,
                ScenarioName::Read => {
                    let read = Arc::new(Read::new(pool.clone()));
                    session.measure("read", read, concurrency, timing).await
                }
                ScenarioName::Update => {
                    let update = Arc::new(Update::new(pool.clone(), concurrency));
                    let measurement = session
                        .measure("update", update.clone(), concurrency, timing)
                        .await;
                    // Later scenarios need the rotated registration access tokens.
                    if let Ok(update) = Arc::try_unwrap(update) {
                        pool = update.into_clients();
                    }
                    measurement
                }
                ScenarioName::Token => {
                    let token = Arc::new(Token::new(TOKEN_PATH, pool.clone()));
                    session
                        .measure(token_label, token, concurrency, timing)
                        .await
                }
                ScenarioName::Introspect => {
                    let tokens = session.issue_tokens(&pool, INTROSPECTED_TOKENS).await?;
                    let introspect =
                        Arc::new(Introspect::new(INTROSPECTION_PATH, pool.clone(), tokens));
                    session
                        .measure("introspect", introspect, concurrency, timing)
                        .await
                }
                ScenarioName::Baseline => continue,
            };
            measurements.push(measurement);
        }
    }
    Ok(measurements)
}
