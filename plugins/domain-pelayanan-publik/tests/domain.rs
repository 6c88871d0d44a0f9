//! The plugin as the engine drives it: a configured domain scoring whole
//! batches, refusing bad specifications, giving feedback and simulating.

use ikd_domain_pelayanan_publik::{PelayananPublik, ikd_plugin_entry_v1};
use ikd_plugin_sdk::ItemSpec;
use ikd_plugin_sdk::domain::{DomainInstance, answer_batch};
use ikd_plugin_sdk::proto::DomainConfig;
use ikd_plugin_sdk::testing::{self, ANSWERED, INVALID, NOT_APPLICABLE, SKIPPED, item};

/// PP-01 Likert 1..5, PP-02 single choice keyed `b`, PP-03 ranking keyed a > b > c > d.
fn items() -> Vec<ItemSpec> {
    let likert = testing::likert("PP-01", 1, 5, false);
    vec![
        likert,
        item("PP-02", "single-choice", &["a", "b", "c"], &["b"]),
        item(
            "PP-03",
            "ranking",
            &["a", "b", "c", "d"],
            &["a", "b", "c", "d"],
        ),
    ]
}

fn config(items: Vec<ItemSpec>) -> DomainConfig {
    testing::config("pelayanan-publik", items)
}

fn instance() -> DomainInstance<PelayananPublik> {
    DomainInstance::new(&config(items())).expect("a valid domain")
}

#[test]
fn a_batch_is_scored_with_statuses_and_located_violations() {
    let out = instance()
        .score_items(&answer_batch([
            // r0: 4 → 4; b (keyed) → 1; b>a>d>c → D = 1+1+1+1 = 4, Dmax = 8 → 0.5
            ["4", "b", "b>a>d>c"],
            // r1: skipped, not applicable, an unknown code
            ["", "NA", "a>z"],
            // r2: off the scale, not an option, the reversed order → D = 8 → 0
            ["6", "x", "d>c>b>a"],
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
    assert_eq!(out.scores[2], 0.5);
    assert!(out.scores[3..8].iter().all(|s| s.is_nan()));
    assert_eq!(out.scores[8], 0.0);

    let located = testing::located(&out.violations);
    assert_eq!(
        located,
        [
            (1, "PP-03", "answer"),
            (2, "PP-01", "answer"),
            (2, "PP-02", "answer")
        ]
    );
    assert!(
        out.violations[0]
            .message
            .contains("'z' is not one of the options")
    );
}

#[test]
fn the_domain_describes_each_item() {
    let d = instance().describe();
    assert_eq!(d.score_min, [1.0, 0.0, 0.0]);
    assert_eq!(d.score_max, [5.0, 1.0, 1.0]);
    assert_eq!(d.categories, [5, 2, 0]);
}

#[test]
fn specification_errors_of_every_item_are_reported_together() {
    let mut bad = items();
    bad[2].key = ["a", "b", "c", "q"].map(String::from).to_vec();
    bad[2].options[3].code = "c".into();
    bad.push(item("PP-04", "multi-select", &["a", "b", "c"], &["a"]));
    let err = testing::refusal::<PelayananPublik>(&config(bad));
    let located: Vec<(&str, &str)> = err
        .violations
        .iter()
        .map(|v| (v.item.as_str(), v.field.as_str()))
        .collect();
    assert_eq!(
        located,
        [
            ("PP-03", "options[3].code"),
            ("PP-03", "key[3]"),
            ("PP-04", "kind")
        ]
    );
    assert!(
        err.message.contains("3 item specification error(s)"),
        "{}",
        err.message
    );
    assert!(err.violations[2].message.contains("ranking"));
}

ikd_plugin_sdk::domain_conformance_tests!(
    PelayananPublik,
    config: config(items()),
    bands: 5,
    entry: ikd_plugin_entry_v1,
    kinds: ["likert", "single-choice", "ranking"],
);
