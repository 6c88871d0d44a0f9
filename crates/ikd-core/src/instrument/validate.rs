//! Turns the file as written into the model, checking everything that does not
//! need the plugins. Each section is checked even when another failed, so one
//! run reports every problem.

use super::Instrument;
use super::delivery::{Context, delivery};
use super::domains::{check_items_per_domain, check_weights_sum, domains};
use super::findings::Findings;
use super::items::{Declared, items};
use super::levels::levels;
use super::raw::RawDocument;
use super::scales::scales;
use super::sections::{header, missing, quality, reporting, scoring};
use std::path::Path;

/// The model built from `raw`; meaningful only when `findings` stays empty.
pub(super) fn validate(
    findings: &mut Findings,
    raw: &RawDocument,
    sha256: String,
    source: &Path,
) -> Instrument {
    let header = header(findings, &raw.instrument);
    let reporting = reporting(findings, raw.reporting.as_ref());
    let scoring = scoring(findings, &raw.scoring);
    let scales = scales(findings, &raw.scales);
    let domains = domains(findings, &raw.domains);
    check_weights_sum(findings, &domains, raw.scoring.weights_sum.as_ref());
    let items = items(
        findings,
        &raw.items,
        &Declared {
            domains: &domains,
            scales: &scales,
        },
    );
    let missing = missing(findings, raw.missing.as_ref(), domains.len());
    check_items_per_domain(findings, &domains, &items, &missing);
    let delivery = delivery(
        findings,
        raw.delivery.as_ref(),
        &Context {
            scoring: &scoring,
            domains: &domains,
            items: &items,
            missing: &missing,
        },
    );
    Instrument {
        id: header.id,
        version: header.version,
        title: header.title,
        description: header.description,
        scales,
        levels: levels(findings, &raw.levels, reporting),
        domains,
        items,
        missing,
        scoring,
        quality: quality(findings, raw.quality.as_ref()),
        delivery,
        reporting,
        sha256,
        source: source.to_path_buf(),
    }
}
