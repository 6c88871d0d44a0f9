//! `ikd irt calibrate` and `ikd irt score`: item response theory on plain
//! response matrices, for researchers (no instrument or plugin involved).
//!
//! DATA.csv: a header of item names, one row per person, each cell a
//! category 0..K−1 or empty for a missing answer; for `score`, a first
//! column whose name is not an item of the parameter set is the persons' id
//! and is carried to SCORES.csv. PARAMS.csv: see `ikd_irt::ItemBank`; the
//! calibration writes the standard errors too (`--se`). The models,
//! defaults and how they compare with R's mirt: `docs/irt.md`.

use crate::common::Output;
use anyhow::{Context, Result};
use ikd_irt::{
    Acceleration, CALIBRATION_QUADPTS, CalibrationOptions, DEFAULT_MAX_CYCLES, DEFAULT_TOL,
    GuessingPrior, InformationCriteria, ItemBank, ItemErrors, Method, Model, ResponseMatrix,
    SCORING_QUADPTS, Score, Scorer, ScoringOptions, SeMethod,
};
use std::fs::File;
use std::io::BufReader;
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
    /// rasch (one common slope), 2pl, 3pl (keyed multiple-choice items), grm or gpcm.
    #[arg(long)]
    model: Model,
    /// 3pl only: the number of answer choices of the multiple-choice items;
    /// the lower asymptote g gets BILOG-MG's prior
    /// Beta(20/m + 1, 20(1 − 1/m) + 1), whose mode is 1/m.
    #[arg(long, value_name = "M", default_value_t = 4)]
    choices: usize,
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
    /// Standard errors of the item parameters in PARAMS.csv (`se_a,se_d1..`):
    /// from the observed information, the cross-product of scores, or none.
    #[arg(long, value_enum, value_name = "METHOD", default_value = "observed")]
    se: SeArg,
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
    /// Responses: the parameter set's items in the header (any order),
    /// optionally after a first column of person ids.
    #[arg(value_name = "DATA.csv")]
    data: PathBuf,
    /// Scores to write, `<id column>,theta,se` per person (default: stdout);
    /// the id column is DATA.csv's first column when that is not an item,
    /// else `row`, the person's row number (1 = first data row).
    #[arg(long, value_name = "SCORES.csv")]
    out: Option<PathBuf>,
}

/// `--se`: which information matrix the standard errors come from, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SeArg {
    /// The observed information (exact; mirt's default `SE.type = 'Oakes'`).
    #[value(alias = "oakes")]
    Observed,
    /// The cross-product of the per-pattern scores (mirt's `'crossprod'`).
    Crossprod,
    /// No standard errors: PARAMS.csv without `se_` columns.
    None,
}

impl SeArg {
    pub fn method(self) -> Option<SeMethod> {
        match self {
            SeArg::Observed => Some(SeMethod::Observed),
            SeArg::Crossprod => Some(SeMethod::CrossProduct),
            SeArg::None => None,
        }
    }

    pub fn name(self) -> &'static str {
        self.method().map_or("none", SeMethod::name)
    }
}

