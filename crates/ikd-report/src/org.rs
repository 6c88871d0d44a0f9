//! The organisation report for a prefix: n and participation, the index mean
//! with its 95% t interval, a domain radar against the parent unit and the
//! whole data set, the level distribution per domain, domain means per child
//! unit (small ones suppressed), and the weakest indicators. The same
//! numbers go to a CSV ([`crate::org_csv`]).

use crate::chart::bars::{BarSpec, StackedBars, stacked_bars};
use crate::chart::colour::ramp;
use crate::chart::radar::{Radar, RadarSpec, SeriesSpec, radar};
use crate::chart::scale::ScaleBar;
use crate::data::Group;
use crate::error::ReportError;
use crate::indicators::IndicatorMeans;
use crate::lang::{Lang, fill, integer, number, percent, texts};
use crate::org_csv;
use crate::org_groups::{Disclosure, Groups, hidden_in};
use crate::org_unit::check_prefix;
use crate::person::CompareRow;
use crate::render::render;
use crate::results::{ModelRef, ResultRecord};
use crate::stats::Estimate;
use crate::unit_sums::{UnitGroup, UnitSums, indicator_means_within, unit_groups};
use crate::view::{self, InstrumentView, LevelView, level_at, level_look};
use ikd_core::instrument::Instrument;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// How many of the weakest indicators the page lists (the CSV has all).
pub const WEAKEST: usize = 5;

/// An organisation report: the page and its numbers as CSV.
#[derive(Clone, Debug)]
pub struct OrgReport {
    pub html: String,
    pub csv: String,
}

/// The organisation report of the units under `org_prefix` (the empty
/// prefix: every unit). Groups and domains with fewer than
/// `min_group_size` results are not reported, nor any unit `disclosure`
/// hides (decided on `rows` themselves when `None`: then they must be the
/// whole data set); a unit hidden is an error. `indicators`, computed for the
/// same prefix from the raw answers, fills the weakest-indicators section.
///
/// The rows are added up per unit ([`UnitSums::of_results`]) and reported as
/// [`org_report_from_units`] reports sums.
pub fn org_report(
    instrument: &Instrument,
    rows: &[ResultRecord],
    org_prefix: &str,
    lang: Lang,
    min_group_size: u32,
    indicators: Option<&IndicatorMeans>,
    disclosure: Option<Disclosure<'_>>,
) -> Result<OrgReport, ReportError> {
    let request = Request::new(org_prefix, lang, min_group_size, disclosure)?;
    if let Some(means) = indicators.filter(|m| m.org_prefix != org_prefix) {
        return Err(ReportError::InvalidPrefix {
            prefix: org_prefix.to_owned(),
            message: format!(
                "the indicator means were computed for prefix '{}'",
                means.org_prefix
            ),
        });
    }
    let units = unit_groups(instrument, &UnitSums::of_results(instrument, rows)?)?;
    let models = models_line(rows.iter().filter_map(|r| r.model.as_ref()));
    report(instrument, &units, models, indicators, request)
}

/// [`org_report`] from the sums of each unit's results instead of the
/// results (a unit given more than once has its sums added), for a store
/// that keeps them. `models` are the scoring models of the results (the page
/// names them). The weakest indicators come from the units' indicator sums;
/// without any under the prefix the section says they need the answers.
/// When `disclosure` is `None`, it is decided on the units' counts: then
/// they must be every unit of the data set.
pub fn org_report_from_units(
    instrument: &Instrument,
    units: &[UnitSums],
    models: &[ModelRef],
    org_prefix: &str,
    lang: Lang,
    min_group_size: u32,
    disclosure: Option<Disclosure<'_>>,
) -> Result<OrgReport, ReportError> {
    let request = Request::new(org_prefix, lang, min_group_size, disclosure)?;
    let units = unit_groups(instrument, units)?;
    let indicators = indicator_means_within(instrument, &units, org_prefix);
    report(
        instrument,
        &units,
        models_line(models),
        indicators.as_ref(),
        request,
    )
}

/// What is asked of a report, checked.
struct Request<'a> {
    prefix: &'a str,
    lang: Lang,
    min_group_size: u32,
    disclosure: Option<Disclosure<'a>>,
}

