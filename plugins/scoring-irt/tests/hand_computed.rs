//! The irt model on small cases whose θ is computed beside them: by brute-force
//! quadrature for EAP, or with `ikd_irt::Scorer` on the category codes the
//! mapping should give. Bands throughout: [0,40) 0, [40,60) 1, [60,80) 2, [80,100] 3.
//! EAP in ikd-irt runs in f32, so θ agrees to about 1e-4.

mod common;

use common::*;
use ikd_irt::{ItemBank, MISSING, Method, Scorer, ScoringOptions};
use ikd_plugin_sdk::{ScoreOutput, ScoringModel};
use ikd_scoring_irt::Irt;
use serde_json::json;

const NAN: f64 = f64::NAN;

/// q1: a = 1, d = 0; q2: a = 2, d = −1 (2PL, logistic(a·θ + d)).
const TWO_ITEMS: &str = "item,model,a,d1\nq1,2pl,1,0\nq2,2pl,2,-1\n";

fn score(model: &Irt, rows: &[&[(f64, u8)]]) -> ScoreOutput {
    model.score(&request(rows)).expect("the batch scores")
}

#[test]
fn eap_of_two_dichotomous_items_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let params = write_params(dir.path(), TWO_ITEMS);
    let model = Irt::new(&config(
        dir.path(),
        vec![domain("D", 1.0, 1, 0.0)],
        vec![keyed("q1", 0), keyed("q2", 0)],
        1,
        json!({ "params": params }),
    ))
    .unwrap();
    let out = score(
        &model,
        &[
            &[(1.0, ANS), (1.0, ANS)],
            &[(0.0, ANS), (0.0, ANS)],
            &[(1.0, ANS), (0.0, ANS)],
            // Skipped: only q1 enters the likelihood.
            &[(1.0, ANS), (NAN, SKIP)],
            // Don't know counts as answered, with its score (0 here).
            &[(1.0, ANS), (0.0, DK)],
        ],
    );
    let cases = [
        eap_2pl(&[(1.0, 0.0, 1), (2.0, -1.0, 1)]),
        eap_2pl(&[(1.0, 0.0, 0), (2.0, -1.0, 0)]),
        eap_2pl(&[(1.0, 0.0, 1), (2.0, -1.0, 0)]),
        eap_2pl(&[(1.0, 0.0, 1)]),
        eap_2pl(&[(1.0, 0.0, 1), (2.0, -1.0, 0)]),
    ];
    for (r, &(theta, sd)) in cases.iter().enumerate() {
        // Reporting: 50 + 15·θ, SE = 15·SD(θ).
        assert_close(out.domain_scores[r], 50.0 + 15.0 * theta, 15.0 * 2e-4);
        assert_close(out.domain_se[r], 15.0 * sd, 15.0 * 2e-4);
        assert_close(out.index[r], out.domain_scores[r], 1e-12);
        assert_close(out.index_se[r], out.domain_se[r], 1e-12);
    }
    // Worked out: (1, 1) gives θ ≈ 0.973 (SD 0.742) → 64.59, level 2; (0, 0)
    // θ ≈ −0.673 (SD 0.796) → 39.90, level 0; (1, 0) θ ≈ −0.086 → 48.71; q1 = 1
    // alone θ ≈ 0.413 → 56.20.
    assert_close(cases[0].0, 0.9728, 1e-4);
    assert_close(cases[0].1, 0.7420, 1e-4);
    assert_close(cases[1].0, -0.6733, 1e-4);
    assert_close(cases[2].0, -0.0862, 1e-4);
    assert_close(cases[3].0, 0.4132, 1e-4);
    assert_eq!(out.domain_levels, [2, 0, 1, 1, 1]);
    assert_eq!(out.domain_answered, [2, 2, 2, 1, 2]);
    assert_eq!(out.index_levels, out.domain_levels);
}

