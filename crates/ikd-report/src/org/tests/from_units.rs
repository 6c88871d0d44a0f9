//! The organisation report from units' sums: the same page and CSV as from
//! the results they sum, and the weakest indicators from indicator sums.

use super::*;
use crate::indicator_scorer::IndicatorScorer;
use crate::indicators::{IndicatorAccumulator, IndicatorSumsByUnit};
use crate::stats::Moments;
use crate::unit_sums::{IndicatorSums, ScoreSums};
use ikd_core::pipeline::ItemScores;
use std::collections::BTreeMap;

/// Each unit's sums computed from the rows' codes directly (not through
/// `UnitSums::of_results`), every unit split into two entries (even and odd
/// rows) and the entries in reverse unit order: repeats add up, order does
/// not matter.
fn sums_by_hand(rows: &[ResultRecord]) -> Vec<UnitSums> {
    let mut entries: BTreeMap<(&str, usize), UnitSums> = BTreeMap::new();
    for (k, row) in rows.iter().enumerate() {
        let sums = entries
            .entry((row.org_unit.as_str(), k % 2))
            .or_insert_with(|| UnitSums {
                org_unit: row.org_unit.clone(),
                ..UnitSums::default()
            });
        sums.n += 1;
        sums.flagged += u64::from(!row.flags.is_empty());
        let add = |sums: &mut ScoreSums, score: Option<f64>, level: &Option<String>| {
            sums.scores.add_opt(score);
            if let Some(level) = level {
                *sums.levels.entry(level.clone()).or_default() += 1;
            }
        };
        add(&mut sums.index, row.index, &row.level);
        for d in &row.domains {
            add(
                sums.domains.entry(d.code.clone()).or_default(),
                d.score,
                &d.level,
            );
        }
    }
    entries.into_values().rev().collect()
}

/// Both reports alike: the same page and CSV, or the same refusal.
fn assert_same(
    from_rows: Result<OrgReport, ReportError>,
    from_sums: Result<OrgReport, ReportError>,
    case: &str,
) {
    match (from_rows, from_sums) {
        (Ok(rows), Ok(sums)) => {
            assert_eq!(rows.csv, sums.csv, "{case}: CSV");
            assert!(rows.html == sums.html, "{case}: the pages differ");
        }
        (Err(rows), Err(sums)) => assert_eq!(rows.to_string(), sums.to_string(), "{case}"),
        (rows, sums) => panic!(
            "{case}: from rows {:?}, from sums {:?}",
            rows.err(),
            sums.err()
        ),
    }
}

fn model(name: &str) -> ModelRef {
    ModelRef {
        name: name.into(),
        version: "1.0.0".into(),
    }
}

#[test]
fn rows_and_their_unit_sums_give_the_same_report() {
    let instrument = instrument();
    let mut rows = rows();
    for (k, row) in rows.iter_mut().enumerate() {
        row.model = Some(model(if k % 3 == 0 { "irt" } else { "weighted-index" }));
    }
    rows[4].flags = vec!["too-fast".into()];
    let models: Vec<ModelRef> = rows.iter().filter_map(|r| r.model.clone()).collect();
    let sums = sums_by_hand(&rows);
    // 36.72/b: suppressed; 36.7: no results; 36.: not a prefix.
    let prefixes = [
        "", "36", "36.72", "36.72/a", "36.72.01", "64.72", "36.72/b", "36.7", "36.",
    ];
    for prefix in prefixes {
        for lang in [Lang::Id, Lang::En] {
            for min in [3, 5] {
                assert_same(
                    org_report(&instrument, &rows, prefix, lang, min, None, None),
                    org_report_from_units(&instrument, &sums, &models, prefix, lang, min, None),
                    &format!("prefix '{prefix}', {lang:?}, minimum {min}"),
                );
            }
        }
    }
    // What was compared: hidden children, a flagged result, both models.
    let report =
        org_report_from_units(&instrument, &sums, &models, "36.72", Lang::En, 5, None).unwrap();
    assert!(report.csv.contains("unit,36.72,,,,suppressed_children,2\n"));
    assert!(report.csv.contains("unit,36.72,,,,flagged,1\n"));
    assert!(report.html.contains("irt 1.0.0, weighted-index 1.0.0"));
}

/// Issue 12's units: b (1) hides a (10) with it, so a is withheld as the
/// parent of its child y.
fn hidden_parent_rows() -> Vec<ResultRecord> {
    let mut rows = Vec::new();
    for (unit, n) in [
        ("36.72/a/x", 5),
        ("36.72/a/y", 5),
        ("36.72/b", 1),
        ("36.72/c", 20),
    ] {
        rows.extend((0..n).map(|k| row(format!("{unit}-{k}"), unit, 40.0 + k as f64, 55.0)));
    }
    rows
}

#[test]
fn a_withheld_parent_and_a_scope_are_the_same_from_unit_sums() {
    let instrument = instrument();
    let rows = hidden_parent_rows();
    let sums = sums_by_hand(&rows);
    for prefix in ["36.72/a/y", "36.72/a/x", "36.72/c", "36.72"] {
        assert_same(
            org_report(&instrument, &rows, prefix, Lang::En, 5, None, None),
            org_report_from_units(&instrument, &sums, &[], prefix, Lang::En, 5, None),
            prefix,
        );
    }
    let report =
        org_report_from_units(&instrument, &sums, &[], "36.72/a/y", Lang::En, 5, None).unwrap();
    assert!(
        report
            .csv
            .contains("parent,36.72/a,,,,suppression_reason,disclosure-control\n")
    );
    assert!(page(&report).contains("Parent 36.72/a: not shown for comparison"));

    // A caller limited to 36.72/a/y, with the decision on the whole data set.
    let hidden = disclosure::hidden_units(
        [
            ("36.72/a/x", 5),
            ("36.72/a/y", 5),
            ("36.72/b", 1),
            ("36.72/c", 20),
        ],
        5,
    );
    for scope in ["36.72/a/y", "36.72/a/x"] {
        let scoped: Vec<ResultRecord> = rows
            .iter()
            .filter(|r| r.org_unit == scope)
            .cloned()
            .collect();
        let d = Disclosure {
            hidden: &hidden,
            scope,
        };
        assert_same(
            org_report(&instrument, &scoped, scope, Lang::En, 5, None, Some(d)),
            org_report_from_units(
                &instrument,
                &sums_by_hand(&scoped),
                &[],
                scope,
                Lang::En,
                5,
                Some(d),
            ),
            &format!("scope {scope}"),
        );
    }
}

