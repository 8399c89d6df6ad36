//! The `registrar` binary: parses the command line and hands over to `commands`.

mod cli;
mod commands;
mod config;
mod logging;
mod secret_key;
mod users;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("registrar: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
