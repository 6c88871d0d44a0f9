//! `ikd calibrate`: item parameters for the `irt` scoring model from an
//! answers CSV.
//!
//! The instrument's own domain plugins score the answers (keys, credits and
//! reverse keying applied, exactly as when scoring); item scores become
//! category codes with `ikd_irt::categories::category_of`, the mapping the
//! `irt` plugin applies when scoring; every domain is calibrated on its own
//! (one unidimensional trait per domain) and all items go to one PARAMS.csv
//! in instrument order.
//!
//! * Answered and don't-know cells are data (a don't-know with the score the
//!   kind gives it); skipped, invalid and not-applicable cells are missing.
//!   Every answer counts, also of respondents whose domain has too few answers
//!   to be scored: missing answers are left out of the likelihood.
//! * An item with integer scores (its plugin reports `categories > 0`) is coded
//!   `round(score − min)`. Every score point from the lowest up to the highest
//!   observed must occur (else the error names the item and the score); top
//!   points nobody reached are left out of the item's row, and the plugin puts
//!   such scores in the item's top category.
//! * An item with continuous scores is cut into `--continuous-categories` K
//!   equal-width bins; when some bin is empty (e.g. credits 0, ½, 1 leave the
//!   second of four bins empty) the largest K ≤ the requested one whose bins
//!   are all used is taken, and its row in PARAMS.csv records it (the plugin
//!   bins with the K of the row).
//!
//! Output: PARAMS.csv (written only when complete) and a JSON summary on
//! stdout: per domain items, persons, log-likelihood, cycles, convergence;
//! the file's sha256 and the `[scoring.alternatives.irt]` table to paste
//! into the instrument.

use crate::common::{Output, PluginArgs, load_instrument, violation_line};
use anyhow::{Context, Result, bail};
use ikd_core::answers::{AnswerRows, AnswersReader};
use ikd_core::pipeline::{ItemScores, ScoreError, Scorer, ScorerOptions};
use ikd_irt::categories::category_of;
use ikd_irt::{CalibrationOptions, ItemBank, MISSING, Model, ResponseMatrix};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `AnswerStatus` codes that count as answered: answered (0) and don't know (4).
const ANSWERED: u8 = 0;
const DONT_KNOW: u8 = 4;

/// Respondents per plugin call.
const BATCH: usize = 4096;

#[derive(clap::Args)]
pub struct Args {
    /// Instrument file or bundled instrument id.
    #[arg(long, value_name = "PATH|ID")]
    instrument: String,
    /// Answers CSV: `respondent_id,org_unit,<item id>...[,duration_seconds]`.
    #[arg(value_name = "ANSWERS.csv")]
    answers: PathBuf,
    /// Where to write the item parameters (PARAMS.csv).
    #[arg(long, value_name = "PARAMS.csv")]
    out: PathBuf,
    /// Item response model of every item: grm, gpcm, 2pl (dichotomous items only) or rasch.
    #[arg(long, default_value = "grm")]
    model: String,
    /// Bins (categories) for items with continuous scores; fewer when some bin stays empty.
    #[arg(long, value_name = "K", default_value_t = 4)]
    continuous_categories: usize,
    /// EM stops when no parameter changes by this much in a cycle.
    #[arg(long, value_name = "T", default_value_t = ikd_irt::DEFAULT_TOL)]
    tol: f64,
    /// EM stops after this many cycles, converged or not.
    #[arg(long, value_name = "N", default_value_t = ikd_irt::DEFAULT_MAX_CYCLES)]
    max_cycles: usize,
    /// Quadrature nodes on [−6, 6].
    #[arg(long, value_name = "Q", default_value_t = ikd_irt::CALIBRATION_QUADPTS)]
    quadpts: usize,
}