#[test]
fn reporting_transform_and_clamping() {
    let dir = tempfile::tempdir().unwrap();
    let params = write_params(dir.path(), TWO_ITEMS);
    let model = Irt::new(&config(
        dir.path(),
        vec![domain("D", 1.0, 1, 0.0)],
        vec![keyed("q1", 0), keyed("q2", 0)],
        1,
        json!({ "params": params, "reporting": { "center": 60, "scale": 40 } }),
    ))
    .unwrap();
    assert_close(model.report(0.5), 80.0, 1e-12);
    assert_close(model.report(1.5), 100.0, 1e-12); // 120, clamped to the top band's max
    assert_close(model.report(-2.0), 0.0, 1e-12); // −20, clamped to the first band's min
    let out = score(
        &model,
        &[&[(1.0, ANS), (1.0, ANS)], &[(0.0, ANS), (0.0, ANS)]],
    );
    let (high, high_sd) = eap_2pl(&[(1.0, 0.0, 1), (2.0, -1.0, 1)]);
    let (low, low_sd) = eap_2pl(&[(1.0, 0.0, 0), (2.0, -1.0, 0)]);
    // 60 + 40·0.973 = 98.9 (not clamped); 60 + 40·(−0.673) = 33.1.
    assert_close(out.domain_scores[0], 60.0 + 40.0 * high, 40.0 * 2e-4);
    assert_close(out.domain_scores[1], 60.0 + 40.0 * low, 40.0 * 2e-4);
    assert_close(out.domain_se[0], 40.0 * high_sd, 40.0 * 2e-4);
    assert_close(out.domain_se[1], 40.0 * low_sd, 40.0 * 2e-4);
    assert_eq!(out.domain_levels, [3, 0]);

    // Clamped: 90 + 40·0.973 = 128.9 stops at 100; the SE stays scale·SD(θ).
    let model = Irt::new(&config(
        dir.path(),
        vec![domain("D", 1.0, 1, 0.0)],
        vec![keyed("q1", 0), keyed("q2", 0)],
        1,
        json!({ "params": params, "reporting": { "center": 90, "scale": 40 } }),
    ))
    .unwrap();
    let out = score(&model, &[&[(1.0, ANS), (1.0, ANS)]]);
    assert_eq!(out.domain_scores[0], 100.0);
    assert_close(out.domain_se[0], 40.0 * high_sd, 40.0 * 2e-4);
    assert_eq!(out.domain_levels, [3]);
}

#[test]
fn missing_domains_follow_the_weighted_index_rules() {
    // Five items; min_answered 2 and fraction 0.6: with n applicable items a
    // domain needs max(2, ⌈0.6·n⌉) answers: n = 5 → 3, n = 3 → 2 (1.8 → 2).
    let dir = tempfile::tempdir().unwrap();
    let params = write_params(
        dir.path(),
        "item,model,a,d1\nq1,2pl,1,0\nq2,2pl,1,0\nq3,2pl,1,0\nq4,2pl,1,0\nq5,2pl,1,0\n",
    );
    let items = (1..=5).map(|i| keyed(&format!("q{i}"), 0)).collect();
    let model = Irt::new(&config(
        dir.path(),
        vec![domain("D", 1.0, 2, 0.6)],
        items,
        1,
        json!({ "params": params }),
    ))
    .unwrap();
    let out = score(
        &model,
        &[
            // 3 of 5 answered: scored.
            &[(1.0, ANS), (0.0, ANS), (1.0, ANS), (NAN, SKIP), (NAN, SKIP)],
            // 2 of 5 (skipped and invalid count as applicable): missing.
            &[(1.0, ANS), (0.0, ANS), (NAN, SKIP), (NAN, INV), (NAN, SKIP)],
            // 2 of 3 applicable (two not applicable): scored.
            &[(1.0, ANS), (0.0, ANS), (NAN, SKIP), (NAN, NA), (NAN, NA)],
            // Nothing applicable: missing.
            &[(NAN, NA), (NAN, NA), (NAN, NA), (NAN, NA), (NAN, NA)],
        ],
    );
    assert!(out.domain_scores[0].is_finite());
    assert!(out.domain_scores[1].is_nan() && out.domain_se[1].is_nan());
    assert!(out.domain_scores[2].is_finite());
    assert!(out.domain_scores[3].is_nan());
    assert_eq!(out.domain_levels, [1, -1, 1, -1]);
    assert_eq!(out.domain_answered, [3, 2, 2, 0]);
    assert!(out.index[1].is_nan() && out.index_se[1].is_nan());
    assert_eq!(out.index_levels, [1, -1, 1, -1]);
    // Row 2: only the answered items enter: θ of (1, 0) on two a = 1, d = 0 items is 0.
    assert_close(out.domain_scores[2], 50.0, 15.0 * 2e-4);
}

