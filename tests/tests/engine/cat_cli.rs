//! `ikd cat simulate` end to end: a simulation study on the bundled
//! IKD-ASN 2025 bank (its `irt` parameters) and on a simulated bank, the
//! JSON and table outputs, reproducibility, and refusals that name the cause.

use ikd_tests::{fixture_instrument, ikd_binary, workspace};
use std::process::{Command, Output};

fn ikd(args: &[&str]) -> Output {
    Command::new(ikd_binary())
        .args(args)
        .env_remove("IKD_PLUGIN_PATH")
        .env_remove("IKD_PLUGIN_LOCK")
        .output()
        .expect("ikd runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).expect("JSON on stdout")
}

fn asn() -> String {
    workspace()
        .join("instruments/ikd-asn-2025")
        .display()
        .to_string()
}

#[test]
fn simulates_the_ikd_instrument_reproducibly() {
    let args = [
        "cat",
        "simulate",
        "--instrument",
        &asn(),
        "-n",
        "150",
        "--seed",
        "3",
    ];
    let first = ikd(&args);
    let mut report = json(&first);
    assert_eq!(report["persons"], 150);
    assert_eq!(report["selector"], "mfi");
    assert_eq!(report["bank"]["instrument"], "ikd-asn-2025");
    assert_eq!(
        report["bank"]["params_sha256"],
        "e97ef75568a24963e0d3e1ea389c333e6b00922c392722ff6b3d9c94f4697bcd"
    );
    let domains = report["domains"].as_array().unwrap();
    let codes: Vec<&str> = domains
        .iter()
        .map(|d| d["domain"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "literasi-digital",
            "budaya-data",
            "pelayanan-publik",
            "etika-keamanan",
            "kepemimpinan-digital"
        ]
    );
    for d in domains {
        let mean = d["length"]["mean"].as_f64().unwrap();
        assert!(mean >= 1.0 && mean <= d["items"].as_f64().unwrap());
        assert!(d["correlation_with_full_bank"].as_f64().unwrap() > 0.9);
    }
    assert!(stderr(&first).contains("whole test"), "{}", stderr(&first));

    // The same seed, the same report (but for the time taken).
    let mut again = json(&ikd(&args));
    report["seconds"] = 0.into();
    again["seconds"] = 0.into();
    assert_eq!(report, again);
}

#[test]
fn simulates_a_generated_bank_with_each_selector() {
    for selector in ["mfi", "kl", "random"] {
        let out = ikd(&[
            "cat",
            "simulate",
            "--simulated-bank",
            "80",
            "--domains",
            "4",
            "-n",
            "40",
            "--selector",
            selector,
            "--se",
            "0.4",
            "--randomesque",
            "2",
            "--max-items",
            "50",
            "--format",
            "text",
        ]);
        assert!(out.status.success(), "{selector}: {}", stderr(&out));
        let table = String::from_utf8_lossy(&out.stdout);
        assert!(
            table.contains(&format!("selector {selector} (randomesque 2)")),
            "{table}"
        );
        for domain in ["D1", "D2", "D3", "D4"] {
            assert!(table.contains(domain), "{table}");
        }
        assert!(out.stderr.is_empty(), "{}", stderr(&out));
    }
}

#[test]
fn refusals_name_the_setting_or_the_missing_parameters() {
    let out = ikd(&[
        "cat",
        "simulate",
        "--instrument",
        &asn(),
        "--min-per-domain",
        "12",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("min_items_per_domain: domain 'kepemimpinan-digital' has 11 items"),
        "{}",
        stderr(&out)
    );

    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("delivery.toml");
    std::fs::write(&settings, "se_target = 0.3\nmax_itms = 10\n").unwrap();
    let out = ikd(&[
        "cat",
        "simulate",
        "--simulated-bank",
        "50",
        "--settings",
        settings.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("max_itms"), "{}", stderr(&out));

    let hand = fixture_instrument("hand-computed.toml");
    let out = ikd(&["cat", "simulate", "--instrument", hand.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("has no IRT item parameters"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_selector_plugin_through_the_abi_decides_as_the_built_in_selector() {
    for name in ["mfi", "kl"] {
        let study = |selector: &[&str]| {
            let mut args = vec![
                "cat",
                "simulate",
                "--simulated-bank",
                "120",
                "--domains",
                "2",
                "-n",
                "300",
                "--seed",
                "7",
                "--se",
                "0.35",
            ];
            args.extend_from_slice(selector);
            json(&ikd(&args))
        };
        let mut built_in = study(&["--selector", name]);
        let mut through_plugin = study(&["--selector-plugin", name]);
        let provenance = through_plugin
            .as_object_mut()
            .unwrap()
            .remove("selector_plugin")
            .expect("the report names the plugin");
        assert_eq!(provenance["name"], name);
        assert_eq!(provenance["sha256"].as_str().map(str::len), Some(64));
        for report in [&mut built_in, &mut through_plugin] {
            report.as_object_mut().unwrap().remove("seconds");
        }
        assert_eq!(through_plugin, built_in, "{name}");
    }
}

#[test]
fn a_selector_plugin_that_is_not_loaded_is_refused_with_the_loaded_selectors() {
    for name in ["nope", "irt"] {
        let out = ikd(&[
            "cat",
            "simulate",
            "--simulated-bank",
            "20",
            "-n",
            "5",
            "--selector-plugin",
            name,
        ]);
        assert!(!out.status.success());
        let err = stderr(&out);
        assert!(
            err.contains(&format!("no selector plugin named '{name}'"))
                && err.contains("loaded selectors: kl, mfi"),
            "{err}"
        );
    }
}

#[test]
fn an_adaptive_instrument_is_simulated_with_its_declared_settings() {
    let dir = tempfile::tempdir().unwrap();
    let file = ikd_tests::adaptive::adaptive_ikd_asn(
        dir.path(),
        "mfi",
        "se_target = 0.45\nmin_items_per_domain = 5\nrandomesque = 2",
    );
    let file = file.display().to_string();
    let study = [
        "cat",
        "simulate",
        "--instrument",
        &file,
        "-n",
        "40",
        "--seed",
        "2",
    ];
    let declared = json(&ikd(&study));
    assert_eq!(declared["settings"]["se_target"], 0.45);
    assert_eq!(declared["settings"]["randomesque"], 2);
    for d in declared["domains"].as_array().unwrap() {
        assert!(d["length"]["min"].as_f64().unwrap() >= 5.0, "{d}");
    }
    // A command-line option overrides one declared setting, keeping the others.
    let overridden = json(&ikd(&[&study[..], &["--se", "0.6"]].concat()));
    assert_eq!(overridden["settings"]["se_target"], 0.6);
    assert_eq!(overridden["settings"]["min_items_per_domain"], 5);
}
