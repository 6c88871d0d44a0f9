//! `[[domains]]` and their indicators, the declared weights sum, and whether
//! each domain has the items its missing-data policy needs.

use super::checks::{self, FirstSeen, at_least};
use super::findings::Findings;
use super::raw::{RawDomain, RawIndicator};
use super::sections::settings;
use super::subjects::{DOMAIN, INDICATOR, section};
use super::{Domain, Indicator, Item, MissingPolicy};
use toml::Spanned;

/// Largest difference tolerated between the domain weights' sum and `weights_sum`.
const WEIGHTS_SUM_TOLERANCE: f64 = 1e-6;

pub(super) fn domains(findings: &mut Findings, raw: &[RawDomain]) -> Vec<Domain> {
    if raw.is_empty() {
        findings.report(
            None,
            "",
            "domains",
            "the instrument declares no domain: add at least one [[domains]]",
        );
    }
    let mut codes = FirstSeen::new("domain code");
    raw.iter()
        .enumerate()
        .map(|(index, raw)| {
            let subject = DOMAIN.subject(raw.code.get_ref(), index);
            if checks::non_empty(findings, &raw.code, &subject, "code") {
                checks::code(findings, &raw.code, "-", &subject, "code");
            }
            codes.record(findings, &raw.code, &subject, "code");
            domain(findings, raw, &subject)
        })
        .collect()
}

fn domain(findings: &mut Findings, raw: &RawDomain, subject: &str) -> Domain {
    let location = findings.locate(&raw.code.span());
    checks::non_empty(findings, &raw.plugin, subject, "plugin");
    if raw.indicators.is_empty() {
        findings.report(
            Some(location),
            subject,
            "indicators",
            "the domain has no indicator: add at least one [[domains.indicators]]",
        );
    }
    Domain {
        code: raw.code.get_ref().clone(),
        name: checks::bilingual(findings, &raw.name, subject, "name"),
        plugin: raw.plugin.get_ref().clone(),
        plugin_version: checks::requirement(
            findings,
            raw.plugin_version.as_ref(),
            subject,
            "plugin_version",
        ),
        weight: checks::weight(findings, Some(&raw.weight), 1.0, subject, "weight"),
        indicators: indicators(findings, &raw.indicators, subject),
        min_answered: checks::count(
            findings,
            raw.min_answered.as_ref(),
            at_least(1),
            subject,
            "min_answered",
        ),
        min_answered_fraction: checks::fraction(
            findings,
            raw.min_answered_fraction.as_ref(),
            subject,
            "min_answered_fraction",
        ),
        settings: settings(findings, raw.settings.as_ref(), subject),
        location,
    }
}

fn indicators(
    findings: &mut Findings,
    raw: &[RawIndicator],
    domain_subject: &str,
) -> Vec<Indicator> {
    let mut codes = FirstSeen::new("indicator code");
    raw.iter()
        .enumerate()
        .map(|(index, raw)| {
            let subject = INDICATOR.subject_within(domain_subject, raw.code.get_ref(), index);
            checks::non_empty(findings, &raw.code, &subject, "code");
            codes.record(findings, &raw.code, &subject, "code");
            Indicator {
                code: raw.code.get_ref().clone(),
                name: checks::bilingual(findings, &raw.name, &subject, "name"),
                weight: checks::weight(findings, raw.weight.as_ref(), 1.0, &subject, "weight"),
            }
        })
        .collect()
}

/// When `[scoring] weights_sum` is declared, the domain weights must add up to it.
pub(super) fn check_weights_sum(
    findings: &mut Findings,
    domains: &[Domain],
    declared: Option<&Spanned<f64>>,
) {
    let Some(declared) = declared else {
        return;
    };
    let subject = section("scoring");
    if !checks::finite(findings, declared, &subject, "weights_sum") {
        return;
    }
    // A wrong weight is already reported; a sum over it would only add noise.
    if domains
        .iter()
        .any(|domain| !(domain.weight.is_finite() && domain.weight > 0.0))
    {
        return;
    }
    let sum: f64 = domains.iter().map(|domain| domain.weight).sum();
    if (sum - declared.get_ref()).abs() > WEIGHTS_SUM_TOLERANCE {
        let parts: Vec<String> = domains
            .iter()
            .map(|domain| format!("{} {}", domain.code, domain.weight))
            .collect();
        findings.report_at(
            &declared.span(),
            &subject,
            "weights_sum",
            format!(
                "the domain weights sum to {sum} ({}) but weights_sum is {}",
                parts.join(" + "),
                declared.get_ref()
            ),
        );
    }
}

/// Every domain needs items, and at least as many as it needs answered, or it
/// could never be scored.
pub(super) fn check_items_per_domain(
    findings: &mut Findings,
    domains: &[Domain],
    items: &[Item],
    policy: &MissingPolicy,
) {
    for (index, domain) in domains.iter().enumerate() {
        let subject = DOMAIN.subject(&domain.code, index);
        let count = items
            .iter()
            .filter(|item| item.domain == domain.code)
            .count();
        let needed = domain.min_answered.unwrap_or(policy.min_answered);
        let source = if domain.min_answered.is_some() {
            "its own min_answered"
        } else {
            "[missing] min_answered"
        };
        if count == 0 {
            findings.report(
                Some(domain.location),
                &subject,
                "",
                "the domain has no items: add [[items]] with domain = \"…\" naming it, or remove the domain",
            );
        } else if u32::try_from(count).unwrap_or(u32::MAX) < needed {
            findings.report(
                Some(domain.location),
                &subject,
                "min_answered",
                format!(
                    "the domain has {count} item(s) but needs {needed} answered ({source}): it could never be scored"
                ),
            );
        }
    }
}
