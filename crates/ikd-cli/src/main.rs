//! `ikd`: the command line of the IKD platform.
//!
//! Results and data go to stdout (or `--out`); diagnostics, logs and progress
//! bars go to stderr.

mod commands;
mod common;

use clap::{Parser, Subcommand};

use std::process::ExitCode;

/// The server and the bulk loader allocate many small, short-lived buffers (HTTP/2 frames,
/// protobuf messages, answer cells) across threads, where glibc's allocator spent a fifth of
/// their time. Plugins keep their own allocators: the ABI has each side free what it
/// allocated.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Log lines as `text` (coloured only on a terminal) or `json` (one object per line, for
    /// log shippers).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "IKD_LOG_FORMAT"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check instruments against their format and the loaded plugins; exit 0 when all are valid.
    Validate(commands::validate::Args),
    /// List or lock the plugins the engine finds, or create a new plugin crate
    /// (`ikd plugins new --kind domain|scoring-model NAME`).
    #[command(subcommand)]
    Plugins(commands::plugins::Command),
    /// Write synthetic answers drawn from a latent-trait model.
    Simulate(commands::simulate::Args),
    /// Score an answers CSV.
    Score(commands::score::Args),
    /// Measure the server under load (figures as JSON on stdout).
    #[command(subcommand)]
    Bench(commands::bench::Command),
    /// Operate on a server's store: load simulated results at scale, check its statistics.
    #[command(subcommand)]
    Store(commands::store::Command),
    /// Run the gRPC server (docs/server.md).
    Serve(commands::serve::Args),
    /// Invitation links for respondents, made by a running server (a CSV of links).
    Invite(commands::invite::Args),
    /// A steward's CSV of the results under a prefix, from a running server (`ExportTable`).
    Export(commands::export::Args),
    /// Bearer tokens for the server: `ikd token new --name N --role R [--org-prefix P]`.
    #[command(subcommand)]
    Token(commands::token::Command),
    /// Copy this `ikd`, its plugins and instruments into DIR/bin and DIR/share/ikd, runnable anywhere.
    Install(commands::install::Args),
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
    /// Computerized adaptive testing: `ikd cat simulate` runs a simulation study.
    #[command(subcommand)]
    Cat(commands::cat::Command),
    /// HTML reports: a respondent's, or an organisation unit's (with a CSV of its numbers).
    #[command(subcommand)]
    Report(commands::report::Command),
    /// One page on how well an instrument works on its answers: reliability, factor structure,
    /// DIF between groups, IRT item fit, information, and the items to review.
    ValidationReport(commands::validation_report::Args),
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Logs go to stderr: JSON lines, or text with colour codes only when stderr
/// is a terminal (a log file or a journal gets plain text).
fn init_logging(filter: &str, format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| "warn".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log, cli.log_format);
    let outcome = match cli.command {
        Command::Validate(args) => commands::validate::run(&cli.plugins, args),
        Command::Plugins(cmd) => commands::plugins::run(&cli.plugins, cmd),
        Command::Simulate(args) => commands::simulate::run(&cli.plugins, args),
        Command::Score(args) => commands::score::run(&cli.plugins, args),
        Command::Demo(args) => commands::demo::run(&cli.plugins, args),
        Command::Analyze(args) => commands::analyze::run(&cli.plugins, args),
        Command::Compare(args) => commands::compare::run(&cli.plugins, args),
        Command::Irt(cmd) => commands::irt::run(cmd),
        Command::Calibrate(args) => commands::calibrate::run(&cli.plugins, args),
        Command::Cat(cmd) => commands::cat::run(&cli.plugins, cmd),
        Command::Report(cmd) => commands::report::run(&cli.plugins, cmd),
        Command::ValidationReport(args) => commands::validation_report::run(&cli.plugins, args),
        Command::Store(cmd) => commands::store::run(&cli.plugins, cmd),
        Command::Serve(args) => commands::serve::run(&cli.plugins, args),
        Command::Token(cmd) => commands::token::run(cmd),
        Command::Invite(args) => commands::invite::run(args),
        Command::Export(args) => commands::export::run(args),
        Command::Install(args) => commands::install::run(&cli.plugins, args),
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
