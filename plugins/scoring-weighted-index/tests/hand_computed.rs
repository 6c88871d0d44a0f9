//! The weighted index on small cases computed by hand; the arithmetic of each is
//! written out beside it. Bands throughout: [0,40) 0, [40,60) 1, [60,80) 2, [80,100] 3.

mod common;

use common::*;
use ikd_plugin_sdk::{ScoreOutput, ScoringModel};
use ikd_scoring_weighted_index::WeightedIndex;

fn score(model: &WeightedIndex, rows: &[&[(f64, u8)]]) -> ScoreOutput {
    model.score(&request(rows)).expect("the batch scores")
}

#[test]
fn keyed_scores_are_only_normalised() {
    // One domain, one indicator, one Likert 1..5 item.
    // r0: score 4 → (4 − 1)/(5 − 1) = 0.75 → domain 75, level 2, index 75.
    // r1: raw answer 4 on a reverse-keyed item arrives keyed as (1 + 5) − 4 = 2:
    //     (2 − 1)/4 = 0.25 → 25, level 0. The model must not reverse it again (→ 75).
    // r2: a 0..3 coded item set (DigCompSat style) is the same formula: here a
    //     second config with range 0..3, score 2 → 2/3 → 66.666…
    let model = WeightedIndex::new(&config(
        vec![domain("LD", 1.0, &[("K1", 1.0)], 1, 0.0)],
        vec![item("LD-01", 0, 0, 1.0, 1.0, 5.0)],
        1,
    ))
    .unwrap();
    let out = score(&model, &[&[(4.0, ANS)], &[(2.0, ANS)]]);
    assert_eq!(out.respondents, 2);
    assert_eq!(out.domains, 1);
    assert_close(out.domain_scores[0], 75.0);
    assert_close(out.domain_scores[1], 25.0);
    assert_eq!(out.domain_levels, vec![2, 0]);
    assert_close(out.index[0], 75.0);
    assert_close(out.index[1], 25.0);
    assert_eq!(out.index_levels, vec![2, 0]);
    assert_eq!(out.domain_answered, vec![1, 1]);

    let model = WeightedIndex::new(&config(
        vec![domain("LD", 1.0, &[("K1", 1.0)], 1, 0.0)],
        vec![item("LD-01", 0, 0, 1.0, 0.0, 3.0)],
        1,
    ))
    .unwrap();
    let out = score(&model, &[&[(2.0, ANS)]]);
    assert_close(out.domain_scores[0], 200.0 / 3.0);
}

#[test]
fn item_and_indicator_weights() {
    // Domain BD, indicators K1 (weight 3) and K2 (weight 1).
    //   K1: i1 weight 2, Likert 1..5, score 5 → 1.0; i2 weight 1, score 2 → 0.25
    //       K1 = (2·1.0 + 1·0.25)/3 = 0.75
    //   K2: i3 weight 1, range 0..1, score 0 → 0.0; i4 weight 1, score 1 → 1.0
    //       K2 = (0 + 1)/2 = 0.5
    // r0: domain = 100 · (3·0.75 + 1·0.5)/(3 + 1) = 100 · 2.75/4 = 68.75, level 2.
    // r1: i3 and i4 skipped: K2 has no answered item and is left out, so the
    //     indicator weights renormalise over K1 alone: 100 · 0.75 = 75 (not
    //     100 · 3·0.75/4 = 56.25, which treating K2 as 0 would give).
    // r2: i1 alone answered, score 3 → 0.5 (one item: its weight cancels) → 50.
    let model = WeightedIndex::new(&config(
        vec![domain("BD", 1.0, &[("K1", 3.0), ("K2", 1.0)], 1, 0.0)],
        vec![
            item("i1", 0, 0, 2.0, 1.0, 5.0),
            item("i2", 0, 0, 1.0, 1.0, 5.0),
            item("i3", 0, 1, 1.0, 0.0, 1.0),
            item("i4", 0, 1, 1.0, 0.0, 1.0),
        ],
        1,
    ))
    .unwrap();
    let nan = f64::NAN;
    let out = score(
        &model,
        &[
            &[(5.0, ANS), (2.0, ANS), (0.0, ANS), (1.0, ANS)],
            &[(5.0, ANS), (2.0, ANS), (nan, SKIP), (nan, SKIP)],
            &[(3.0, ANS), (nan, SKIP), (nan, SKIP), (nan, SKIP)],
        ],
    );
    assert_close(out.domain_scores[0], 68.75);
    assert_close(out.domain_scores[1], 75.0);
    assert_close(out.domain_scores[2], 50.0);
    assert_eq!(out.domain_levels, vec![2, 2, 1]);
    assert_eq!(out.domain_answered, vec![4, 2, 1]);
    // One domain: the index is the domain score.
    assert_close(out.index[0], 68.75);
}