impl<'a> Request<'a> {
    fn new(
        prefix: &'a str,
        lang: Lang,
        min_group_size: u32,
        disclosure: Option<Disclosure<'a>>,
    ) -> Result<Self, ReportError> {
        if min_group_size == 0 {
            return Err(ReportError::MinGroupSize);
        }
        check_prefix(prefix)?;
        Ok(Request {
            prefix,
            lang,
            min_group_size,
            disclosure,
        })
    }
}

/// The scoring models, each once, in order, as the page names them.
fn models_line<'m>(models: impl IntoIterator<Item = &'m ModelRef>) -> String {
    let models: BTreeSet<String> = models.into_iter().map(ToString::to_string).collect();
    models.into_iter().collect::<Vec<_>>().join(", ")
}

/// The report of both entry points, from every unit's sums.
fn report(
    instrument: &Instrument,
    units: &[UnitGroup],
    models: String,
    indicators: Option<&IndicatorMeans>,
    request: Request<'_>,
) -> Result<OrgReport, ReportError> {
    let Request {
        prefix,
        lang,
        min_group_size,
        disclosure,
    } = request;
    let mut groups = Groups::new(instrument, units, prefix);
    if groups.unit.n == 0 {
        return Err(ReportError::NoResults {
            prefix: prefix.to_owned(),
        });
    }
    let computed;
    let disclosure = match disclosure {
        Some(d) => d,
        None => {
            computed = hidden_in(
                units.iter().map(|u| (u.unit.as_str(), u.group.n)),
                min_group_size,
            );
            Disclosure {
                hidden: &computed,
                scope: "",
            }
        }
    };
    groups.withhold(disclosure);
    if groups.unit.suppressed(min_group_size) || disclosure.hidden.is_hidden(prefix) {
        return Err(ReportError::Suppressed {
            prefix: prefix.to_owned(),
            min_group_size,
        });
    }
    let page = Page::new(
        instrument,
        &groups,
        lang,
        min_group_size,
        indicators,
        models,
    );
    Ok(OrgReport {
        html: render("org.html", &page)?,
        csv: org_csv::write(instrument, &groups, min_group_size, indicators)?,
    })
}

#[derive(Serialize)]
struct Page {
    lang: &'static str,
    title: &'static str,
    subject: String,
    prefix: String,
    t: BTreeMap<&'static str, &'static str>,
    version: &'static str,
    instrument: InstrumentView,
    models: String,
    summary: Summary,
    scale: ScaleBar,
    radar: Radar,
    compare_headers: Vec<String>,
    compare: Vec<CompareRow>,
    levels: Vec<LevelView>,
    bars: StackedBars,
    children: Children,
    indicators: Indicators,
    notes: Vec<String>,
}

#[derive(Serialize)]
struct Summary {
    n: String,
    n_index: String,
    participation: String,
    index_mean: String,
    index_ci: String,
    sd: String,
    flagged: String,
}

#[derive(Serialize)]
struct Children {
    columns: Vec<String>,
    rows: Vec<ChildRow>,
    suppressed_note: Option<String>,
}

#[derive(Serialize)]
struct ChildRow {
    unit: String,
    label: String,
    n: String,
    cells: Vec<Cell>,
}

#[derive(Serialize)]
struct Cell {
    code: String,
    /// `None` for a suppressed cell.
    text: Option<String>,
    value: Option<f64>,
    colour: String,
    text_colour: &'static str,
}

#[derive(Serialize)]
struct Indicators {
    rows: Vec<IndicatorRow>,
    note: String,
}

#[derive(Serialize)]
struct IndicatorRow {
    rank: usize,
    code: String,
    name: String,
    domain_code: String,
    domain: String,
    mean: String,
    value: f64,
    width: f64,
    colour: String,
    n: String,
}