/// Adds the fit's `loglik`, `parameters` (free), `aic`, `bic` and `sabic` to a JSON summary.
pub fn criteria_json(summary: &mut serde_json::Value, c: &InformationCriteria) {
    summary["loglik"] = c.loglik.into();
    summary["parameters"] = c.parameters.into();
    summary["aic"] = c.aic.into();
    summary["bic"] = c.bic.into();
    summary["sabic"] = c.sabic.into();
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
        guessing_prior: GuessingPrior::for_options(args.choices)?,
    };
    let fit =
        ikd_irt::calibrate(&data, &options).with_context(|| format!("{}", args.data.display()))?;
    let calibrated = started.elapsed().as_secs_f64();
    // Standard errors that cannot be computed leave NaN cells (and say why).
    let errors = args.se.method().map(|method| {
        ikd_irt::standard_errors_with(&fit.bank, &data, args.quadpts, method).map_err(|e| {
            let nan = fit
                .bank
                .items()
                .iter()
                .map(|i| ItemErrors {
                    a: f64::NAN,
                    d: vec![f64::NAN; i.d().len()],
                    g: i.g().map(|_| f64::NAN),
                })
                .collect::<Vec<_>>();
            (nan, e.to_string())
        })
    });
    let mut out = Output::create(Some(&args.out))?;
    match &errors {
        Some(Ok(se) | Err((se, _))) => fit.bank.write_csv_with_errors(se, &mut out)?,
        None => fit.bank.write_csv(&mut out)?,
    }
    out.commit()?;
    if !fit.converged {
        eprintln!(
            "warning: not converged after {} cycles (largest change {:.3e} ≥ tol {}); the parameters are the last iterate",
            fit.cycles, fit.max_change, args.tol
        );
    }
    if let Some(Err((_, why))) = &errors {
        eprintln!("warning: no standard errors ({why}); their cells in PARAMS.csv are NaN");
    }
    let mut summary = serde_json::json!({
        "model": args.model.name(),
        "cycles": fit.cycles,
        "converged": fit.converged,
        "max_change": fit.max_change,
        "persons": fit.persons,
        "items": fit.bank.len(),
        "patterns": fit.patterns,
        "quadpts": args.quadpts,
        "tol": args.tol,
        "acceleration": args.acceleration.name(),
        "se": match &errors {
            Some(Ok(_)) => serde_json::Value::from(args.se.name()),
            _ => serde_json::Value::Null,
        },
        "seconds": calibrated,
        "se_seconds": started.elapsed().as_secs_f64() - calibrated,
    });
    criteria_json(&mut summary, &fit.information_criteria());
    if let Some(Err((_, why))) = &errors {
        summary["se_error"] = why.as_str().into();
    }
    if args.model == Model::ThreePl {
        let prior = options.guessing_prior;
        summary["guessing_prior"] = serde_json::json!({
            "distribution": "beta",
            "alpha": prior.alpha(),
            "beta": prior.beta_parameter(),
            "choices": args.choices,
        });
        summary["log_prior"] = fit.log_prior.into();
    }
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
    let (ids, data) =
        read_scoring_data(&args.data, &bank).with_context(|| format!("{}", args.data.display()))?;
    let options = ScoringOptions {
        method: args.method,
        quadpts: args.quadpts,
        ..ScoringOptions::default()
    };
    let scorer = Scorer::new(bank, &options)?;
    let scores = score_in_parallel(&scorer, &data)?;
    let mut out = Output::create(args.out.as_deref())?;
    {
        let mut csv = csv::Writer::from_writer(&mut out);
        let id = |p: usize| match &ids {
            PersonIds::Column { values, .. } => values[p].clone(),
            PersonIds::Rows => (p + 1).to_string(),
        };
        csv.write_record([ids.column(), "theta", "se"])?;
        for (p, s) in scores.iter().enumerate() {
            if s.is_missing() {
                csv.write_record([id(p).as_str(), "", ""])?;
            } else {
                csv.write_record([id(p), format!("{:.6}", s.theta), format!("{:.6}", s.se)])?;
            }
        }
        csv.flush()?;
    }
    out.commit()?;
    Ok(ExitCode::SUCCESS)
}

/// Who the persons of a DATA.csv are.
enum PersonIds {
    /// The file's first column: its name and one value per person.
    Column { name: String, values: Vec<String> },
    /// No id column: persons are numbered by data row, from 1.
    Rows,
}

impl PersonIds {
    /// The name of the id column in SCORES.csv.
    fn column(&self) -> &str {
        match self {
            PersonIds::Column { name, .. } if !name.is_empty() => name,
            // R's `write.csv` names its row-name column "".
            PersonIds::Column { .. } => "id",
            PersonIds::Rows => "row",
        }
    }
}

/// Reads DATA.csv for scoring with `bank`. When the first column's name is
/// not an item of the bank, that column holds the persons' ids: it is kept
/// aside and the rest is read as usual (`ResponseMatrix::read_csv_for`),
/// with errors naming the line and column of the original file.
fn read_scoring_data(path: &Path, bank: &ItemBank) -> Result<(PersonIds, ResponseMatrix)> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(open(path)?);
    let header = csv.headers()?.clone();
    let Some(first) = header.get(0).filter(|name| bank.get(name).is_none()) else {
        drop(csv);
        return Ok((
            PersonIds::Rows,
            ResponseMatrix::read_csv_for(open(path)?, bank)?,
        ));
    };
    let name = first.to_owned();
    let mut seen = std::collections::HashSet::new();
    for (j, item) in header.iter().enumerate().skip(1) {
        if bank.get(item).is_none() {
            anyhow::bail!(
                "column {} '{item}' is not an item of the parameter set (only the first column \
                 may hold person ids)",
                j + 1
            );
        }
        if !seen.insert(item) {
            anyhow::bail!(
                "item '{item}' appears twice in the header (column {})",
                j + 1
            );
        }
    }
    // The item columns, to be read by `read_csv_for`; `lines[k]` is the line
    // of the original file where data row k starts.
    let mut items = csv::Writer::from_writer(Vec::new());
    items.write_record(header.iter().skip(1))?;
    let (mut values, mut lines) = (Vec::new(), Vec::new());
    for record in csv.records() {
        let record = record?;
        lines.push(record.position().map_or(0, |p| p.line()));
        values.push(record[0].to_owned());
        items.write_record(record.iter().skip(1))?;
    }
    let items = items.into_inner().map_err(|e| e.into_error())?;
    let data = ResponseMatrix::read_csv_for(items.as_slice(), bank).map_err(|e| match e {
        // Line L of the item columns is data row L − 2 of the original file.
        ikd_irt::IrtError::Cell {
            line,
            column,
            what,
            name,
            reason,
        } => ikd_irt::IrtError::Cell {
            line: usize::try_from(line)
                .ok()
                .and_then(|l| l.checked_sub(2))
                .and_then(|k| lines.get(k).copied())
                .unwrap_or(line),
            column: column + 1,
            what,
            name,
            reason,
        },
        other => other,
    })?;
    Ok((PersonIds::Column { name, values }, data))
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