#[test]
fn domain_weights_in_the_composite() {
    // Two domains, weights 0.7 and 0.3, each one item on 0..10.
    // r0: D1 score 8 → 80, D2 score 5 → 50; index = 0.7·80 + 0.3·50 = 56 + 15 = 71, level 2.
    //     (An unweighted mean would give 65.)
    // r1: D1 2 → 20, D2 10 → 100; index = 0.7·20 + 0.3·100 = 14 + 30 = 44, level 1.
    // The same with weights 7 and 3: weights are relative, so the index is the same.
    for (w1, w2) in [(0.7, 0.3), (7.0, 3.0)] {
        let model = WeightedIndex::new(&config(
            vec![
                domain("D1", w1, &[("K", 1.0)], 1, 0.0),
                domain("D2", w2, &[("K", 1.0)], 1, 0.0),
            ],
            vec![
                item("d1", 0, 0, 1.0, 0.0, 10.0),
                item("d2", 1, 0, 1.0, 0.0, 10.0),
            ],
            2,
        ))
        .unwrap();
        let out = score(
            &model,
            &[&[(8.0, ANS), (5.0, ANS)], &[(2.0, ANS), (10.0, ANS)]],
        );
        assert_eq!(out.domains, 2);
        // Row-major respondents × domains.
        assert_close(out.domain_scores[0], 80.0);
        assert_close(out.domain_scores[1], 50.0);
        assert_close(out.domain_scores[2], 20.0);
        assert_close(out.domain_scores[3], 100.0);
        assert_eq!(out.domain_levels, vec![3, 1, 0, 3]);
        assert_close(out.index[0], 71.0);
        assert_close(out.index[1], 44.0);
        assert_eq!(out.index_levels, vec![2, 1]);
    }
}

fn three_domains(min_domains: u32) -> WeightedIndex {
    // Domains D1, D2, D3 with weights 0.5, 0.3, 0.2; four Likert 1..5 items each;
    // min_answered 2 and min_answered_fraction 0.5.
    let mut items = Vec::new();
    for d in 0..3u32 {
        for i in 0..4 {
            items.push(item(&format!("D{}-{i}", d + 1), d, 0, 1.0, 1.0, 5.0));
        }
    }
    WeightedIndex::new(&config(
        vec![
            domain("D1", 0.5, &[("K", 1.0)], 2, 0.5),
            domain("D2", 0.3, &[("K", 1.0)], 2, 0.5),
            domain("D3", 0.2, &[("K", 1.0)], 2, 0.5),
        ],
        items,
        min_domains,
    ))
    .unwrap()
}