impl Page {
    fn new(
        instrument: &Instrument,
        groups: &Groups,
        lang: Lang,
        min: u32,
        indicators: Option<&IndicatorMeans>,
        models: String,
    ) -> Self {
        let t = texts(lang);
        let code = lang.code();
        let unit = &groups.unit;
        let subject = if groups.prefix.is_empty() {
            t["all_units"].to_owned()
        } else {
            groups.prefix.clone()
        };
        let names: Vec<String> = instrument
            .domains
            .iter()
            .map(|d| d.name.get(lang).to_owned())
            .collect();
        let index = unit.index(min);
        let estimate_text = |e: Option<Estimate>| match e {
            Some(e) => match view::interval(e.ci_low, e.ci_high, lang) {
                Some(ci) => format!("{} ({ci})", number(Some(e.mean), 1, lang)),
                None => number(Some(e.mean), 1, lang),
            },
            None => t["not_reported"].to_owned(),
        };
        let summary = Summary {
            n: integer(unit.n, lang),
            n_index: integer(unit.index.n, lang),
            participation: percent(100.0 * unit.index.n as f64 / unit.n as f64, lang),
            index_mean: index.map_or_else(
                || t["not_reported"].to_owned(),
                |e| number(Some(e.mean), 1, lang),
            ),
            index_ci: index
                .and_then(|e| view::interval(e.ci_low, e.ci_high, lang))
                .map(|ci| format!("{} {ci}", t["ci95"]))
                .unwrap_or_default(),
            sd: number(index.map(|e| e.sd), 1, lang),
            flagged: integer(unit.flagged, lang),
        };
        let scale = view::scale(
            instrument,
            lang,
            index.map(|e| e.mean),
            index.map(|e| (e.ci_low, e.ci_high)),
        );

        // Radar and table: the unit, its parent, the whole data set.
        let mut compared: Vec<(&str, String, &Group)> =
            vec![("unit", fill(t["series_unit"], &[("unit", &subject)]), unit)];
        if let Some((p, group)) = &groups.parent {
            compared.push(("parent", fill(t["series_parent"], &[("unit", p)]), group));
        }
        if let Some(all) = &groups.all {
            compared.push(("all", t["series_all"].to_owned(), all));
        }
        let series = compared
            .iter()
            .map(|(key, name, group)| {
                let values: Vec<Option<f64>> = (0..instrument.domains.len())
                    .map(|d| group.domain(d, min).map(|e| e.mean))
                    .collect();
                SeriesSpec {
                    key: (*key).to_owned(),
                    name: name.clone(),
                    labels: values.iter().map(|v| number(*v, 1, lang)).collect(),
                    values,
                }
            })
            .collect();
        let chart = radar(&RadarSpec {
            axes: instrument
                .domains
                .iter()
                .zip(&names)
                .map(|(d, n)| (d.code.as_str(), n.as_str()))
                .collect(),
            series,
            min: instrument.reporting.min,
            max: instrument.reporting.max,
            rings: view::rings(instrument, lang),
        });
        let mut compare = vec![CompareRow {
            code: "index".into(),
            name: t["index_short"].to_owned(),
            values: compared
                .iter()
                .map(|(_, _, g)| estimate_text(g.index(min)))
                .collect(),
        }];
        compare.extend(instrument.domains.iter().enumerate().map(|(d, domain)| {
            CompareRow {
                code: domain.code.clone(),
                name: names[d].clone(),
                values: compared
                    .iter()
                    .map(|(_, _, g)| estimate_text(g.domain(d, min)))
                    .collect(),
            }
        }));

        // Level distribution: the index, then each domain.
        let level_names: Vec<String> = instrument
            .levels
            .iter()
            .map(|l| l.name.get(lang).to_owned())
            .collect();
        let level_refs: Vec<(&str, &str)> = instrument
            .levels
            .iter()
            .zip(&level_names)
            .map(|(l, n)| (l.code.as_str(), n.as_str()))
            .collect();
        let note = |n: u64| format!("n = {}", integer(n, lang));
        let mut bar_specs = vec![BarSpec {
            code: "index",
            label: t["index_short"].to_owned(),
            note: note(unit.index.n),
            counts: index.map(|_| unit.index_levels.clone()),
        }];
        bar_specs.extend(instrument.domains.iter().enumerate().map(|(d, domain)| {
            let shown = unit.domain(d, min).is_some();
            BarSpec {
                code: domain.code.as_str(),
                label: names[d].clone(),
                note: if shown {
                    note(unit.domains[d].scores.n)
                } else {
                    String::new()
                },
                counts: shown.then(|| unit.domains[d].levels.clone()),
            }
        }));
        let bars = stacked_bars(&bar_specs, &level_refs, |p| percent(p, lang));

        let children = children(instrument, groups, lang, min, &t, &names);
        let indicators = indicator_rows(instrument, indicators, lang, min, &t);
        let min_text = integer(u64::from(min), lang);
        let mut notes = vec![
            t["note_ci"].to_owned(),
            fill(t["note_suppression"], &[("min", &min_text)]),
            t["note_compare"].to_owned(),
        ];
        if !groups.withheld.is_empty() {
            let units: Vec<String> = groups
                .withheld
                .iter()
                .map(|(scope, p)| match *scope {
                    "parent" => fill(t["series_parent"], &[("unit", p)]),
                    _ => t["series_all"].to_owned(),
                })
                .collect();
            notes.push(fill(t["note_withheld"], &[("units", &units.join(", "))]));
        }
        notes.push(t["note_use"].to_owned());
        Page {
            lang: code,
            title: t["title_org"],
            subject,
            prefix: groups.prefix.clone(),
            version: env!("CARGO_PKG_VERSION"),
            instrument: InstrumentView::new(instrument, lang),
            models,
            summary,
            scale,
            radar: chart,
            compare_headers: compared.into_iter().map(|(_, name, _)| name).collect(),
            compare,
            levels: view::levels(instrument, lang),
            bars,
            children,
            indicators,
            notes,
            t,
        }
    }
}

