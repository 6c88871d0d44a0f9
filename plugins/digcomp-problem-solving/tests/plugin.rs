//! The plugin as the engine drives it, in-process: a configured domain
//! scoring a batch, refusing bad item specifications, giving the feedback of
//! each DigComp level group and simulating answers.

use ikd_domain_digcomp_problem_solving::{
    DigcompProblemSolvingDomain, LEVEL_CODES, ikd_plugin_entry_v1,
};
use ikd_plugin_sdk::domain::{DomainInstance, answer_batch};
use ikd_plugin_sdk::proto::{AnswerStatus, DomainConfig, InterpretRequest};
use ikd_plugin_sdk::testing::{self, ANSWERED, INVALID, NOT_APPLICABLE, Package, SKIPPED, item};
use ikd_plugin_sdk::{Feedback, ItemSpec, LevelRef};

const DONT_KNOW: u8 = AnswerStatus::DontKnow as u8;

fn likert(id: &str, max: i32, reverse: bool) -> ItemSpec {
    ItemSpec {
        scale_min: Some(1),
        scale_max: Some(max),
        reverse,
        ..item(id, "likert", &[], &[])
    }
}

/// As in the instrument: a can-do item (1..4), a reverse-keyed agreement item
/// (1..5), a knowledge item keyed `b` with a "don't know" option `x`
/// (no other kind).
fn items() -> Vec<ItemSpec> {
    let mut knowledge = item("X03", "single-choice", &["a", "b", "c", "x"], &["b"]);
    knowledge.options[3].dont_know = true;
    vec![likert("X01", 4, false), likert("X02", 5, true), knowledge]
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
    let err = DomainInstance::<DigcompProblemSolvingDomain>::new(&config(bad))
        .err()
        .expect("refused");
    let located: Vec<(&str, &str)> = err
        .violations
        .iter()
        .map(|v| (v.item.as_str(), v.field.as_str()))
        .collect();
    assert_eq!(located, [("X01", "scale"), ("X03", "key"), ("X09", "kind")]);
}

#[test]
fn settings_are_refused_because_the_domain_has_none() {
    testing::check_settings_refused::<DigcompProblemSolvingDomain>(&config(items()));
}

fn level(code: &str, min: f64) -> LevelRef {
    LevelRef {
        code: code.into(),
        min,
        max: min + 10.0,
        ..Default::default()
    }
}

/// The feedback the engine would cache for each of `levels`.
fn feedback(levels: &[LevelRef]) -> Vec<Feedback> {
    instance()
        .interpret(&InterpretRequest {
            levels: levels.to_vec(),
        })
        .feedback
}

#[test]
fn each_level_group_has_its_own_feedback_in_both_languages() {
    let groups: Vec<LevelRef> = LEVEL_CODES
        .iter()
        .zip([0.0, 40.0, 65.0, 85.0])
        .map(|(code, min)| level(code, min))
        .collect();
    let given = feedback(&groups);
    let mut summaries = Vec::new();
    for (f, l) in given.iter().zip(&groups) {
        let (summary, advice) = (f.summary.as_ref().unwrap(), f.advice.as_ref().unwrap());
        for text in [&summary.id, &summary.en, &advice.id, &advice.en] {
            assert!(text.len() > 60, "{}: too short: {text}", l.code);
        }
        assert_ne!(summary.id, summary.en, "{}", l.code);
        for advice in [&advice.id, &advice.en] {
            assert!(
                advice.starts_with("1. ") && advice.contains(" 2. "),
                "{}: {advice}",
                l.code
            );
        }
        summaries.push(summary.en.clone());
    }
    summaries.sort();
    summaries.dedup();
    assert_eq!(summaries.len(), 4, "each group has its own feedback");

    // Levels of other codes fall back on their lower bound (cut points 40, 65, 85).
    let others = [
        level("a", 0.0),
        level("b", 39.9),
        level("c", 40.0),
        level("d", 64.9),
        level("e", 65.0),
        level("f", 85.0),
    ];
    let expected = [0, 0, 1, 1, 2, 3].map(|g| given[g].clone());
    assert_eq!(feedback(&others), expected);
}

#[test]
fn simulated_answers_are_valid_and_score_higher_for_higher_theta() {
    // Without the "don't know" option, which the check counts as not answered.
    let mut items = items();
    items[2] = item("X03", "single-choice", &["a", "b", "c"], &["b"]);
    testing::check_simulation_rises::<DigcompProblemSolvingDomain>(&config(items));
}

#[test]
fn manifest_and_entry_point_agree_with_the_code() {
    let package = Package {
        dir: env!("CARGO_MANIFEST_DIR"),
        name: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
    };
    testing::check_manifest::<DigcompProblemSolvingDomain>(
        &package,
        ikd_plugin_entry_v1,
        &["likert", "single-choice"],
    );
}
