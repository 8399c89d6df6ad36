//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::runs::ScenarioName;
use crate::servers::baseline_app::Synchronous;
use crate::servers::registrar::Limits;

/// A closed-loop HTTP load generator for Registrar, beside a bare baseline and
/// node-oidc-provider.
#[derive(Debug, Parser)]
#[command(name = "registrar-bench", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios on Registrar (started here, or at --url), and on node-oidc-provider with
    /// --node-dir; `baseline` runs the bare baseline servers.
    Run {
        /// Scenarios, in order.
        #[arg(required = true, value_enum)]
        scenarios: Vec<ScenarioName>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Everything in one run: Registrar on SQLite (ES256, then RS256 tokens), the baselines,
    /// Registrar and the baseline on PostgreSQL with --postgres, node-oidc-provider with
    /// --node-dir.
    Suite {
        #[command(flatten)]
        common: CommonArgs,
    },
    /// The same scenarios on a fresh Registrar holding each number of clients in turn (filler
    /// clients copied straight into its store), with the ratio between the sizes and the store's
    /// size per client.
    Scale {
        /// Scenarios, in order; register last, since its runs add clients.
        #[arg(value_enum, default_values_t = [ScenarioName::Read, ScenarioName::Token, ScenarioName::Introspect, ScenarioName::Register])]
        scenarios: Vec<ScenarioName>,
        /// Clients stored before the runs, one fresh server for each.
        #[arg(long, value_delimiter = ',', default_value = "1000,1000000")]
        stored: Vec<usize>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// The bare baseline server itself (started by `run baseline` and `suite`).
    #[command(hide = true)]
    BaselineServer {
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long)]
        database: String,
        #[arg(long, value_enum)]
        synchronous: Synchronous,
    },
}

#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Concurrent workers, each with its own keep-alive connection; a list runs each in turn.
    #[arg(short = 'c', long, value_delimiter = ',', default_value = "16,64")]
    pub concurrency: Vec<usize>,
    /// The measured window of each run.
    #[arg(short = 'd', long, value_parser = humantime::parse_duration, default_value = "10s")]
    pub duration: Duration,
    /// Time before each measured window, not counted.
    #[arg(short = 'w', long, value_parser = humantime::parse_duration, default_value = "3s")]
    pub warm_up: Duration,
    /// `tokens.signing_alg` of the started Registrar for `run token`.
    #[arg(long, default_value = "ES256", value_parser = ["ES256", "RS256"])]
    pub alg: String,
    /// Run Registrar (and the baseline) on a fresh database of this PostgreSQL server instead
    /// of a temporary SQLite file.
    #[arg(long, value_name = "URL")]
    pub postgres: Option<String>,
    /// Target a running server instead of starting one (plain http).
    #[arg(long, value_name = "URL", conflicts_with = "postgres")]
    pub url: Option<String>,
    /// Initial access tokens for registrations at --url (each used 50 times, 64 in turn).
    #[arg(long = "initial-token", value_name = "TOKEN")]
    pub initial_tokens: Vec<String>,
    /// With --url: register from rotating loopback source addresses, as against a started
    /// Registrar whose per-address limit is on.
    #[arg(long)]
    pub rotate_sources: bool,
    /// The rate limits of the started Registrar.
    #[arg(long, value_enum, default_value = "default")]
    pub limits: Limits,
    /// The `registrar` binary; default: the one beside this binary.
    #[arg(long, value_name = "PATH")]
    pub registrar: Option<PathBuf>,
    /// A folder where `npm install oidc-provider@9` ran: node-oidc-provider is then measured
    /// too, in the register, read and token scenarios.
    #[arg(long, value_name = "DIR")]
    pub node_dir: Option<PathBuf>,
    /// `database_pool.max_connections` of the started Registrar (its default, 10, when not
    /// given): the PostgreSQL pool, or SQLite's read connections beside its writer.
    #[arg(long, value_name = "N")]
    pub pool: Option<u32>,
    /// Initial access tokens minted before Registrar starts.
    #[arg(long, default_value_t = 2000)]
    pub mint_tokens: usize,
    /// Neither pin the servers to core 0 nor the generator to core 1.
    #[arg(long)]
    pub no_pin: bool,
    /// Print a Markdown table instead of plain lines.
    #[arg(long)]
    pub markdown: bool,
}
