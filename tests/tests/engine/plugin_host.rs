//! The plugin host against real built libraries: loading, faults, integrity.

use ikd_core::host::{
    DomainHandle, LockEntry, LockFile, LockMode, LockPolicy, PluginCallError, PluginHost,
    PluginSearch, PluginStatus, sha256_file,
};
use ikd_plugin_sdk::domain::answer_batch;
use ikd_plugin_sdk::proto::{DomainConfig, ItemSpec};
use ikd_tests::{built_external_plugin, built_plugin, fixture_dir, install_plugin};
use std::path::Path;

fn search(dir: &Path) -> PluginSearch {
    PluginSearch {
        dirs: vec![dir.to_owned()],
        library_dirs: Vec::new(),
        lock: None,
    }
}

fn install(root: &Path, fixture: &str) -> std::path::PathBuf {
    let package = format!("ikd-fixture-{fixture}");
    install_plugin(root, &fixture_dir(fixture), &built_plugin(&package))
}

fn refusal<'a>(host: &'a PluginHost, name: &str) -> &'a str {
    host.refusal(name)
        .unwrap_or_else(|| panic!("{name} was not refused: {:?}", host.entries()))
}

fn likert(id: &str) -> ItemSpec {
    ItemSpec {
        id: id.into(),
        kind: "likert".into(),
        scale_min: Some(1),
        scale_max: Some(5),
        weight: 1.0,
        ..Default::default()
    }
}

fn domain(
    host: &PluginHost,
    plugin: &str,
    items: Vec<ItemSpec>,
) -> Result<DomainHandle, PluginCallError> {
    let plugin = host.get(plugin).expect("plugin loaded").clone();
    DomainHandle::create(
        plugin,
        &DomainConfig {
            domain: "d".into(),
            items,
            settings_json: String::new(),
        },
    )
}

#[test]
fn a_built_cdylib_loads_and_scores_through_the_abi() {
    let root = tempfile::tempdir().unwrap();
    install(root.path(), "minimal-domain");
    let host = PluginHost::discover(&search(root.path()));
    let plugin = host.get("minimal-domain").expect("loaded");
    let kinds: Vec<&str> = plugin
        .info
        .item_kinds
        .iter()
        .map(|k| k.name.as_str())
        .collect();
    assert_eq!(kinds, ["likert", "single-choice"]);
    assert_eq!(plugin.sha256.len(), 64);

    let mut reversed = likert("Q2");
    reversed.reverse = true;
    let handle = domain(&host, "minimal-domain", vec![likert("Q1"), reversed]).unwrap();
    let scores = handle
        .score_items(&answer_batch([["4", "4"], ["", "NA"], ["1", "9"]]))
        .unwrap();
    // Q2 is reverse-keyed: 6 − 4 = 2. Row 2 is skipped / not applicable; row 3 has 9 off the scale.
    assert_eq!(scores.scores[..2], [4.0, 2.0]);
    assert_eq!(scores.status, [0, 0, 1, 2, 0, 3]);
    assert_eq!(scores.violations.len(), 1);
    let v = &scores.violations[0];
    assert_eq!((v.respondent, v.item.as_str()), (2, "Q2"));
    assert!(
        v.message.contains("outside the scale 1..5"),
        "{}",
        v.message
    );
}

#[test]
fn item_specification_errors_come_back_as_violations_naming_item_and_field() {
    let root = tempfile::tempdir().unwrap();
    install(root.path(), "minimal-domain");
    let host = PluginHost::discover(&search(root.path()));
    let mut no_scale = likert("Q1");
    no_scale.scale_max = None;
    let mut alien = likert("Q2");
    alien.kind = "ranking".into();
    let err = domain(&host, "minimal-domain", vec![no_scale, alien]).unwrap_err();
    let PluginCallError::Refused { plugin, error } = err else {
        panic!("expected a refusal, got {err:?}");
    };
    assert_eq!(plugin, "minimal-domain");
    let fields: Vec<(&str, &str)> = error
        .violations
        .iter()
        .map(|v| (v.item.as_str(), v.field.as_str()))
        .collect();
    assert_eq!(fields, [("Q1", "scale"), ("Q2", "kind")]);
}

#[test]
fn a_panicking_plugin_is_contained_named_and_poisoned() {
    let root = tempfile::tempdir().unwrap();
    install(root.path(), "panicking");
    let host = PluginHost::discover(&search(root.path()));
    let handle = domain(&host, "panicking", vec![likert("Q1")]).unwrap();
    assert!(handle.score_items(&answer_batch([["3"]])).is_ok());

    let err = handle
        .score_items(&answer_batch([["3"], ["boom"]]))
        .unwrap_err();
    match &err {
        PluginCallError::Panicked { plugin, message } => {
            assert_eq!(plugin, "panicking");
            assert!(message.contains("fixture bug triggered"), "{message}");
        }
        other => panic!("expected a panic report, got {other:?}"),
    }
    assert!(err.to_string().contains("plugin 'panicking' panicked"));

    // The process is alive, and the plugin is not called again.
    assert!(host.get("panicking").unwrap().is_poisoned());
    assert!(matches!(
        handle.score_items(&answer_batch([["3"]])),
        Err(PluginCallError::Poisoned { .. })
    ));
    assert_eq!(host.entries()[0].status_name(), "poisoned");
}

