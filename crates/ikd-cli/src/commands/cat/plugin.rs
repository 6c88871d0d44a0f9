//! `--selector-plugin NAME`: the selector plugin that chooses the items,
//! found among the loaded plugins and created for the study's bank.

use crate::common::PluginArgs;
use anyhow::{Result, bail};
use ikd_cat::AdaptiveTest;
use ikd_core::host::{DEFAULT_SELECT_DEADLINE, PluginKindName, PluginSelector};

/// The plugin's selector for `test`, and what the report records of it
/// (name, version, library sha256).
pub fn selector(
    plugins: &PluginArgs,
    name: &str,
    test: &AdaptiveTest,
) -> Result<(PluginSelector, serde_json::Value)> {
    let host = plugins.host()?;
    let Some(plugin) = host
        .get(name)
        .filter(|p| p.manifest.kind == PluginKindName::Selector)
    else {
        if let Some(reason) = host.refusal(name) {
            bail!("selector plugin '{name}' was refused: {reason}");
        }
        let loaded: Vec<&str> = host
            .loaded()
            .filter(|p| p.manifest.kind == PluginKindName::Selector)
            .map(|p| p.name())
            .collect();
        bail!(
            "no selector plugin named '{name}' (loaded selectors: {})",
            if loaded.is_empty() {
                "none".to_owned()
            } else {
                loaded.join(", ")
            }
        );
    };
    let provenance = serde_json::json!({
        "name": plugin.name(),
        "version": plugin.info.version,
        "sha256": plugin.sha256,
    });
    let selector = PluginSelector::create(plugin.clone(), test, DEFAULT_SELECT_DEADLINE)?;
    Ok((selector, provenance))
}
