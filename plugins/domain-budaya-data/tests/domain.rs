//! The plugin as the engine drives it: a configured domain scoring whole
//! batches, refusing bad specifications, giving feedback and simulating.

use ikd_domain_budaya_data::{BudayaData, ikd_plugin_entry_v1};
use ikd_plugin_sdk::ItemSpec;
use ikd_plugin_sdk::domain::{DomainInstance, answer_batch};
use ikd_plugin_sdk::proto::DomainConfig;
use ikd_plugin_sdk::testing::{self, ANSWERED, INVALID, NOT_APPLICABLE, SKIPPED, item};

/// BD-01 Likert 1..5, BD-02 single choice keyed `b`, BD-03 numeric reading: 42.5 ± 0.5 (%),
/// read off a small table.
fn items() -> Vec<ItemSpec> {
    let reading = ItemSpec {
        params_json: r#"{"tolerance": 0.5, "unit": "%",
            "table": [["Layanan", "Permohonan", "Selesai tepat waktu"],
                      ["KTP-el", "400", "170"], ["Akta kelahiran", "200", "85"]]}"#
            .into(),
        ..item("BD-03", "numeric-reading", &[], &["42.5"])
    };
    let likert = testing::likert("BD-01", 1, 5, false);
    vec![
        likert,
        item("BD-02", "single-choice", &["a", "b", "c"], &["b"]),
        reading,
    ]
}

fn config(items: Vec<ItemSpec>) -> DomainConfig {
    testing::config("budaya-data", items)
}

fn instance() -> DomainInstance<BudayaData> {
    DomainInstance::new(&config(items())).expect("a valid domain")
}

#[test]
fn a_batch_is_scored_with_statuses_and_located_violations() {
    let out = instance()
        .score_items(&answer_batch([
            // r0: 4 → 4; b (keyed) → 1; |42.9 − 42.5| = 0.4 ≤ 0.5 → 1
            ["4", "b", "42,9"],
            // r1: skipped, not applicable, an unknown code
            ["", "NA", "empat puluh"],
            // r2: off the scale, not an option, |43.1 − 42.5| = 0.6 > 0.5 → 0
            ["6", "x", "43.1"],
        ]))
        .expect("the batch is scored");
    assert_eq!((out.respondents, out.items), (3, 3));
    assert_eq!(
        out.status,
        [
            ANSWERED,
            ANSWERED,
            ANSWERED,
            SKIPPED,
            NOT_APPLICABLE,
            INVALID,
            INVALID,
            INVALID,
            ANSWERED
        ]
    );
    assert_eq!(out.scores[0], 4.0);
    assert_eq!(out.scores[1], 1.0);
    assert_eq!(out.scores[2], 1.0);
    assert!(out.scores[3..8].iter().all(|s| s.is_nan()));
    assert_eq!(out.scores[8], 0.0);

    let located = testing::located(&out.violations);
    assert_eq!(
        located,
        [
            (1, "BD-03", "answer"),
            (2, "BD-01", "answer"),
            (2, "BD-02", "answer")
        ]
    );
    assert!(
        out.violations[0]
            .message
            .contains("'empat puluh' is not a number")
    );
}

#[test]
fn the_domain_describes_each_item() {
    let d = instance().describe();
    assert_eq!(d.score_min, [1.0, 0.0, 0.0]);
    assert_eq!(d.score_max, [5.0, 1.0, 1.0]);
    assert_eq!(d.categories, [5, 2, 2]);
}

#[test]
fn specification_errors_of_every_item_are_reported_together() {
    let mut bad = items();
    bad[2].key = vec!["42.5".into(), "42,5".into()];
    bad[2].params_json = r#"{"tolerance": -0.5}"#.into();
    bad.push(item("BD-04", "ranking", &["a", "b", "c"], &["a", "b", "c"]));
    let err = testing::refusal::<BudayaData>(&config(bad));
    let located: Vec<(&str, &str)> = err
        .violations
        .iter()
        .map(|v| (v.item.as_str(), v.field.as_str()))
        .collect();
    assert_eq!(
        located,
        [("BD-03", "key"), ("BD-03", "tolerance"), ("BD-04", "kind")]
    );
    assert!(
        err.message.contains("3 item specification error(s)"),
        "{}",
        err.message
    );
    assert!(err.violations[2].message.contains("numeric-reading"));
}

ikd_plugin_sdk::domain_conformance_tests!(
    BudayaData,
    config: config(items()),
    bands: 5,
    entry: ikd_plugin_entry_v1,
    kinds: ["likert", "single-choice", "numeric-reading"],
);
