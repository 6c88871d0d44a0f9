//! The plugin as the engine drives it: a configured domain scoring whole
//! batches, refusing bad specifications, giving feedback and simulating.

use ikd_domain_kepemimpinan_digital::{KepemimpinanDigital, ikd_plugin_entry_v1};
use ikd_plugin_sdk::ItemSpec;
use ikd_plugin_sdk::domain::{DomainInstance, answer_batch};
use ikd_plugin_sdk::proto::DomainConfig;
use ikd_plugin_sdk::testing::{self, ANSWERED, INVALID, NOT_APPLICABLE, SKIPPED, item};

/// KD-01 Likert 1..5, KD-02 single choice keyed `b`, KD-03 sjt-rating: four responses
/// rated 1–4, experts [4, 2, 1, 3].
fn items() -> Vec<ItemSpec> {
    let sjt = ItemSpec {
        scale_min: Some(1),
        scale_max: Some(4),
        params_json: r#"{"expert": [4, 2, 1, 3]}"#.into(),
        ..item("KD-03", "sjt-rating", &["a", "b", "c", "d"], &[])
    };
    let likert = testing::likert("KD-01", 1, 5, false);
    vec![
        likert,
        item("KD-02", "single-choice", &["a", "b", "c"], &["b"]),
        sjt,
    ]
}

fn config(items: Vec<ItemSpec>) -> DomainConfig {
    testing::config("kepemimpinan-digital", items)
}

fn instance() -> DomainInstance<KepemimpinanDigital> {
    DomainInstance::new(&config(items())).expect("a valid domain")
}

#[test]
fn a_batch_is_scored_with_statuses_and_located_violations() {
    let out = instance()
        .score_items(&answer_batch([
            // r0: 4 → 4; b (keyed) → 1; 3|2|2|3 → 1 − (1+0+1+0)/(4·3) = 1 − 2/12
            ["4", "b", "3|2|2|3"],
            // r1: skipped, not applicable, an unknown code
            ["", "NA", "4|2|x|3"],
            // r2: off the scale, not an option, 1|4|4|1 → 1 − (3+2+3+2)/12 = 1 − 10/12
            ["6", "x", "1|4|4|1"],
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
    assert!((out.scores[2] - (1.0 - 2.0 / 12.0)).abs() < 1e-12);
    assert!(out.scores[3..8].iter().all(|s| s.is_nan()));
    assert!((out.scores[8] - (1.0 - 10.0 / 12.0)).abs() < 1e-12);

    let located = testing::located(&out.violations);
    assert_eq!(
        located,
        [
            (1, "KD-03", "answer"),
            (2, "KD-01", "answer"),
            (2, "KD-02", "answer")
        ]
    );
    assert!(
        out.violations[0]
            .message
            .contains("rating 3 ('x') is not an integer")
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
    bad[2].params_json = r#"{"expert": [4, 2, 9]}"#.into();
    bad.push(item("KD-04", "ranking", &["a", "b", "c"], &["a", "b", "c"]));
    let err = testing::refusal::<KepemimpinanDigital>(&config(bad));
    let located: Vec<(&str, &str)> = err
        .violations
        .iter()
        .map(|v| (v.item.as_str(), v.field.as_str()))
        .collect();
    assert_eq!(
        located,
        [
            ("KD-03", "expert"),
            ("KD-03", "expert[2]"),
            ("KD-04", "kind")
        ]
    );
    assert!(
        err.message.contains("3 item specification error(s)"),
        "{}",
        err.message
    );
    assert!(err.violations[2].message.contains("sjt-rating"));
}

ikd_plugin_sdk::domain_conformance_tests!(
    KepemimpinanDigital,
    config: config(items()),
    bands: 5,
    entry: ikd_plugin_entry_v1,
    kinds: ["likert", "single-choice", "sjt-rating"],
);