#[test]
fn a_domain_with_too_few_answers_is_missing_and_the_composite_renormalises() {
    let nan = f64::NAN;
    let (a5, a3, a4, sk) = ((5.0, ANS), (3.0, ANS), (4.0, ANS), (nan, SKIP));
    // r0: D1 four answers of 5 → 100.
    //     D2 one answer (4), three skipped: 1 < min_answered 2 → missing: NaN, level −1,
    //        but domain_answered = 1 is still reported.
    //     D3 two answers of 3 (→ 0.5 each), two skipped: 2 ≥ 2 and 2 ≥ ⌈0.5·4⌉ = 2 → 50.
    //     index over D1 and D3 with weights renormalised: (0.5·100 + 0.2·50)/(0.5 + 0.2)
    //        = 60/0.7 = 85.714285…, level 3. (Counting D2 as 0 would give 60.)
    // r1: only D1 scored (D2 and D3 one answer each) → 1 < min_domains 2 → index NaN, level −1.
    let rows: [&[(f64, u8)]; 2] = [
        &[a5, a5, a5, a5, a4, sk, sk, sk, a3, a3, sk, sk],
        &[a5, a5, a5, a5, a4, sk, sk, sk, a3, sk, sk, sk],
    ];
    let out = score(&three_domains(2), &rows);
    assert_close(out.domain_scores[0], 100.0);
    assert!(
        out.domain_scores[1].is_nan(),
        "a missing domain is NaN, never 0"
    );
    assert_close(out.domain_scores[2], 50.0);
    assert_eq!(&out.domain_levels[0..3], &[3, -1, 1]);
    assert_eq!(&out.domain_answered[0..3], &[4, 1, 2]);
    assert_close(out.index[0], 60.0 / 0.7);
    assert_eq!(out.index_levels[0], 3);

    assert_close(out.domain_scores[3], 100.0);
    assert!(out.domain_scores[4].is_nan() && out.domain_scores[5].is_nan());
    assert_eq!(&out.domain_levels[3..6], &[3, -1, -1]);
    assert_eq!(&out.domain_answered[3..6], &[4, 1, 1]);
    assert!(out.index[1].is_nan());
    assert_eq!(out.index_levels[1], -1);

    // min_domains 3: r0 has only two scored domains → no composite either.
    let out = score(&three_domains(3), &rows);
    assert!(out.index[0].is_nan());
    assert_eq!(out.index_levels, vec![-1, -1]);
    // The domain scores do not depend on min_domains.
    assert_close(out.domain_scores[2], 50.0);

    // min_domains 1: r1 gets the index of its one domain.
    let out = score(&three_domains(1), &rows);
    assert_close(out.index[1], 100.0);
}

#[test]
fn the_fraction_is_taken_of_applicable_items_only() {
    // One domain of four Likert 1..5 items, min_answered 2, min_answered_fraction 0.75.
    // r0: i1 = 5 (1.0), i2 = 3 (0.5), i3 and i4 not applicable (their score 1 is ignored):
    //     applicable 2, needed max(2, ⌈0.75·2⌉ = 2) = 2, answered 2 → (1.0 + 0.5)/2 → 75.
    //     (Were the NA cells counted as answered 1s: (1 + 0.5 + 0 + 0)/4 → 37.5.)
    // r1: the same answers but i3 and i4 skipped: applicable 4, needed ⌈0.75·4⌉ = 3,
    //     answered 2 → missing.
    // r2: i3 invalid, i4 not applicable: applicable 3, needed max(2, ⌈2.25⌉ = 3) = 3 → missing.
    // r3: everything not applicable: applicable 0 → missing, answered 0.
    let model = WeightedIndex::new(&config(
        vec![domain("PP", 1.0, &[("K", 1.0)], 2, 0.75)],
        (0..4)
            .map(|i| item(&format!("i{i}"), 0, 0, 1.0, 1.0, 5.0))
            .collect(),
        1,
    ))
    .unwrap();
    let nan = f64::NAN;
    let out = score(
        &model,
        &[
            &[(5.0, ANS), (3.0, ANS), (1.0, NA), (1.0, NA)],
            &[(5.0, ANS), (3.0, ANS), (nan, SKIP), (nan, SKIP)],
            &[(5.0, ANS), (3.0, ANS), (nan, INV), (nan, NA)],
            &[(nan, NA), (nan, NA), (nan, NA), (nan, NA)],
        ],
    );
    assert_close(out.domain_scores[0], 75.0);
    assert!(out.domain_scores[1].is_nan());
    assert!(out.domain_scores[2].is_nan());
    assert!(out.domain_scores[3].is_nan());
    assert_eq!(out.domain_answered, vec![2, 2, 2, 0]);
    assert_eq!(out.domain_levels, vec![2, -1, -1, -1]);
    assert_eq!(out.index_levels, vec![2, -1, -1, -1]);
}

