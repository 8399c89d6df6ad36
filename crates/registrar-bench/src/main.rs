//! The `registrar-bench` binary: pins itself to its core, then runs the command on one thread.

use clap::Parser as _;
use registrar_bench::cli::{Cli, Command};
use registrar_bench::runs::ScenarioName;
use registrar_bench::servers::{baseline_app, process};
use registrar_bench::{scale, suite};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let pin = match &cli.command {
        Command::Run { common, .. } | Command::Suite { common } | Command::Scale { common, .. } => {
            !common.no_pin
        }
        // The baseline server is started under `taskset` by the generator.
        Command::BaselineServer { .. } => false,
    };
    if pin
        && !core_affinity::set_for_current(core_affinity::CoreId {
            id: process::GENERATOR_CORE,
        })
    {
        eprintln!(
            "error: cannot pin the generator to core {}",
            process::GENERATOR_CORE
        );
        return std::process::ExitCode::FAILURE;
    }
    // One thread: the generator has one core, and the baseline server is pinned to one.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // On SIGINT or SIGTERM the command's future is dropped, and with it the servers it
    // started (their processes are killed on drop).
    let interrupted = async {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result?,
            _ = terminate.recv() => {}
        }
        anyhow::Ok(())
    };
    let outcome = runtime.block_on(async {
        tokio::select! {
            outcome = run(cli) => outcome,
            signal = interrupted => {
                signal?;
                Err(anyhow::anyhow!("interrupted; the servers it started are stopped"))
            }
        }
    });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let (results, markdown) = match cli.command {
        Command::Run { scenarios, common } => {
            (suite::run(&scenarios, &common).await?, common.markdown)
        }
        Command::Suite { common } => (suite::suite(&common).await?, common.markdown),
        Command::Scale {
            scenarios,
            stored,
            common,
        } => {
            anyhow::ensure!(
                !scenarios.contains(&ScenarioName::Baseline) && common.url.is_none(),
                "scale runs Registrar itself: no baseline, no --url"
            );
            let results = scale::scale(&stored, &scenarios, &common).await?;
            print!("{}", results.render(common.markdown));
            return Ok(());
        }
        Command::BaselineServer {
            listen,
            database,
            synchronous,
        } => return baseline_app::serve(listen, &database, synchronous).await,
    };
    print!("{}", results.render(markdown));
    Ok(())
}
