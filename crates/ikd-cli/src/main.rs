//! `ikd`: the command line of the IKD platform.
//!
//! Results and data go to stdout (or `--out`); diagnostics, logs and progress
//! bars go to stderr.

mod commands;
mod common;

use clap::{Parser, Subcommand};

use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ikd",
    version,
    about = "Indeks Kompetensi Digital: instruments, plugins and scoring"
)]
struct Cli {
    #[command(flatten)]
    plugins: common::PluginArgs,
    /// Log filter (e.g. `info`, `ikd_core=debug`); also `RUST_LOG`.
    #[arg(long, global = true, default_value = "warn", env = "RUST_LOG")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check instruments against their format and the loaded plugins; exit 0 when all are valid.
    Validate(commands::validate::Args),
    /// List or lock the plugins the engine finds.
    #[command(subcommand)]
    Plugins(commands::plugins::Command),
    /// Create a new plugin crate (`ikd plugin new --kind domain|scoring-model NAME`).
    #[command(subcommand)]
    Plugin(commands::plugin::Command),
    /// Write synthetic answers drawn from a latent-trait model.
    Simulate(commands::simulate::Args),
    /// Score an answers CSV.
    Score(commands::score::Args),
    /// Measure the server under load (figures as JSON on stdout).
    #[command(subcommand)]
    Bench(commands::bench::Command),
    /// Run the gRPC server (docs/server.md).
    Serve(commands::serve::Args),
    /// Simulate a small sample of the bundled instrument, score it and print a summary.
    Demo(commands::demo::Args),
    /// Reliability of each domain's items: alpha with its interval, omega, item statistics.
    Analyze(commands::analyze::Args),
    /// Score the same answers with two models and report how far they agree.
    Compare(commands::compare::Args),
    /// Item response theory on response matrices: calibrate item parameters, score persons.
    #[command(subcommand)]
    Irt(commands::irt::Command),
    /// Calibrate IRT item parameters (PARAMS.csv for the `irt` model) from an answers CSV.
    Calibrate(commands::calibrate::Args),
    /// HTML reports: a respondent's, or an organisation unit's (with a CSV of its numbers).
    #[command(subcommand)]
    Report(commands::report::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cli.log).unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let outcome = match cli.command {
        Command::Validate(args) => commands::validate::run(&cli.plugins, args),
        Command::Plugins(cmd) => commands::plugins::run(&cli.plugins, cmd),
        Command::Plugin(cmd) => commands::plugin::run(cmd),
        Command::Simulate(args) => commands::simulate::run(&cli.plugins, args),
        Command::Score(args) => commands::score::run(&cli.plugins, args),
        Command::Demo(args) => commands::demo::run(&cli.plugins, args),
        Command::Analyze(args) => commands::analyze::run(&cli.plugins, args),
        Command::Compare(args) => commands::compare::run(&cli.plugins, args),
        Command::Irt(cmd) => commands::irt::run(cmd),
        Command::Calibrate(args) => commands::calibrate::run(&cli.plugins, args),
        Command::Report(cmd) => commands::report::run(&cli.plugins, cmd),
        Command::Serve(args) => commands::serve::run(&cli.plugins, args),
        Command::Bench(cmd) => commands::bench::run(&cli.plugins, cmd),
    };
    match outcome {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