#[test]
fn the_fraction_threshold_is_not_raised_by_binary_rounding() {
    // 25 items, min_answered_fraction 0.28: 0.28·25 is 7 exactly, but in binary
    // floating point the product is 7.000000000000001, whose naive ceiling is 8.
    // r0: 7 answered (score 5 → 1.0), 18 skipped → scored, 100.
    // r1: 6 answered → 6 < 7 → missing.
    let model = WeightedIndex::new(&config(
        vec![domain("EK", 1.0, &[("K", 1.0)], 1, 0.28)],
        (0..25)
            .map(|i| item(&format!("i{i}"), 0, 0, 1.0, 1.0, 5.0))
            .collect(),
        1,
    ))
    .unwrap();
    let row = |answered: usize| -> Vec<(f64, u8)> {
        (0..25)
            .map(|i| {
                if i < answered {
                    (5.0, ANS)
                } else {
                    (f64::NAN, SKIP)
                }
            })
            .collect()
    };
    let (r0, r1) = (row(7), row(6));
    let out = score(&model, &[&r0, &r1]);
    assert_close(out.domain_scores[0], 100.0);
    assert!(out.domain_scores[1].is_nan());
}

#[test]
fn dont_know_counts_as_answered_with_its_score() {
    // Three knowledge items scored 0..1, min_answered 3.
    // r0: right (1), right (1), don't know (scored 0): answered 3 ≥ 3 → scored,
    //     (1 + 1 + 0)/3 → 66.666…, level 2.
    //     Not counting it would leave 2 < 3 answers (missing); counting it without its
    //     score would give 100.
    // r1: right, right, skipped → 2 < 3 → missing, answered 2.
    let model = WeightedIndex::new(&config(
        vec![domain("EK", 1.0, &[("K", 1.0)], 3, 0.0)],
        (0..3)
            .map(|i| item(&format!("q{i}"), 0, 0, 1.0, 0.0, 1.0))
            .collect(),
        1,
    ))
    .unwrap();
    let out = score(
        &model,
        &[
            &[(1.0, ANS), (1.0, ANS), (0.0, DK)],
            &[(1.0, ANS), (1.0, ANS), (f64::NAN, SKIP)],
        ],
    );
    assert_close(out.domain_scores[0], 200.0 / 3.0);
    assert_eq!(out.domain_levels[0], 2);
    assert!(out.domain_scores[1].is_nan());
    assert_eq!(out.domain_answered, vec![3, 2]);
}

#[test]
fn band_edges_go_to_the_higher_band_and_100_to_the_top() {
    // One item on 0..100, so the domain score and the index equal the item score.
    // 0 → 0; 39.99 → 0; 40 → 1 (cut point: higher band); 59.99 → 1; 60 → 2; 80 → 3;
    // 100 → 3 (the top band includes its max).
    let model = WeightedIndex::new(&config(
        vec![domain("LD", 1.0, &[("K", 1.0)], 1, 0.0)],
        vec![item("x", 0, 0, 1.0, 0.0, 100.0)],
        1,
    ))
    .unwrap();
    let values = [0.0, 39.99, 40.0, 59.99, 60.0, 80.0, 100.0];
    let rows: Vec<[(f64, u8); 1]> = values.iter().map(|&v| [(v, ANS)]).collect();
    let rows: Vec<&[(f64, u8)]> = rows.iter().map(|r| &r[..]).collect();
    let out = score(&model, &rows);
    assert_eq!(out.domain_levels, vec![0, 0, 1, 1, 2, 3, 3]);
    assert_eq!(out.index_levels, vec![0, 0, 1, 1, 2, 3, 3]);
    for (got, want) in out.domain_scores.iter().zip(values) {
        assert_close(*got, want);
    }
}