/// The heatmap of child units: index and domain means coloured by their
/// level; children below the minimum group size are left out entirely (not
/// even named), and only counted.
fn children(
    instrument: &Instrument,
    groups: &Groups,
    lang: Lang,
    min: u32,
    t: &BTreeMap<&'static str, &'static str>,
    names: &[String],
) -> Children {
    let cell = |code: &str, estimate: Option<Estimate>| {
        let value = estimate.map(|e| e.mean);
        let look = value
            .and_then(|v| level_at(instrument, v))
            .and_then(|l| level_look(instrument, l, lang));
        Cell {
            code: code.to_owned(),
            text: value.map(|v| number(Some(v), 1, lang)),
            value,
            colour: look.as_ref().map_or("#ffffff".into(), |l| l.colour.clone()),
            text_colour: look.map_or("#111111", |l| l.text_colour),
        }
    };
    let mut suppressed = 0u64;
    let mut rows = Vec::new();
    for (unit, group) in &groups.children {
        if groups.hidden_children.contains(unit) {
            suppressed += 1;
            continue;
        }
        let mut cells = vec![cell("index", group.index(min))];
        cells.extend(
            instrument
                .domains
                .iter()
                .enumerate()
                .map(|(d, domain)| cell(&domain.code, group.domain(d, min))),
        );
        rows.push(ChildRow {
            label: if *unit == groups.prefix {
                format!("{unit} {}", t["this_unit"])
            } else {
                unit.clone()
            },
            unit: unit.clone(),
            n: integer(group.n, lang),
            cells,
        });
    }
    // A unit whose only "child" is itself has no sub-units to show.
    if groups.children.len() == 1 && groups.children.contains_key(&groups.prefix) {
        rows.clear();
    }
    let mut columns = vec![t["index_short"].to_owned()];
    columns.extend(names.iter().cloned());
    Children {
        columns,
        rows,
        suppressed_note: (suppressed > 0).then(|| {
            fill(
                t["suppressed_children"],
                &[
                    ("n", &integer(suppressed, lang)),
                    ("min", &integer(u64::from(min), lang)),
                ],
            )
        }),
    }
}

