//! The `run` and `suite` commands: which servers start, in which order, one at a time.

use std::path::PathBuf;

use anyhow::Context;

use crate::cli::CommonArgs;
use crate::generator::Target;
use crate::measurement::Measurement;
use crate::report;
use crate::runs::{ScenarioName, run_scenarios};
use crate::servers::baseline::{BaselineStore, RunningBaseline};
use crate::servers::baseline_app::Synchronous;
use crate::servers::node::RunningNode;
use crate::servers::registrar::{Database, Limits, RegistrarOptions, RunningRegistrar};
use crate::session::{Session, Timing};

/// The scenarios node-oidc-provider is measured in. Not `code` or `refresh`: their setup signs
/// in through Registrar's own login and consent pages, which node-oidc-provider does not have
/// (the baseline has no authorization endpoint at all).
const NODE_SCENARIOS: [ScenarioName; 3] = [
    ScenarioName::Register,
    ScenarioName::Read,
    ScenarioName::Token,
];

/// What a command measured, with each system's configuration.
#[derive(Debug, Default)]
pub struct Results {
    pub(crate) measurements: Vec<Measurement>,
    configs: Vec<(String, String)>,
    /// Each system's peak resident memory in KiB, read before it stopped: the most over every
    /// run of that system.
    peak_rss: Vec<(String, u64)>,
}

impl Results {
    pub(crate) fn add(&mut self, session: &Session, measurements: Vec<Measurement>) {
        if !self
            .configs
            .iter()
            .any(|(system, config)| *system == session.system && *config == session.config)
        {
            self.configs
                .push((session.system.clone(), session.config.clone()));
        }
        self.measurements.extend(measurements);
    }

    /// Records `system`'s peak resident memory, keeping the largest seen.
    pub(crate) fn add_peak_rss(&mut self, system: &str, kib: Option<u64>) {
        let Some(kib) = kib else {
            return;
        };
        match self.peak_rss.iter_mut().find(|(name, _)| name == system) {
            Some((_, peak)) => *peak = (*peak).max(kib),
            None => self.peak_rss.push((system.to_owned(), kib)),
        }
    }

    /// The report, as a Markdown table or plain lines, then each system's peak memory.
    pub fn render(&self, markdown: bool) -> String {
        let mut out = match markdown {
            true => report::markdown(&self.measurements, &self.configs),
            false => report::plain(&self.measurements, &self.configs),
        };
        out.push_str(&report::peak_rss(&self.peak_rss, markdown));
        out
    }
}

pub(crate) fn timing(common: &CommonArgs) -> Timing {
    Timing {
        warm_up: common.warm_up,
        measure: common.duration,
    }
}

fn registrar_binary(common: &CommonArgs) -> anyhow::Result<PathBuf> {
    if let Some(path) = &common.registrar {
        return Ok(path.clone());
    }
    let here = std::env::current_exe().context("cannot find this binary")?;
    let beside = here.with_file_name("registrar");
    anyhow::ensure!(
        beside.exists(),
        "{} does not exist: build it with `cargo build --release -p registrar` or pass --registrar",
        beside.display()
    );
    Ok(beside)
}

pub(crate) fn registrar_options(
    common: &CommonArgs,
    alg: &str,
) -> anyhow::Result<RegistrarOptions> {
    Ok(RegistrarOptions {
        binary: registrar_binary(common)?,
        database: match &common.postgres {
            Some(url) => Database::Postgres(url.clone()),
            None => Database::Sqlite,
        },
        signing_alg: alg.to_owned(),
        limits: common.limits,
        pool: common.pool,
        initial_tokens: common.mint_tokens,
        pin: !common.no_pin,
    })
}

/// Starts Registrar, runs `scenarios` on it and stops it.
async fn on_registrar(
    results: &mut Results,
    options: &RegistrarOptions,
    scenarios: &[ScenarioName],
    common: &CommonArgs,
) -> anyhow::Result<()> {
    let server = RunningRegistrar::start(options).await?;
    let store = match options.database {
        Database::Sqlite => "Registrar SQLite",
        Database::Postgres(_) => "Registrar PostgreSQL",
    };
    let system = match options.limits {
        Limits::Default => store.to_owned(),
        Limits::Raised => format!("{store}, raised quotas"),
        Limits::Off => format!("{store}, limits off"),
    };
    let mut session = Session::new(
        &system,
        &server.description,
        Target {
            address: server.address,
        },
        Some(server.initial_tokens.clone()),
        options.limits == Limits::Default,
    )
    .with_user(server.user.clone());
    let label = format!("token {}", options.signing_alg);
    let measured = run_scenarios(
        &mut session,
        scenarios,
        &common.concurrency,
        timing(common),
        &label,
        Vec::new(),
    )
    .await;
    results.add_peak_rss(&system, server.peak_rss_kib());
    server.stop().await;
    results.add(&session, measured?);
    Ok(())
}

/// Starts each baseline in turn and measures registrations on it.
async fn on_baselines(results: &mut Results, common: &CommonArgs) -> anyhow::Result<()> {
    let mut stores = vec![
        BaselineStore::Sqlite(Synchronous::Full),
        BaselineStore::Sqlite(Synchronous::Normal),
    ];
    if let Some(url) = &common.postgres {
        stores.push(BaselineStore::Postgres(url.clone()));
    }
    for store in &stores {
        let server = RunningBaseline::start(store, !common.no_pin).await?;
        let mut session = Session::new(
            server.name,
            &server.description,
            Target {
                address: server.address,
            },
            None,
            false,
        );
        let measured = run_scenarios(
            &mut session,
            &[ScenarioName::Register],
            &common.concurrency,
            timing(common),
            "",
            Vec::new(),
        )
        .await;
        results.add_peak_rss(server.name, server.peak_rss_kib());
        server.stop().await;
        results.add(&session, measured?);
    }
    Ok(())
}