#[test]
fn a_library_of_another_abi_major_is_refused() {
    let root = tempfile::tempdir().unwrap();
    install(root.path(), "wrong-abi");
    let host = PluginHost::discover(&search(root.path()));
    assert!(host.get("wrong-abi").is_none());
    let why = refusal(&host, "wrong-abi");
    assert!(
        why.contains("plugin ABI 2.0") && why.contains("ABI 1.x"),
        "{why}"
    );
}

#[test]
fn a_table_without_the_magic_is_refused() {
    let root = tempfile::tempdir().unwrap();
    install(root.path(), "wrong-magic");
    let host = PluginHost::discover(&search(root.path()));
    let why = refusal(&host, "wrong-magic");
    assert!(why.contains("magic 0x0badc0de0badc0de"), "{why}");
}

#[test]
fn manifests_are_checked_before_the_library_is_opened() {
    let root = tempfile::tempdir().unwrap();
    let dir = install(root.path(), "minimal-domain");
    let manifest = dir.join("plugin.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("engine = \"^0.1\"", "engine = \">=9\""),
    )
    .unwrap();
    let host = PluginHost::discover(&search(root.path()));
    assert!(refusal(&host, "minimal-domain").contains("supports engine >=9"));

    std::fs::write(&manifest, text.replace("abi_major = 1", "abi_major = 3")).unwrap();
    let host = PluginHost::discover(&search(root.path()));
    assert!(refusal(&host, "minimal-domain").contains("manifest declares plugin ABI 3"));

    std::fs::write(
        &manifest,
        text.replace("name = \"minimal-domain\"", "name = \"impostor\""),
    )
    .unwrap();
    let host = PluginHost::discover(&search(root.path()));
    assert!(refusal(&host, "impostor").contains("does not match its manifest"));
}

fn lock_for(name: &str, sha256: String, mode: LockMode) -> LockPolicy {
    LockPolicy {
        mode,
        lock: LockFile {
            plugins: vec![LockEntry {
                name: name.into(),
                version: "0.1.0".into(),
                sha256,
                library: String::new(),
            }],
        },
        path: "ikd-plugins.lock".into(),
    }
}

#[test]
fn the_lock_pins_library_bytes_and_enforce_refuses_a_mismatch() {
    let library = built_plugin("ikd-fixture-minimal-domain");
    let good = sha256_file(&library).unwrap();
    let pristine = tempfile::tempdir().unwrap();
    install(pristine.path(), "minimal-domain");
    let mut s = search(pristine.path());
    s.lock = Some(lock_for("minimal-domain", good.clone(), LockMode::Enforce));
    assert!(PluginHost::discover(&s).get("minimal-domain").is_some());

    // The same library with other bytes (a trailing byte keeps it loadable),
    // in its own directory: a loaded library's file is never rewritten.
    let tampered = tempfile::tempdir().unwrap();
    let dir = install(tampered.path(), "minimal-domain");
    let copy = dir.join(library.file_name().unwrap());
    let mut bytes = std::fs::read(&copy).unwrap();
    bytes.push(0);
    std::fs::write(&copy, bytes).unwrap();
    let mut s = search(tampered.path());
    s.lock = Some(lock_for("minimal-domain", good.clone(), LockMode::Enforce));
    let host = PluginHost::discover(&s);
    let why = refusal(&host, "minimal-domain");
    assert!(why.starts_with("refused before opening"), "{why}");
    assert!(why.contains(&good), "{why}");

    // Warn mode loads it anyway; enforce refuses a plugin the lock does not list.
    s.lock = Some(lock_for("minimal-domain", good, LockMode::Warn));
    assert!(PluginHost::discover(&s).get("minimal-domain").is_some());
    s.lock = Some(lock_for("someone-else", "00".repeat(32), LockMode::Enforce));
    let host = PluginHost::discover(&s);
    assert!(refusal(&host, "minimal-domain").contains("not pinned"));
}

