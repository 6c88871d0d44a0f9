//! `ikd store`: operations on a server's store from the command line.
//!
//! * `load-simulated`: the scale test bed. Simulated respondents (the latent-trait model of
//!   `ikd simulate`), scored in batches by the real engine exactly as `SubmitSession` scores
//!   one, go straight into the store as submitted sessions ([`ikd_store::bulk`]): no server,
//!   no gRPC, `COPY` on PostgreSQL. Units follow the Kemendagri pattern (`64.72/diskominfo`),
//!   submissions are spread evenly over the last `--days` days, in the order they are
//!   loaded: rows lie in the tables in time order, as a server's do (sessions are stored as
//!   they start, minutes before their submit). Loaded in random time order, an export of 1M
//!   results read its rows at random: 34–38k rows/s, against 45–48k in time order (61–65k
//!   scores only).
//! * `check-stats`: recomputes every per-unit statistic from the results and compares.

use crate::common::{PluginArgs, load_instrument, progress};
use anyhow::{Context, Result, bail};
use ikd_core::answers::AnswerRows;
use ikd_core::pipeline::{Scorer, ScorerOptions};
use ikd_core::simulate::Simulation;
use ikd_server::records::{IndicatorScorer, indicator_scores, new_result};
use ikd_server::secret::Pseudonymizer;
use ikd_store::NewResult;
use ikd_store::bulk::{BulkLoader, BulkResult};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Load N simulated, scored, submitted results straight into a store (bulk insert;
    /// `COPY` on PostgreSQL), then add them to its per-unit statistics. Figures as JSON on
    /// stdout.
    LoadSimulated(LoadArgs),
    /// Recompute every per-unit statistic from the stored results and compare; exit 1 when
    /// one differs (each difference on stderr).
    CheckStats(CheckArgs),
    /// Replace every per-unit statistic by its value recomputed from the stored results
    /// (after a load that was cut short, or a difference `check-stats` found).
    RebuildStats(CheckArgs),
}

#[derive(clap::Args)]
pub struct LoadArgs {
    /// The store: `postgres://…` or `sqlite://FILE` (created and migrated if new).
    #[arg(
        long,
        env = "IKD_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    database_url: String,
    /// Instrument file or bundled instrument id.
    #[arg(long, default_value = "ikd-asn-2025", value_name = "PATH|ID")]
    instrument: String,
    /// Results to load.
    #[arg(short = 'n', long = "results", value_name = "N")]
    results: u64,
    /// Organisation units the respondents are spread over (`64.72/diskominfo`, …).
    #[arg(long, default_value_t = 2000, value_name = "K")]
    units: usize,
    /// Submissions are spread evenly over the last D days (UTC), in the order loaded.
    #[arg(long, default_value_t = 30, value_name = "D")]
    days: u32,
    /// Random seed of the answers, units and times (the session ids and pseudonyms are new
    /// at every run, so two runs add two populations).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Results per transaction (and per scoring batch).
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// The store: `postgres://…` or `sqlite://FILE`.
    #[arg(
        long,
        env = "IKD_DATABASE_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    database_url: String,
}

pub fn run(plugins: &PluginArgs, command: Command) -> Result<ExitCode> {
    match command {
        Command::LoadSimulated(args) => load_simulated(plugins, args),
        Command::CheckStats(args) => check_stats(args),
        Command::RebuildStats(args) => rebuild_stats(args),
    }
}

/// Province codes (Kemendagri) the units are spread over; `64` first, so that unit 0 is
/// `64.72/diskominfo` (Kota Samarinda), the example.
const PROVINCES: [&str; 38] = [
    "64", "11", "12", "13", "14", "15", "16", "17", "18", "19", "21", "31", "32", "33", "34", "35",
    "36", "51", "52", "53", "61", "62", "63", "65", "71", "72", "73", "74", "75", "76", "81", "82",
    "91", "92", "93", "94", "95", "96",
];

/// Agencies of a local government.
const AGENCIES: [&str; 12] = [
    "diskominfo",
    "bkpsdm",
    "dinkes",
    "bappeda",
    "disdukcapil",
    "dinsos",
    "dispendik",
    "dpmptsp",
    "bpkad",
    "dishub",
    "setda",
    "inspektorat",
];

