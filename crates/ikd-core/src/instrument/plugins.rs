//! Checks of an instrument against the loaded plugins: the part of validation
//! that needs to know which plugins exist, in which versions, owning which kinds.

use super::subjects::{DOMAIN, ITEM, list, section};
use super::{Diagnostic, Domain, Instrument};
use semver::{Version, VersionReq};

/// Whether a plugin is a domain plugin, a scoring model or a selector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PluginRole {
    Domain,
    ScoringModel,
    Selector,
}

/// What a loaded plugin says about itself, as far as instrument checks need.
#[derive(Clone, Debug)]
pub struct PluginFacts {
    pub name: String,
    pub role: PluginRole,
    pub version: Version,
    /// Item kinds owned (domain plugins).
    pub item_kinds: Vec<String>,
}

/// Checks that every domain's plugin, the scoring model and an adaptive instrument's
/// selector are loaded in an accepted version and that every item's kind is owned by its domain's plugin.
pub fn check_plugins(instrument: &Instrument, plugins: &[PluginFacts]) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (index, domain) in instrument.domains.iter().enumerate() {
        check_domain(instrument, index, domain, plugins, &mut diagnostics);
    }
    check_scoring_model(instrument, plugins, &mut diagnostics);
    check_selector(instrument, plugins, &mut diagnostics);
    diagnostics
}

/// An adaptive instrument's selector plugin must be loaded in an accepted version.
fn check_selector(
    instrument: &Instrument,
    plugins: &[PluginFacts],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let Some(delivery) = instrument.delivery.adaptive() else {
        return;
    };
    let (field, message) = match resolve(
        plugins,
        PluginRole::Selector,
        &delivery.selector,
        &delivery.selector_version,
    ) {
        Resolved::Found(_) => return,
        Resolved::Missing(message) => ("selector", message),
        Resolved::OutsideRequirement(message) => ("selector_version", message),
    };
    diagnostics.push(Diagnostic::new(
        &instrument.source,
        None,
        &section("delivery"),
        field,
        message,
    ));
}

fn check_domain(
    instrument: &Instrument,
    index: usize,
    domain: &Domain,
    plugins: &[PluginFacts],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let subject = DOMAIN.subject(&domain.code, index);
    let report = |field: &str, message: String| {
        Diagnostic::new(
            &instrument.source,
            Some(domain.location),
            &subject,
            field,
            message,
        )
    };
    let plugin = match resolve(
        plugins,
        PluginRole::Domain,
        &domain.plugin,
        &domain.plugin_version,
    ) {
        Resolved::Missing(message) => return diagnostics.push(report("plugin", message)),
        Resolved::OutsideRequirement(message) => {
            // The kinds are still worth checking: the fix may be an upgrade, not a new plugin.
            diagnostics.push(report("plugin_version", message));
            resolve_any_version(plugins, PluginRole::Domain, &domain.plugin)
        }
        Resolved::Found(plugin) => Some(plugin),
    };
    if let Some(plugin) = plugin {
        check_item_kinds(instrument, domain, plugin, plugins, diagnostics);
    }
}

/// Every item of `domain` must be of a kind its plugin owns.
fn check_item_kinds(
    instrument: &Instrument,
    domain: &Domain,
    plugin: &PluginFacts,
    plugins: &[PluginFacts],
    diagnostics: &mut Vec<Diagnostic>,
) {
    for (index, item) in instrument.items.iter().enumerate() {
        if item.domain != domain.code || plugin.item_kinds.contains(&item.kind) {
            continue;
        }
        let owners: Vec<&str> = plugins
            .iter()
            .filter(|other| {
                other.role == PluginRole::Domain && other.item_kinds.contains(&item.kind)
            })
            .map(|other| other.name.as_str())
            .collect();
        let owned_elsewhere = if owners.is_empty() {
            String::new()
        } else {
            format!(
                "; it is owned by plugin {}: is the item in the right domain?",
                quoted(&owners)
            )
        };
        let message = format!(
            "kind '{}' is not owned by plugin '{}' (it owns: {}){owned_elsewhere}",
            item.kind,
            plugin.name,
            list(plugin.item_kinds.iter().map(String::as_str))
        );
        diagnostics.push(Diagnostic::new(
            &instrument.source,
            Some(item.location),
            &ITEM.subject(&item.id, index),
            "kind",
            message,
        ));
    }
}

fn check_scoring_model(
    instrument: &Instrument,
    plugins: &[PluginFacts],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let scoring = &instrument.scoring;
    let (field, message) = match resolve(
        plugins,
        PluginRole::ScoringModel,
        &scoring.model,
        &scoring.model_version,
    ) {
        Resolved::Found(_) => return,
        Resolved::Missing(message) => ("model", message),
        Resolved::OutsideRequirement(message) => ("model_version", message),
    };
    diagnostics.push(Diagnostic::new(
        &instrument.source,
        None,
        &section("scoring"),
        field,
        message,
    ));
}

/// The outcome of looking a plugin up by role, name and version requirement.
enum Resolved<'a> {
    Found(&'a PluginFacts),
    /// No plugin of that role and name; the message lists the loaded ones.
    Missing(String),
    /// Loaded, but in no accepted version; the message says which versions are loaded.
    OutsideRequirement(String),
}

fn resolve<'a>(
    plugins: &'a [PluginFacts],
    role: PluginRole,
    name: &str,
    requirement: &VersionReq,
) -> Resolved<'a> {
    let candidates: Vec<&PluginFacts> = plugins
        .iter()
        .filter(|plugin| plugin.role == role && plugin.name == name)
        .collect();
    if let Some(plugin) = candidates
        .iter()
        .find(|plugin| requirement.matches(&plugin.version))
    {
        return Resolved::Found(plugin);
    }
    if candidates.is_empty() {
        let role_name = match role {
            PluginRole::Domain => "domain plugins",
            PluginRole::ScoringModel => "scoring models",
            PluginRole::Selector => "selectors",
        };
        let loaded: Vec<&str> = plugins
            .iter()
            .filter(|plugin| plugin.role == role)
            .map(|plugin| plugin.name.as_str())
            .collect();
        let other_role = if plugins.iter().any(|plugin| plugin.name == name) {
            format!("; a plugin named '{name}' is loaded, but in another role")
        } else {
            String::new()
        };
        return Resolved::Missing(format!(
            "plugin '{name}' is not loaded (loaded {role_name}: {}){other_role}",
            list(loaded)
        ));
    }
    let versions: Vec<String> = candidates
        .iter()
        .map(|plugin| plugin.version.to_string())
        .collect();
    Resolved::OutsideRequirement(format!(
        "plugin '{name}' {} is outside the requirement {requirement}",
        versions.join(", ")
    ))
}

/// Any loaded version of the plugin, for checks that do not depend on the version.
fn resolve_any_version<'a>(
    plugins: &'a [PluginFacts],
    role: PluginRole,
    name: &str,
) -> Option<&'a PluginFacts> {
    plugins
        .iter()
        .find(|plugin| plugin.role == role && plugin.name == name)
}

/// `'a'` or `'a', 'b'`.
fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("'{name}'"))
        .collect::<Vec<_>>()
        .join(", ")
}
