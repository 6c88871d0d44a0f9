//! Aggregates against sums computed by hand.

use super::*;

pub async fn aggregate_matches_hand_computed_sums(db: Db) {
    let store = db.open().await;
    let submit = |unit: &'static str, r: NewResult| {
        let store = store.clone();
        async move {
            let s = store.start_session(session_in(unit)).await.expect("start");
            store.submit(&s.id, 0, r).await.expect("submit")
        }
    };
    // A: everything present.
    submit(
        "32.01",
        result(
            Some(50.5),
            Some("2"),
            vec![
                domain("lit", Some(40.0), Some("1")),
                domain("kom", Some(60.0), Some("3")),
            ],
        ),
    )
    .await;
    // B: no index, no level; domain lit without a score.
    submit(
        "32.01.05",
        result(
            None,
            None,
            vec![
                domain("lit", None, None),
                domain("kom", Some(80.25), Some("4")),
            ],
        ),
    )
    .await;
    // C: rescored; only the latest revision counts.
    let c = submit(
        "32.01/bkd",
        result(
            Some(70.0),
            Some("3"),
            vec![
                domain("lit", Some(20.0), Some("1")),
                domain("kom", None, None),
            ],
        ),
    )
    .await;
    store
        .add_revision(
            &c.session_id,
            result(
                Some(90.0),
                Some("4"),
                vec![
                    domain("lit", Some(30.0), Some("2")),
                    domain("kom", Some(10.0), Some("1")),
                ],
            ),
        )
        .await
        .expect("rescore");
    // D: another unit; E: another instrument under the prefix; F: open, never counts.
    submit(
        "32.02",
        result(
            Some(100.0),
            Some("5"),
            vec![domain("lit", Some(99.0), None)],
        ),
    )
    .await;
    let e = store
        .start_session(NewSession {
            instrument_id: "other".into(),
            ..session_in("32.01")
        })
        .await
        .expect("start");
    store
        .submit(&e.id, 0, result(Some(1.0), Some("1"), vec![]))
        .await
        .expect("submit");
    store
        .start_session(session_in("32.01"))
        .await
        .expect("start");

    let filter = ResultFilter {
        org_prefix: "32.01".into(),
        instrument_id: Some("ikd-asn".into()),
        ..ResultFilter::default()
    };
    let agg = store.aggregate(&filter).await.expect("aggregate");
    let expected = Aggregate {
        n: 3,
        index_n: 2,
        index_sum: 50.5 + 90.0,
        index_sum_sq: 50.5 * 50.5 + 90.0 * 90.0,
        levels: vec![("2".into(), 1), ("4".into(), 1)],
        domains: vec![
            DomainAggregate {
                code: "kom".into(),
                n: 3,
                missing: 0,
                sum: 60.0 + 80.25 + 10.0,
                sum_sq: 3600.0 + 80.25 * 80.25 + 100.0,
                levels: vec![("1".into(), 1), ("3".into(), 1), ("4".into(), 1)],
            },
            DomainAggregate {
                code: "lit".into(),
                n: 2,
                missing: 1,
                sum: 40.0 + 30.0,
                sum_sq: 1600.0 + 900.0,
                levels: vec![("1".into(), 1), ("2".into(), 1)],
            },
        ],
        // Every result of the suite's helper carries quality flags.
        flagged: 3,
        // Each domain's one indicator scores half the domain (A, B, C's second revision).
        indicators: vec![
            IndicatorAggregate {
                domain: "kom".into(),
                code: "kom.1".into(),
                n: 3,
                missing: 0,
                sum: 30.0 + 40.125 + 5.0,
                sum_sq: 900.0 + 40.125 * 40.125 + 25.0,
            },
            IndicatorAggregate {
                domain: "lit".into(),
                code: "lit.1".into(),
                n: 2,
                missing: 1,
                sum: 20.0 + 15.0,
                sum_sq: 400.0 + 225.0,
            },
        ],
    };
    assert_aggregate(&agg, &expected);
    // Indicator sums are kept per unit (for organisation reports): summed over the units.
    let per_unit = store.unit_aggregates(&filter).await.expect("per unit");
    let mut with_indicators = agg.clone();
    for (_, unit) in &per_unit {
        for i in &unit.indicators {
            match with_indicators
                .indicators
                .iter_mut()
                .find(|x| (&x.domain, &x.code) == (&i.domain, &i.code))
            {
                Some(x) => {
                    x.n += i.n;
                    x.missing += i.missing;
                    x.sum += i.sum;
                    x.sum_sq += i.sum_sq;
                }
                None => with_indicators.indicators.push(i.clone()),
            }
        }
    }
    with_indicators
        .indicators
        .sort_by(|a, b| (&a.domain, &a.code).cmp(&(&b.domain, &b.code)));
    assert_aggregate_eq(&with_indicators, &expected, "32.01, by hand");
    let mean = agg.index_sum / agg.index_n as f64;
    assert_close(mean, 70.25, "mean index excludes the missing one");

    // Without the instrument filter, E joins: n 4, its index 1.0 and level "1".
    let agg = store
        .aggregate(&ResultFilter {
            org_prefix: "32.01".into(),
            ..ResultFilter::default()
        })
        .await
        .expect("aggregate");
    assert_eq!((agg.n, agg.index_n), (4, 3));
    assert_close(agg.index_sum, 141.5, "index sum with E");
    assert_eq!(
        agg.levels,
        vec![("1".into(), 1), ("2".into(), 1), ("4".into(), 1)]
    );

    // Everything: D adds 100 and a lit score without a level.
    let agg = store
        .aggregate(&ResultFilter::default())
        .await
        .expect("aggregate");
    assert_eq!((agg.n, agg.index_n), (5, 4));
    assert_close(agg.index_sum, 241.5, "index sum of all");
    assert_eq!(agg.domains[1].code, "lit");
    assert_eq!((agg.domains[1].n, agg.domains[1].missing), (3, 1));
    assert_close(agg.domains[1].sum, 169.0, "lit sum of all");
    assert_eq!(
        agg.domains[1].levels,
        vec![("1".into(), 1), ("2".into(), 1)]
    );

    // Nothing matches: zeros, not an error.
    let none = store
        .aggregate(&ResultFilter {
            org_prefix: "99".into(),
            ..ResultFilter::default()
        })
        .await
        .expect("aggregate");
    assert_eq!(none, Aggregate::default());
    assert_stats_consistent(&*store).await;
}

fn assert_aggregate(got: &Aggregate, want: &Aggregate) {
    assert_eq!((got.n, got.index_n), (want.n, want.index_n), "counts");
    assert_close(got.index_sum, want.index_sum, "index_sum");
    assert_close(got.index_sum_sq, want.index_sum_sq, "index_sum_sq");
    assert_eq!(got.levels, want.levels, "levels");
    assert_eq!(
        got.domains.iter().map(|d| &d.code).collect::<Vec<_>>(),
        want.domains.iter().map(|d| &d.code).collect::<Vec<_>>(),
        "domains, by code"
    );
    for (g, w) in got.domains.iter().zip(&want.domains) {
        assert_eq!(
            (g.n, g.missing),
            (w.n, w.missing),
            "domain {} counts",
            w.code
        );
        assert_close(g.sum, w.sum, &format!("domain {} sum", w.code));
        assert_close(g.sum_sq, w.sum_sq, &format!("domain {} sum_sq", w.code));
        assert_eq!(g.levels, w.levels, "domain {} levels", w.code);
    }
}
