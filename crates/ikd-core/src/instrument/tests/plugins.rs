//! `check_plugins`: domain plugins, their versions and kinds, and the scoring model.

use super::*;
use crate::instrument::{PluginFacts, PluginRole, check_plugins};
use semver::Version;

fn plugin(name: &str, role: PluginRole, version: &str, kinds: &[&str]) -> PluginFacts {
    PluginFacts {
        name: name.to_owned(),
        role,
        version: Version::parse(version).expect("valid version"),
        item_kinds: kinds.iter().map(|kind| (*kind).to_owned()).collect(),
    }
}

/// The plugins the base instrument needs, all in accepted versions.
fn loaded() -> Vec<PluginFacts> {
    vec![
        plugin(
            "literasi-digital",
            PluginRole::Domain,
            "0.1.0",
            &["likert", "single-choice", "phishing"],
        ),
        plugin(
            "budaya-data",
            PluginRole::Domain,
            "0.1.2",
            &["single-choice", "data-reading"],
        ),
        plugin("weighted-index", PluginRole::ScoringModel, "0.1.0", &[]),
    ]
}

fn base_requiring(requirement: &str) -> Instrument {
    let text = base_with(
        "plugin = \"literasi-digital\"",
        &format!("plugin = \"literasi-digital\"\nplugin_version = \"{requirement}\""),
    );
    let text = with(
        &text,
        "weights_sum = 1.0",
        &format!("weights_sum = 1.0\nmodel_version = \"{requirement}\""),
    );
    load_text(&text).unwrap_or_else(|error| panic!("{error}"))
}

#[test]
fn an_instrument_with_its_plugins_loaded_passes() {
    assert_eq!(check_plugins(&load_base(), &loaded()), []);
    assert_eq!(check_plugins(&base_requiring("^0.1"), &loaded()), []);
}

#[test]
fn a_missing_domain_plugin_lists_the_loaded_ones_at_the_domain() {
    let instrument = load_base();
    let plugins: Vec<PluginFacts> = loaded()
        .into_iter()
        .filter(|p| p.name != "budaya-data")
        .collect();
    let all = check_plugins(&instrument, &plugins);
    assert_eq!(all.len(), 1, "{}", render(&all));
    let diagnostic = the(&all, "domain 'budaya-data'", "plugin");
    assert_eq!(
        diagnostic.message,
        "plugin 'budaya-data' is not loaded (loaded domain plugins: literasi-digital)"
    );
    assert_eq!(diagnostic.location, Some(instrument.domains[1].location));
    assert_eq!(diagnostic.file, Path::new(FILE));
}

#[test]
fn a_plugin_outside_the_requirement_is_named_with_its_version() {
    let instrument = base_requiring("^0.1");
    let mut plugins = loaded();
    plugins[0].version = Version::new(0, 2, 0);
    plugins[2].version = Version::new(0, 3, 0);
    let all = check_plugins(&instrument, &plugins);
    assert_eq!(all.len(), 2, "{}", render(&all));
    let domain = the(&all, "domain 'literasi-digital'", "plugin_version");
    assert_eq!(
        domain.message,
        "plugin 'literasi-digital' 0.2.0 is outside the requirement ^0.1"
    );
    let model = the(&all, "[scoring]", "model_version");
    assert_eq!(
        model.message,
        "plugin 'weighted-index' 0.3.0 is outside the requirement ^0.1"
    );
}

#[test]
fn a_kind_not_owned_by_the_domain_plugin_is_reported_at_the_item() {
    let instrument = load_base();
    let mut plugins = loaded();
    plugins[0].item_kinds = vec!["phishing".to_owned()];
    plugins.push(plugin(
        "kepemimpinan-digital",
        PluginRole::Domain,
        "0.1.0",
        &["likert"],
    ));
    let all = check_plugins(&instrument, &plugins);
    assert_eq!(all.len(), 1, "{}", render(&all));
    let diagnostic = the(&all, "item 'LD01'", "kind");
    assert_eq!(
        diagnostic.message,
        "kind 'likert' is not owned by plugin 'literasi-digital' (it owns: phishing); \
         it is owned by plugin 'kepemimpinan-digital': is the item in the right domain?"
    );
    assert_eq!(diagnostic.location, Some(instrument.items[0].location));

    plugins.pop();
    let all = check_plugins(&instrument, &plugins);
    assert_eq!(
        the(&all, "item 'LD01'", "kind").message,
        "kind 'likert' is not owned by plugin 'literasi-digital' (it owns: phishing)"
    );
}

#[test]
fn the_scoring_model_must_be_loaded_in_its_role() {
    let instrument = load_base();
    let mut plugins = loaded();
    plugins[2].role = PluginRole::Domain;
    let all = check_plugins(&instrument, &plugins);
    assert_eq!(all.len(), 1, "{}", render(&all));
    let diagnostic = the(&all, "[scoring]", "model");
    assert!(
        diagnostic
            .message
            .starts_with("plugin 'weighted-index' is not loaded (loaded scoring models: none)"),
        "{diagnostic}"
    );
    assert!(
        diagnostic.message.contains("in another role"),
        "{diagnostic}"
    );
}

#[test]
fn an_adaptive_instrument_needs_its_selector_loaded() {
    let text = base_with("model = \"weighted-index\"", "model = \"irt\"");
    let text = format!(
        "{text}\n[delivery]\nmode = \"adaptive\"\nselector = \"mfi\"\nselector_version = \"^0.2\"\n"
    );
    let instrument = load_text(&text).unwrap_or_else(|error| panic!("{error}"));
    let mut plugins = loaded();
    plugins.push(plugin("irt", PluginRole::ScoringModel, "0.1.0", &[]));
    let missing = check_plugins(&instrument, &plugins);
    let diagnostic = the(&missing, "[delivery]", "selector");
    assert!(
        diagnostic
            .message
            .contains("'mfi' is not loaded (loaded selectors: none)"),
        "{diagnostic}"
    );
    plugins.push(plugin("mfi", PluginRole::Selector, "0.1.0", &[]));
    let old = check_plugins(&instrument, &plugins);
    let diagnostic = the(&old, "[delivery]", "selector_version");
    assert!(
        diagnostic.message.contains("outside the requirement ^0.2"),
        "{diagnostic}"
    );
    plugins.push(plugin("mfi", PluginRole::Selector, "0.2.1", &[]));
    assert_eq!(check_plugins(&instrument, &plugins), []);
}
