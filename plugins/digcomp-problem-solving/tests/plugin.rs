//! The plugin as the engine drives it, in-process: a configured domain
//! scoring a batch, refusing bad item specifications, giving the feedback of
//! each DigComp level group and simulating answers.

use ikd_domain_digcomp_problem_solving::{DigcompProblemSolvingDomain, ikd_plugin_entry_v1};
use ikd_plugin_sdk::ItemSpec;
use ikd_plugin_sdk::domain::{DomainInstance, answer_batch};
use ikd_plugin_sdk::proto::DomainConfig;
use ikd_plugin_sdk::testing::{self, ANSWERED, DONT_KNOW, INVALID, NOT_APPLICABLE, SKIPPED, item};

/// As in the instrument: a can-do item (1..4), a reverse-keyed agreement item
/// (1..5), a knowledge item keyed `b` with a "don't know" option `x`
/// (no other kind).
fn items() -> Vec<ItemSpec> {
    let mut knowledge = item("X03", "single-choice", &["a", "b", "c", "x"], &["b"]);
    knowledge.options[3].dont_know = true;
    vec![
        testing::likert("X01", 1, 4, false),
        testing::likert("X02", 1, 5, true),
        knowledge,
    ]
}

fn config(items: Vec<ItemSpec>) -> DomainConfig {
    testing::config("problem-solving", items)
}

fn instance() -> DomainInstance<DigcompProblemSolvingDomain> {
    DomainInstance::new(&config(items())).expect("a valid domain")
}

#[test]
fn a_batch_is_scored_with_statuses_and_located_violations() {
    let out = instance()
        .score_items(&answer_batch([
            // 3 → 3; reverse-keyed 2 → 6 − 2 = 4; the key → 1
            ["3", "2", "b"],
            // skipped, not applicable, "don't know" (answered, scored 0)
            ["", "NA", "x"],
            // off the scales, not an option
            ["5", "6", "z"],
        ]))
        .expect("the batch is scored");
    assert_eq!(out.scores[..3], [3.0, 4.0, 1.0]);
    assert_eq!(
        out.status,
        [
            ANSWERED,
            ANSWERED,
            ANSWERED,
            SKIPPED,
            NOT_APPLICABLE,
            DONT_KNOW,
            INVALID,
            INVALID,
            INVALID,
        ]
    );
    assert_eq!(out.scores[3 + 2], 0.0);
    let invalid: Vec<&str> = out
        .violations
        .iter()
        .filter(|v| v.respondent == 2 && v.field == "answer")
        .map(|v| v.item.as_str())
        .collect();
    assert_eq!(invalid, ["X01", "X02", "X03"]);
    assert!(out.violations[0].message.contains("outside the scale 1..4"));
}

#[test]
fn the_domain_describes_each_item() {
    let d = instance().describe();
    assert_eq!(d.score_min, [1.0, 1.0, 0.0]);
    assert_eq!(d.score_max, [4.0, 5.0, 1.0]);
    assert_eq!(d.categories, [4, 5, 2]);
}

#[test]
fn specification_errors_of_every_item_are_reported_together() {
    let mut bad = items();
    bad[0].scale_max = None;
    bad[2].key = vec!["q".into()];
    bad.push(item("X09", "true-false", &["a", "b"], &["a"]));
    let err = testing::refusal::<DigcompProblemSolvingDomain>(&config(bad));
    let located: Vec<(&str, &str)> = err
        .violations
        .iter()
        .map(|v| (v.item.as_str(), v.field.as_str()))
        .collect();
    assert_eq!(located, [("X01", "scale"), ("X03", "key"), ("X09", "kind")]);
}

/// The simulation check counts a "don't know" as not answered, so it runs
/// without that option.
fn simulation_config() -> DomainConfig {
    let mut items = items();
    items[2] = item("X03", "single-choice", &["a", "b", "c"], &["b"]);
    config(items)
}

ikd_plugin_sdk::domain_conformance_tests!(
    DigcompProblemSolvingDomain,
    config: config(items()),
    simulation_config: simulation_config(),
    bands: 4,
    entry: ikd_plugin_entry_v1,
    kinds: ["likert", "single-choice"],
);
