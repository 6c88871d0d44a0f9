//! `[delivery]`: how respondents are given the items. `fixed` (the default) gives every
//! item, a page per domain; `adaptive` gives each person the items a selector plugin picks
//! and stops each domain once its θ is precise enough (docs/adaptive.md).
//!
//! What can be checked without the plugins and the item parameters is checked here, with
//! every problem named: the mode, the selector's name and version, the settings' keys and
//! types, and the combinations an adaptive test cannot be scored with. The settings are
//! checked against the item bank when a server binds the instrument.

use super::checks;
use super::findings::Findings;
use super::raw::RawDelivery;
use super::subjects::section;
use super::values::table_to_json;
use super::{AdaptiveDelivery, Delivery, Domain, Item, MissingPolicy, ScoringSpec};
use ikd_cat::Settings;

/// The one scoring model adaptive results are comparable under.
pub const ADAPTIVE_MODEL: &str = "irt";

/// What the rest of the instrument an adaptive delivery must agree with.
pub(super) struct Context<'a> {
    pub scoring: &'a ScoringSpec,
    pub domains: &'a [Domain],
    pub items: &'a [Item],
    pub missing: &'a MissingPolicy,
}

pub(super) fn delivery(
    findings: &mut Findings,
    raw: Option<&RawDelivery>,
    context: &Context<'_>,
) -> Delivery {
    let Some(raw) = raw else {
        return Delivery::Fixed;
    };
    let subject = section("delivery");
    match raw.mode.get_ref().as_str() {
        "fixed" => {
            for (field, span) in [
                ("selector", raw.selector.as_ref().map(|s| s.span())),
                (
                    "selector_version",
                    raw.selector_version.as_ref().map(|s| s.span()),
                ),
                ("settings", raw.settings.as_ref().map(|s| s.span())),
            ] {
                if let Some(span) = span {
                    findings.report_at(&span, &subject, field, "only for mode = \"adaptive\"");
                }
            }
            Delivery::Fixed
        }
        "adaptive" => adaptive(findings, raw, context),
        other => {
            findings.report_at(
                &raw.mode.span(),
                &subject,
                "mode",
                format!("'{other}' is not a delivery mode: \"fixed\" or \"adaptive\""),
            );
            Delivery::Fixed
        }
    }
}

fn adaptive(findings: &mut Findings, raw: &RawDelivery, context: &Context<'_>) -> Delivery {
    let subject = section("delivery");
    let selector = match &raw.selector {
        Some(name) if checks::non_empty(findings, name, &subject, "selector") => {
            name.get_ref().clone()
        }
        Some(_) => String::new(),
        None => {
            findings.report_at(
                &raw.mode.span(),
                &subject,
                "selector",
                "an adaptive delivery names its selector plugin (e.g. selector = \"mfi\")",
            );
            String::new()
        }
    };
    let selector_version = checks::requirement(
        findings,
        raw.selector_version.as_ref(),
        &subject,
        "selector_version",
    );
    let settings = settings(findings, raw);
    if context.scoring.model != ADAPTIVE_MODEL {
        findings.report_at(
            &raw.mode.span(),
            &subject,
            "mode",
            format!(
                "an adaptive instrument is scored with the `{ADAPTIVE_MODEL}` model, not '{}': \
                 a weighted index over the items one person happened to get is not comparable \
                 between people (set [scoring] model = \"{ADAPTIVE_MODEL}\")",
                context.scoring.model
            ),
        );
    }
    for item in context.items.iter().filter(|i| i.not_applicable) {
        findings.report(
            Some(item.location),
            &format!("item '{}'", item.id),
            "not_applicable",
            "an adaptive test needs an answer to every item it gives, so its items cannot \
             offer 'not applicable'",
        );
    }
    if let Some(settings) = &settings {
        check_minimums(findings, raw, settings, context);
    }
    Delivery::Adaptive(AdaptiveDelivery {
        selector,
        selector_version,
        settings: settings.unwrap_or_default(),
    })
}

/// `[delivery.settings]` as [`Settings`]; `None` (reported) when it does not parse.
fn settings(findings: &mut Findings, raw: &RawDelivery) -> Option<Settings> {
    let subject = section("delivery.settings");
    let Some(table) = &raw.settings else {
        return Some(Settings::default());
    };
    let parsed = table_to_json(table.get_ref())
        .map_err(|e| e.to_string())
        .and_then(|json| {
            serde_json::from_value::<Settings>(serde_json::Value::Object(json))
                .map_err(|e| e.to_string())
        });
    match parsed {
        Ok(settings) => Some(settings),
        Err(message) => {
            findings.report_at(&table.span(), &subject, "", message);
            None
        }
    }
}

/// A domain the test may stop after fewer answers than the missing-data rule needs would
/// have no score: every domain's minimum of items must meet its `min_answered`. (Items not
/// given are not applicable, so the fraction rule always holds.)
fn check_minimums(
    findings: &mut Findings,
    raw: &RawDelivery,
    settings: &Settings,
    context: &Context<'_>,
) {
    let span = raw.settings.as_ref().map_or(raw.mode.span(), |s| s.span());
    for domain in context.domains {
        let needed = domain.min_answered.unwrap_or(context.missing.min_answered) as usize;
        let minimum = settings
            .domains
            .get(&domain.code)
            .and_then(|d| d.min_items)
            .unwrap_or(settings.min_items_per_domain);
        if minimum < needed {
            findings.report_at(
                &span,
                &section("delivery.settings"),
                "min_items_per_domain",
                format!(
                    "domain '{}' may stop after {minimum} item(s), but the missing-data rule \
                     needs {needed} answers to score it: set min_items_per_domain (or the \
                     domain's min_items) to at least {needed}",
                    domain.code
                ),
            );
        }
    }
}
