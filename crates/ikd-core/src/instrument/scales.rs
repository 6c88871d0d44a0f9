//! `[[scales]]`: the response scales items refer to by id.

use super::Scale;
use super::checks::{self, FirstSeen};
use super::findings::Findings;
use super::raw::RawScale;
use super::subjects::SCALE;
use toml::Spanned;

pub(super) fn scales(findings: &mut Findings, raw: &[RawScale]) -> Vec<Scale> {
    let mut ids = FirstSeen::new("scale id");
    raw.iter()
        .enumerate()
        .map(|(index, raw)| {
            let subject = SCALE.subject(raw.id.get_ref(), index);
            checks::non_empty(findings, &raw.id, &subject, "id");
            ids.record(findings, &raw.id, &subject, "id");
            scale(findings, raw, &subject)
        })
        .collect()
}

fn scale(findings: &mut Findings, raw: &RawScale, subject: &str) -> Scale {
    let (min, max) = match (
        point(findings, &raw.min, subject, "min"),
        point(findings, &raw.max, subject, "max"),
    ) {
        (Some(min), Some(max)) => (min, max),
        // Already reported; a placeholder range keeps the label checks quiet.
        _ => (0, 0),
    };
    let ordered = min < max;
    if raw.min.get_ref() >= raw.max.get_ref() {
        findings.report_at(
            &raw.max.span(),
            subject,
            "max",
            format!(
                "max ({}) must be above min ({})",
                raw.max.get_ref(),
                raw.min.get_ref()
            ),
        );
    }
    let labels = match &raw.labels {
        None => Vec::new(),
        Some(labels) => {
            let points = i64::from(max) - i64::from(min) + 1;
            let given = labels.get_ref().len();
            if ordered && i64::try_from(given).ok() != Some(points) {
                findings.report_at(
                    &labels.span(),
                    subject,
                    "labels",
                    format!("{given} labels given but the scale {min}..{max} has {points} points: give one label per point, lowest first"),
                );
            }
            labels
                .get_ref()
                .iter()
                .enumerate()
                .map(|(index, label)| {
                    checks::bilingual(findings, label, subject, &format!("labels[{index}]"))
                })
                .collect()
        }
    };
    Scale {
        id: raw.id.get_ref().clone(),
        min,
        max,
        labels,
    }
}

/// A scale point: a whole number that fits the model's `i32`.
fn point(findings: &mut Findings, value: &Spanned<i64>, subject: &str, field: &str) -> Option<i32> {
    let point = i32::try_from(*value.get_ref()).ok();
    if point.is_none() {
        findings.report_at(
            &value.span(),
            subject,
            field,
            format!(
                "{field} {} is too far from 0 for a response scale",
                value.get_ref()
            ),
        );
    }
    point
}