/// The weakest indicators with at least `min` respondents, lowest mean first.
fn indicator_rows(
    instrument: &Instrument,
    means: Option<&IndicatorMeans>,
    lang: Lang,
    min: u32,
    t: &BTreeMap<&'static str, &'static str>,
) -> Indicators {
    let Some(means) = means else {
        return Indicators {
            rows: Vec::new(),
            note: t["indicators_need"].to_owned(),
        };
    };
    let mut ranked: Vec<(f64, &crate::indicators::IndicatorMean)> = means
        .indicators
        .iter()
        .filter(|i| i.n >= u64::from(min))
        .filter_map(|i| Some((i.mean?, i)))
        .collect();
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
    let rows: Vec<IndicatorRow> = ranked
        .iter()
        .take(WEAKEST)
        .enumerate()
        .map(|(k, (mean, i))| {
            let domain = instrument.domains.iter().find(|d| d.code == i.domain);
            let name = domain
                .and_then(|d| d.indicators.iter().find(|x| x.code == i.indicator))
                .map_or_else(|| i.indicator.clone(), |x| x.name.get(lang).to_owned());
            let colour = ramp(mean / 100.0);
            IndicatorRow {
                rank: k + 1,
                code: i.indicator.clone(),
                name,
                domain_code: i.domain.clone(),
                domain: domain.map_or_else(|| i.domain.clone(), |d| d.name.get(lang).to_owned()),
                mean: number(Some(*mean), 1, lang),
                value: *mean,
                width: (mean.clamp(0.0, 100.0) * 100.0).round() / 100.0,
                colour,
                n: integer(i.n, lang),
            }
        })
        .collect();
    let note = fill(
        t["indicators_note"],
        &[
            ("n", &integer(means.respondents, lang)),
            ("shown", &integer(rows.len() as u64, lang)),
            ("total", &integer(means.indicators.len() as u64, lang)),
        ],
    );
    Indicators { rows, note }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::IndicatorMean;
    use crate::results::DomainRecord;
    use crate::testing::instrument;
    use ikd_core::disclosure;

    mod from_units;

    fn row(id: String, unit: &str, alpha: f64, beta: f64) -> ResultRecord {
        let level = |x: f64| Some(if x < 50.0 { "lo" } else { "hi" }.to_owned());
        ResultRecord {
            respondent_id: id,
            org_unit: unit.into(),
            index: Some((alpha + beta) / 2.0),
            level: level((alpha + beta) / 2.0),
            domains: vec![
                DomainRecord {
                    code: "alpha".into(),
                    score: Some(alpha),
                    level: level(alpha),
                    ..Default::default()
                },
                DomainRecord {
                    code: "beta".into(),
                    score: Some(beta),
                    level: level(beta),
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    /// 36.72/a: alpha 40, 50, 60, 70, 80; 36.72/b: 3 results (too few);
    /// 36.72.01/x: 5; outside the prefix: 36.721/z, 36.73/q, 64.72/r.
    fn rows() -> Vec<ResultRecord> {
        let mut rows = Vec::new();
        let mut add = |unit: &str, alphas: &[f64], beta: f64| {
            for a in alphas {
                rows.push(row(format!("{unit}-{a}"), unit, *a, beta));
            }
        };
        add("36.72/a", &[40.0, 50.0, 60.0, 70.0, 80.0], 50.0);
        add("36.72/b", &[10.0, 11.0, 12.0], 20.0);
        add("36.72.01/x", &[30.0; 5], 30.0);
        add("36.721/z", &[90.0; 5], 90.0);
        add("36.73/q", &[20.0; 5], 20.0);
        add("64.72/r", &[100.0; 5], 100.0);
        rows
    }

    /// The page with `/` unescaped (minijinja writes it as `&#x2f;`), so
    /// that unit names can be looked for as they read.
    fn page(report: &OrgReport) -> String {
        report.html.replace("&#x2f;", "/")
    }

    fn csv_value(csv: &str, key: &str) -> f64 {
        let line = csv
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("no row {key} in\n{csv}"));
        line.rsplit(',').next().unwrap().parse().unwrap()
    }

    #[test]
    fn a_unit_against_its_parent_and_everything() {
        let report = org_report(&instrument(), &rows(), "36.72", Lang::En, 5, None, None).unwrap();
        let (html, csv) = (&page(&report), &report.csv);
        // Unit: 13 results; alpha mean (300 + 33 + 150) / 13 = 37.1538.
        assert!(csv.contains("unit,36.72,,,,n,13\n"));
        assert!((csv_value(csv, "unit,36.72,alpha,,,mean,") - 483.0 / 13.0).abs() < 1e-4);
        // Parent 36: also 36.721 and 36.73 → (483 + 450 + 100) / 23 = 44.913.
        assert!((csv_value(csv, "parent,36,alpha,,,mean,") - 1033.0 / 23.0).abs() < 1e-4);
        assert!((csv_value(csv, "all,,alpha,,,mean,") - 1533.0 / 28.0).abs() < 1e-4);
        assert!(html.contains(r#"data-series="parent" data-domain="alpha""#));
        assert!(html.contains(r#"data-series="all" data-domain="alpha""#));
        assert!(html.contains("Parent 36") && html.contains("Whole data set"));
        // Child 36.72/a, alpha 40..80: mean 60, SD √250 = 15.8114, half-width
        // 2.776 · 15.8114 / √5 = 19.6293 → 40.3707–79.6293.
        assert_eq!(csv_value(csv, "child,36.72/a,alpha,,,mean,"), 60.0);
        assert!((csv_value(csv, "child,36.72/a,alpha,,,ci_low,") - 40.3707).abs() < 1e-3);
        assert!((csv_value(csv, "child,36.72/a,alpha,,,ci_high,") - 79.6293).abs() < 1e-3);
        assert!(html.contains(r#"data-mean="60.0""#) && html.contains(">60.0</td>"));
        // The unit's own interval is in the comparison table.
        assert!(html.contains(&format!("{:.1} (", 483.0 / 13.0)));
        // Level counts of the unit: alpha lo = 40 + 3 + 5 = 9 (40 is below 50).
        assert_eq!(csv_value(csv, "unit,36.72,alpha,,lo,count,"), 9.0);
    }

    #[test]
    fn small_children_are_left_out_and_counted() {
        let report = org_report(&instrument(), &rows(), "36.72", Lang::En, 5, None, None).unwrap();
        let html = page(&report);
        for text in [&html, &report.csv] {
            assert!(!text.contains("36.72/b"), "a suppressed child is named");
        }
        assert!(html.contains(r#"data-unit="36.72/a""#));
        // Complementary suppression: 36.72.01 (5, the smallest sibling, first by
        // name) is hidden with 36.72/b (3), or b would be 36.72 − a − 36.72.01.
        assert!(!html.contains(r#"data-unit="36.72.01""#));
        assert!(!html.contains("36.721"), "36.721 is not under 36.72");
        assert!(html.contains("2 sub-unit(s) not reported: those with fewer than 5 results"));
        assert!(report.csv.contains("unit,36.72,,,,suppressed_children,2\n"));
        // With a minimum of 3 the small child is shown.
        let report = org_report(&instrument(), &rows(), "36.72", Lang::En, 3, None, None).unwrap();
        assert!(page(&report).contains(r#"data-unit="36.72/b""#));
    }

    #[test]
    fn a_unit_below_the_minimum_is_refused_without_its_n() {
        let err =
            org_report(&instrument(), &rows(), "36.72/b", Lang::En, 5, None, None).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ReportError::Suppressed { .. }), "{text}");
        assert!(
            text.contains("'36.72/b'") && text.contains("fewer than 5"),
            "{text}"
        );
        assert!(
            !text.contains(" 3 "),
            "the small unit's n is not given: {text}"
        );
        let err = org_report(&instrument(), &rows(), "36.7", Lang::En, 5, None, None).unwrap_err();
        assert!(matches!(err, ReportError::NoResults { .. }), "{err}");
        let err = org_report(&instrument(), &rows(), "36.", Lang::En, 5, None, None).unwrap_err();
        assert!(matches!(err, ReportError::InvalidPrefix { .. }), "{err}");
        let err = org_report(&instrument(), &rows(), "36", Lang::En, 0, None, None).unwrap_err();
        assert!(matches!(err, ReportError::MinGroupSize), "{err}");
    }

    #[test]
    fn a_hidden_parent_is_not_printed_as_a_comparison() {
        // Issue 12, defect 4: b (1) takes a (10) with it; a's published child
        // y must not print a as its parent, or 36.72 − c − a would be b.
        let mut rows = Vec::new();
        for (unit, n) in [
            ("36.72/a/x", 5),
            ("36.72/a/y", 5),
            ("36.72/b", 1),
            ("36.72/c", 20),
        ] {
            rows.extend((0..n).map(|k| row(format!("{unit}-{k}"), unit, 50.0, 50.0)));
        }
        let report =
            org_report(&instrument(), &rows, "36.72/a/y", Lang::En, 5, None, None).unwrap();
        assert!(
            report.csv.contains(
                "parent,36.72/a,,,,suppressed,1\n\
                 parent,36.72/a,,,,suppression_reason,disclosure-control\n"
            ),
            "{}",
            report.csv
        );
        assert!(!report.csv.contains("parent,36.72/a,,,,n,"));
        assert!(!report.html.contains(r#"data-series="parent""#));
        assert!(page(&report).contains("Parent 36.72/a: not shown for comparison"));
        assert!(
            report.csv.contains("all,,,,,n,31\n"),
            "the whole is published"
        );
        // Its sibling x went with a: refused without its n.
        let err =
            org_report(&instrument(), &rows, "36.72/a/x", Lang::En, 5, None, None).unwrap_err();
        assert!(matches!(err, ReportError::Suppressed { .. }), "{err}");
        // A caller limited to 36.72/a/y: its "whole data set" is its scope, published.
        let hidden = disclosure::hidden_units(
            [
                ("36.72/a/x", 5),
                ("36.72/a/y", 5),
                ("36.72/b", 1),
                ("36.72/c", 20),
            ],
            5,
        );
        let scoped: Vec<ResultRecord> = rows
            .iter()
            .filter(|r| r.org_unit == "36.72/a/y")
            .cloned()
            .collect();
        let d = Disclosure {
            hidden: &hidden,
            scope: "36.72/a/y",
        };
        let report = org_report(
            &instrument(),
            &scoped,
            "36.72/a/y",
            Lang::En,
            5,
            None,
            Some(d),
        )
        .unwrap();
        // (its comparisons stay inside the scope: nothing of 36.72/a beyond y)
        assert!(
            !report.csv.contains("parent,36.72/a,,,,n,10\n"),
            "{}",
            report.csv
        );
        // Decided on the whole data set: a scope of 36.72/a/x alone is still hidden.
        let scoped: Vec<ResultRecord> = rows
            .iter()
            .filter(|r| r.org_unit == "36.72/a/x")
            .cloned()
            .collect();
        let d = Disclosure {
            hidden: &hidden,
            scope: "36.72/a/x",
        };
        let err = org_report(
            &instrument(),
            &scoped,
            "36.72/a/x",
            Lang::En,
            5,
            None,
            Some(d),
        )
        .unwrap_err();
        assert!(matches!(err, ReportError::Suppressed { .. }), "{err}");
    }

    #[test]
    fn the_empty_prefix_is_everything_with_no_parent() {
        let report = org_report(&instrument(), &rows(), "", Lang::Id, 5, None, None).unwrap();
        assert!(report.html.contains("Seluruh unit"));
        assert!(!report.html.contains(r#"data-series="parent""#));
        assert!(!report.html.contains(r#"data-series="all""#));
        assert!(
            report.html.contains(r#"data-unit="36""#) && report.html.contains(r#"data-unit="64""#)
        );
        assert!(
            report
                .html
                .contains("Rata-rata indikator memerlukan jawaban mentah")
        );
    }

    fn means(prefix: &str) -> IndicatorMeans {
        let mean = |indicator: &str, domain: &str, n: u64, mean: f64| IndicatorMean {
            domain: domain.into(),
            indicator: indicator.into(),
            n,
            mean: Some(mean),
            sd: 1.0,
        };
        IndicatorMeans {
            org_prefix: prefix.into(),
            respondents: 13,
            indicators: vec![
                mean("a1", "alpha", 13, 70.0),
                mean("a2", "alpha", 13, 35.5),
                // Too few respondents: not ranked.
                mean("b1", "beta", 4, 10.0),
            ],
        }
    }

    #[test]
    fn weakest_indicators_come_lowest_first() {
        let m = means("36.72");
        let report =
            org_report(&instrument(), &rows(), "36.72", Lang::En, 5, Some(&m), None).unwrap();
        let a2 = report.html.find(r#"data-indicator="a2""#).unwrap();
        let a1 = report.html.find(r#"data-indicator="a1""#).unwrap();
        assert!(a2 < a1);
        assert!(!report.html.contains(r#"data-indicator="b1""#));
        assert!(report.html.contains("A two"));
        assert!(report.csv.contains("indicator,36.72,alpha,a2,,mean,35.5\n"));
        assert!(report.csv.contains(
            "indicator,36.72,beta,b1,,suppressed,1\n\
                           indicator,36.72,beta,b1,,suppression_reason,too-few-results\n"
        ));
        let other = means("36.73");
        let err = org_report(
            &instrument(),
            &rows(),
            "36.72",
            Lang::En,
            5,
            Some(&other),
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("'36.73'"), "{err}");
    }
}
