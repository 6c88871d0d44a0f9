//! `ikd cat`: computerized adaptive testing. `ikd cat simulate` runs a
//! simulation study (`ikd_cat::simulation`): simulated persons with known θ
//! take the adaptive test on an instrument's `irt` bank or a simulated one,
//! with the real selector and stopping rule; the report (test length, bias,
//! RMSE, correlation with the full-bank θ, conditional SE, item exposure)
//! goes to stdout as JSON, with a table on stderr, or as the table alone
//! (`--format text`). `--selector-plugin NAME` chooses the items through a
//! selector plugin's ABI instead of the built-in rule.
//! docs/adaptive.md explains the algorithms and fields.

mod bank;
mod plugin;
mod table;

use crate::common::PluginArgs;
use anyhow::{Context, Result, bail};
use ikd_cat::simulation::{StudyOptions, run_study};
use ikd_cat::{AdaptiveTest, DomainOrder, Selector, SelectorKind, Settings};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Simulation study: persons with known θ take the adaptive test; report length,
    /// bias, RMSE, correlation with the full-bank θ, conditional SE and item exposure.
    Simulate(SimulateArgs),
}

/// How the report is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// JSON on stdout, the table on stderr.
    Json,
    /// The table on stdout only.
    #[value(alias = "table")]
    Text,
}

#[derive(clap::Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    bank: bank::BankArgs,
    /// Simulated persons.
    #[arg(
        short = 'n',
        long = "persons",
        value_name = "N",
        default_value_t = 1000
    )]
    persons: usize,
    /// Seed of the persons (true θ, answers, randomesque draws); the same seed gives the
    /// same report.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// Item selection: mfi (maximum Fisher information), kl (Kullback–Leibler) or random.
    #[arg(long, value_name = "NAME", default_value = "mfi")]
    selector: SelectorKind,
    /// Choose items through this selector plugin (e.g. the bundled `mfi` or `kl`), called
    /// through the plugin ABI, instead of the built-in --selector.
    #[arg(long, value_name = "NAME", conflicts_with = "selector")]
    selector_plugin: Option<String>,
    /// Settings file (TOML, or JSON by its .json extension): the table an instrument's
    /// `[delivery.settings]` holds (an adaptive --instrument's own are the default). The
    /// options below override it.
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// Stop a domain once SE(θ) is at most this.
    #[arg(long = "se", value_name = "SE")]
    se_target: Option<f64>,
    /// Items every domain gets at least.
    #[arg(long, value_name = "N")]
    min_per_domain: Option<usize>,
    /// Items a domain gets at most.
    #[arg(long, value_name = "N")]
    max_per_domain: Option<usize>,
    /// Items of the whole test at most.
    #[arg(long, value_name = "N")]
    max_items: Option<usize>,
    /// Items every indicator gets at least.
    #[arg(long, value_name = "N")]
    min_per_indicator: Option<usize>,
    /// Items an indicator gets at most.
    #[arg(long, value_name = "N")]
    max_per_indicator: Option<usize>,
    /// Randomesque exposure control: draw the next item among the K best (1: the best).
    #[arg(long, value_name = "K")]
    randomesque: Option<usize>,
    /// sequential (one domain after the other) or interleaved (least precise domain next).
    #[arg(long, value_name = "ORDER")]
    domain_order: Option<DomainOrder>,
    /// KL selector: integrate over θ̂ ± C/√n.
    #[arg(long, value_name = "C")]
    kl_radius: Option<f64>,
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
}

pub fn run(plugins: &PluginArgs, command: Command) -> Result<ExitCode> {
    match command {
        Command::Simulate(args) => simulate(plugins, args),
    }
}

fn simulate(plugins: &PluginArgs, args: SimulateArgs) -> Result<ExitCode> {
    if args.persons == 0 {
        bail!("-n/--persons must be at least 1");
    }
    let source = args.bank.load(args.seed)?;
    let settings = settings(&args, source.declared.clone())?;
    if let Some(quadpts) = source.quadpts
        && quadpts != settings.quadpts
    {
        bail!(
            "the irt model scores on {quadpts} quadrature nodes, the settings on {}: set \
             quadpts = {quadpts} so that the adaptive θ is the reported one",
            settings.quadpts
        );
    }
    if let Some(method) = &source.method {
        eprintln!("note: the irt model scores by {method}; the adaptive test estimates θ by EAP");
    }
    let test = AdaptiveTest::new(source.bank, settings)?;
    let (selector, provenance) = match &args.selector_plugin {
        Some(name) => {
            let (selector, provenance) = plugin::selector(plugins, name, &test)?;
            (Box::new(selector) as Box<dyn Selector>, Some(provenance))
        }
        None => (args.selector.build(test.settings()), None),
    };
    let options = StudyOptions {
        persons: args.persons,
        seed: args.seed,
    };
    let started = Instant::now();
    let report = run_study(&test, selector.as_ref(), &options)?;
    let seconds = started.elapsed().as_secs_f64();
    let text = table::render(&report, &source.description, seconds);
    match args.format {
        Format::Json => {
            let mut json = serde_json::to_value(&report)?;
            json["bank"] = source.description;
            if let Some(provenance) = provenance {
                json["selector_plugin"] = provenance;
            }
            json["seconds"] = seconds.into();
            println!("{}", serde_json::to_string_pretty(&json)?);
            eprint!("{text}");
        }
        Format::Text => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The settings file, else the instrument's `[delivery.settings]`, else the defaults; with
/// the command-line options applied.
fn settings(args: &SimulateArgs, declared: Option<Settings>) -> Result<Settings> {
    let mut settings = match &args.settings {
        Some(path) => read_settings(path)?,
        None => declared.unwrap_or_default(),
    };
    if let Some(se) = args.se_target {
        settings.se_target = se;
    }
    if let Some(n) = args.min_per_domain {
        settings.min_items_per_domain = n;
    }
    if args.max_per_domain.is_some() {
        settings.max_items_per_domain = args.max_per_domain;
    }
    if args.max_items.is_some() {
        settings.max_items = args.max_items;
    }
    if let Some(n) = args.min_per_indicator {
        settings.min_items_per_indicator = n;
    }
    if args.max_per_indicator.is_some() {
        settings.max_items_per_indicator = args.max_per_indicator;
    }
    if let Some(k) = args.randomesque {
        settings.randomesque = k;
    }
    if let Some(order) = args.domain_order {
        settings.domain_order = order;
    }
    if let Some(c) = args.kl_radius {
        settings.kl_radius = c;
    }
    Ok(settings)
}

fn read_settings(path: &Path) -> Result<Settings> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let settings = if json {
        serde_json::from_str(&text).map_err(anyhow::Error::from)
    } else {
        toml::from_str(&text).map_err(anyhow::Error::from)
    };
    settings.with_context(|| format!("{}: not adaptive-test settings", path.display()))
}
