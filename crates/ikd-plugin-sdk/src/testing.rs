//! Conformance checks every domain plugin's tests run (feature `testing`),
//! so that the five domains are held to the same contract in one place.

use crate::abi::PluginVTableV1;
use crate::domain::DomainInstance;
use crate::proto::{
    AnswerStatus, DomainConfig, InterpretRequest, ItemOption, PluginInfo, PluginKind,
    SimulateRequest,
};
use crate::{DomainPlugin, DomainSetup, ItemSpec, LevelRef};
use prost::Message;

pub const ANSWERED: u8 = AnswerStatus::Answered as u8;
pub const SKIPPED: u8 = AnswerStatus::Skipped as u8;
pub const NOT_APPLICABLE: u8 = AnswerStatus::NotApplicable as u8;
pub const INVALID: u8 = AnswerStatus::Invalid as u8;

/// Options with these codes and nothing else set.
pub fn options(codes: &[&str]) -> Vec<ItemOption> {
    codes
        .iter()
        .map(|c| ItemOption {
            code: c.to_string(),
            ..Default::default()
        })
        .collect()
}

pub fn item(id: &str, kind: &str, codes: &[&str], key: &[&str]) -> ItemSpec {
    ItemSpec {
        id: id.into(),
        kind: kind.into(),
        options: options(codes),
        key: key.iter().map(|k| k.to_string()).collect(),
        ..Default::default()
    }
}

/// A domain without settings.
pub fn config(domain: &str, items: Vec<ItemSpec>) -> DomainConfig {
    DomainConfig {
        domain: domain.into(),
        items,
        settings_json: String::new(),
    }
}

/// The domain takes no settings: a non-empty table is refused, `{}` is not.
pub fn check_settings_refused<P: DomainPlugin>(config: &DomainConfig) {
    let mut c = config.clone();
    c.settings_json = r#"{"tolerance": 1}"#.into();
    let err = DomainInstance::<P>::new(&c).err().expect("refused");
    assert_eq!(err.violations[0].field, "settings");
    c.settings_json = "{}".into();
    assert!(DomainInstance::<P>::new(&c).is_ok());
}

fn level(code: &str, min: f64) -> LevelRef {
    LevelRef {
        code: code.into(),
        min,
        max: min + 20.0,
        ..Default::default()
    }
}

/// Each of the five standard levels has its own numbered advice in both
/// languages, and levels named otherwise fall back to their lower bound.
pub fn check_feedback<P: DomainPlugin>(config: &DomainConfig) {
    let instance = DomainInstance::<P>::new(config).expect("a valid domain");
    let levels: Vec<LevelRef> = crate::feedback::LEVEL_CODES
        .iter()
        .enumerate()
        .map(|(i, c)| level(c, 20.0 * i as f64))
        .collect();
    let out = instance.interpret(&InterpretRequest {
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

    let plugin = P::new(&DomainSetup {
        domain: &config.domain,
        items: &config.items,
        settings: serde_json::Value::Null,
    })
    .expect("the plugin");
    for (i, l) in levels.iter().enumerate() {
        let other = level("cukup", 20.0 * i as f64 + 5.0);
        assert_eq!(plugin.feedback(&other), plugin.feedback(l));
    }
}

/// Simulated answers are all valid, and every item's mean score (normalised
/// to 0–1) rises from θ = −2 to 0 to 2.
pub fn check_simulation_rises<P: DomainPlugin>(config: &DomainConfig) {
    let domain = DomainInstance::<P>::new(config).expect("a valid domain");
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

/// The package a plugin's tests run in; `env!` must expand there, not here.
pub struct Package<'a> {
    /// `CARGO_MANIFEST_DIR`, where `plugin.toml` lives.
    pub dir: &'a str,
    /// `CARGO_PKG_NAME`.
    pub name: &'a str,
    /// `CARGO_PKG_VERSION`.
    pub version: &'a str,
}

/// `plugin.toml` and the entry point's `PluginInfo` agree with the code.
pub fn check_manifest<P: DomainPlugin>(
    package: &Package,
    entry: extern "C" fn() -> *const PluginVTableV1,
    kinds: &[&str],
) {
    let path = std::path::Path::new(package.dir).join("plugin.toml");
    let manifest = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
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
    assert_eq!(field("name"), P::NAME);
    assert_eq!(field("kind"), "domain");
    assert_eq!(field("version"), package.version);
    assert_eq!(field("library"), package.name.replace('-', "_"));

    let vtable = entry();
    assert!(!vtable.is_null());
    // SAFETY: the entry point returns a static vtable whose info bytes live forever.
    let info = PluginInfo::decode(unsafe { (*vtable).info.as_slice() }).expect("PluginInfo");
    assert_eq!(info.name, P::NAME);
    assert_eq!(info.kind, PluginKind::Domain as i32);
    let names: Vec<&str> = info.item_kinds.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, kinds);
}