/// Starts node-oidc-provider signing with `alg` and runs `scenarios` on it.
async fn on_node(
    results: &mut Results,
    node_dir: &std::path::Path,
    alg: &str,
    scenarios: &[ScenarioName],
    common: &CommonArgs,
) -> anyhow::Result<()> {
    let server = RunningNode::start(node_dir, alg, !common.no_pin).await?;
    let mut session = Session::new(
        "node-oidc-provider",
        &server.description,
        Target {
            address: server.address,
        },
        None,
        false,
    );
    let measured = run_scenarios(
        &mut session,
        scenarios,
        &common.concurrency,
        timing(common),
        &format!("token {alg}"),
        Vec::new(),
    )
    .await;
    results.add_peak_rss("node-oidc-provider", server.peak_rss_kib());
    server.stop().await;
    results.add(&session, measured?);
    Ok(())
}

/// `registrar-bench run SCENARIO…`.
pub async fn run(scenarios: &[ScenarioName], common: &CommonArgs) -> anyhow::Result<Results> {
    let mut results = Results::default();
    let (baseline, registrar): (Vec<ScenarioName>, Vec<ScenarioName>) = scenarios
        .iter()
        .partition(|scenario| **scenario == ScenarioName::Baseline);
    if !registrar.is_empty() {
        match &common.url {
            Some(url) => on_url(&mut results, url, &registrar, common).await?,
            None => {
                let options = registrar_options(common, &common.alg)?;
                on_registrar(&mut results, &options, &registrar, common).await?;
            }
        }
    }
    if !baseline.is_empty() {
        on_baselines(&mut results, common).await?;
    }
    if let Some(node_dir) = &common.node_dir {
        let on_node_too: Vec<ScenarioName> = registrar
            .into_iter()
            .filter(|scenario| NODE_SCENARIOS.contains(scenario))
            .collect();
        if !on_node_too.is_empty() {
            on_node(&mut results, node_dir, &common.alg, &on_node_too, common).await?;
        }
    }
    Ok(results)
}

async fn on_url(
    results: &mut Results,
    url: &str,
    scenarios: &[ScenarioName],
    common: &CommonArgs,
) -> anyhow::Result<()> {
    let parsed = url::Url::parse(url).context("--url is not a URL")?;
    anyhow::ensure!(
        parsed.scheme() == "http",
        "--url: only plain http is supported"
    );
    let address = parsed
        .socket_addrs(|| Some(80))
        .context("--url: cannot resolve the host")?
        .into_iter()
        .next()
        .context("--url: the host has no address")?;
    let tokens = (!common.initial_tokens.is_empty()).then(|| common.initial_tokens.clone());
    let mut session = Session::new(
        "external",
        &format!("{url}, as configured there"),
        Target { address },
        tokens,
        common.rotate_sources,
    );
    let measured = run_scenarios(
        &mut session,
        scenarios,
        &common.concurrency,
        timing(common),
        "token",
        Vec::new(),
    )
    .await?;
    results.add(&session, measured);
    Ok(())
}

/// `registrar-bench suite`: every system, one at a time.
pub async fn suite(common: &CommonArgs) -> anyhow::Result<Results> {
    let mut results = Results::default();
    let sqlite = CommonArgs {
        postgres: None,
        ..common.clone()
    };
    let es256 = registrar_options(&sqlite, "ES256")?;
    on_registrar(
        &mut results,
        &es256,
        // Registrations last: under the default quotas they use up the server-wide
        // policy_registrations burst, and the pool of the other scenarios needs some of it.
        // The code and refresh flows run on Registrar only (see NODE_SCENARIOS).
        &[
            ScenarioName::Read,
            ScenarioName::Update,
            ScenarioName::Token,
            ScenarioName::Introspect,
            ScenarioName::Code,
            ScenarioName::Refresh,
            ScenarioName::Register,
        ],
        common,
    )
    .await?;
    // The default policy_registrations quota refuses a flood after its burst, so the default
    // configuration measures the refusals; registrations are measured again with the quotas
    // out of reach (every limiter check still made).
    let raised = CommonArgs {
        limits: Limits::Raised,
        ..common.clone()
    };
    if common.limits == Limits::Default {
        let options = registrar_options(
            &CommonArgs {
                postgres: None,
                ..raised.clone()
            },
            "ES256",
        )?;
        on_registrar(&mut results, &options, &[ScenarioName::Register], common).await?;
    }
    let rs256 = registrar_options(&sqlite, "RS256")?;
    on_registrar(&mut results, &rs256, &[ScenarioName::Token], common).await?;
    if common.postgres.is_some() {
        let on_postgres = match common.limits {
            Limits::Default => &raised,
            _ => common,
        };
        let postgres = registrar_options(on_postgres, "ES256")?;
        on_registrar(
            &mut results,
            &postgres,
            &[ScenarioName::Register, ScenarioName::Read],
            common,
        )
        .await?;
    }
    on_baselines(&mut results, common).await?;
    if let Some(node_dir) = &common.node_dir {
        on_node(&mut results, node_dir, "ES256", &NODE_SCENARIOS, common).await?;
        on_node(
            &mut results,
            node_dir,
            "RS256",
            &[ScenarioName::Token],
            common,
        )
        .await?;
    }
    Ok(results)
}
