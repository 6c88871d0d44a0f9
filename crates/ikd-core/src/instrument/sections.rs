//! The fixed single tables: `[instrument]`, `[reporting]`, `[scoring]`,
//! `[missing]` and `[quality]`, each with its defaults.

use super::checks::{self, at_least};
use super::findings::Findings;
use super::raw::{RawHeader, RawMissing, RawQuality, RawReporting, RawScoring};
use super::subjects::section;
use super::values::table_to_json;
use super::{MissingPolicy, QualityRules, ReportingScale, ScoringSpec, Text};
use semver::Version;
use toml::Spanned;

/// What `[instrument]` declares about the instrument as a whole.
pub(super) struct Header {
    pub id: String,
    pub version: Version,
    pub title: Text,
    pub description: Option<Text>,
}

pub(super) fn header(findings: &mut Findings, raw: &RawHeader) -> Header {
    let subject = section("instrument");
    if checks::non_empty(findings, &raw.id, &subject, "id") {
        checks::code(findings, &raw.id, "._-", &subject, "id");
    }
    Header {
        id: raw.id.get_ref().clone(),
        version: checks::version(findings, &raw.version, &subject, "version"),
        title: checks::bilingual(findings, &raw.title, &subject, "title"),
        description: raw
            .description
            .as_ref()
            .map(|text| checks::bilingual(findings, text, &subject, "description")),
    }
}

/// The reporting scale unless `[reporting]` declares another.
const DEFAULT_REPORTING: ReportingScale = ReportingScale {
    min: 0.0,
    max: 100.0,
};

/// The reporting scale: 0–100 unless declared otherwise.
pub(super) fn reporting(findings: &mut Findings, raw: Option<&RawReporting>) -> ReportingScale {
    let subject = section("reporting");
    let (min, max) = raw
        .map(|raw| (raw.min.as_ref(), raw.max.as_ref()))
        .unwrap_or_default();
    let mut bound = |value: Option<&Spanned<f64>>, default: f64, field: &str| match value {
        Some(value) if checks::finite(findings, value, &subject, field) => Some(*value.get_ref()),
        Some(_) => None,
        None => Some(default),
    };
    let (low, high) = (
        bound(min, DEFAULT_REPORTING.min, "min"),
        bound(max, DEFAULT_REPORTING.max, "max"),
    );
    let scale = ReportingScale {
        min: low.unwrap_or(DEFAULT_REPORTING.min),
        max: high.unwrap_or(DEFAULT_REPORTING.max),
    };
    if let (Some(low), Some(high)) = (low, high)
        && low >= high
    {
        let span = max.or(min).map(Spanned::span);
        let location = span.map(|span| findings.locate(&span));
        findings.report(
            location,
            &subject,
            "max",
            format!("max ({high}) must be above min ({low})"),
        );
    }
    scale
}

/// The scoring model and its settings; `weights_sum` is checked with the domains.
pub(super) fn scoring(findings: &mut Findings, raw: &RawScoring) -> ScoringSpec {
    let subject = section("scoring");
    checks::non_empty(findings, &raw.model, &subject, "model");
    ScoringSpec {
        model: raw.model.get_ref().clone(),
        model_version: checks::requirement(
            findings,
            raw.model_version.as_ref(),
            &subject,
            "model_version",
        ),
        settings: settings(findings, raw.settings.as_ref(), &subject),
        alternatives: raw
            .alternatives
            .iter()
            .map(|(model, table)| {
                let subject = section(&format!("scoring.alternatives.{model}"));
                (model.clone(), settings(findings, Some(table), &subject))
            })
            .collect(),
    }
}

/// A free `settings` table as JSON for a plugin; `Null` when absent.
pub(super) fn settings(
    findings: &mut Findings,
    raw: Option<&Spanned<toml::Table>>,
    subject: &str,
) -> serde_json::Value {
    let Some(raw) = raw else {
        return serde_json::Value::Null;
    };
    match table_to_json(raw.get_ref()) {
        Ok(object) => serde_json::Value::Object(object),
        Err(message) => {
            findings.report_at(&raw.span(), subject, "settings", message);
            serde_json::Value::Null
        }
    }
}

/// When a domain, and the composite, have enough answers to be scored.
pub(super) fn missing(
    findings: &mut Findings,
    raw: Option<&RawMissing>,
    domain_count: usize,
) -> MissingPolicy {
    let subject = section("missing");
    let all_domains = u32::try_from(domain_count).unwrap_or(u32::MAX);
    let mut policy = MissingPolicy {
        min_answered: 1,
        min_answered_fraction: 0.5,
        min_domains: all_domains,
    };
    let Some(raw) = raw else {
        return policy;
    };
    if let Some(min_answered) = checks::count(
        findings,
        raw.min_answered.as_ref(),
        at_least(1),
        &subject,
        "min_answered",
    ) {
        policy.min_answered = min_answered;
    }
    if let Some(fraction) = checks::fraction(
        findings,
        raw.min_answered_fraction.as_ref(),
        &subject,
        "min_answered_fraction",
    ) {
        policy.min_answered_fraction = fraction;
    }
    // Without domains the range is meaningless; the missing domains are reported elsewhere.
    if domain_count > 0 {
        let range = 1..=i64::from(all_domains);
        if let Some(min_domains) = checks::count(
            findings,
            raw.min_domains.as_ref(),
            range,
            &subject,
            "min_domains",
        ) {
            policy.min_domains = min_domains;
        }
    }
    policy
}

/// Careless-answering rules; each is off at 0.
pub(super) fn quality(findings: &mut Findings, raw: Option<&RawQuality>) -> QualityRules {
    let subject = section("quality");
    let mut rules = QualityRules {
        straight_line_run: 10,
        straight_line_all_min: 5,
        min_duration_seconds: 0.0,
        straight_line_kinds: vec!["likert".to_owned()],
    };
    let Some(raw) = raw else {
        return rules;
    };
    if let Some(kinds) = &raw.straight_line_kinds {
        rules.straight_line_kinds = kinds.clone();
    }
    if let Some(run) = checks::count(
        findings,
        raw.straight_line_run.as_ref(),
        at_least(0),
        &subject,
        "straight_line_run",
    ) {
        rules.straight_line_run = run;
    }
    if let Some(minimum) = checks::count(
        findings,
        raw.straight_line_all_min.as_ref(),
        at_least(0),
        &subject,
        "straight_line_all_min",
    ) {
        rules.straight_line_all_min = minimum;
    }
    if let Some(seconds) = &raw.min_duration_seconds
        && checks::finite(findings, seconds, &subject, "min_duration_seconds")
    {
        let value = *seconds.get_ref();
        if value < 0.0 {
            findings.report_at(
                &seconds.span(),
                &subject,
                "min_duration_seconds",
                format!("min_duration_seconds must be 0 (off) or more (found {value})"),
            );
        }
        rules.min_duration_seconds = value;
    }
    rules
}
