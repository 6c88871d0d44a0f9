//! The whole pipeline — instrument, domain plugin, weighted-index model,
//! feedback — through built libraries, checked against hand-computed scores.

use ikd_core::answers::{AnswerRows, Respondent};
use ikd_core::host::{PluginHost, PluginSearch};
use ikd_core::instrument;
use ikd_core::pipeline::{ScoreError, Scorer, ScorerOptions, SetupError};
use ikd_core::quality::QualityFlag;
use ikd_tests::{built_plugin, fixture_dir, install_plugin, workspace};
use std::sync::Arc;

/// The hand-computed instrument: two domains (weights 0.75 / 0.25); alpha has
/// indicators a1 (weight 2) and a2 (weight 1). Levels: rendah [0, 50),
/// sedang [50, 81.25), tinggi [81.25, 100].
fn instrument_text() -> String {
    std::fs::read_to_string(ikd_tests::fixture_instrument("hand-computed.toml")).unwrap()
}

fn host() -> PluginHost {
    let root = tempfile::tempdir().unwrap().keep();
    install_plugin(
        &root,
        &fixture_dir("minimal-domain"),
        &built_plugin("ikd-fixture-minimal-domain"),
    );
    install_plugin(
        &root,
        &workspace().join("plugins/scoring-weighted-index"),
        &built_plugin("ikd-scoring-weighted-index"),
    );
    PluginHost::discover(&PluginSearch {
        dirs: vec![root],
        ..Default::default()
    })
}

fn scorer(text: &str) -> Result<Scorer, SetupError> {
    let dir = tempfile::tempdir().unwrap().keep();
    let path = dir.join("instrument.toml");
    std::fs::write(&path, text).unwrap();
    let instrument = Arc::new(instrument::load(&path).map_err(SetupError::from)?);
    Scorer::new(instrument, &host(), &ScorerOptions::default())
}

/// Rows of (id, duration, [A1, A2, A3, B1, B2]).
fn rows(data: &[(&str, Option<f64>, [&str; 5])]) -> AnswerRows {
    let mut rows = AnswerRows::new(5);
    for (line, (id, duration, cells)) in data.iter().enumerate() {
        let who = Respondent {
            id,
            org_unit: "36.72/diskominfo",
            duration: *duration,
            origin: line as u64 + 2,
        };
        rows.push(who, cells.iter().copied());
    }
    rows
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn weighted_index_matches_hand_computed_scores() {
    let s = scorer(&instrument_text()).unwrap();
    let results = s
        .score(&rows(&[
            // alpha: A1 (5−1)/4 = 1; A2 reversed 6−2 = 4 → 0.75; a1 = 0.875; a2: A3 keyed → 1;
            //        alpha = (2·0.875 + 1·1)/3 × 100 = 91.6667.
            // beta:  B1 (3−1)/4 = 0.5; B2 credit 0.5 → 0.5; beta = 50.
            // index = 0.75·91.6667 + 0.25·50 = 81.25 — exactly the cut point: "tinggi".
            ("r1", Some(900.0), ["5", "2", "b", "3", "b"]),
            // alpha: A1 → 0, A2 reversed 6−5 = 1 → 0, A3 "don't know" → 0 (answered).
            // beta: nothing answered → missing, not 0. index = alpha alone = 0.
            ("r2", Some(900.0), ["1", "5", "x", "", ""]),
            // alpha: A1, A2 not applicable; A3 wrong → 0 with 1 of 1 applicable answered.
            // beta: B1 5 → 1; B2 skipped; 1 of 2 ≥ 50 % → beta = 100 (top band is closed).
            // index = 0.75·0 + 0.25·100 = 25.
            ("r3", Some(900.0), ["NA", "NA", "a", "5", ""]),
        ]))
        .unwrap();

    let r1 = &results[0];
    assert!(close(r1.domains[0].score, 91.666_666_666_666_67), "{r1:?}");
    assert!(close(r1.domains[1].score, 50.0));
    assert!(close(r1.index, 81.25));
    assert_eq!(r1.level, Some(2), "81.25 is the lower edge of 'tinggi'");
    assert_eq!(
        r1.domains[1].level,
        Some(1),
        "50 is the lower edge of 'sedang'"
    );
    assert_eq!(r1.domains[0].answered, 3);
    assert!(r1.flags.is_empty());
    assert_eq!(
        r1.index_se, None,
        "the weighted index has no standard error"
    );

    let r2 = &results[1];
    assert!(close(r2.domains[0].score, 0.0));
    assert_eq!(r2.domains[0].answered, 3, "don't know counts as answered");
    assert_eq!(
        r2.domains[1].score, None,
        "a domain without answers is missing, not 0"
    );
    assert_eq!(r2.domains[1].level, None);
    assert!(close(r2.index, 0.0));

    let r3 = &results[2];
    assert!(close(r3.domains[0].score, 0.0));
    assert_eq!(r3.domains[0].answered, 1);
    assert!(close(r3.domains[1].score, 100.0));
    assert_eq!(r3.domains[1].level, Some(2));
    assert!(close(r3.index, 25.0));
    assert_eq!(r3.level, Some(0));
}

#[test]
fn provenance_names_instrument_plugins_and_model() {
    let s = scorer(&instrument_text()).unwrap();
    let p = s.provenance();
    assert_eq!(
        (p.instrument_id.as_str(), p.instrument_version.as_str()),
        ("hand", "1.0.0")
    );
    assert_eq!(p.instrument_sha256, s.instrument().sha256);
    assert_eq!(p.model.name, "weighted-index");
    assert_eq!(p.model.sha256.len(), 64);
    let names: Vec<&str> = p.plugins.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["minimal-domain"]);
    let fb = s.feedback(0, 2).expect("feedback for alpha at 'tinggi'");
    assert_eq!(fb.summary.en, "Level High");
    assert_eq!(fb.summary.id, "Tingkat Tinggi");
}