#[test]
fn composite_is_the_weighted_mean_with_independent_errors() {
    // Domains A (weight 0.7: q1, q2) and B (weight 0.3: q3), C (weight 1: q4).
    let dir = tempfile::tempdir().unwrap();
    let params = write_params(
        dir.path(),
        "item,model,a,d1\nq1,2pl,1,0\nq2,2pl,2,-1\nq3,2pl,1.5,0.5\nq4,2pl,1,0\n",
    );
    let cfg = |min_domains| {
        config(
            dir.path(),
            vec![
                domain("A", 0.7, 1, 0.0),
                domain("B", 0.3, 1, 0.0),
                domain("C", 1.0, 1, 0.0),
            ],
            vec![
                keyed("q1", 0),
                keyed("q2", 0),
                keyed("q3", 1),
                keyed("q4", 2),
            ],
            min_domains,
            json!({ "params": params }),
        )
    };
    let model = Irt::new(&cfg(2)).unwrap();
    let out = score(
        &model,
        &[
            &[(1.0, ANS), (1.0, ANS), (0.0, ANS), (NAN, SKIP)],
            &[(1.0, ANS), (1.0, ANS), (NAN, SKIP), (NAN, SKIP)],
        ],
    );
    let (a, sa) = (out.domain_scores[0], out.domain_se[0]);
    let (b, sb) = (out.domain_scores[1], out.domain_se[1]);
    assert!(out.domain_scores[2].is_nan());
    // Hand: A from (1, 1), B from q3 = 0.
    let (ta, _) = eap_2pl(&[(1.0, 0.0, 1), (2.0, -1.0, 1)]);
    let (tb, _) = eap_2pl(&[(1.5, 0.5, 0)]);
    assert_close(a, 50.0 + 15.0 * ta, 15.0 * 2e-4);
    assert_close(b, 50.0 + 15.0 * tb, 15.0 * 2e-4);
    // index = (0.7·A + 0.3·B)/1.0, index SE = √(0.7²·sA² + 0.3²·sB²)/1.0 (C missing).
    assert_close(out.index[0], 0.7 * a + 0.3 * b, 1e-9);
    assert_close(
        out.index_se[0],
        (0.49 * sa * sa + 0.09 * sb * sb).sqrt(),
        1e-9,
    );
    // Respondent 1 has one scored domain; min_domains 2 → no composite.
    assert!(out.index[1].is_nan() && out.index_se[1].is_nan());
    assert_eq!(out.index_levels[1], -1);

    // min_domains = 0 behaves as 1: the composite of A alone is A, its SE A's.
    let model = Irt::new(&cfg(0)).unwrap();
    let out = score(
        &model,
        &[&[(1.0, ANS), (1.0, ANS), (NAN, SKIP), (NAN, SKIP)]],
    );
    assert_close(out.index[0], out.domain_scores[0], 1e-12);
    assert_close(out.index_se[0], out.domain_se[0], 1e-12);
}