#[test]
fn standard_errors_are_nan_with_the_shape_of_the_scores() {
    let out = score(&three_domains(1), &[&[(3.0, ANS); 12], &[(5.0, ANS); 12]]);
    assert_eq!(out.domain_se.len(), 6);
    assert_eq!(out.index_se.len(), 2);
    assert!(
        out.domain_se
            .iter()
            .chain(&out.index_se)
            .all(|v| v.is_nan())
    );
    // While the scores themselves exist: every item 3 → 50, every item 5 → 100.
    assert_close(out.index[0], 50.0);
    assert_close(out.index[1], 100.0);
}

#[test]
fn an_empty_batch_gives_empty_outputs() {
    let out = score(&three_domains(1), &[]);
    assert_eq!(out.respondents, 0);
    assert_eq!(out.domains, 3);
    assert!(out.domain_scores.is_empty() && out.index.is_empty() && out.index_se.is_empty());
}

#[test]
fn invalid_configuration_reports_every_problem_by_name() {
    let mut cfg = config(
        vec![
            domain("LD", 1.0, &[("K1", 1.0), ("K2", f64::NAN)], 1, 0.0),
            domain("BD", 0.0, &[("K1", 1.0)], 1, 1.5),
        ],
        vec![
            item("LD-01", 0, 0, 1.0, 1.0, 5.0),
            item("LD-02", 0, 1, 1.0, 5.0, 5.0), // score_max == score_min
            item("LD-03", 0, 7, 1.0, 1.0, 5.0), // indicator out of range
            item("XX-01", 9, 0, 1.0, 1.0, 5.0), // domain out of range
            item("BD-01", 1, 0, -2.0, 1.0, 5.0), // negative weight
            item("BD-02", 1, 0, 1.0, 0.0, f64::INFINITY),
            item("LD-01", 0, 0, 1.0, 1.0, 5.0), // duplicate id
        ],
        3,
    );
    cfg.bands.clear();
    let err = WeightedIndex::new(&cfg).unwrap_err();
    let has = |item: &str, field: &str| {
        err.violations
            .iter()
            .any(|v| v.item == item && v.field == field)
    };
    let expected = [
        ("LD-02", "score_max"),
        ("LD-03", "indicator"),
        ("XX-01", "domain"),
        ("BD-01", "weight"),
        ("BD-02", "score_min/score_max"),
        ("LD-01", "id"),
        ("LD", "indicators[1].weight"),
        ("BD", "weight"),
        ("BD", "min_answered_fraction"),
        ("", "bands"),
        ("", "min_domains"),
    ];
    for (item, field) in expected {
        assert!(has(item, field), "no violation for {item}/{field}: {err}");
    }
    assert_eq!(err.violations.len(), expected.len(), "{err}");
    assert!(err.message.contains("'uji'"), "{}", err.message);
    // The rendered error names the item and the field.
    assert!(
        err.to_string().contains("item 'LD-02', field 'score_max'"),
        "{err}"
    );
}

#[test]
fn an_indicator_or_domain_without_items_is_a_configuration_error() {
    let err = WeightedIndex::new(&config(
        vec![
            domain("LD", 1.0, &[("K1", 1.0), ("K2", 1.0)], 1, 0.0),
            domain("BD", 1.0, &[("K1", 1.0)], 1, 0.0),
        ],
        vec![item("LD-01", 0, 0, 1.0, 1.0, 5.0)],
        1,
    ))
    .unwrap_err();
    let mut fields: Vec<_> = err
        .violations
        .iter()
        .map(|v| (v.item.as_str(), v.field.as_str()))
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            ("BD", "indicators[0]"),
            ("BD", "items"),
            ("LD", "indicators[1]"),
        ],
        "{err}"
    );
}

#[test]
fn bands_must_be_finite_and_ascending() {
    let mut cfg = config(
        vec![domain("LD", 1.0, &[("K", 1.0)], 1, 0.0)],
        vec![item("LD-01", 0, 0, 1.0, 1.0, 5.0)],
        1,
    );
    cfg.bands[1].max = 30.0; // "sedang" [40, 30): empty; and "tinggi" [60, 80) is fine
    cfg.bands[3].min = 70.0; // overlaps "tinggi"
    let err = WeightedIndex::new(&cfg).unwrap_err();
    let fields: Vec<_> = err
        .violations
        .iter()
        .map(|v| (v.item.as_str(), v.field.as_str()))
        .collect();
    assert_eq!(
        fields,
        vec![("sedang", "max"), ("sangat-tinggi", "min")],
        "{err}"
    );
}