#[test]
fn careless_answering_is_flagged_not_dropped() {
    let s = scorer(&instrument_text()).unwrap();
    let results = s
        .score(&rows(&[
            // Three identical rating answers in a row (A1, A2, B1) and 50 s < 100 s.
            ("r1", Some(50.0), ["3", "3", "b", "3", "a"]),
            ("r2", None, ["3", "4", "b", "3", "a"]),
        ]))
        .unwrap();
    assert_eq!(
        results[0].flags,
        [QualityFlag::StraightLineRun, QualityFlag::TooFast]
    );
    assert!(
        results[0].index.is_some(),
        "flagged respondents are still scored"
    );
    assert!(results[1].flags.is_empty());
}

#[test]
fn invalid_answers_are_reported_per_respondent_and_item() {
    let s = scorer(&instrument_text()).unwrap();
    let err = s
        .score(&rows(&[
            ("r1", None, ["5", "2", "b", "3", "b"]),
            ("r2", None, ["7", "2", "z", "3", "b"]),
        ]))
        .unwrap_err();
    let ScoreError::InvalidAnswers(v) = err else {
        panic!("{err:?}")
    };
    let found: Vec<(usize, &str)> = v.iter().map(|v| (v.respondent, v.item.as_str())).collect();
    assert_eq!(found, [(1, "A1"), (1, "A3")]);
    assert!(v[0].message.contains("7 is outside the scale 1..5"));
    assert!(v[1].message.contains("'z' is not one of the options"));
}

#[test]
fn answers_are_checked_by_the_domain_plugins_alone() {
    let s = scorer(&instrument_text()).unwrap();
    let batch = rows(&[
        ("r1", None, ["5", "2", "b", "3", "b"]),
        ("r2", None, ["7", "2", "z", "3", "b"]),
    ]);
    let v = s.answer_violations(&batch).unwrap();
    let found: Vec<(usize, &str)> = v.iter().map(|v| (v.respondent, v.item.as_str())).collect();
    assert_eq!(
        found,
        [(1, "A1"), (1, "A3")],
        "the same violations as a scoring"
    );
    assert!(v[0].message.contains("7 is outside the scale 1..5"));
    let valid = rows(&[("r1", None, ["5", "2", "b", "3", "b"])]);
    assert!(s.answer_violations(&valid).unwrap().is_empty());
}

#[test]
fn score_each_sets_aside_refused_respondents_and_scores_the_rest() {
    let s = scorer(&instrument_text()).unwrap();
    let outcomes = s
        .score_each(&rows(&[
            ("r1", Some(900.0), ["5", "2", "b", "3", "b"]),
            ("r2", None, ["7", "2", "z", "3", "b"]),
            ("r3", Some(900.0), ["NA", "NA", "a", "5", ""]),
            ("r4", None, ["5", "9", "b", "3", "b"]),
        ]))
        .unwrap();
    assert_eq!(outcomes.len(), 4);
    let result = |k: usize| outcomes[k].as_ref().unwrap();
    assert_eq!(result(0).respondent_id, "r1");
    assert!(close(result(0).index, 81.25));
    assert_eq!(result(2).respondent_id, "r3");
    assert!(close(result(2).index, 25.0));
    let refused = |k: usize| match &outcomes[k] {
        Err(ScoreError::InvalidAnswers(v)) => v.iter().map(|v| v.item.as_str()).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        refused(1),
        ["A1", "A3"],
        "each respondent keeps its own violations"
    );
    assert_eq!(refused(3), ["A2"]);

    let valid = s
        .score_each(&rows(&[("r1", None, ["5", "2", "b", "3", "b"])]))
        .unwrap();
    assert!(close(valid[0].as_ref().unwrap().index, 81.25));
}

