//! One system under test: where it listens, how it is configured, and how pools and
//! measurements are made against it.

use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use hyper::header::HeaderValue;

use crate::connection::SourceAddresses;
use crate::generator::{self, Plan, SourcePlan, Stop, Target};
use crate::measurement::Measurement;
use crate::pool::PooledClient;
use crate::scenario::Scenario;
use crate::scenarios::{Code, HeldRefreshToken, InitialTokens, Register, TOKEN_SPREAD, Token};
use crate::sign_in::{AUTHORIZE_PATH, Credentials};
use crate::stats::Outcome;

/// Registrations per initial access token: below the default `rate_limits.initial_token`
/// burst of 60, so a token never waits for its bucket to refill.
pub const USES_PER_TOKEN: u64 = 50;
/// Requests per source address when the per-address limits are on: below the default
/// `rate_limits.registration` burst of 30.
pub const REQUESTS_PER_SOURCE: u64 = 25;
/// Concurrency of the setup runs that fill pools.
const SETUP_CONCURRENCY: usize = 8;

/// The registration endpoint of every system (node-oidc-provider is configured to match).
pub const REGISTRATION_PATH: &str = "/connect/dcr";
/// The token endpoint.
pub const TOKEN_PATH: &str = "/connect/token";
/// The introspection endpoint.
pub const INTROSPECTION_PATH: &str = "/connect/introspect";

/// The scope of the measured code flows: an OpenID request, so each exchange also signs an ID
/// token, and gets no refresh token (OIDC Core §11: that needs `offline_access`).
pub const CODE_SCOPE: &str = "openid profile";
/// The scope of the code flows that get the refresh scenario's tokens: a plain OAuth request,
/// which gets a refresh token whenever the client registered the grant. The consent given for
/// [`CODE_SCOPE`] covers it.
pub const REFRESH_SCOPE: &str = "profile";

/// Warm-up and measured window of a timed run.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Not counted.
    pub warm_up: Duration,
    /// Counted.
    pub measure: Duration,
}

/// A system under test.
#[derive(Debug)]
pub struct Session {
    /// Its name in the report.
    pub system: String,
    /// Its configuration, for the report.
    pub config: String,
    target: Target,
    tokens: Option<Vec<String>>,
    rotate_sources: bool,
    run: String,
    next_body: u64,
    next_token: usize,
    setup_sources: Arc<SourceAddresses>,
    sources: Arc<SourceAddresses>,
    user: Option<Credentials>,
}

impl Session {
    /// A system at `target`. `tokens`: initial access tokens for registrations, when it wants
    /// them; `rotate_sources`: whether its per-address registration limit is on, so
    /// registrations come from distinct loopback addresses.
    pub fn new(
        system: &str,
        config: &str,
        target: Target,
        tokens: Option<Vec<String>>,
        rotate_sources: bool,
    ) -> Self {
        Self {
            system: system.to_owned(),
            config: config.to_owned(),
            target,
            tokens,
            rotate_sources,
            run: crate::bodies::run_tag(),
            next_body: 0,
            next_token: 0,
            // Setup from 127.1.x.y, measurements from 127.2.x.y on.
            setup_sources: Arc::new(SourceAddresses::starting_at(1)),
            sources: Arc::new(SourceAddresses::starting_at(2)),
            user: None,
        }
    }

    /// The user of the login page that the code and refresh scenarios sign in as.
    pub fn with_user(mut self, user: Credentials) -> Self {
        self.user = Some(user);
        self
    }

    /// Registrations taking the next unused initial access tokens.
    fn register_scenario(&self) -> Register {
        let tokens = self.tokens.as_ref().map(|tokens| InitialTokens {
            tokens: tokens.get(self.next_token..).unwrap_or_default().to_vec(),
            uses_per_token: USES_PER_TOKEN,
        });
        Register::new(REGISTRATION_PATH, &self.run, self.next_body, tokens)
    }

    /// Counts what a registration run used, so the next starts with fresh tokens and bodies.
    fn registered(&mut self, issued: u64) {
        self.next_body += issued;
        let blocks = issued.div_ceil(USES_PER_TOKEN * TOKEN_SPREAD);
        self.next_token += (blocks * TOKEN_SPREAD) as usize;
    }

    fn source_plan(&self, addresses: &Arc<SourceAddresses>) -> Option<SourcePlan> {
        self.rotate_sources.then(|| SourcePlan {
            addresses: Arc::clone(addresses),
            requests_per_source: REQUESTS_PER_SOURCE,
        })
    }

    /// Registers `count` clients outside any measurement.
    pub async fn register_pool(&mut self, count: usize) -> anyhow::Result<Vec<PooledClient>> {
        let register = Arc::new(self.register_scenario().keeping(SETUP_CONCURRENCY));
        let plan = Plan {
            concurrency: SETUP_CONCURRENCY,
            stop: Stop::Requests(count as u64),
            sources: self.source_plan(&self.setup_sources),
        };
        let outcome = generator::run(&self.target, register.clone(), &plan).await;
        let Ok(register) = Arc::try_unwrap(register) else {
            unreachable!("the workers have ended");
        };
        self.registered(register.issued());
        let clients = register.into_clients();
        if outcome.is_flagged() || clients.len() != count {
            let hint = match outcome.tally.statuses.contains_key(&429) {
                true => {
                    " (the default policy_registrations quota, 600 a minute for the whole server, may have been used up by an earlier register run: put register last, or pass --limits raised)"
                }
                false => "",
            };
            bail!(
                "{}: registering the pool of {count} clients failed: {}{hint}",
                self.system,
                outcome.statuses()
            );
        }
        Ok(clients)
    }

