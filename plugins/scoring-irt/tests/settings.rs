//! What `Irt::new` refuses, and that every refusal names the field (and the
//! item) at fault.

mod common;

use common::*;
use ikd_irt::Method;
use ikd_plugin_sdk::{PluginError, ScoringModel};
use ikd_scoring_irt::Irt;
use serde_json::json;
use std::path::Path;

const PARAMS: &str = "item,model,a,d1\nq1,2pl,1,0\nq2,2pl,2,-1\n";

fn two_items(dir: &Path, settings: serde_json::Value) -> Result<Irt, PluginError> {
    Irt::new(&config(
        dir,
        vec![domain("D", 1.0, 1, 0.0)],
        vec![keyed("q1", 0), keyed("q2", 0)],
        1,
        settings,
    ))
}

fn refused(dir: &Path, settings: serde_json::Value) -> PluginError {
    two_items(dir, settings).expect_err("refused")
}

fn sha256(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

#[test]
fn defaults_and_accepted_settings() {
    let dir = tempfile::tempdir().unwrap();
    let params = write_params(dir.path(), PARAMS);
    let model = two_items(dir.path(), json!({ "params": params })).unwrap();
    let s = model.settings();
    assert_eq!(
        (s.method, s.quadpts, s.center, s.scale),
        (Method::Eap, 121, 50.0, 15.0)
    );
    assert_eq!(s.params_sha256, None);

    let model = two_items(
        dir.path(),
        json!({
            "params": params,
            "params_sha256": sha256(PARAMS).to_uppercase(),
            "method": "MAP",
            "quadpts": 61,
            "reporting": { "center": 500.0 / 10.0, "scale": 10 },
        }),
    )
    .unwrap();
    let s = model.settings();
    assert_eq!(
        (s.method, s.quadpts, s.center, s.scale),
        (Method::Map, 61, 50.0, 10.0)
    );
    assert_eq!(s.params_sha256.as_deref(), Some(sha256(PARAMS).as_str()));
    assert_eq!(model.bank(0).unwrap().len(), 2);

    // An absolute path is used as it is.
    let absolute = dir.path().join("params.csv");
    let elsewhere = tempfile::tempdir().unwrap();
    two_items(
        elsewhere.path(),
        json!({ "params": absolute.to_str().unwrap() }),
    )
    .unwrap();
}

#[test]
fn params_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let err = refused(dir.path(), json!(null));
    let v = violation(&err, "", "settings.params");
    assert!(v.message.contains("required"), "{v}");
    let err = refused(dir.path(), json!({ "params": 3 }));
    violation(&err, "", "settings.params");
    let err = refused(dir.path(), json!([1, 2]));
    violation(&err, "", "settings");
}

#[test]
fn every_unknown_or_ill_typed_setting_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let params = write_params(dir.path(), PARAMS);
    let err = refused(
        dir.path(),
        json!({
            "params": params,
            "prior": "normal",
            "method": "wle",
            "quadpts": 2,
            "params_sha256": "abc",
            "reporting": { "center": "50", "scale": 0, "min": 0 },
        }),
    );
    for field in [
        "settings.prior",
        "settings.method",
        "settings.quadpts",
        "settings.params_sha256",
        "settings.reporting.center",
        "settings.reporting.scale",
        "settings.reporting.min",
    ] {
        violation(&err, "", field);
    }
    assert!(
        violation(&err, "", "settings.method")
            .message
            .contains("wle")
    );
    assert_eq!(err.violations.len(), 7, "{err}");
    let err = refused(dir.path(), json!({ "params": params, "quadpts": 60.5 }));
    violation(&err, "", "settings.quadpts");
    let err = refused(dir.path(), json!({ "params": params, "reporting": 15 }));
    violation(&err, "", "settings.reporting");
    // A center outside the bands' range [0, 100] could not be reported.
    let err = refused(
        dir.path(),
        json!({ "params": params, "reporting": { "center": 120 } }),
    );
    violation(&err, "", "settings.reporting.center");
}