#[test]
fn a_plugin_built_outside_the_workspace_loads_unchanged() {
    let root = tempfile::tempdir().unwrap();
    install_plugin(
        root.path(),
        &ikd_tests::workspace().join("tests/fixtures/external-plugin"),
        &built_external_plugin(),
    );
    let host = PluginHost::discover(&search(root.path()));
    let plugin = host.get("external-yes-no").expect("loaded");
    assert_eq!(plugin.manifest.version.to_string(), "1.2.0");
    let item = ItemSpec {
        id: "X1".into(),
        kind: "yes-no".into(),
        key: vec!["tidak".into()],
        ..Default::default()
    };
    let handle = domain(&host, "external-yes-no", vec![item]).unwrap();
    let scores = handle
        .score_items(&answer_batch([["ya"], ["tidak"]]))
        .unwrap();
    assert_eq!(scores.scores, [0.0, 1.0]);
}

#[test]
fn the_first_plugin_of_a_name_wins_and_the_other_is_reported_shadowed() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    install(first.path(), "minimal-domain");
    install(second.path(), "minimal-domain");
    let host = PluginHost::discover(&PluginSearch {
        dirs: vec![first.path().to_owned(), second.path().to_owned()],
        ..Default::default()
    });
    let statuses: Vec<&str> = host.entries().iter().map(|e| e.status_name()).collect();
    assert_eq!(statuses, ["loaded", "refused"]);
    let PluginStatus::Refused(why) = &host.entries()[1].status else {
        unreachable!()
    };
    assert!(why.contains("shadowed"), "{why}");
}

/// ABI minor growth: a library with the 1.0 table (no `set_log_level` slot, its
/// `size` and minor of 1.0) keeps loading and working beside 1.1 plugins.
#[test]
fn a_plugin_of_an_older_abi_minor_keeps_loading() {
    let root = tempfile::tempdir().unwrap();
    install(root.path(), "abi-1-0");
    install(root.path(), "minimal-domain");
    let host = PluginHost::discover(&search(root.path()));
    let old = host.get("abi-1-0").expect("an ABI 1.0 plugin loads");
    assert_eq!(old.abi(), (1, 0));
    assert_eq!(
        host.get("minimal-domain").unwrap().abi(),
        (1, ikd_plugin_sdk::abi::ABI_MINOR)
    );
    const {
        assert!(
            ikd_plugin_sdk::abi::ABI_MINOR >= 1,
            "the fixture must be older than the SDK"
        )
    };
    let handle = domain(&host, "abi-1-0", vec![likert("L1")]).unwrap();
    let scores = handle.score_items(&answer_batch([["2"], ["5"]])).unwrap();
    assert_eq!(scores.scores, [2.0, 5.0]);
}

/// Hash and load the same bytes: the loader maps a sealed memfd holding the
/// bytes that were hashed, so changing the file after the check changes nothing.
#[cfg(target_os = "linux")]
#[test]
fn the_loaded_code_is_the_bytes_that_were_hashed() {
    let root = tempfile::tempdir().unwrap();
    let dir = install(root.path(), "minimal-domain");
    let library = dir.join(
        built_plugin("ikd-fixture-minimal-domain")
            .file_name()
            .unwrap(),
    );
    let pristine = sha256_file(&library).unwrap();
    let host = PluginHost::discover(&search(root.path()));
    let plugin = host.get("minimal-domain").expect("loaded");
    assert_eq!(plugin.sha256, pristine);
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    assert!(
        maps.contains("/memfd:ikd-plugin-minimal-domain"),
        "the library is mapped from the sealed memfd"
    );
    // Overwriting the file now cannot reach the loaded code.
    std::fs::write(&library, b"not a library any more").unwrap();
    let handle = domain(&host, "minimal-domain", vec![likert("L1")]).unwrap();
    let scores = handle.score_items(&answer_batch([["4"]])).unwrap();
    assert_eq!(scores.scores, [4.0]);
}

#[test]
fn a_truncated_library_or_one_without_the_entry_symbol_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let dir = install(root.path(), "minimal-domain");
    let library = dir.join(
        built_plugin("ikd-fixture-minimal-domain")
            .file_name()
            .unwrap(),
    );
    let bytes = std::fs::read(&library).unwrap();
    std::fs::write(&library, &bytes[..bytes.len() / 2]).unwrap();
    let host = PluginHost::discover(&search(root.path()));
    let why = refusal(&host, "minimal-domain");
    assert!(why.contains("the library file is truncated"), "{why}");

    // A real shared library that is not an IKD plugin (the C maths library).
    let libm = [
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/usr/lib/x86_64-linux-gnu/libm.so.6",
        "/lib64/libm.so.6",
        "/usr/lib/libm.so.6",
    ]
    .into_iter()
    .map(Path::new)
    .find(|p| p.is_file())
    .expect("the C maths library (libm.so.6) exists on this system");
    std::fs::copy(libm, &library).unwrap();
    let host = PluginHost::discover(&search(root.path()));
    let why = refusal(&host, "minimal-domain");
    assert!(
        why.contains("no entry symbol 'ikd_plugin_entry_v1'"),
        "{why}"
    );
}
