//! The conformance-test harness for domain plugins (feature `testing`): the
//! contract every domain keeps, checked in one place
//! ([`domain_conformance_tests!`](crate::domain_conformance_tests)), and the
//! small builders a plugin's own tests need (items, a configuration, where
//! violations point), so a plugin's tests state only what is its own.

use crate::abi::PluginVTableV1;
use crate::domain::DomainInstance;
use crate::proto::{
    DomainConfig, InterpretRequest, ItemOption, PluginInfo, PluginKind, SimulateRequest,
};
use crate::{DomainPlugin, ItemSpec, LevelRef, PluginError, Violation};
use prost::Message;

pub use crate::status::{ANSWERED, DONT_KNOW, INVALID, NOT_APPLICABLE, SKIPPED};

/// Options with these codes, labelled as an instrument would label them
/// ("Pilihan a" / "Option a"), and nothing else set.
pub fn options(codes: &[&str]) -> Vec<ItemOption> {
    codes
        .iter()
        .map(|c| ItemOption {
            code: c.to_string(),
            label: Some(crate::Text::new(
                format!("Pilihan {c}"),
                format!("Option {c}"),
            )),
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

/// The level at `position` of `count`, as the host sends it; its code and
/// bound are deliberately not ones any plugin knows.
fn level(position: usize, count: usize) -> LevelRef {
    LevelRef {
        code: format!("level-{position}"),
        min: f64::NAN,
        max: f64::NAN,
        position: position as u32,
        count: count as u32,
        ..Default::default()
    }
}

/// The domain has `bands` feedback bands, each with its own numbered advice
/// in both languages, chosen by the level's position alone: an instrument
/// with as many levels as bands gets every band once, whatever its level
/// codes and bounds, and one with more or fewer levels still gets the
/// lowest band for its lowest level and the highest for its highest.
pub fn check_feedback<P: DomainPlugin>(config: &DomainConfig, bands: usize) {
    let instance = DomainInstance::<P>::new(config).expect("a valid domain");
    let interpret = |count: usize| {
        let levels: Vec<LevelRef> = (0..count).map(|p| level(p, count)).collect();
        instance.interpret(&InterpretRequest { levels }).feedback
    };
    let feedback = interpret(bands);
    assert_eq!(feedback.len(), bands);
    let mut summaries = Vec::new();
    for (p, f) in feedback.iter().enumerate() {
        let summary = f.summary.as_ref().expect("a summary");
        let advice = f.advice.as_ref().expect("advice");
        for text in [&summary.id, &summary.en, &advice.id, &advice.en] {
            assert!(text.len() > 60, "band {p}: too short: {text}");
        }
        assert_ne!(summary.id, summary.en, "band {p}");
        assert_ne!(advice.id, advice.en, "band {p}");
        for advice in [&advice.id, &advice.en] {
            assert!(
                advice.starts_with("1. ") && advice.contains(" 2. "),
                "band {p}: {advice}"
            );
        }
        summaries.push(summary.en.clone());
    }
    summaries.sort();
    summaries.dedup();
    assert_eq!(summaries.len(), bands, "each band has its own feedback");

    for count in [2, 3, bands + 3] {
        let other = interpret(count);
        assert_eq!(other.first(), feedback.first(), "{count} levels: lowest");
        assert_eq!(other.last(), feedback.last(), "{count} levels: highest");
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

/// Every item presents itself: one presentation per item, in order, with a
/// widget of the vocabulary, labels in both languages, and an encoding that
/// can write every answer the plugin simulates (read back, written again,
/// each simulated cell comes out the same).
pub fn check_presentation<P: DomainPlugin>(config: &DomainConfig) {
    use crate::present::{read_cell, write_cell};
    use crate::proto::Widget;
    let domain = DomainInstance::<P>::new(config).expect("a valid domain");
    let shown = domain.present().items;
    let ids: Vec<&str> = shown.iter().map(|p| p.item_id.as_str()).collect();
    let expected: Vec<&str> = config.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, expected, "one presentation per item, in order");
    for p in &shown {
        assert_ne!(p.widget(), Widget::Unspecified, "{}: no widget", p.item_id);
        let choices = p.choices.iter().chain(&p.dont_know);
        let labels = choices.map(|c| c.label.as_ref().expect("every choice is labelled"));
        // A scale may go unlabelled (its values are shown), never half-labelled.
        let points = p.scale.iter().filter_map(|s| s.label.as_ref());
        for label in labels.chain(points) {
            assert!(
                !label.id.is_empty() && !label.en.is_empty(),
                "{}: {label:?}",
                p.item_id
            );
        }
    }
    let batch = domain.simulate(&SimulateRequest {
        theta: (-20..=20).map(|t| f64::from(t) / 8.0).collect(),
        seed: 7,
        first_respondent: 0,
    });
    let offsets = crate::dense::decode::<u32>(
        &batch.offsets,
        batch.respondents as usize * batch.items as usize + 1,
        "offsets",
    )
    .expect("offsets");
    for (cell, range) in offsets.windows(2).enumerate() {
        let p = &shown[cell % shown.len()];
        let text = std::str::from_utf8(&batch.answer_data[range[0] as usize..range[1] as usize])
            .expect("UTF-8");
        let given = read_cell(p, text).unwrap_or_else(|e| panic!("{}: {e}", p.item_id));
        assert_eq!(write_cell(p, &given), text.trim(), "{}", p.item_id);
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

/// `(respondent, item, field)` of each violation, in order: what a test
/// compares to say *where* a batch or a specification went wrong.
pub fn located(violations: &[Violation]) -> Vec<(i64, &str, &str)> {
    violations
        .iter()
        .map(|v| (v.respondent, v.item.as_str(), v.field.as_str()))
        .collect()
}

/// The error `P` refuses `config` with.
///
/// # Panics
/// If `P` accepts the configuration.
pub fn refusal<P: DomainPlugin>(config: &DomainConfig) -> PluginError {
    match DomainInstance::<P>::new(config) {
        Ok(_) => panic!("the configuration of '{}' was accepted", config.domain),
        Err(e) => e,
    }
}

/// A Likert item on `min..=max`, reverse-keyed or not.
pub fn likert(id: &str, min: i32, max: i32, reverse: bool) -> ItemSpec {
    ItemSpec {
        scale_min: Some(min),
        scale_max: Some(max),
        reverse,
        ..item(id, "likert", &[], &[])
    }
}

/// The contract every domain plugin keeps, as five named tests in a module
/// `conformance`: settings are refused (the plugin takes none), each of
/// `bands` feedback bands has its own text in both languages, simulated
/// answers are valid and rise with θ, every item presents itself with an
/// encoding that writes every simulated answer, and `plugin.toml` and the entry point
/// agree with the code (`kinds` in the order the plugin declares them).
///
/// ```text
/// ikd_plugin_sdk::domain_conformance_tests!(
///     MyDomain,
///     config: config(items()),
///     bands: 3,
///     entry: my_domain::ikd_plugin_entry_v1,
///     kinds: ["likert", "true-false"],
/// );
/// ```
///
/// `simulation_config:` (optional, after `config:`) gives the simulation
/// check another configuration, e.g. one without a "don't know" option.
#[macro_export]
macro_rules! domain_conformance_tests {
    (
        $plugin:ty,
        config: $config:expr,
        bands: $bands:expr,
        entry: $entry:path,
        kinds: [$($kind:literal),* $(,)?] $(,)?
    ) => {
        $crate::domain_conformance_tests!(
            $plugin,
            config: $config,
            simulation_config: $config,
            bands: $bands,
            entry: $entry,
            kinds: [$($kind),*],
        );
    };
    (
        $plugin:ty,
        config: $config:expr,
        simulation_config: $simulation_config:expr,
        bands: $bands:expr,
        entry: $entry:path,
        kinds: [$($kind:literal),* $(,)?] $(,)?
    ) => {
        mod conformance {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn settings_are_refused_because_the_domain_has_none() {
                $crate::testing::check_settings_refused::<$plugin>(&$config);
            }

            #[test]
            fn each_feedback_band_has_its_own_text_in_both_languages() {
                $crate::testing::check_feedback::<$plugin>(&$config, $bands);
            }

            #[test]
            fn simulated_answers_are_valid_and_score_higher_for_higher_theta() {
                $crate::testing::check_simulation_rises::<$plugin>(&$simulation_config);
            }

            #[test]
            fn every_item_presents_itself_and_can_write_every_answer() {
                $crate::testing::check_presentation::<$plugin>(&$config);
            }

            #[test]
            fn manifest_and_entry_point_agree_with_the_code() {
                let package = $crate::testing::Package {
                    dir: env!("CARGO_MANIFEST_DIR"),
                    name: env!("CARGO_PKG_NAME"),
                    version: env!("CARGO_PKG_VERSION"),
                };
                $crate::testing::check_manifest::<$plugin>(&package, $entry, &[$($kind),*]);
            }
        }
    };
}
