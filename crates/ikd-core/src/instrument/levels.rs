//! `[[levels]]`: the bands of the reporting scale. They must be listed from
//! lowest to highest and tile the scale exactly, so every score has one level.

use super::checks::{self, FirstSeen};
use super::findings::Findings;
use super::raw::RawLevel;
use super::subjects::LEVEL;
use super::{Level, ReportingScale};

/// Bounds closer than this count as equal (they come from decimal text).
const BOUND_TOLERANCE: f64 = 1e-9;

pub(super) fn levels(
    findings: &mut Findings,
    raw: &[RawLevel],
    reporting: ReportingScale,
) -> Vec<Level> {
    if raw.is_empty() {
        findings.report(
            None,
            "",
            "levels",
            format!(
                "the instrument declares no level: add [[levels]] covering {} to {}",
                reporting.min, reporting.max
            ),
        );
        return Vec::new();
    }
    let mut codes = FirstSeen::new("level code");
    let mut well_formed = Vec::new();
    let levels = raw
        .iter()
        .enumerate()
        .map(|(index, raw)| {
            let subject = LEVEL.subject(raw.code.get_ref(), index);
            checks::non_empty(findings, &raw.code, &subject, "code");
            codes.record(findings, &raw.code, &subject, "code");
            if has_valid_bounds(findings, raw, &subject) {
                well_formed.push((raw, subject.clone()));
            }
            Level {
                code: raw.code.get_ref().clone(),
                name: checks::bilingual(findings, &raw.name, &subject, "name"),
                min: *raw.min.get_ref(),
                max: *raw.max.get_ref(),
            }
        })
        .collect();
    // A level with broken bounds is reported on its own; sequence checks around
    // it would only add a cascade of overlaps and gaps, so they wait for the fix.
    if well_formed.len() == raw.len() {
        check_sequence(findings, &well_formed);
        check_coverage(findings, &well_formed, reporting);
    }
    levels
}

/// Finite bounds with `min < max`.
fn has_valid_bounds(findings: &mut Findings, raw: &RawLevel, subject: &str) -> bool {
    let finite = checks::finite(findings, &raw.min, subject, "min")
        & checks::finite(findings, &raw.max, subject, "max");
    if !finite {
        return false;
    }
    let (min, max) = (*raw.min.get_ref(), *raw.max.get_ref());
    if min >= max {
        findings.report_at(
            &raw.max.span(),
            subject,
            "max",
            format!("max ({max}) must be above min ({min})"),
        );
        return false;
    }
    true
}

/// Each level must start where the one before it ends.
fn check_sequence(findings: &mut Findings, levels: &[(&RawLevel, String)]) {
    for pair in levels.windows(2) {
        let [(before, before_subject), (after, subject)] = pair else {
            continue;
        };
        let (before_code, after_code) = (before.code.get_ref(), after.code.get_ref());
        let (before_min, before_max) = (*before.min.get_ref(), *before.max.get_ref());
        let after_min = *after.min.get_ref();
        let message = if after_min < before_min {
            format!(
                "level '{after_code}' starts at {after_min}, below {before_subject} which starts at {before_min}: \
                 list levels from lowest to highest"
            )
        } else if after_min < before_max - BOUND_TOLERANCE {
            format!(
                "level '{before_code}' ends at {before_max} but level '{after_code}' starts at {after_min}: they overlap"
            )
        } else if after_min > before_max + BOUND_TOLERANCE {
            format!(
                "level '{before_code}' ends at {before_max} but level '{after_code}' starts at {after_min}: \
                 values in between have no level"
            )
        } else {
            continue;
        };
        findings.report_at(&after.min.span(), subject, "min", message);
    }
}

/// The first level starts at the reporting minimum and the last ends at its maximum.
fn check_coverage(
    findings: &mut Findings,
    levels: &[(&RawLevel, String)],
    reporting: ReportingScale,
) {
    if let Some((first, subject)) = levels.first() {
        let min = *first.min.get_ref();
        if (min - reporting.min).abs() > BOUND_TOLERANCE {
            findings.report_at(
                &first.min.span(),
                subject,
                "min",
                format!(
                    "the first level must start at the reporting minimum {} (it starts at {min})",
                    reporting.min
                ),
            );
        }
    }
    if let Some((last, subject)) = levels.last() {
        let max = *last.max.get_ref();
        if (max - reporting.max).abs() > BOUND_TOLERANCE {
            findings.report_at(
                &last.max.span(),
                subject,
                "max",
                format!(
                    "the last level must end at the reporting maximum {} (it ends at {max})",
                    reporting.max
                ),
            );
        }
    }
}