#[test]
fn settings_accept_nothing_but_reject_unknown_keys() {
    let base = config(
        vec![domain("LD", 1.0, &[("K", 1.0)], 1, 0.0)],
        vec![item("LD-01", 0, 0, 1.0, 1.0, 5.0)],
        1,
    );
    for ok in [
        "",
        "  ",
        "{}",
        "null",
        r#"{"reporting": {"min": 0, "max": 100}}"#,
    ] {
        let cfg = ikd_plugin_sdk::ModelConfig {
            settings_json: ok.into(),
            ..base.clone()
        };
        assert!(WeightedIndex::new(&cfg).is_ok(), "settings {ok:?} refused");
    }
    // A `reporting` scale is ignored: scores stay on 0–100.
    let cfg = ikd_plugin_sdk::ModelConfig {
        settings_json: r#"{"reporting": {"min": 1, "max": 4}}"#.into(),
        ..base.clone()
    };
    let out = score(&WeightedIndex::new(&cfg).unwrap(), &[&[(5.0, ANS)]]);
    assert_close(out.index[0], 100.0);

    let cfg = ikd_plugin_sdk::ModelConfig {
        settings_json: r#"{"scale": 4, "reporting": {}}"#.into(),
        ..base.clone()
    };
    let err = WeightedIndex::new(&cfg).unwrap_err();
    assert_eq!(err.violations.len(), 1, "{err}");
    assert_eq!(err.violations[0].field, "settings.scale");
    assert!(err.to_string().contains("unknown setting 'scale'"), "{err}");

    for bad in ["[1, 2]", "{not json"] {
        let cfg = ikd_plugin_sdk::ModelConfig {
            settings_json: bad.into(),
            ..base.clone()
        };
        let err = WeightedIndex::new(&cfg).unwrap_err();
        assert_eq!(err.violations[0].field, "settings", "{err}");
    }
}

#[test]
fn mismatched_lengths_are_rejected() {
    let model = three_domains(1); // 12 items
    let mut req = request(&[&[(3.0, ANS); 12], &[(3.0, ANS); 12]]);
    req.item_scores.pop();
    let err = model.score(&req).unwrap_err();
    assert!(
        err.message
            .contains("item_scores has 23 values, expected respondents (2) × items (12) = 24"),
        "{err}"
    );

    let mut req = request(&[&[(3.0, ANS); 12], &[(3.0, ANS); 12]]);
    req.item_status.push(ANS);
    let err = model.score(&req).unwrap_err();
    assert!(err.message.contains("item_status has 25 values"), "{err}");

    // The count of respondents is checked too, not only the two arrays against each other.
    let mut req = request(&[&[(3.0, ANS); 12], &[(3.0, ANS); 12]]);
    req.respondents = 3;
    assert!(model.score(&req).is_err());
}

#[test]
fn cells_that_cannot_be_scored_are_named() {
    // Item "D1-2" of respondent 1 is "answered" without a score; item "D2-0" of
    // respondent 0 has a score above its range 1..5; item "D3-3" of respondent 1 has
    // status 9, which does not exist.
    let model = three_domains(1);
    let mut r0 = [(3.0, ANS); 12];
    let mut r1 = [(3.0, ANS); 12];
    r1[2] = (f64::NAN, ANS);
    r0[4] = (6.0, ANS);
    r1[11] = (3.0, 9);
    let err = model.score(&request(&[&r0, &r1])).unwrap_err();
    let cells: Vec<_> = err
        .violations
        .iter()
        .map(|v| (v.respondent, v.item.as_str(), v.field.as_str()))
        .collect();
    assert_eq!(
        cells,
        vec![
            (0, "D2-0", "item_scores"),
            (1, "D1-2", "item_scores"),
            (1, "D3-3", "item_status")
        ],
        "{err}"
    );
    assert!(err.message.contains("3 cell(s)"), "{err}");
}
