//! `[delivery]`: fixed unless declared; adaptive only with the `irt` model, a selector,
//! settings that parse, per-domain minimums that meet the missing-data rule, and no items
//! offering "not applicable". Each refusal names the field and its line.

use super::*;
use crate::instrument::Delivery;

const WEIGHTED: &str = "model = \"weighted-index\"";
const IRT: &str = "model = \"irt\"";
const ADAPTIVE: &str = "mode = \"adaptive\"";

/// `text` with a `[delivery]` table at its end.
fn delivered(text: &str, delivery: &str) -> String {
    format!("{text}\n[delivery]\n{delivery}\n")
}

fn irt_base() -> String {
    base_with(WEIGHTED, IRT)
}

#[test]
fn delivery_is_fixed_unless_declared() {
    assert_eq!(load_base().delivery, Delivery::Fixed);
    let fixed = load_text(&delivered(BASE, "mode = \"fixed\"")).unwrap();
    assert_eq!(fixed.delivery, Delivery::Fixed);
    assert_eq!(fixed.delivery.mode(), "fixed");
}

#[test]
fn an_adaptive_delivery_is_read_with_its_settings() {
    let text = delivered(
        &irt_base(),
        "mode = \"adaptive\"\nselector = \"mfi\"\nselector_version = \"^0.1\"\n\n\
         [delivery.settings]\nse_target = 0.4\nmax_items = 20\nrandomesque = 3\n\
         domains.budaya-data = { se_target = 0.5 }",
    );
    let instrument = load_text(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(instrument.delivery.mode(), "adaptive");
    let adaptive = instrument.delivery.adaptive().expect("adaptive");
    assert_eq!(adaptive.selector, "mfi");
    assert!(
        adaptive
            .selector_version
            .matches(&semver::Version::new(0, 1, 4))
    );
    assert_eq!(adaptive.settings.se_target, 0.4);
    assert_eq!(adaptive.settings.max_items, Some(20));
    assert_eq!(adaptive.settings.randomesque, 3);
    assert_eq!(
        adaptive.settings.domains["budaya-data"].se_target,
        Some(0.5)
    );
}

#[test]
fn an_adaptive_instrument_is_scored_with_irt_only() {
    let text = delivered(BASE, "mode = \"adaptive\"\nselector = \"mfi\"");
    expect(
        &text,
        "[delivery]",
        "mode",
        ADAPTIVE,
        "scored with the `irt` model",
    );
}

#[test]
fn an_adaptive_delivery_names_its_selector() {
    let text = delivered(&irt_base(), ADAPTIVE);
    expect(
        &text,
        "[delivery]",
        "selector",
        ADAPTIVE,
        "names its selector plugin",
    );
}

#[test]
fn unknown_modes_and_settings_are_refused() {
    let text = delivered(&irt_base(), "mode = \"adaptiv\"");
    expect(
        &text,
        "[delivery]",
        "mode",
        "mode = \"adaptiv\"",
        "not a delivery mode",
    );
    let text = delivered(
        &irt_base(),
        "mode = \"adaptive\"\nselector = \"mfi\"\n[delivery.settings]\nse_targt = 0.3",
    );
    let all = diagnostics(&text);
    let diagnostic = the(&all, "[delivery.settings]", "");
    assert!(diagnostic.message.contains("se_targt"), "{diagnostic}");
    let text = delivered(&irt_base(), "mode = \"fixed\"\nselector = \"mfi\"");
    expect(
        &text,
        "[delivery]",
        "selector",
        "selector = \"mfi\"",
        "only for mode",
    );
}

#[test]
fn domains_may_not_stop_before_the_missing_data_rule_can_score_them() {
    let text = base_with(
        "[[domains]]\ncode = \"budaya-data\"",
        "[missing]\nmin_answered = 3\nmin_answered_fraction = 0.5\n\n[[domains]]\ncode = \"budaya-data\"",
    );
    let text = delivered(
        &text.replacen(WEIGHTED, IRT, 1),
        "mode = \"adaptive\"\nselector = \"mfi\"\n[delivery.settings]\nmin_items_per_domain = 2",
    );
    let all = diagnostics(&text);
    let found: Vec<&Diagnostic> = all
        .iter()
        .filter(|d| d.subject == "[delivery.settings]" && d.field == "min_items_per_domain")
        .collect();
    assert_eq!(found.len(), 2, "one per domain:\n{}", render(&all));
    assert!(found[0].message.contains("needs 3 answers"), "{}", found[0]);
}

#[test]
fn adaptive_items_cannot_offer_not_applicable() {
    let text = delivered(
        &irt_base().replacen("reverse = true", "reverse = true\nnot_applicable = true", 1),
        "mode = \"adaptive\"\nselector = \"mfi\"",
    );
    let all = diagnostics(&text);
    let diagnostic = the(&all, "item 'LD01'", "not_applicable");
    assert!(
        diagnostic.message.contains("needs an answer"),
        "{diagnostic}"
    );
}
