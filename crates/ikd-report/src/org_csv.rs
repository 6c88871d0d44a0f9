//! The organisation report's numbers as CSV, one number per row, for people
//! who want to work on them:
//!
//! `scope,unit,domain,indicator,level,measure,value`
//!
//! * `scope`: `unit` (the prefix), `parent`, `all` (the whole data set),
//!   `child` (a sub-unit), `indicator`;
//! * `domain`: a domain code, `index` for the composite, empty for counts of
//!   the whole group;
//! * `measure`: `n`, `n_index`, `flagged`, `mean`, `sd`, `ci_low`, `ci_high`,
//!   `count` (with `level`), `suppressed` (1: fewer results than the minimum
//!   group size, or a `parent`/`all` group hidden by disclosure control;
//!   nothing else given) followed by `suppression_reason` (which of the two:
//!   `too-few-results`, `disclosure-control`; see
//!   `ikd_core::disclosure::Suppression`), `suppressed_children`,
//!   `min_group_size`.
//!
//! Codes, not names, and `.` decimals rounded to 4 places, as `ikd score`
//! writes them. Suppressed child units do not appear at all.

use crate::data::Group;
use crate::error::ReportError;
use crate::indicators::IndicatorMeans;
use crate::org_groups::Groups;
use crate::stats::Estimate;
use ikd_core::disclosure::Suppression;
use ikd_core::instrument::Instrument;

const HEADER: [&str; 7] = [
    "scope",
    "unit",
    "domain",
    "indicator",
    "level",
    "measure",
    "value",
];

/// Rounds to 4 decimals and prints the shortest form (`62.5`, `66.6667`);
/// empty for an unbounded value.
fn value(x: f64) -> String {
    if x.is_finite() {
        ((x * 1e4).round() / 1e4).to_string()
    } else {
        String::new()
    }
}

/// Where a number belongs: the first five columns.
#[derive(Clone, Copy)]
struct At<'a> {
    scope: &'a str,
    unit: &'a str,
    domain: &'a str,
    indicator: &'a str,
    level: &'a str,
}

impl<'a> At<'a> {
    fn group(scope: &'a str, unit: &'a str) -> Self {
        At {
            scope,
            unit,
            domain: "",
            indicator: "",
            level: "",
        }
    }

    fn domain(self, domain: &'a str) -> Self {
        At { domain, ..self }
    }

    fn level(self, level: &'a str) -> Self {
        At { level, ..self }
    }
}

#[derive(Default)]
struct Out {
    rows: Vec<[String; 7]>,
}

impl Out {
    /// `suppressed,1` and its reason.
    fn suppressed(&mut self, at: At<'_>, reason: Suppression) {
        self.push(at, "suppressed", "1".into());
        self.push(at, "suppression_reason", reason.code().into());
    }

    fn push(&mut self, at: At<'_>, measure: &str, v: String) {
        self.rows.push([
            at.scope.to_owned(),
            at.unit.to_owned(),
            at.domain.to_owned(),
            at.indicator.to_owned(),
            at.level.to_owned(),
            measure.to_owned(),
            v,
        ]);
    }

    /// n, mean, SD and interval, or only that it is suppressed; level counts when given.
    fn estimate(&mut self, at: At<'_>, e: Option<Estimate>, levels: Option<(&[u64], &Instrument)>) {
        let Some(e) = e else {
            // A figure of a group that is shown: only ever too few.
            self.suppressed(at, Suppression::TooFewResults);
            return;
        };
        self.push(at, "n", e.n.to_string());
        self.push(at, "mean", value(e.mean));
        self.push(at, "sd", value(e.sd));
        self.push(at, "ci_low", value(e.ci_low));
        self.push(at, "ci_high", value(e.ci_high));
        if let Some((counts, instrument)) = levels {
            for (level, count) in instrument.levels.iter().zip(counts) {
                self.push(at.level(&level.code), "count", count.to_string());
            }
        }
    }

    /// Counts, the index and every domain of one group.
    fn group(
        &mut self,
        instrument: &Instrument,
        at: At<'_>,
        group: &Group,
        min: u32,
        with_levels: bool,
    ) {
        self.push(at, "n", group.n.to_string());
        self.push(at, "n_index", group.index.n.to_string());
        self.push(at, "flagged", group.flagged.to_string());
        let levels = with_levels.then_some(instrument);
        self.estimate(
            at.domain("index"),
            group.index(min),
            levels.map(|i| (group.index_levels.as_slice(), i)),
        );
        for (d, domain) in instrument.domains.iter().enumerate() {
            self.estimate(
                at.domain(&domain.code),
                group.domain(d, min),
                levels.map(|i| (group.domains[d].levels.as_slice(), i)),
            );
        }
    }
}

/// The CSV of an organisation report.
pub(crate) fn write(
    instrument: &Instrument,
    groups: &Groups,
    min: u32,
    indicators: Option<&IndicatorMeans>,
) -> Result<String, ReportError> {
    let mut out = Out::default();
    let prefix = groups.prefix.as_str();
    let unit = At::group("unit", prefix);
    out.push(unit, "min_group_size", min.to_string());
    out.group(instrument, unit, &groups.unit, min, true);
    if let Some((p, group)) = &groups.parent {
        out.group(instrument, At::group("parent", p), group, min, false);
    }
    if let Some(all) = &groups.all {
        out.group(instrument, At::group("all", ""), all, min, false);
    }
    for (scope, unit) in &groups.withheld {
        out.suppressed(At::group(scope, unit), Suppression::DisclosureControl);
    }
    let mut suppressed = 0u64;
    for (child, group) in &groups.children {
        if groups.hidden_children.contains(child) {
            suppressed += 1;
        } else if !(groups.children.len() == 1 && child == prefix) {
            out.group(instrument, At::group("child", child), group, min, false);
        }
    }
    out.push(unit, "suppressed_children", suppressed.to_string());
    if let Some(means) = indicators {
        for i in &means.indicators {
            let at = At {
                scope: "indicator",
                unit: prefix,
                domain: &i.domain,
                indicator: &i.indicator,
                level: "",
            };
            match i.mean.filter(|_| i.n >= u64::from(min)) {
                Some(mean) => {
                    out.push(at, "n", i.n.to_string());
                    out.push(at, "mean", value(mean));
                    out.push(at, "sd", value(i.sd));
                }
                None => out.suppressed(at, Suppression::TooFewResults),
            }
        }
    }
    let csv_error = |e: String| ReportError::Csv(e);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER)
        .map_err(|e| csv_error(e.to_string()))?;
    for row in &out.rows {
        w.write_record(row).map_err(|e| csv_error(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| csv_error(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| csv_error(e.to_string()))
}
