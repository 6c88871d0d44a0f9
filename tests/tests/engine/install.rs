//! `ikd install`: an installation that works away from the build tree — run
//! from another directory, it finds its own plugins and instruments (never
//! the checkout's), scores and serves.

use ikd_tests::{ikd_binary, workspace};
use std::path::Path;
use std::process::{Command, Output};

fn run(program: &Path, args: &[&str], cwd: &Path) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env_remove("IKD_PLUGIN_PATH")
        .env_remove("IKD_HOME")
        .env_remove("IKD_INSTRUMENTS")
        .env_remove("IKD_INSTRUMENT_PATH")
        .env_remove("IKD_PLUGIN_LOCK")
        .output()
        .expect("runs")
}

#[track_caller]
fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn an_installed_ikd_runs_from_anywhere_with_its_own_plugins_and_instruments() {
    let root = tempfile::tempdir().unwrap();
    let prefix = root.path().join("opt/ikd");
    let elsewhere = root.path().join("work");
    std::fs::create_dir_all(&elsewhere).unwrap();
    ok(&run(
        &ikd_binary(),
        &["install", "--prefix", prefix.to_str().unwrap()],
        &elsewhere,
    ));
    let ikd = prefix.join("bin/ikd");
    let home = prefix.join("share/ikd");

    // Every plugin listed is the installed copy, and none is refused (exit 0).
    let list: serde_json::Value =
        serde_json::from_str(&ok(&run(&ikd, &["plugins", "list", "--json"], &elsewhere))).unwrap();
    let rows = list.as_array().unwrap();
    assert!(rows.len() >= 12, "{rows:?}");
    for row in rows {
        assert_eq!(row["status"], "loaded", "{row}");
        let path = row["path"].as_str().unwrap();
        assert!(
            path.starts_with(home.to_str().unwrap()),
            "{path} is not under {}",
            home.display()
        );
    }

    // Bundled instruments by id, from the installation.
    ok(&run(&ikd, &["validate", "ikd-asn-2025"], &elsewhere));
    let answers = workspace().join("instruments/ikd-asn-2025/examples/answers.csv");
    let scored = ok(&run(
        &ikd,
        &[
            "score",
            "--instrument",
            "ikd-asn-2025",
            answers.to_str().unwrap(),
        ],
        &elsewhere,
    ));
    let expected = std::fs::read_to_string(
        workspace().join("instruments/ikd-asn-2025/examples/expected-results.csv"),
    )
    .unwrap();
    assert_eq!(
        scored, expected,
        "the installed ikd scores as the build tree does"
    );

    // And serves: the server starts with the installation's instruments.
    let mut server = Command::new(&ikd)
        .args([
            "serve",
            "--web-addr",
            "127.0.0.1:0",
            "--metrics-addr",
            "127.0.0.1:0",
            "--addr",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(root.path().join("data"))
        .current_dir(&elsewhere)
        .env_remove("IKD_PLUGIN_PATH")
        .env("IKD_TOKENS", ikd_tests::server::tokens_json())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        line.starts_with("ikd serve: listening on 127.0.0.1:"),
        "{line}"
    );
}