#[test]
fn scores_map_to_the_categories_of_the_parameter_set() {
    // l: Likert 1..5 whose top category never occurred in calibration (4 in
    // PARAMS.csv), so 5 shares category 3 with 4. c: continuous on [0, 1] in
    // 3 bins: 0.2 → 0, 0.5 → 1, 0.7 → 2, 1.0 → 2.
    let text = "item,model,a,d1,d2,d3\nl,grm,1.2,2,0.5,-1\nc,gpcm,0.8,0.3,-0.4,\n";
    let dir = tempfile::tempdir().unwrap();
    let params = write_params(dir.path(), text);
    let model = Irt::new(&config(
        dir.path(),
        vec![domain("D", 1.0, 1, 0.0)],
        vec![item("l", 0, 1.0, 5.0, 5), item("c", 0, 0.0, 1.0, 0)],
        1,
        json!({ "params": params, "method": "map" }),
    ))
    .unwrap();
    let rows: &[&[(f64, u8)]] = &[
        &[(5.0, ANS), (0.2, ANS)],
        &[(4.0, ANS), (0.5, ANS)],
        &[(1.0, ANS), (0.7, ANS)],
        &[(3.0, DK), (1.0, ANS)],
        &[(NAN, SKIP), (0.5, ANS)],
    ];
    let out = score(&model, rows);
    let codes: &[[u8; 2]] = &[[3, 0], [3, 1], [0, 2], [2, 2], [MISSING, 1]];
    let bank = ItemBank::read_csv(text.as_bytes()).unwrap();
    let direct = Scorer::new(
        bank,
        &ScoringOptions {
            method: Method::Map,
            ..Default::default()
        },
    )
    .unwrap();
    for (r, code) in codes.iter().enumerate() {
        let expected = direct.score(code).unwrap();
        assert_close(out.domain_scores[r], 50.0 + 15.0 * expected.theta, 1e-9);
        assert_close(out.domain_se[r], 15.0 * expected.se, 1e-9);
    }
    assert_eq!(out.domain_answered, [2, 2, 2, 2, 1]);
}

#[test]
fn every_method_gives_what_ikd_irt_gives() {
    let dir = tempfile::tempdir().unwrap();
    let params = write_params(dir.path(), TWO_ITEMS);
    let bank = ItemBank::read_csv(TWO_ITEMS.as_bytes()).unwrap();
    for method in [Method::Eap, Method::Map, Method::Ml, Method::EapSum] {
        let model = Irt::new(&config(
            dir.path(),
            vec![domain("D", 1.0, 1, 0.0)],
            vec![keyed("q1", 0), keyed("q2", 0)],
            1,
            json!({ "params": params, "method": method.name(), "quadpts": 81 }),
        ))
        .unwrap();
        let direct = Scorer::new(
            bank.clone(),
            &ScoringOptions {
                method,
                quadpts: 81,
                ..Default::default()
            },
        )
        .unwrap();
        let out = score(
            &model,
            &[&[(1.0, ANS), (0.0, ANS)], &[(0.0, ANS), (NAN, SKIP)]],
        );
        for (r, code) in [[1u8, 0], [0, MISSING]].iter().enumerate() {
            let expected = direct.score(code).unwrap();
            assert_close(
                out.domain_scores[r],
                (50.0 + 15.0 * expected.theta).clamp(0.0, 100.0),
                1e-9,
            );
            if expected.se.is_finite() {
                assert_close(out.domain_se[r], 15.0 * expected.se, 1e-9);
            } else {
                assert_eq!(out.domain_se[r], 15.0 * expected.se, "{method}");
            }
        }
    }
}

