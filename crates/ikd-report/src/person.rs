//! The personal report: the index and its level (with a 95% interval when the
//! model gives a standard error), a radar of the domains against the mean of
//! the respondent's organisation unit, each domain's level, feedback and
//! development actions, and what the index is and is not.

use crate::chart::radar::{Radar, RadarSpec, SeriesSpec, radar};
use crate::chart::scale::ScaleBar;
use crate::data::{Group, align};
use crate::error::ReportError;
use crate::lang::{Lang, fill, integer, number, texts};
use crate::org_groups::{Disclosure, hidden_in};
use crate::render::render;
use crate::results::ResultRecord;
use crate::view::{self, InstrumentView, LevelView, level_look};
use ikd_core::instrument::Instrument;
use ikd_core::localise::{interval95, missing_text};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
struct Page {
    lang: &'static str,
    title: &'static str,
    subject: String,
    t: BTreeMap<&'static str, &'static str>,
    version: &'static str,
    instrument: InstrumentView,
    respondent: String,
    org_unit: String,
    model: Option<String>,
    index: IndexView,
    scale: ScaleBar,
    radar: Radar,
    radar_note: String,
    compare_headers: Vec<String>,
    compare: Vec<CompareRow>,
    levels: Vec<LevelView>,
    domains: Vec<DomainCard>,
    flags_note: Option<String>,
    about_is: String,
}