#[test]
fn a_missing_unreadable_or_changed_params_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = refused(dir.path(), json!({ "params": "nowhere.csv" }));
    let v = violation(&err, "", "settings.params");
    assert!(v.message.contains("nowhere.csv"), "{v}");

    let params = write_params(dir.path(), PARAMS);
    let other = sha256("something else");
    let err = refused(
        dir.path(),
        json!({ "params": params, "params_sha256": other }),
    );
    let v = violation(&err, "", "settings.params_sha256");
    assert!(
        v.message.contains(&sha256(PARAMS)) && v.message.contains(&other),
        "{v}"
    );

    // Not PARAMS.csv: the line and column come from ikd-irt's reader.
    write_params(dir.path(), "item,model,a,d1\nq1,2pl,x,0\nq2,2pl,1,0\n");
    let err = refused(dir.path(), json!({ "params": params }));
    let v = violation(&err, "", "settings.params");
    assert!(v.message.contains("line 2"), "{v}");
}

/// Refusals reach clients of a server: they name the setting and the file, never what the
/// file holds or where it is on the server.
#[test]
fn refusals_quote_neither_the_file_nor_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "5e1a0c7d9b2f4e6a8c0d1f3b5a7c9e1d";
    for (content, at) in [
        (format!("{secret}\n"), "header"),
        (
            format!("item,model,a,d1\nq1,2pl,{secret},0\n"),
            "line 2, column 3",
        ),
        (format!("item,model,a,d1\n{secret},2pl,1\n"), "line 2"),
        (
            format!("item,model,a,d1\nq1,{secret},1,0\n"),
            "line 2, column 2",
        ),
    ] {
        std::fs::write(dir.path().join("key.txt"), &content).unwrap();
        let absolute = dir.path().join("key.txt");
        for params in ["key.txt", absolute.to_str().unwrap()] {
            let err = refused(dir.path(), json!({ "params": params }));
            let v = violation(&err, "", "settings.params");
            let text = format!("{err} {v}");
            assert!(!text.contains(secret), "{content:?}: {text}");
            assert!(!text.contains(&*dir.path().to_string_lossy()), "{text}");
            assert!(v.message.contains("'key.txt'"), "{text}");
            assert!(v.message.contains(at), "{content:?}: {text}");
        }
    }
    let missing = dir.path().join("missing.csv");
    let err = refused(dir.path(), json!({ "params": missing.to_str().unwrap() }));
    let text = format!("{err}");
    assert!(!text.contains(&*dir.path().to_string_lossy()), "{text}");
    assert!(text.contains("'missing.csv'"), "{text}");
}

#[test]
fn items_without_parameters_or_with_too_many_categories_are_named() {
    let dir = tempfile::tempdir().unwrap();
    // q2 has no row; q1 (scores 0..1, two categories) has three.
    let params = write_params(
        dir.path(),
        "item,model,a,d1,d2\nq1,grm,1,1,-1\nq9,2pl,1,0,\n",
    );
    let err = refused(dir.path(), json!({ "params": params }));
    let v = violation(&err, "q2", "params");
    assert!(v.message.contains("no parameters"), "{v}");
    let v = violation(&err, "q1", "params");
    assert!(v.message.contains("3 categories"), "{v}");

    // A continuous item takes any number of bins; a Likert 1..5 item at most 5 categories.
    let params = write_params(
        dir.path(),
        "item,model,a,d1,d2,d3,d4,d5\nc,grm,1,2,1,0,-1,-2\nl,grm,1,2,1,0,-1,-2\n",
    );
    let err = Irt::new(&config(
        dir.path(),
        vec![domain("D", 1.0, 1, 0.0)],
        vec![item("c", 0, 0.0, 1.0, 0), item("l", 0, 1.0, 5.0, 5)],
        1,
        json!({ "params": params }),
    ))
    .unwrap_err();
    assert_eq!(err.violations.len(), 1, "{err}");
    violation(&err, "l", "params");
}

#[test]
fn layout_problems_are_reported_with_the_settings_problems() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(
        dir.path(),
        vec![domain("D", 0.0, 1, 1.5), domain("E", 1.0, 1, 0.5)],
        vec![item("q1", 0, 1.0, 1.0, 0), keyed("q1", 0)],
        3,
        json!({ "params": "nowhere.csv" }),
    );
    cfg.bands[1].min = 30.0;
    let err = Irt::new(&cfg).unwrap_err();
    for (item, field) in [
        ("", "settings.params"),
        ("D", "weight"),
        ("D", "min_answered_fraction"),
        ("E", "items"),
        ("", "min_domains"),
        ("q1", "score_max"),
        ("q1", "id"),
        ("sedang", "min"),
    ] {
        violation(&err, item, field);
    }
    assert!(err.message.contains("uji"), "{err}");
}