#[test]
fn weakest_indicators_from_unit_sums_by_hand() {
    let instrument = instrument();
    let mut sums = UnitSums::of_results(&instrument, &rows()).unwrap();
    let moments = |xs: &[f64]| {
        let mut m = Moments::default();
        xs.iter().for_each(|&x| m.add(x));
        m
    };
    let code = |i: &str| {
        let domain = if i == "b1" { "beta" } else { "alpha" };
        (domain.to_owned(), i.to_owned())
    };
    let mut give = |unit: &str, respondents: u64, scores: &[(&str, &[f64])]| {
        let sums = sums.iter_mut().find(|u| u.org_unit == unit).unwrap();
        sums.indicators = Some(IndicatorSums {
            respondents,
            scores: scores
                .iter()
                .map(|(i, xs)| (code(i), moments(xs)))
                .collect(),
        });
    };
    give(
        "36.72/a",
        5,
        &[
            ("a1", &[50.0, 70.0]),
            ("a2", &[10.0, 20.0, 30.0]),
            ("b1", &[0.0, 10.0]),
        ],
    );
    give(
        "36.72.01/x",
        5,
        &[("a1", &[30.0, 40.0, 60.0]), ("a2", &[20.0, 20.0])],
    );
    // Outside 36.72: counts for nothing there.
    give(
        "64.72/r",
        5,
        &[("a1", &[0.0; 5]), ("a2", &[0.0; 5]), ("b1", &[0.0; 5])],
    );
    let report =
        org_report_from_units(&instrument, &sums, &[], "36.72", Lang::En, 5, None).unwrap();
    // a1: 50, 70, 30, 40, 60 → mean 50, SD √(1000 / 4) = 15.8114.
    // a2: 10, 20, 30, 20, 20 → mean 20, SD √(200 / 4) = 7.0711.
    // b1: 2 scores, below the minimum of 5: not ranked.
    for line in [
        "indicator,36.72,alpha,a1,,n,5\n",
        "indicator,36.72,alpha,a1,,mean,50\n",
        "indicator,36.72,alpha,a1,,sd,15.8114\n",
        "indicator,36.72,alpha,a2,,mean,20\n",
        "indicator,36.72,alpha,a2,,sd,7.0711\n",
        "indicator,36.72,beta,b1,,suppression_reason,too-few-results\n",
    ] {
        assert!(report.csv.contains(line), "{line} not in\n{}", report.csv);
    }
    let a2 = report.html.find(r#"data-indicator="a2""#).unwrap();
    let a1 = report.html.find(r#"data-indicator="a1""#).unwrap();
    assert!(a2 < a1, "the weakest first");
    assert!(!report.html.contains(r#"data-indicator="b1""#));
    assert!(report.html.contains("from 10 respondents of this unit"));
    // 64.72 has its own.
    let report =
        org_report_from_units(&instrument, &sums, &[], "64.72", Lang::En, 5, None).unwrap();
    assert!(report.csv.contains("indicator,64.72,beta,b1,,mean,0\n"));
}

#[test]
fn answers_summed_per_unit_give_the_page_of_the_prefix_means() {
    let instrument = instrument();
    let rows = rows();
    // The answers also hold a respondent of 36.72/new, whose result is not
    // in the rows: a unit with indicator sums and no results.
    let mut units: Vec<String> = rows.iter().map(|r| r.org_unit.clone()).collect();
    units.push("36.72/new".into());
    // Scores 1–5 in turn (0, 25, …, 100%: exact sums), every seventh cell skipped.
    let cells = units.len() * 3;
    let scores = ItemScores {
        respondents: units.len(),
        items: 3,
        scores: (0..cells).map(|k| 1.0 + (k % 5) as f64).collect(),
        status: (0..cells).map(|k| u8::from(k % 7 == 0)).collect(),
    };
    let ranges = [(1.0, 5.0); 3];
    let mut prefix_means = IndicatorAccumulator::with_ranges(&instrument, &ranges, "36.72");
    prefix_means.add(&units, &scores);
    let mut by_unit = IndicatorSumsByUnit::new(IndicatorScorer::with_ranges(&instrument, &ranges));
    by_unit.add(&units, &scores);
    let mut sums = UnitSums::of_results(&instrument, &rows).unwrap();
    UnitSums::join_indicators(&mut sums, by_unit.finish());

    let means = prefix_means.finish();
    let from_rows = org_report(&instrument, &rows, "36.72", Lang::En, 5, Some(&means), None);
    let from_sums = org_report_from_units(&instrument, &sums, &[], "36.72", Lang::En, 5, None);
    assert!(
        from_rows
            .as_ref()
            .unwrap()
            .html
            .contains(r#"data-indicator="a1""#)
    );
    assert_same(from_rows, from_sums, "36.72 with indicators");
}
