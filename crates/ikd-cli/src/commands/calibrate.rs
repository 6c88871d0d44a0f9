//! `ikd calibrate`: item parameters for the `irt` scoring model from an
//! answers CSV. The work is `ikd_research::calibration` (its documentation
//! has the coding rules); this command reads the file, writes PARAMS.csv
//! (only when complete; with the standard error columns `se_a,se_d1..`
//! unless `--se none`) and prints a JSON summary on stdout: per domain
//! items, persons, log-likelihood, free parameters, AIC, BIC, SABIC, cycles,
//! convergence and the standard error method; the file's sha256 and the
//! `[scoring.alternatives.irt]` table to paste into the instrument.

use crate::commands::irt::{SeArg, criteria_json};
use crate::common::{Output, PluginArgs, load_instrument, report_read_error};
use anyhow::{Context, Result};
use ikd_core::pipeline::{Scorer, ScorerOptions};
use ikd_irt::Model;
use ikd_research::calibration::{self, Options};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

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
    /// Item response model of every item: grm, gpcm, 2pl (dichotomous items only), 3pl
    /// (dichotomous keyed multiple-choice items only) or rasch.
    #[arg(long, default_value = "grm")]
    model: String,
    /// 3pl only: the number of answer choices of the multiple-choice items (the prior on the
    /// lower asymptote g is BILOG-MG's Beta(20/m + 1, 20(1 − 1/m) + 1), mode 1/m).
    #[arg(long, value_name = "M", default_value_t = 4)]
    choices: usize,
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
    /// Standard errors of the item parameters in PARAMS.csv (`se_a,se_d1..`):
    /// from the observed information, the cross-product of scores, or none.
    #[arg(long, value_enum, value_name = "METHOD", default_value = "observed")]
    se: SeArg,
}

pub fn run(plugins: &PluginArgs, args: Args) -> Result<ExitCode> {
    let model: Model = args
        .model
        .parse()
        .map_err(|e| anyhow::anyhow!("--model: {e}"))?;
    let mut options = Options::new(model);
    options.irt.guessing_prior = ikd_irt::GuessingPrior::for_options(args.choices)
        .map_err(|e| anyhow::anyhow!("--choices: {e}"))?;
    options.continuous_categories = args.continuous_categories;
    options.irt.quadpts = args.quadpts;
    options.irt.tol = args.tol;
    options.irt.max_cycles = args.max_cycles;
    options.standard_errors = args.se.method();
    let host = plugins.host()?;
    let instrument = load_instrument(&args.instrument)?;
    let scorer = Scorer::new(instrument.clone(), &host, &ScorerOptions::default())
        .context("the instrument's plugins are needed to score the items")?;
    let scores = ikd_research::answers::item_scores(&args.answers, &scorer, 50)
        .map_err(|e| report_read_error(e, "nothing calibrated"))?;
    let n = scores.persons();
    let calibrated = calibration::calibrate(&scorer, &scores, &options)
        .with_context(|| format!("calibrating on {}", args.answers.display()))?;
    let mut summaries = Vec::new();
    for domain in &calibrated.domains {
        let fit = &domain.fit;
        if !fit.converged {
            eprintln!(
                "warning: domain '{}' did not converge in {} cycles (largest change {:.2e}); \
                 raise --max-cycles or check the items",
                domain.domain, fit.cycles, fit.max_change
            );
        }
        let mut summary = serde_json::json!({
            "domain": domain.domain,
            "items": domain.items,
            "persons": fit.persons,
            "patterns": fit.patterns,
            "cycles": fit.cycles,
            "converged": fit.converged,
            "max_change": fit.max_change,
            "seconds": domain.seconds,
        });
        criteria_json(&mut summary, &domain.criteria());
        summary["se"] = match &domain.errors {
            Some(Ok(_)) => args.se.name().into(),
            _ => serde_json::Value::Null,
        };
        if let Some(Err(why)) = &domain.errors {
            summary["se_error"] = why.as_str().into();
        }
        summaries.push(summary);
    }
    let (bank, notes) = (calibrated.bank, calibrated.notes);

    // Write PARAMS.csv and the summary.
    let mut bytes = Vec::new();
    match &calibrated.errors {
        Some(errors) => bank.write_csv_with_errors(errors, &mut bytes)?,
        None => bank.write_csv(&mut bytes)?,
    }
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
        "se": args.se.method().map(|m| m.name()),
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
