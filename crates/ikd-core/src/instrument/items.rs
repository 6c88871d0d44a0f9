//! `[[items]]`: each item's references (domain, indicator, scale), its options
//! and key, and the kind-specific parameters it carries for its plugin.

use super::checks::{self, FirstSeen};
use super::findings::Findings;
use super::raw::{RawItem, RawOption};
use super::subjects::{ITEM, OPTION, list};
use super::values::{key_entries, to_json};
use super::{Domain, Item, ItemOption, Scale};

/// What items may refer to.
pub(super) struct Declared<'a> {
    pub domains: &'a [Domain],
    pub scales: &'a [Scale],
}

pub(super) fn items(findings: &mut Findings, raw: &[RawItem], declared: &Declared) -> Vec<Item> {
    let mut ids = FirstSeen::new("item id");
    raw.iter()
        .enumerate()
        .map(|(index, raw)| {
            let subject = ITEM.subject(raw.id.get_ref(), index);
            if checks::non_empty(findings, &raw.id, &subject, "id") {
                checks::item_id(findings, &raw.id, &subject);
            }
            ids.record(findings, &raw.id, &subject, "id");
            item(findings, raw, declared, &subject)
        })
        .collect()
}

fn item(findings: &mut Findings, raw: &RawItem, declared: &Declared, subject: &str) -> Item {
    check_references(findings, raw, declared, subject);
    checks::non_empty(findings, &raw.kind, subject, "kind");
    let options = options(findings, &raw.options, subject);
    Item {
        id: raw.id.get_ref().clone(),
        domain: raw.domain.get_ref().clone(),
        indicator: raw.indicator.get_ref().clone(),
        kind: raw.kind.get_ref().clone(),
        text: checks::bilingual(findings, &raw.text, subject, "text"),
        weight: checks::weight(findings, raw.weight.as_ref(), 1.0, subject, "weight"),
        reverse: raw.reverse,
        not_applicable: raw.not_applicable,
        scale: raw.scale.as_ref().map(|scale| scale.get_ref().clone()),
        key: key(findings, raw, &options, subject),
        options,
        params: params(findings, raw, subject),
        location: findings.locate(&raw.id.span()),
    }
}

/// The domain, the indicator within it and the scale must all be declared.
fn check_references(findings: &mut Findings, raw: &RawItem, declared: &Declared, subject: &str) {
    let domain_code = raw.domain.get_ref();
    match declared
        .domains
        .iter()
        .find(|domain| &domain.code == domain_code)
    {
        None => findings.report_at(
            &raw.domain.span(),
            subject,
            "domain",
            format!(
                "unknown domain '{domain_code}' (declared: {})",
                list(declared.domains.iter().map(|domain| domain.code.as_str()))
            ),
        ),
        Some(domain) => {
            let indicator = raw.indicator.get_ref();
            if !domain
                .indicators
                .iter()
                .any(|known| &known.code == indicator)
            {
                findings.report_at(
                    &raw.indicator.span(),
                    subject,
                    "indicator",
                    format!(
                        "unknown indicator '{indicator}' in domain '{domain_code}' (its indicators: {})",
                        list(domain.indicators.iter().map(|known| known.code.as_str()))
                    ),
                );
            }
        }
    }
    if let Some(scale) = &raw.scale
        && !declared
            .scales
            .iter()
            .any(|known| &known.id == scale.get_ref())
    {
        findings.report_at(
            &scale.span(),
            subject,
            "scale",
            format!(
                "unknown scale '{}' (declared: {})",
                scale.get_ref(),
                list(declared.scales.iter().map(|known| known.id.as_str()))
            ),
        );
    }
}

fn options(findings: &mut Findings, raw: &[RawOption], item_subject: &str) -> Vec<ItemOption> {
    let mut codes = FirstSeen::new("option code");
    raw.iter()
        .enumerate()
        .map(|(index, raw)| {
            let subject = OPTION.subject_within(item_subject, raw.code.get_ref(), index);
            checks::non_empty(findings, &raw.code, &subject, "code");
            codes.record(findings, &raw.code, &subject, "code");
            if let Some(credit) = &raw.credit {
                checks::finite(findings, credit, &subject, "credit");
            }
            ItemOption {
                code: raw.code.get_ref().clone(),
                label: raw
                    .label
                    .as_ref()
                    .map(|label| checks::bilingual(findings, label, &subject, "label"))
                    .unwrap_or_default(),
                credit: raw.credit.as_ref().map(|credit| *credit.get_ref()),
                dont_know: raw.dont_know,
            }
        })
        .collect()
}

/// The keyed value(s). When the item has options, each keyed value must be one
/// of their codes, so a typo in a key cannot silently score everyone wrong.
fn key(
    findings: &mut Findings,
    raw: &RawItem,
    options: &[ItemOption],
    subject: &str,
) -> Vec<String> {
    let Some(key) = &raw.key else {
        return Vec::new();
    };
    let entries = match key_entries(key.get_ref()) {
        Ok(entries) => entries,
        Err(message) => {
            findings.report_at(&key.span(), subject, "key", message);
            return Vec::new();
        }
    };
    if !options.is_empty() {
        for entry in entries
            .iter()
            .filter(|entry| !options.iter().any(|option| &option.code == *entry))
        {
            findings.report_at(
                &key.span(),
                subject,
                "key",
                format!(
                    "key '{entry}' is not one of the item's options ({})",
                    list(options.iter().map(|option| option.code.as_str()))
                ),
            );
        }
    }
    entries
}

/// Every key of the item table the engine does not know, for the kind's plugin.
fn params(
    findings: &mut Findings,
    raw: &RawItem,
    subject: &str,
) -> serde_json::Map<String, serde_json::Value> {
    let mut params = serde_json::Map::new();
    for (name, value) in &raw.params {
        match to_json(value.get_ref(), name) {
            Ok(json) => {
                params.insert(name.clone(), json);
            }
            Err(message) => findings.report_at(&value.span(), subject, name, message),
        }
    }
    params
}