#[test]
fn cells_that_cannot_be_scored_are_refused_with_respondent_and_item() {
    let dir = tempfile::tempdir().unwrap();
    let params = write_params(dir.path(), TWO_ITEMS);
    let model = Irt::new(&config(
        dir.path(),
        vec![domain("D", 1.0, 1, 0.0)],
        vec![keyed("q1", 0), keyed("q2", 0)],
        1,
        json!({ "params": params }),
    ))
    .unwrap();
    let err = model
        .score(&request(&[
            &[(1.0, ANS), (1.0, ANS)],
            &[(NAN, ANS), (1.0, 7)],
            &[(1.5, DK), (0.0, ANS)],
        ]))
        .unwrap_err();
    assert_eq!(err.violations.len(), 3, "{err}");
    let v = &err.violations[0];
    assert_eq!(
        (v.respondent, v.item.as_str(), v.field.as_str()),
        (1, "q1", "item_scores")
    );
    let v = &err.violations[1];
    assert_eq!(
        (v.respondent, v.item.as_str(), v.field.as_str()),
        (1, "q2", "item_status")
    );
    let v = &err.violations[2];
    assert_eq!((v.respondent, v.item.as_str()), (2, "q1"));
    assert!(v.message.contains("outside"), "{v}");

    // Wrong array sizes.
    let mut bad = request(&[&[(1.0, ANS), (1.0, ANS)]]);
    bad.item_status.pop();
    let err = model.score(&bad).unwrap_err();
    assert!(err.message.contains("item_status"), "{err}");

    // An empty batch is fine.
    let out = model.score(&request(&[])).unwrap();
    assert_eq!((out.respondents, out.domains, out.index.len()), (0, 1, 0));
}

/// A PARAMS.csv with a 3PL item has a `g` column (empty for the other
/// items); the plugin reads it and scores with `g + (1 − g)·logistic(a·θ + d)`,
/// checked against brute-force quadrature. The two-item file without the
/// column is read by every other test here.
#[test]
fn three_pl_items_with_a_g_column_score_by_hand() {
    let text = "item,model,a,d1,b1,g\nq1,3pl,1.5,-0.5,0.3333333333333333,0.25\nq2,2pl,2,-1,0.5,\n";
    let dir = tempfile::tempdir().unwrap();
    let params = write_params(dir.path(), text);
    let model = Irt::new(&config(
        dir.path(),
        vec![domain("D", 1.0, 1, 0.0)],
        vec![keyed("q1", 0), keyed("q2", 0)],
        1,
        json!({ "params": params }),
    ))
    .unwrap();
    let out = score(
        &model,
        &[
            &[(1.0, ANS), (1.0, ANS)],
            &[(0.0, ANS), (0.0, ANS)],
            &[(1.0, ANS), (0.0, ANS)],
        ],
    );
    let eap = |x1: u8, x2: u8| {
        let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
        for q in 0..121 {
            let t = -6.0 + 12.0 * q as f64 / 120.0;
            let p1 = 0.25 + 0.75 / (1.0 + (-(1.5 * t - 0.5)).exp());
            let p2 = 1.0 / (1.0 + (-(2.0 * t - 1.0)).exp());
            let w = (-0.5 * t * t).exp()
                * if x1 == 1 { p1 } else { 1.0 - p1 }
                * if x2 == 1 { p2 } else { 1.0 - p2 };
            s0 += w;
            s1 += w * t;
            s2 += w * t * t;
        }
        let mean = s1 / s0;
        (mean, (s2 / s0 - mean * mean).sqrt())
    };
    for (r, (x1, x2)) in [(1, 1), (0, 0), (1, 0)].into_iter().enumerate() {
        let (theta, sd) = eap(x1, x2);
        assert_close(out.domain_scores[r], 50.0 + 15.0 * theta, 15.0 * 2e-4);
        assert_close(out.domain_se[r], 15.0 * sd, 15.0 * 2e-4);
    }
    let bank = ItemBank::read_csv(text.as_bytes()).unwrap();
    assert_eq!(bank.items()[0].g(), Some(0.25));
    assert_eq!(bank.items()[1].g(), None);
}
