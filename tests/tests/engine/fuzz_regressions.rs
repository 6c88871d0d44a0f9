//! Replays the fuzz corpora and regression inputs in a normal `cargo test`.
//!
//! Every file under `fuzz/seeds/<target>/` (real inputs the fuzzing started
//! from), `fuzz/corpus/<target>/` (the minimized corpus of the coverage-guided
//! runs, see `fuzz/README.md`) and `fuzz/regressions/<target>/` (inputs that
//! once crashed or hung, kept for good) goes through exactly the
//! function the fuzz target runs — `fuzz/src/lib.rs` is included here as it
//! is — so CI checks the committed inputs on stable Rust, without libFuzzer.
//! A failure names the file; `cargo fuzz run <target> <file>` reproduces it
//! under the fuzzer.

#[path = "../../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz_checks;

use std::path::{Path, PathBuf};

/// The files of `fuzz/<kind>/<target>/`, sorted; none if the folder is absent.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = ikd_tests::workspace().join("fuzz").join(kind).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    files
}

/// Runs `check` on every input of `target`, each under `catch_unwind`, and
/// fails naming every input that panicked.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let mut files = inputs("seeds", target);
    files.extend(inputs("corpus", target));
    files.extend(inputs("regressions", target));
    let mut failed = Vec::new();
    for file in &files {
        let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            eprintln!("  ^ while replaying {}\n", relative(file));
            failed.push(relative(file));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} inputs of fuzz target {target} panicked (messages above): {failed:#?}",
        failed.len(),
        files.len()
    );
    files.len()
}

fn relative(path: &Path) -> String {
    let root = ikd_tests::workspace();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn instrument_loader_corpus_and_regressions_never_panic() {
    let n = replay("instrument_loader", fuzz_checks::instrument_loader);
    assert!(n > 0, "no corpus for instrument_loader");
}

#[test]
fn answers_csv_corpus_and_regressions_never_panic() {
    let n = replay("answers_csv", fuzz_checks::answers_csv);
    assert!(n > 0, "no corpus for answers_csv");
}

#[test]
fn plugin_responses_corpus_and_regressions_never_panic() {
    let n = replay("plugin_responses", fuzz_checks::plugin_responses);
    assert!(n > 0, "no corpus for plugin_responses");
}

/// The real inputs the fuzzing started from are still there: the bundled
/// instruments, the fixture instruments, answers CSVs and encoded plugin
/// responses.
#[test]
fn every_target_keeps_its_real_seeds() {
    for target in ["instrument_loader", "answers_csv", "plugin_responses"] {
        assert!(
            !inputs("seeds", target).is_empty(),
            "fuzz/seeds/{target} is empty"
        );
    }
}