/// A batched check of answers gives each respondent what a check of its answers alone
/// gives: refused respondents keep their own violations, the others pass, also when a
/// plugin reports only part of a batch's faults at a time.
#[test]
fn check_each_gives_each_respondent_its_own_verdict() {
    let s = scorer(&instrument_text()).unwrap();
    let people = [
        ("r1", None, ["5", "2", "b", "3", "b"]),
        ("r2", None, ["7", "2", "z", "3", "b"]),
        ("r3", None, ["NA", "NA", "a", "5", ""]),
        ("r4", None, ["5", "9", "b", "3", "b"]),
    ];
    let outcomes = s.check_each(&rows(&people)).unwrap();
    assert_eq!(outcomes.len(), 4);
    for (k, person) in people.iter().enumerate() {
        let alone = s
            .answer_violations(&rows(std::slice::from_ref(person)))
            .unwrap();
        match &outcomes[k] {
            Ok(()) => assert!(alone.is_empty(), "{}: {alone:?}", person.0),
            Err(ScoreError::InvalidAnswers(own)) => {
                let items = |v: &[ikd_core::pipeline::AnswerViolation]| {
                    v.iter()
                        .map(|v| (v.item.clone(), v.message.clone()))
                        .collect::<Vec<_>>()
                };
                assert_eq!(items(own), items(&alone), "{}", person.0);
            }
            Err(other) => panic!("{}: {other}", person.0),
        }
    }
    assert!(outcomes[0].is_ok() && outcomes[2].is_ok());
    assert!(outcomes[1].is_err() && outcomes[3].is_err());
}

#[test]
fn binding_errors_name_the_item_line_and_plugin() {
    // Only the plugin knows that its `likert` kind needs a scale.
    let text = instrument_text().replacen(
        "kind = \"likert\"\nscale = \"s5\"\nreverse = true",
        "kind = \"likert\"\nreverse = true",
        1,
    );
    let err = scorer(&text)
        .err()
        .expect("a likert item without a scale")
        .to_string();
    assert!(err.contains("item 'A2', field 'scale'"), "{err}");
    assert!(
        err.contains("a likert item needs a response scale"),
        "{err}"
    );
    assert!(err.contains("plugin 'minimal-domain'"), "{err}");
    let line = text.lines().position(|l| l == "id = \"A2\"").unwrap() + 1;
    assert!(
        err.contains(&format!(":{line}:")),
        "line {line} expected in {err}"
    );

    let text = instrument_text().replace(
        "plugin = \"minimal-domain\"\nweight = 0.25",
        "plugin = \"no-such-plugin\"\nweight = 0.25",
    );
    let err = scorer(&text).err().expect("unknown plugin").to_string();
    assert!(err.contains("no-such-plugin"), "{err}");
}

#[test]
fn another_model_must_be_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("instrument.toml");
    std::fs::write(&path, instrument_text()).unwrap();
    let instrument = Arc::new(instrument::load(&path).unwrap());
    let options = ScorerOptions {
        model: Some("irt".into()),
        ..ScorerOptions::default()
    };
    let err = Scorer::new(instrument, &host(), &options)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("irt"), "{err}");
}

#[test]
fn async_callers_score_on_the_blocking_pool() {
    let s = Arc::new(scorer(&instrument_text()).unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let results = runtime
        .block_on(s.score_blocking(rows(&[("r1", None, ["5", "2", "b", "3", "b"])])))
        .unwrap();
    assert!(close(results[0].index, 81.25));
    let violations = runtime
        .block_on(s.answer_violations_blocking(rows(&[("r1", None, ["7", "2", "b", "3", "b"])])))
        .unwrap();
    assert_eq!(violations[0].item, "A1");
    let outcomes = runtime
        .block_on(s.score_each_blocking(rows(&[("r1", None, ["5", "2", "b", "3", "b"])])))
        .unwrap();
    assert!(close(outcomes[0].as_ref().unwrap().index, 81.25));
}
