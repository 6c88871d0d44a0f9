//! The simulation report as tables for a terminal.

use ikd_cat::simulation::{ConditionalRow, LengthSummary, StudyReport};
use serde_json::Value;
use std::fmt::Write;

/// The whole report as text.
pub fn render(report: &StudyReport, bank: &Value, seconds: f64) -> String {
    let mut out = String::new();
    let s = &report.settings;
    let _ = writeln!(
        out,
        "Adaptive test simulation: {} persons, seed {}, selector {} (randomesque {}), \
         SE target {}, {} domain order, {:.2} s",
        report.persons,
        report.seed,
        report.selector,
        s.randomesque,
        s.se_target,
        s.domain_order,
        seconds
    );
    let _ = writeln!(
        out,
        "Bank: {}, {} items\n",
        describe(bank),
        report.bank_items
    );

    let _ = writeln!(
        out,
        "{:<22} {:>5}  {:>13} {:>6} {:>7}  {:>7} {:>6} {:>7}  {:>6} {:>6}  {:>6}  {:>9}",
        "domain",
        "items",
        "length (mean)",
        "median",
        "min-max",
        "bias",
        "RMSE",
        "mean SE",
        "r full",
        "r true",
        "SE ok",
        "full RMSE"
    );
    for d in &report.domains {
        let _ = writeln!(
            out,
            "{:<22} {:>5}  {}  {:>7.3} {:>6.3} {:>7.3}  {:>6.3} {:>6.3}  {:>5.1}%  {:>9.3}",
            d.domain,
            d.items,
            lengths(&d.length),
            d.adaptive.bias,
            d.adaptive.rmse,
            d.adaptive.mean_se,
            d.correlation_with_full_bank,
            d.correlation_with_truth,
            100.0 * d.se_target_reached,
            d.full_bank.rmse
        );
    }
    let _ = writeln!(
        out,
        "{:<22} {:>5}  {}",
        "whole test",
        report.bank_items,
        lengths(&report.test_length)
    );

    let _ = writeln!(out, "\nBy true θ (all domains pooled):");
    let _ = writeln!(
        out,
        "{:<14} {:>8} {:>12} {:>8} {:>7} {:>7} {:>10}",
        "θ", "persons", "mean length", "mean SE", "RMSE", "bias", "full RMSE"
    );
    for row in &report.conditional {
        let _ = writeln!(
            out,
            "{:<14} {:>8} {:>12.1} {:>8.3} {:>7.3} {:>7.3} {:>10.3}",
            range(row),
            row.persons,
            row.mean_length,
            row.mean_se,
            row.rmse,
            row.bias,
            row.full_bank_rmse
        );
    }

    let e = &report.exposure;
    let _ = writeln!(
        out,
        "\nExposure: max rate {:.3}, mean {:.3}, never used {} of {} items ({:.1}%)",
        e.max_rate,
        e.mean_rate,
        e.never_used,
        report.bank_items,
        100.0 * e.never_used_share
    );
    let most: Vec<String> = e
        .most_exposed
        .iter()
        .map(|i| format!("{} {:.3}", i.item, i.rate))
        .collect();
    let _ = writeln!(out, "Most exposed: {}", most.join(", "));
    let stops: Vec<String> = report
        .stop_reasons
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let _ = writeln!(out, "Test stops: {}", stops.join(", "));
    for d in &report.domains {
        let stops: Vec<String> = d.stops.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(out, "  {}: {}", d.domain, stops.join(", "));
    }
    out
}

fn lengths(l: &LengthSummary) -> String {
    format!(
        "{:>6.1} ({:>3.0}%) {:>6} {:>7}",
        l.mean,
        100.0 * l.share_of_bank,
        l.median,
        format!("{}-{}", l.min, l.max)
    )
}

fn range(row: &ConditionalRow) -> String {
    match (row.theta_from, row.theta_to) {
        (None, Some(to)) => format!("< {to}"),
        (Some(from), None) => format!("≥ {from}"),
        (Some(from), Some(to)) => format!("[{from}, {to})"),
        (None, None) => "all".into(),
    }
}

fn describe(bank: &Value) -> String {
    let text = |key: &str| {
        bank.get(key)
            .map(|v| v.to_string().trim_matches('"').to_owned())
    };
    match bank.get("source").and_then(Value::as_str) {
        Some("instrument") => format!(
            "instrument {} {} with {}",
            text("instrument").unwrap_or_default(),
            text("instrument_version").unwrap_or_default(),
            text("params").unwrap_or_default()
        ),
        _ => format!(
            "simulated ({} domains × {} indicators, {} with {} categories, seed {})",
            text("domains").unwrap_or_default(),
            text("indicators_per_domain").unwrap_or_default(),
            text("model").unwrap_or_default(),
            text("categories").unwrap_or_default(),
            text("seed").unwrap_or_default()
        ),
    }
}
