//! `ikd irt calibrate` and `ikd irt score`: item response theory on plain
//! response matrices, for researchers (no instrument or plugin involved).
//!
//! DATA.csv: a header of item names, one row per person, each cell a
//! category 0..K−1 or empty for a missing answer. PARAMS.csv: see
//! `ikd_irt::ItemBank`. The models, defaults and how they compare with R's
//! mirt: `docs/irt.md`.

use crate::common::Output;
use anyhow::{Context, Result};
use ikd_irt::{
    Acceleration, CALIBRATION_QUADPTS, CalibrationOptions, DEFAULT_MAX_CYCLES, DEFAULT_TOL,
    ItemBank, Method, Model, ResponseMatrix, SCORING_QUADPTS, Score, Scorer, ScoringOptions,
};
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Estimate item parameters by marginal maximum likelihood (EM); prints a JSON summary.
    Calibrate(CalibrateArgs),
    /// Estimate θ and its standard error for every person, in input order.
    Score(ScoreArgs),
}

#[derive(clap::Args)]
pub struct CalibrateArgs {
    /// rasch (one common slope), 2pl, grm or gpcm.
    #[arg(long)]
    model: Model,
    /// Converged when no parameter changes by this much in an EM cycle.
    #[arg(long, default_value_t = DEFAULT_TOL)]
    tol: f64,
    /// Give up after this many EM cycles.
    #[arg(long, default_value_t = DEFAULT_MAX_CYCLES)]
    max_cycles: usize,
    /// Quadrature nodes on [−6, 6].
    #[arg(long, default_value_t = CALIBRATION_QUADPTS)]
    quadpts: usize,
    /// EM acceleration: squarem or none (plain EM).
    #[arg(long, default_value = "squarem")]
    acceleration: Acceleration,
    /// Responses: item names in the header, a category or an empty cell per item.
    #[arg(value_name = "DATA.csv")]
    data: PathBuf,
    /// Item parameters to write (written only when calibration finishes).
    #[arg(long, value_name = "PARAMS.csv")]
    out: PathBuf,
}

#[derive(clap::Args)]
pub struct ScoreArgs {
    /// Item parameters from `ikd irt calibrate`.
    #[arg(long, value_name = "PARAMS.csv")]
    params: PathBuf,
    /// eap, map, ml or eapsum.
    #[arg(long, default_value = "eap")]
    method: Method,
    /// Quadrature nodes on [−6, 6] (EAP and EAP-sum).
    #[arg(long, default_value_t = SCORING_QUADPTS)]
    quadpts: usize,
    /// Responses: the parameter set's items in the header (any order).
    #[arg(value_name = "DATA.csv")]
    data: PathBuf,
    /// Scores to write, `theta,se` per person (default: stdout).
    #[arg(long, value_name = "SCORES.csv")]
    out: Option<PathBuf>,
}

pub fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Calibrate(args) => calibrate(args),
        Command::Score(args) => score(args),
    }
}

fn open(path: &Path) -> Result<BufReader<File>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(BufReader::with_capacity(1 << 16, file))
}

fn calibrate(args: CalibrateArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let data = ResponseMatrix::read_csv(open(&args.data)?)
        .with_context(|| format!("{}", args.data.display()))?;
    let options = CalibrationOptions {
        model: args.model,
        quadpts: args.quadpts,
        tol: args.tol,
        max_cycles: args.max_cycles,
        acceleration: args.acceleration,
    };
    let fit =
        ikd_irt::calibrate(&data, &options).with_context(|| format!("{}", args.data.display()))?;
    let mut out = Output::create(Some(&args.out))?;
    fit.bank.write_csv(&mut out)?;
    out.commit()?;
    if !fit.converged {
        eprintln!(
            "warning: not converged after {} cycles (largest change {:.3e} ≥ tol {}); the parameters are the last iterate",
            fit.cycles, fit.max_change, args.tol
        );
    }
    let mut summary = serde_json::json!({
        "model": args.model.name(),
        "loglik": fit.loglik,
        "cycles": fit.cycles,
        "converged": fit.converged,
        "max_change": fit.max_change,
        "persons": fit.persons,
        "items": fit.bank.len(),
        "patterns": fit.patterns,
        "quadpts": args.quadpts,
        "tol": args.tol,
        "acceleration": args.acceleration.name(),
        "seconds": started.elapsed().as_secs_f64(),
    });
    if let Some(a) = fit.bank.common_slope() {
        // mirt's itemtype = 'Rasch' is the same model with slope 1 and this latent variance.
        summary["common_slope"] = a.into();
        summary["rasch_latent_variance"] = (a * a).into();
    }
    println!("{summary}");
    Ok(ExitCode::SUCCESS)
}

fn score(args: ScoreArgs) -> Result<ExitCode> {
    let bank = ItemBank::read_csv(open(&args.params)?)
        .with_context(|| format!("{}", args.params.display()))?;
    let data = ResponseMatrix::read_csv_for(open(&args.data)?, &bank)
        .with_context(|| format!("{}", args.data.display()))?;
    let options = ScoringOptions {
        method: args.method,
        quadpts: args.quadpts,
        ..ScoringOptions::default()
    };
    let scorer = Scorer::new(bank, &options)?;
    let scores = score_in_parallel(&scorer, &data)?;
    let mut out = Output::create(args.out.as_deref())?;
    writeln!(out, "theta,se")?;
    for s in &scores {
        if s.is_missing() {
            writeln!(out, ",")?;
        } else {
            writeln!(out, "{:.6},{:.6}", s.theta, s.se)?;
        }
    }
    out.commit()?;
    Ok(ExitCode::SUCCESS)
}

/// Splits the persons over the cores; each part is scored as one batch.
fn score_in_parallel(scorer: &Scorer, data: &ResponseMatrix) -> Result<Vec<Score>> {
    let n = data.n_items();
    let persons = data.persons();
    let mut scores = vec![Score::MISSING; persons];
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .clamp(1, 16);
    let per_thread = persons.div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = scores
            .chunks_mut(per_thread)
            .zip(data.cells().chunks(per_thread * n))
            .enumerate()
            .map(|(part, (out, cells))| {
                scope.spawn(move || {
                    scorer.score_batch(cells, out).map_err(|err| match err {
                        // Report the person as a data line (header = line 1).
                        ikd_irt::IrtError::Category { person, item, value, max } => anyhow::anyhow!(
                            "person on data row {}: item '{item}': response {value} is not a category (0..={max})",
                            part * per_thread + person + 1
                        ),
                        other => other.into(),
                    })
                })
            })
            .collect();
        parts
            .into_iter()
            .map(|h| h.join().expect("scoring thread panicked"))
            .collect::<Result<Vec<()>>>()
    })?;
    Ok(scores)
}