    /// Issues `count` access tokens to `clients` outside any measurement.
    pub async fn issue_tokens(
        &self,
        clients: &[PooledClient],
        count: usize,
    ) -> anyhow::Result<Vec<String>> {
        let token = Arc::new(Token::new(TOKEN_PATH, clients.to_vec()).keeping());
        let plan = Plan {
            concurrency: SETUP_CONCURRENCY,
            stop: Stop::Requests(count as u64),
            sources: None,
        };
        let outcome = generator::run(&self.target, token.clone(), &plan).await;
        let Ok(token) = Arc::try_unwrap(token) else {
            unreachable!("the workers have ended");
        };
        let tokens = token.into_tokens();
        if outcome.is_flagged() || tokens.len() != count {
            bail!(
                "{}: issuing {count} tokens failed: {}",
                self.system,
                outcome.statuses()
            );
        }
        Ok(tokens)
    }

    /// Signs the session's user in through the login page and consents once to each of
    /// `clients` for [`CODE_SCOPE`], outside any measurement; returns the `Cookie` value of the
    /// signed-in browser.
    pub async fn sign_in(&self, clients: &[PooledClient]) -> anyhow::Result<HeaderValue> {
        let Some(user) = &self.user else {
            bail!(
                "{}: the code and refresh scenarios need a user of the login page; only a Registrar started here has one",
                self.system
            );
        };
        crate::sign_in::sign_in(&self.target, user, clients, CODE_SCOPE)
            .await
            .map_err(|error| error.context(format!("{}: signing in failed", self.system)))
    }

    /// Gets `count` refresh tokens through code flows for [`REFRESH_SCOPE`] by the browser
    /// whose `cookie` [`Session::sign_in`] returned, outside any measurement.
    pub async fn issue_refresh_tokens(
        &self,
        clients: &[PooledClient],
        cookie: &HeaderValue,
        count: usize,
    ) -> anyhow::Result<Vec<HeldRefreshToken>> {
        let code = Arc::new(
            Code::new(
                AUTHORIZE_PATH,
                TOKEN_PATH,
                clients,
                REFRESH_SCOPE,
                cookie.clone(),
                SETUP_CONCURRENCY,
            )
            .keeping_refresh_tokens(),
        );
        // Two requests a flow, and a worker may stop between the two of its last flow: one
        // flow more per worker makes `count` whole flows.
        let requests = 2 * (count + SETUP_CONCURRENCY);
        let plan = Plan {
            concurrency: SETUP_CONCURRENCY,
            stop: Stop::Requests(requests as u64),
            sources: None,
        };
        let outcome = generator::run(&self.target, code.clone(), &plan).await;
        let Ok(code) = Arc::try_unwrap(code) else {
            unreachable!("the workers have ended");
        };
        let mut tokens = code.into_refresh_tokens();
        if outcome.is_flagged() || tokens.len() < count {
            bail!(
                "{}: getting {count} refresh tokens through code flows failed ({} got): {}",
                self.system,
                tokens.len(),
                outcome.statuses()
            );
        }
        tokens.truncate(count);
        Ok(tokens)
    }

    /// Measures registrations at `concurrency`.
    pub async fn measure_register(&mut self, concurrency: usize, timing: Timing) -> Measurement {
        let register = Arc::new(self.register_scenario());
        let plan = Plan {
            concurrency,
            stop: timed(timing),
            sources: self.source_plan(&self.sources),
        };
        let outcome = generator::run(&self.target, register.clone(), &plan).await;
        self.registered(register.issued());
        self.measurement("register", concurrency, outcome)
    }

    /// Measures `scenario`, named `name`, at `concurrency`, over one keep-alive connection per
    /// worker.
    pub async fn measure(
        &self,
        name: &str,
        scenario: Arc<dyn Scenario>,
        concurrency: usize,
        timing: Timing,
    ) -> Measurement {
        let plan = Plan {
            concurrency,
            stop: timed(timing),
            sources: None,
        };
        let outcome = generator::run(&self.target, scenario, &plan).await;
        self.measurement(name, concurrency, outcome)
    }

    fn measurement(&self, scenario: &str, concurrency: usize, outcome: Outcome) -> Measurement {
        let measurement = Measurement {
            system: self.system.clone(),
            scenario: scenario.to_owned(),
            concurrency,
            outcome,
        };
        // Progress on stderr, so a long suite shows where it is.
        eprintln!("{}", crate::report::line(&measurement));
        measurement
    }
}

fn timed(timing: Timing) -> Stop {
    Stop::Timed {
        warm_up: timing.warm_up,
        measure: timing.measure,
    }
}