pub fn run(plugins: &PluginArgs, args: Args) -> Result<ExitCode> {
    let model: Model = args
        .model
        .parse()
        .map_err(|e| anyhow::anyhow!("--model: {e}"))?;
    if !(2..=usize::from(MISSING) - 1).contains(&args.continuous_categories) {
        bail!(
            "--continuous-categories must be from 2 to {}, not {}",
            usize::from(MISSING) - 1,
            args.continuous_categories
        );
    }
    let host = plugins.host()?;
    let instrument = load_instrument(&args.instrument)?;
    let scorer = Scorer::new(instrument.clone(), &host, &ScorerOptions::default())
        .context("the instrument's plugins are needed to score the items")?;
    let layout = scorer.item_layout();
    let m = instrument.items.len();

    // 1. Item scores of every respondent (answered cells; NaN = missing).
    let mut scores: Vec<f64> = Vec::new();
    let mut reader = AnswersReader::open(&args.answers, &instrument)?;
    let mut rows = AnswerRows::new(m);
    let mut invalid: Vec<String> = Vec::new();
    let mut invalid_count = 0usize;
    while reader.read_batch(&mut rows, BATCH)? > 0 {
        match scorer.item_scores(&rows) {
            Ok(ItemScores {
                scores: s, status, ..
            }) => {
                if invalid_count == 0 {
                    scores.extend(s.iter().zip(&status).map(|(&x, &st)| {
                        if st == ANSWERED || st == DONT_KNOW {
                            x
                        } else {
                            f64::NAN
                        }
                    }));
                }
            }
            Err(ScoreError::InvalidAnswers(violations)) => {
                invalid_count += violations.len();
                invalid.extend(
                    violations
                        .into_iter()
                        .take(50usize.saturating_sub(invalid.len()))
                        .map(|v| violation_line(&args.answers, &rows, &v)),
                );
            }
            Err(other) => return Err(other.into()),
        }
    }
    if invalid_count > 0 {
        for line in &invalid {
            eprintln!("{line}");
        }
        if invalid_count > invalid.len() {
            eprintln!("... and {} more", invalid_count - invalid.len());
        }
        bail!(
            "{invalid_count} invalid answer(s) in {}; nothing calibrated",
            args.answers.display()
        );
    }
    let n = scores.len() / m.max(1);
    if n == 0 {
        bail!("{} has no respondents", args.answers.display());
    }

    // 2. Categories per item: K from the layout, or the bins a continuous item fills.
    let mut k = vec![0usize; m];
    let mut notes = Vec::new();
    for (i, item) in layout.iter().enumerate() {
        let id = &instrument.items[i].id;
        let column = scores
            .iter()
            .skip(i)
            .step_by(m)
            .copied()
            .filter(|x| !x.is_nan());
        let (min, max) = (item.score_min, item.score_max);
        if item.categories > 0 {
            let kk = item.categories as usize;
            let mut used = vec![false; kk];
            for x in column {
                used[usize::from(category_of(x, min, max, item.categories, kk))] = true;
            }
            let Some(top) = used.iter().rposition(|&u| u) else {
                bail!(
                    "item '{id}': nobody in {} answered it; it cannot be calibrated",
                    args.answers.display()
                );
            };
            if let Some(gap) = used[..top].iter().position(|&u| !u) {
                bail!(
                    "item '{id}': no answer has score {} (category {gap}), but higher scores occur; \
                     calibration needs every score point from {} to the highest observed ({}) — \
                     more (or real) answers are needed",
                    min + gap as f64,
                    min,
                    min + top as f64
                );
            }
            if top + 1 < kk {
                notes.push(format!(
                    "item '{id}': scores above {} never occur; its row has {} categories and higher scores share the top one",
                    min + top as f64,
                    top + 1
                ));
            }
            k[i] = top + 1;
        } else {
            let values: Vec<f64> = column.collect();
            let fits = (2..=args.continuous_categories).rev().find(|&kk| {
                let mut used = vec![false; kk];
                for &x in &values {
                    used[usize::from(category_of(x, min, max, 0, kk))] = true;
                }
                used.iter().all(|&u| u)
            });
            let Some(kk) = fits else {
                bail!(
                    "item '{id}': its {} answer(s) all fall in one bin of [{min}, {max}]; it cannot be calibrated",
                    values.len()
                );
            };
            if kk < args.continuous_categories {
                notes.push(format!(
                    "item '{id}': continuous scores in {kk} bins (with {} bins some stay empty)",
                    args.continuous_categories
                ));
            }
            k[i] = kk;
        }
        if k[i] < 2 {
            bail!("item '{id}': every answer has the lowest score; it cannot be calibrated");
        }
    }

    // 3. Calibrate each domain.
    let mut options = CalibrationOptions::new(model);
    options.quadpts = args.quadpts;
    options.tol = args.tol;
    options.max_cycles = args.max_cycles;
    let mut items = vec![None; m];
    let mut summaries = Vec::new();
    for (d, domain) in instrument.domains.iter().enumerate() {
        let columns: Vec<usize> = (0..m).filter(|&i| layout[i].domain as usize == d).collect();
        let mut cells = Vec::with_capacity(n * columns.len());
        for row in scores.chunks_exact(m) {
            cells.extend(columns.iter().map(|&i| {
                let it = &layout[i];
                category_of(row[i], it.score_min, it.score_max, it.categories, k[i])
            }));
        }
        let names = columns
            .iter()
            .map(|&i| instrument.items[i].id.clone())
            .collect();
        let data = ResponseMatrix::new(names, cells)
            .with_context(|| format!("domain '{}'", domain.code))?;
        let started = std::time::Instant::now();
        let fit = ikd_irt::calibrate(&data, &options)
            .with_context(|| format!("domain '{}': calibration failed", domain.code))?;
        if !fit.converged {
            eprintln!(
                "warning: domain '{}' did not converge in {} cycles (largest change {:.2e}); \
                 raise --max-cycles or check the items",
                domain.code, fit.cycles, fit.max_change
            );
        }
        summaries.push(serde_json::json!({
            "domain": domain.code,
            "items": columns.len(),
            "persons": fit.persons,
            "patterns": fit.patterns,
            "loglik": fit.loglik,
            "cycles": fit.cycles,
            "converged": fit.converged,
            "max_change": fit.max_change,
            "seconds": started.elapsed().as_secs_f64(),
        }));
        for (&i, item) in columns.iter().zip(fit.bank.items()) {
            items[i] = Some(item.clone());
        }
    }
    let bank = ItemBank::new(
        items
            .into_iter()
            .map(|i| i.expect("every item is in a domain"))
            .collect(),
    )
    .map_err(|e| {
        if model == Model::Rasch && instrument.domains.len() > 1 {
            anyhow::anyhow!(
                "{e}: each domain has its own Rasch slope, but one PARAMS.csv holds a single \
                     Rasch slope; use --model grm or gpcm for an instrument of several domains"
            )
        } else {
            anyhow::anyhow!("{e}")
        }
    })?;

    // 4. Write PARAMS.csv and the summary.
    let mut bytes = Vec::new();
    bank.write_csv(&mut bytes)?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let mut out = Output::create(Some(&args.out))?;
    out.write_all(&bytes)?;
    out.commit()?;
    let params = params_reference(&args.out, &instrument.source);
    let toml = format!(
        "[scoring.alternatives.irt]\nparams = {}\nparams_sha256 = \"{sha256}\"\nmethod = \"eap\"\nreporting = {{ center = 50.0, scale = 15.0 }}\n",
        serde_json::Value::String(params.clone())
    );
    let summary = serde_json::json!({
        "instrument": instrument.id,
        "instrument_version": instrument.version.to_string(),
        "answers": args.answers.display().to_string(),
        "respondents": n,
        "model": model.name(),
        "continuous_categories": args.continuous_categories,
        "quadpts": args.quadpts,
        "tol": args.tol,
        "params": args.out.display().to_string(),
        "params_sha256": sha256,
        "domains": summaries,
        "notes": notes,
        "toml": toml,
    });
    println!("{}", serde_json::to_string_pretty(&summary)?);
    for note in &notes {
        eprintln!("note: {note}");
    }
    eprintln!(
        "wrote {} ({} items, sha256 {sha256}); to score with it, add to {}:\n\n{toml}",
        args.out.display(),
        bank.len(),
        instrument.source.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The `params` setting for the written file: relative to the instrument's
/// directory when it lies inside it, else the absolute path.
fn params_reference(out: &Path, instrument: &Path) -> String {
    let absolute = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_owned());
    let out = absolute(out);
    let dir = instrument.parent().map(absolute).unwrap_or_default();
    match out.strip_prefix(&dir) {
        Ok(relative) if !dir.as_os_str().is_empty() => relative.display().to_string(),
        _ => out.display().to_string(),
    }
}