#[derive(Serialize, Default)]
struct IndexView {
    value: Option<String>,
    raw: Option<f64>,
    level: Option<String>,
    level_code: Option<String>,
    colour: String,
    text_colour: &'static str,
    ci: Option<String>,
    ci_low: Option<f64>,
    ci_high: Option<f64>,
    /// Why there is no index ([`ikd_core::results::Missing`]).
    missing: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct CompareRow {
    pub code: String,
    pub name: String,
    pub values: Vec<String>,
}

#[derive(Serialize)]
struct DomainCard {
    code: String,
    name: String,
    score: Option<String>,
    level: Option<String>,
    level_code: Option<String>,
    colour: String,
    text_colour: &'static str,
    ci: Option<String>,
    summary: Option<String>,
    actions: Vec<String>,
    feedback_missing: bool,
    /// Why there is no score ([`ikd_core::results::Missing`]).
    missing: Option<String>,
}

/// The personal report of `respondent_id` as an HTML page. The unit mean is
/// shown only when the unit has at least `min_group_size` results (and per
/// domain, at least that many scores) and disclosure control does not hide
/// the unit's own results (decided on `rows` when `disclosure` is `None`);
/// otherwise neither the mean nor the unit's n appears.
pub fn person_report(
    instrument: &Instrument,
    rows: &[ResultRecord],
    respondent_id: &str,
    lang: Lang,
    min_group_size: u32,
    disclosure: Option<Disclosure<'_>>,
) -> Result<String, ReportError> {
    if min_group_size == 0 {
        return Err(ReportError::MinGroupSize);
    }
    let mut found = rows.iter().filter(|r| r.respondent_id == respondent_id);
    let person = found
        .next()
        .ok_or_else(|| ReportError::RespondentNotFound {
            respondent: respondent_id.to_owned(),
        })?;
    let others = found.count();
    if others > 0 {
        return Err(ReportError::DuplicateRespondent {
            respondent: respondent_id.to_owned(),
            count: others + 1,
        });
    }
    let me = align(instrument, [person])?;
    let me = &me[0];
    let unit = align(
        instrument,
        rows.iter().filter(|r| r.org_unit == person.org_unit),
    )?;
    let group = Group::of(instrument, &unit);
    let t = texts(lang);
    let code = lang.code();
    let reporting = instrument.reporting;
    let unit_name = person.org_unit.as_str();

    // The index, its level and interval.
    let index_ci = person
        .index
        .zip(person.index_se)
        .map(|(x, se)| interval95(x, se, reporting.min, reporting.max));
    let mut index = IndexView {
        value: person.index.map(|x| number(Some(x), 1, lang)),
        raw: person.index,
        ci: index_ci.and_then(|(lo, hi)| view::interval(lo, hi, lang)),
        ci_low: index_ci.map(|c| c.0),
        ci_high: index_ci.map(|c| c.1),
        missing: person
            .index_missing(instrument.missing.min_domains)
            .map(|m| missing_text(&m).get(lang).to_owned()),
        ..Default::default()
    };
    if let Some(look) = me.level.and_then(|l| level_look(instrument, l, lang)) {
        index.level = Some(look.name);
        index.level_code = Some(look.code);
        index.colour = look.colour;
        index.text_colour = look.text_colour;
    }

    // The radar: the person against the unit mean.
    let names: Vec<String> = instrument
        .domains
        .iter()
        .map(|d| d.name.get(lang).to_owned())
        .collect();
    let scores: Vec<Option<f64>> = me.domains.iter().map(|d| d.score).collect();
    let unit_hidden = match disclosure {
        Some(d) => d.hidden.is_own_hidden(unit_name),
        None => hidden_in(
            rows.iter().map(|r| (r.org_unit.as_str(), 1)),
            min_group_size,
        )
        .is_own_hidden(unit_name),
    };
    let unit_shown = !group.suppressed(min_group_size) && !unit_hidden;
    let unit_means: Vec<Option<f64>> = (0..instrument.domains.len())
        .map(|d| {
            unit_shown
                .then(|| group.domain(d, min_group_size).map(|e| e.mean))
                .flatten()
        })
        .collect();
    let labels = |values: &[Option<f64>]| -> Vec<String> {
        values.iter().map(|v| number(*v, 1, lang)).collect()
    };
    let unit_series = fill(t["series_unit_mean"], &[("unit", unit_name)]);
    let mut series = vec![SeriesSpec {
        key: "person".into(),
        name: t["series_person"].to_owned(),
        labels: labels(&scores),
        values: scores.clone(),
    }];
    if unit_shown {
        series.push(SeriesSpec {
            key: "unit".into(),
            name: unit_series.clone(),
            labels: labels(&unit_means),
            values: unit_means.clone(),
        });
    }
    let chart = radar(&RadarSpec {
        axes: instrument
            .domains
            .iter()
            .zip(&names)
            .map(|(d, name)| (d.code.as_str(), name.as_str()))
            .collect(),
        series,
        min: reporting.min,
        max: reporting.max,
        rings: view::rings(instrument, lang),
    });
    let min_text = integer(u64::from(min_group_size), lang);
    let radar_note = if unit_shown {
        fill(
            t["unit_mean_note"],
            &[("n", &integer(group.n, lang)), ("unit", unit_name)],
        )
    } else {
        fill(
            t["unit_mean_suppressed"],
            &[("unit", unit_name), ("min", &min_text)],
        )
    };
    let mut compare_headers = vec![t["series_person"].to_owned()];
    if unit_shown {
        compare_headers.push(unit_series);
    }
    let compare = instrument
        .domains
        .iter()
        .enumerate()
        .map(|(d, domain)| {
            let mut values = vec![number(scores[d], 1, lang)];
            if unit_shown {
                values.push(number(unit_means[d], 1, lang));
            }
            CompareRow {
                code: domain.code.clone(),
                name: names[d].clone(),
                values,
            }
        })
        .collect();

    // One card per domain.
    let domains = instrument
        .domains
        .iter()
        .zip(&me.domains)
        .enumerate()
        .map(|(d, (domain, obs))| {
            let look = obs.level.and_then(|l| level_look(instrument, l, lang));
            let ci = obs
                .score
                .zip(obs.se)
                .map(|(x, se)| interval95(x, se, reporting.min, reporting.max))
                .and_then(|(lo, hi)| view::interval(lo, hi, lang));
            DomainCard {
                code: domain.code.clone(),
                name: names[d].clone(),
                score: obs.score.map(|x| number(Some(x), 1, lang)),
                colour: look.as_ref().map_or("#d5dae0".into(), |l| l.colour.clone()),
                text_colour: look.as_ref().map_or("#111111", |l| l.text_colour),
                level: look.as_ref().map(|l| l.name.clone()),
                level_code: look.map(|l| l.code),
                ci,
                summary: obs
                    .feedback
                    .map(|f| f.summary.get(lang).to_owned())
                    .filter(|s| !s.is_empty()),
                actions: obs
                    .feedback
                    .map(|f| steps(f.advice.get(lang)))
                    .unwrap_or_default(),
                feedback_missing: obs.level.is_some() && obs.feedback.is_none(),
                missing: person
                    .domains
                    .iter()
                    .find(|x| x.code == domain.code)
                    .and_then(|x| x.missing())
                    .map(|m| missing_text(&m).get(lang).to_owned()),
            }
        })
        .collect();

    let flags: Vec<String> = person
        .flags
        .iter()
        .map(|f| {
            t.get(format!("flag_{f}").as_str())
                .map_or_else(|| f.clone(), |s| (*s).to_owned())
        })
        .collect();
    let flags_note =
        (!flags.is_empty()).then(|| fill(t["flags_note"], &[("flags", &flags.join("; "))]));
    let about_is = fill(
        t["about_is"],
        &[
            ("min", &number(Some(reporting.min), 0, lang)),
            ("max", &number(Some(reporting.max), 0, lang)),
        ],
    );
    let page = Page {
        lang: code,
        title: t["title_person"],
        subject: person.respondent_id.clone(),
        version: env!("CARGO_PKG_VERSION"),
        instrument: InstrumentView::new(instrument, lang),
        respondent: person.respondent_id.clone(),
        org_unit: person.org_unit.clone(),
        model: person.model.as_ref().map(ToString::to_string),
        scale: view::scale(instrument, lang, person.index, index_ci),
        index,
        radar: chart,
        radar_note,
        compare_headers,
        compare,
        levels: view::levels(instrument, lang),
        domains,
        flags_note,
        about_is,
        t,
    };
    render("person.html", &page)
}

/// Development actions as a list: plugins write them as one text numbered
/// `1. … 2. … 3. …`; anything else stays one step.
pub(crate) fn steps(advice: &str) -> Vec<String> {
    let advice = advice.trim();
    if advice.is_empty() {
        return Vec::new();
    }
    let Some(mut rest) = advice.strip_prefix("1. ") else {
        return vec![advice.to_owned()];
    };
    let mut out = Vec::new();
    let mut next = 2;
    loop {
        let marker = format!(" {next}. ");
        match rest.find(&marker) {
            Some(at) => {
                out.push(rest[..at].trim().to_owned());
                rest = &rest[at + marker.len()..];
                next += 1;
            }
            None => {
                out.push(rest.trim().to_owned());
                return out;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{DomainRecord, Feedback};
    use crate::testing::instrument;
    use ikd_core::instrument::Text;
    use std::sync::Arc;

    #[test]
    fn numbered_advice_becomes_steps() {
        assert_eq!(
            steps("1. Read the guide. 2. Try it on 2. 3 forms. 3. Share it."),
            ["Read the guide.", "Try it on 2. 3 forms.", "Share it."]
        );
        assert_eq!(steps("Keep going."), ["Keep going."]);
        assert!(steps("  ").is_empty());
    }

    fn row(id: &str, unit: &str, alpha: f64, beta: f64) -> ResultRecord {
        let feedback = Arc::new(Feedback {
            summary: Text {
                id: "Ringkasan <alfa>".into(),
                en: "Summary <alpha>".into(),
            },
            advice: Text {
                id: "1. Satu. 2. Dua.".into(),
                en: "1. One. 2. Two.".into(),
            },
        });
        ResultRecord {
            respondent_id: id.into(),
            org_unit: unit.into(),
            index: Some((alpha + beta) / 2.0),
            index_se: Some(2.0),
            level: Some("hi".into()),
            domains: vec![
                DomainRecord {
                    code: "alpha".into(),
                    score: Some(alpha),
                    se: Some(4.0),
                    level: Some(if alpha < 50.0 { "lo" } else { "hi" }.into()),
                    feedback: Some(feedback),
                    ..Default::default()
                },
                DomainRecord {
                    code: "beta".into(),
                    score: Some(beta),
                    level: Some(if beta < 50.0 { "lo" } else { "hi" }.into()),
                    ..Default::default()
                },
            ],
            flags: vec!["too-fast".into()],
            ..Default::default()
        }
    }

    /// `n` results in 36.72/x, five in its sibling 36.72/y.
    fn rows(n: usize) -> Vec<ResultRecord> {
        (0..n)
            .map(|i| row(&format!("r{i}"), "36.72/x", 40.0 + 10.0 * i as f64, 60.0))
            .chain((0..5).map(|i| row(&format!("other{i}"), "36.72/y", 0.0, 0.0)))
            .collect()
    }

    #[test]
    fn a_domain_or_index_without_a_value_says_why() {
        // r1's beta: 1 answer of 2 needed; so the index (min_domains of the
        // test instrument, at least 1) has one domain, or none without alpha.
        let mut rows = rows(5);
        let r1 = rows.iter_mut().find(|r| r.respondent_id == "r1").unwrap();
        r1.index = None;
        r1.level = None;
        r1.domains[1] = DomainRecord {
            code: "beta".into(),
            answered: 1,
            needed: Some(2),
            ..Default::default()
        };
        let html = person_report(&instrument(), &rows, "r1", Lang::En, 5, None).unwrap();
        assert!(
            html.contains("Not scored: 1 of the 2 answers needed were given."),
            "{html}"
        );
        let html = person_report(&instrument(), &rows, "r1", Lang::Id, 5, None).unwrap();
        assert!(html.contains("Tidak dinilai: 1 dari 2 butir yang diperlukan dijawab."));
        assert!(html.contains(r#"id="index-missing""#));
    }

    #[test]
    fn the_page_holds_scores_interval_feedback_and_the_unit_mean() {
        let html = person_report(&instrument(), &rows(5), "r1", Lang::En, 5, None).unwrap();
        // Index (50 + 60) / 2 = 55 ± 1.96 · 2 = 51.08–58.92.
        assert!(html.contains(">55.0<"), "index");
        assert!(html.contains("51.1–58.9"), "interval");
        // Feedback is escaped, advice is a list.
        assert!(html.contains("Summary &lt;alpha&gt;"));
        assert!(html.contains("<li>One.</li>") && html.contains("<li>Two.</li>"));
        assert!(html.contains("completed too fast"));
        // Unit mean of alpha over the 5 in 36.72/x: 40..80 → 60; "other" is another unit.
        assert!(
            html.contains(r#"data-series="unit" data-domain="alpha" data-score="60.0""#),
            "{html}"
        );
        assert!(html.contains(r#"data-series="person" data-domain="alpha" data-score="50.0""#));
        assert_eq!(html.matches(r#"<g class="axis""#).count(), 2);
        assert!(html.contains(r#"data-label="Alpha""#));
        assert!(html.contains(r#"<html lang="en">"#));
    }

    #[test]
    fn a_small_unit_gets_no_mean() {
        let html = person_report(&instrument(), &rows(4), "r1", Lang::Id, 5, None).unwrap();
        assert!(!html.contains(r#"data-series="unit""#));
        assert!(html.contains("kurang dari 5 hasil"));
        assert!(html.contains("Ringkasan &lt;alfa&gt;"));
        assert!(html.contains(">55,0<"));
    }

    #[test]
    fn a_unit_hidden_as_a_complement_gets_no_mean_and_no_n() {
        // 36.72/x has 5, but its sibling 36.72/y only 1: 36.72 − x would be y.
        let mut rows = rows(5);
        rows.truncate(6);
        let html = person_report(&instrument(), &rows, "r1", Lang::En, 5, None).unwrap();
        assert!(!html.contains(r#"data-series="unit""#));
        assert!(!html.contains("computed from"), "the unit's n");
        assert!(html.contains("could be used to work out a smaller group"));
        // The server passes the decision it made on the whole data set.
        let hidden = ikd_core::disclosure::hidden_units([("36.72/x", 5), ("36.72/y", 1)], 5);
        let only_x: Vec<ResultRecord> = rows[..5].to_vec();
        let disclosure = Disclosure {
            hidden: &hidden,
            scope: "36.72/x",
        };
        let html =
            person_report(&instrument(), &only_x, "r1", Lang::En, 5, Some(disclosure)).unwrap();
        assert!(
            !html.contains(r#"data-series="unit""#),
            "decided on the whole data set"
        );
    }

    #[test]
    fn unknown_and_duplicate_respondents_are_named() {
        let err = person_report(&instrument(), &rows(2), "nobody", Lang::En, 5, None).unwrap_err();
        assert!(err.to_string().contains("'nobody'"));
        let mut twice = rows(2);
        twice.push(row("r0", "36.72/z", 1.0, 1.0));
        let err = person_report(&instrument(), &twice, "r0", Lang::En, 5, None).unwrap_err();
        assert!(err.to_string().contains("'r0' appears 2 times"), "{err}");
    }
}
