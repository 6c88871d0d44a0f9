//! The plugin as the engine drives it: a configured domain scoring whole
//! batches, refusing bad specifications, giving feedback and simulating.

use ikd_domain_budaya_data::{BudayaData, LEVEL_CODES, ikd_plugin_entry_v1};
use ikd_plugin_sdk::domain::{DomainInstance, answer_batch};
use ikd_plugin_sdk::proto::{
    AnswerStatus, DomainConfig, InterpretRequest, ItemOption, PluginInfo, PluginKind,
    SimulateRequest,
};
use ikd_plugin_sdk::{DomainPlugin, ItemSpec, LevelRef};
use prost::Message;

const ANSWERED: u8 = AnswerStatus::Answered as u8;
const SKIPPED: u8 = AnswerStatus::Skipped as u8;
const NOT_APPLICABLE: u8 = AnswerStatus::NotApplicable as u8;
const INVALID: u8 = AnswerStatus::Invalid as u8;

fn options(codes: &[&str]) -> Vec<ItemOption> {
    codes
        .iter()
        .map(|c| ItemOption {
            code: c.to_string(),
            ..Default::default()
        })
        .collect()
}

fn item(id: &str, kind: &str, codes: &[&str], key: &[&str]) -> ItemSpec {
    ItemSpec {
        id: id.into(),
        kind: kind.into(),
        options: options(codes),
        key: key.iter().map(|k| k.to_string()).collect(),
        ..Default::default()
    }
}

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
    let likert = ItemSpec {
        scale_min: Some(1),
        scale_max: Some(5),
        ..item("BD-01", "likert", &[], &[])
    };
    vec![
        likert,
        item("BD-02", "single-choice", &["a", "b", "c"], &["b"]),
        reading,
    ]
}

fn config(items: Vec<ItemSpec>) -> DomainConfig {
    DomainConfig {
        domain: "budaya-data".into(),
        items,
        settings_json: String::new(),
    }
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

    let located: Vec<(i64, &str, &str)> = out
        .violations
        .iter()
        .map(|v| (v.respondent, v.item.as_str(), v.field.as_str()))
        .collect();
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
    let err = DomainInstance::<BudayaData>::new(&config(bad))
        .err()
        .expect("refused");
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

#[test]
fn settings_are_refused_because_the_domain_has_none() {
    let mut c = config(items());
    c.settings_json = r#"{"tolerance": 1}"#.into();
    let err = DomainInstance::<BudayaData>::new(&c)
        .err()
        .expect("refused");
    assert_eq!(err.violations[0].field, "settings");
    c.settings_json = "{}".into();
    assert!(DomainInstance::<BudayaData>::new(&c).is_ok());
}

fn level(code: &str, min: f64) -> LevelRef {
    LevelRef {
        code: code.into(),
        min,
        max: min + 20.0,
        ..Default::default()
    }
}

#[test]
fn feedback_exists_in_both_languages_for_all_five_levels() {
    let levels: Vec<LevelRef> = LEVEL_CODES
        .iter()
        .enumerate()
        .map(|(i, c)| level(c, 20.0 * i as f64))
        .collect();
    let out = instance().interpret(&InterpretRequest {
        levels: levels.clone(),
    });
    assert_eq!(out.feedback.len(), 5);
    let mut summaries = Vec::new();
    for (f, l) in out.feedback.iter().zip(&levels) {
        let summary = f.summary.as_ref().expect("a summary");
        let advice = f.advice.as_ref().expect("advice");
        for text in [&summary.id, &summary.en, &advice.id, &advice.en] {
            assert!(text.len() > 60, "{}: too short: {text}", l.code);
        }
        assert_ne!(summary.id, summary.en);
        assert_ne!(advice.id, advice.en);
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
    assert_eq!(summaries.len(), 5, "each level has its own feedback");

    // Levels named otherwise fall back to their lower bound on 0–100.
    for (i, l) in levels.iter().enumerate() {
        let other = level("cukup", 20.0 * i as f64 + 5.0);
        assert_eq!(BudayaData.feedback(&other), BudayaData.feedback(l));
    }
}

#[test]
fn simulated_answers_are_valid_and_score_higher_for_higher_theta() {
    let domain = instance();
    let thetas = [-2.0, 0.0, 2.0];
    let n = 400;
    let batch = domain.simulate(&SimulateRequest {
        theta: thetas
            .iter()
            .flat_map(|&t| std::iter::repeat_n(t, n))
            .collect(),
        seed: 2025,
        first_respondent: 0,
    });
    let out = domain.score_items(&batch).expect("simulated answers score");
    assert!(
        out.status.iter().all(|&s| s == ANSWERED),
        "{:?}",
        out.violations
    );
    let d = domain.describe();
    let m = d.score_min.len();
    // Mean score of each item, per theta group, normalised to 0–1.
    let mean = |group: usize, i: usize| {
        (0..n)
            .map(|r| {
                let s = out.scores[(group * n + r) * m + i];
                (s - d.score_min[i]) / (d.score_max[i] - d.score_min[i])
            })
            .sum::<f64>()
            / n as f64
    };
    for i in 0..m {
        let (low, mid, high) = (mean(0, i), mean(1, i), mean(2, i));
        assert!(low < mid && mid < high, "item {i}: {low} {mid} {high}");
    }
}

#[test]
fn manifest_and_entry_point_agree_with_the_code() {
    let manifest = include_str!("../plugin.toml");
    let field = |key: &str| {
        manifest
            .lines()
            .find_map(|l| {
                l.strip_prefix(key)?
                    .trim_start()
                    .strip_prefix('=')?
                    .trim()
                    .strip_prefix('"')?
                    .strip_suffix('"')
            })
            .unwrap_or_else(|| panic!("plugin.toml has no {key}"))
    };
    assert_eq!(field("name"), BudayaData::NAME);
    assert_eq!(field("kind"), "domain");
    assert_eq!(field("version"), env!("CARGO_PKG_VERSION"));
    assert_eq!(field("library"), env!("CARGO_PKG_NAME").replace('-', "_"));

    let vtable = ikd_plugin_entry_v1();
    assert!(!vtable.is_null());
    // SAFETY: the entry point returns a static vtable whose info bytes live forever.
    let info = PluginInfo::decode(unsafe { (*vtable).info.as_slice() }).expect("PluginInfo");
    assert_eq!(info.name, BudayaData::NAME);
    assert_eq!(info.kind, PluginKind::Domain as i32);
    let kinds: Vec<&str> = info.item_kinds.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(kinds, ["likert", "single-choice", "numeric-reading"]);
}
