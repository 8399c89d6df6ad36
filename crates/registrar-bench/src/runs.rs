//! Runs a list of scenarios on one session, filling the pools they need first.

use std::sync::Arc;

use crate::measurement::Measurement;
use crate::pool::PooledClient;
use crate::scenarios::{Code, Introspect, Read, Refresh, Token, Update};
use crate::session::{CODE_SCOPE, INTROSPECTION_PATH, Session, TOKEN_PATH, Timing};
use crate::sign_in::AUTHORIZE_PATH;

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
    /// The authorization code flow with PKCE, each flow two requests: a silent authorization
    /// request by a signed-in user with remembered consent, and the code's exchange. Registrar
    /// only.
    Code,
    /// `refresh_token` with `client_secret_basic`, keeping each rotated token. Registrar only.
    Refresh,
    /// The bare baseline servers, registrations only.
    Baseline,
}

/// The report's name of the code scenario: its req/s count both requests, so flows per second
/// are half of them.
pub const CODE_LABEL: &str = "code (authorize + exchange)";

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
    let mut cookie = None;
    let mut refresh_tokens = Vec::new();
    for scenario in scenarios {
        // Registered just before the first scenario that needs it: node-oidc-provider's
        // memory adapter is an LRU, so registrations measured in between would evict it.
        if pool.is_empty() && !matches!(scenario, ScenarioName::Register | ScenarioName::Baseline) {
            pool = session.register_pool(pool_size(concurrencies)).await?;
        }
        // One sign-in, with consent to every pooled client, for both flows.
        if cookie.is_none() && matches!(scenario, ScenarioName::Code | ScenarioName::Refresh) {
            cookie = Some(session.sign_in(&pool).await?);
        }
        if let (ScenarioName::Refresh, Some(cookie)) = (scenario, &cookie)
            && refresh_tokens.is_empty()
        {
            // One token a pooled client, at least one a worker: each worker owns its own.
            refresh_tokens = session
                .issue_refresh_tokens(&pool, cookie, pool.len())
                .await?;
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
                ScenarioName::Code => {
                    let Some(cookie) = &cookie else {
                        unreachable!("signed in above");
                    };
                    let code = Arc::new(Code::new(
                        AUTHORIZE_PATH,
                        TOKEN_PATH,
                        &pool,
                        CODE_SCOPE,
                        cookie.clone(),
                        concurrency,
                    ));
                    session.measure(CODE_LABEL, code, concurrency, timing).await
                }
                ScenarioName::Refresh => {
                    let refresh = Arc::new(Refresh::new(
                        TOKEN_PATH,
                        std::mem::take(&mut refresh_tokens),
                        concurrency,
                    ));
                    let measurement = session
                        .measure("refresh", refresh.clone(), concurrency, timing)
                        .await;
                    // The next concurrency needs the rotated tokens.
                    if let Ok(refresh) = Arc::try_unwrap(refresh) {
                        refresh_tokens = refresh.into_tokens();
                    }
                    measurement
                }
                ScenarioName::Baseline => continue,
            };
            measurements.push(measurement);
        }
    }
    Ok(measurements)
}