/// `k` units `PP.RR/agency`: twelve agencies per local government, local governments
/// numbered from 72 within each province, provinces in turn.
pub(crate) fn org_units(k: usize) -> Vec<String> {
    (0..k)
        .map(|u| {
            let (agency, government) = (u % AGENCIES.len(), u / AGENCIES.len());
            let province = PROVINCES[government % PROVINCES.len()];
            let regency = 72 + government / PROVINCES.len();
            format!("{province}.{regency:02}/{}", AGENCIES[agency])
        })
        .collect()
}

const DAY_MS: i64 = 86_400_000;

/// Batches written at once on PostgreSQL.
const WRITERS: usize = 2;

fn load_simulated(plugins: &PluginArgs, args: LoadArgs) -> Result<ExitCode> {
    if args.units == 0 || args.days == 0 || args.batch == 0 {
        bail!("--units, --days and --batch must be at least 1");
    }
    let host = plugins.host()?;
    let instrument = load_instrument(&args.instrument)?;
    let scorer = Scorer::new(instrument.clone(), &host, &ScorerOptions::default())?;
    let simulation = Simulation {
        org_units: org_units(args.units),
        ..Simulation::new(args.results, args.seed)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let loader = runtime
        .block_on(BulkLoader::open(&args.database_url))
        .context("opening the store")?;
    let backend = loader.backend();
    // PostgreSQL takes batches on several connections at once (each backend process uses a
    // core of its own); SQLite has one writer.
    let writers = if backend == "postgres" { WRITERS } else { 1 };
    // Scoring here while earlier batches are written.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<BulkResult>>(writers);
    let writer = runtime.spawn(async move {
        let loader = std::sync::Arc::new(loader);
        let mut in_flight = tokio::task::JoinSet::new();
        let joined = |done: Result<Result<(), ikd_store::StoreError>, tokio::task::JoinError>| {
            done.map_err(|e| anyhow::anyhow!("a store writer ended abnormally: {e}"))?
                .map_err(anyhow::Error::from)
        };
        while let Some(batch) = rx.recv().await {
            if in_flight.len() >= writers
                && let Some(done) = in_flight.join_next().await
            {
                joined(done)?;
            }
            let loader = std::sync::Arc::clone(&loader);
            in_flight.spawn(async move { loader.insert(&batch).await });
        }
        while let Some(done) = in_flight.join_next().await {
            joined(done)?;
        }
        std::sync::Arc::into_inner(loader)
            .ok_or_else(|| anyhow::anyhow!("a store writer is still running"))
    });

    let started = Instant::now();
    let bar = progress(Some(args.results), "loading");
    let pseudonyms = Pseudonymizer::new(rand::random::<[u8; 32]>().to_vec());
    let mut rng = StdRng::seed_from_u64(args.seed ^ 0x1d5c_a1e5);
    let now = now_ms();
    let window = i64::from(args.days) * DAY_MS;
    let item_ids: Vec<&str> = instrument.items.iter().map(|i| i.id.as_str()).collect();
    let indicators = IndicatorScorer::new(&scorer);
    let mut loaded = 0u64;
    // Result i is submitted in the i-th of `results` equal slots of the window.
    let slot = window as f64 / args.results as f64;
    let simulated = simulation.run::<anyhow::Error>(&scorer, args.batch, |rows| {
        let (scored, items) = scorer
            .score_with_item_scores(rows)
            .context("scoring a simulated batch")?;
        let batch: Vec<BulkResult> = scored
            .iter()
            .enumerate()
            .map(|(r, result)| {
                let i = (loaded + r as u64) as f64;
                let submitted_at = now - window + ((i + rng.random::<f64>()) * slot) as i64;
                let seconds = rows.durations[r].unwrap_or(0.0);
                BulkResult {
                    session_id: uuid_v4(&mut rand::rng()),
                    instrument_id: instrument.id.clone(),
                    instrument_version: instrument.version.to_string(),
                    instrument_sha256: instrument.sha256.clone(),
                    respondent_key: pseudonyms.pseudonym(&rows.respondent_ids[r]),
                    org_unit: rows.org_units[r].clone(),
                    created_at: submitted_at - (seconds * 1000.0) as i64,
                    submitted_at,
                    answers: answered(rows, r, &item_ids),
                    result: NewResult {
                        indicators: indicator_scores(&indicators, &items, r),
                        ..new_result(&scorer, result)
                    },
                }
            })
            .collect();
        loaded += batch.len() as u64;
        bar.inc(batch.len() as u64);
        tx.blocking_send(batch)
            .map_err(|_| anyhow::anyhow!("the store writer stopped"))
    });
    drop(tx);
    let written = runtime.block_on(writer).context("store writer")?;
    // The writer's error, if any, says more than the simulation's "writer stopped".
    let loader = written.context("loading into the store")?;
    simulated?;
    bar.finish_and_clear();
    let loaded = started.elapsed();
    let finishing = Instant::now();
    let summary = runtime
        .block_on(loader.finish())
        .context("applying the re-taking rule and rebuilding the statistics")?;
    let finished = finishing.elapsed();
    let total = started.elapsed();
    let report = serde_json::json!({
        "backend": backend,
        "instrument": format!("{}@{}", instrument.id, instrument.version),
        "results": args.results,
        "units": args.units,
        "days": args.days,
        "seed": args.seed,
        "load_seconds": loaded.as_secs_f64(),
        "finish_seconds": finished.as_secs_f64(),
        "total_seconds": total.as_secs_f64(),
        "results_per_second": args.results as f64 / total.as_secs_f64(),
        "superseded": summary.superseded,
        "stats_rows": summary.stats_rows,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}

/// The non-empty cells of respondent `r`, by item id: what their saves stored (an empty
/// cell is an item left unanswered).
fn answered(rows: &AnswerRows, r: usize, item_ids: &[&str]) -> Vec<(String, String)> {
    item_ids
        .iter()
        .enumerate()
        .filter(|(i, _)| !rows.cell(r, *i).is_empty())
        .map(|(i, id)| ((*id).to_owned(), rows.cell(r, i).to_owned()))
        .collect()
}

/// A random UUID v4, lower-case hyphenated, as the store makes session ids.
fn uuid_v4(rng: &mut impl Rng) -> String {
    let mut b: [u8; 16] = rng.random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

fn check_stats(args: CheckArgs) -> Result<ExitCode> {
    on_store(&args.database_url, async |store| {
        let check = store.check_stats().await?;
        for problem in &check.problems {
            eprintln!("{problem}");
        }
        println!(
            "{}",
            serde_json::json!({
                "rows_compared": check.rows_compared,
                "problems": check.problems.len(),
            })
        );
        Ok(if check.problems.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    })
}

fn rebuild_stats(args: CheckArgs) -> Result<ExitCode> {
    on_store(&args.database_url, async |store| {
        let rows = store.rebuild_stats().await?;
        println!("{}", serde_json::json!({ "rows_written": rows }));
        Ok(ExitCode::SUCCESS)
    })
}

/// Runs `run` on the store at `url` (opened and migrated), then closes it.
fn on_store(
    url: &str,
    run: impl AsyncFnOnce(&dyn ikd_store::Store) -> Result<ExitCode>,
) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = ikd_store::open(url).await.context("opening the store")?;
        let outcome = run(&*store).await;
        store.close().await;
        outcome
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_follow_the_kemendagri_pattern() {
        let units = org_units(500);
        assert_eq!(units[0], "64.72/diskominfo");
        assert_eq!(units[1], "64.72/bkpsdm");
        assert_eq!(units[12], "11.72/diskominfo");
        assert_eq!(units[12 * 38], "64.73/diskominfo");
        let distinct: std::collections::BTreeSet<_> = units.iter().collect();
        assert_eq!(distinct.len(), units.len());
    }

    #[test]
    fn session_ids_are_uuid_v4() {
        let id = uuid_v4(&mut StdRng::seed_from_u64(1));
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
    }
}
