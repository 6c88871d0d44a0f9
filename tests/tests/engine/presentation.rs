//! Items present themselves through their plugins: every item of both bundled
//! instruments has a presentation from its domain plugin, with the widget its
//! kind promises, and nothing in it gives an answer away.

use ikd_core::instrument::{self, Instrument};
use ikd_core::pipeline::{Scorer, ScorerOptions};
use ikd_plugin_sdk::proto::{ItemPresentation, Widget, stimulus_block::Block};
use ikd_tests::{bundled_host, workspace};
use prost::Message;
use std::sync::{Arc, OnceLock};

fn scorer(name: &str) -> Scorer {
    static HOST: OnceLock<ikd_core::host::PluginHost> = OnceLock::new();
    let host = HOST.get_or_init(bundled_host);
    let path = workspace().join(format!("instruments/{name}/instrument.toml"));
    let instrument = Arc::new(instrument::load(&path).unwrap_or_else(|e| panic!("{e}")));
    Scorer::new(instrument, host, &ScorerOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn presentations(scorer: &Scorer) -> Vec<(&instrument::Item, &ItemPresentation)> {
    let instrument: &Instrument = scorer.instrument();
    instrument
        .items
        .iter()
        .enumerate()
        .map(|(k, item)| {
            let shown = scorer
                .presentation(k)
                .unwrap_or_else(|| panic!("item {} has no presentation", item.id));
            (item, shown)
        })
        .collect()
}

/// The widget each bundled kind is shown with.
fn widget_of(kind: &str) -> Widget {
    match kind {
        "likert" => Widget::Scale,
        "single-choice" | "true-false" => Widget::SingleChoice,
        "multi-select" | "phishing-spot" => Widget::MultipleChoice,
        "ranking" => Widget::Order,
        "numeric-reading" => Widget::Number,
        "sjt-rating" => Widget::RatingPerChoice,
        other => panic!("no widget expected for kind {other}"),
    }
}

#[test]
fn every_bundled_item_presents_itself_with_its_kinds_widget() {
    for name in ["ikd-asn-2025", "digcomp-2.2"] {
        let scorer = scorer(name);
        assert!(scorer.deliverable(), "{name}");
        for (item, shown) in presentations(&scorer) {
            let at = format!("{name} {}", item.id);
            assert_eq!(shown.item_id, item.id, "{at}");
            assert_eq!(shown.widget(), widget_of(&item.kind), "{at}");
            assert_eq!(shown.not_applicable, item.not_applicable, "{at}");
            match shown.widget() {
                Widget::Scale => {
                    assert!(shown.scale.len() >= 2, "{at}");
                    assert!(shown.scale.iter().all(|p| p.label.is_some()), "{at}");
                }
                Widget::RatingPerChoice => {
                    assert!(shown.scale.len() >= 2 && shown.choices.len() >= 2, "{at}");
                    assert_eq!(shown.separator, "|", "{at}");
                }
                Widget::SingleChoice => assert!(shown.choices.len() >= 2, "{at}"),
                Widget::MultipleChoice => {
                    assert_eq!(
                        (shown.separator.as_str(), shown.none_value.as_str()),
                        ("|", "-")
                    );
                }
                Widget::Order => assert_eq!(shown.separator, ">", "{at}"),
                Widget::Number => assert!(shown.unit.is_some(), "{at}"),
                other => panic!("{at}: unexpected {other:?}"),
            }
            // Every choice is one of the item's options (a "don't know" option
            // is offered apart), with its label in both languages.
            for choice in shown.choices.iter().chain(&shown.dont_know) {
                let label = choice.label.as_ref().expect("a label");
                assert!(!label.id.is_empty() && !label.en.is_empty(), "{at}");
                if !item.options.is_empty() {
                    let option = item.options.iter().find(|o| o.code == choice.code);
                    assert!(option.is_some(), "{at}: choice {}", choice.code);
                }
            }
            let dont_know = item.options.iter().find(|o| o.dont_know);
            if item.kind != "true-false" {
                assert_eq!(
                    shown.dont_know.as_ref().map(|c| c.code.as_str()),
                    dont_know.map(|o| o.code.as_str()),
                    "{at}"
                );
            }
        }
    }
}

#[test]
fn the_numeric_items_show_their_table_and_unit_in_both_languages() {
    let scorer = scorer("ikd-asn-2025");
    let (_, bd06) = presentations(&scorer)
        .into_iter()
        .find(|(i, _)| i.id == "BD06")
        .unwrap();
    let Some(Block::Table(table)) = bd06.stimulus[0].block.as_ref() else {
        panic!("BD06 shows a table: {bd06:?}");
    };
    assert_eq!(table.rows.len(), 7);
    assert_eq!(table.rows[1].cells[1].id, "120");
    let unit = bd06.unit.as_ref().unwrap();
    assert_eq!((unit.id.as_str(), unit.en.as_str()), ("persen", "percent"));
}

/// Keys, credits, expert ratings and tolerances stay on the server: the
/// presentation has no field that could carry them, a ranking is never shown
/// in its keyed order, and no item's key text appears in what it shows
/// (beyond option codes, which every client must know to answer).
#[test]
fn no_presentation_gives_an_answer_away() {
    for forbidden in ["key", "credit", "expert", "tolerance", "score"] {
        let descriptor = ikd_plugin_sdk::proto::FILE_DESCRIPTOR_SET;
        let set = prost_types::FileDescriptorSet::decode(descriptor).unwrap();
        let presented = [
            "DomainPresentation",
            "ItemPresentation",
            "Choice",
            "ScalePoint",
            "StimulusBlock",
            "Table",
            "TableRow",
            "Text",
        ];
        for message in set.file.iter().flat_map(|f| &f.message_type) {
            if presented.contains(&message.name()) {
                for field in &message.field {
                    assert!(
                        !field.name().contains(forbidden),
                        "{}.{} could carry an answer",
                        message.name(),
                        field.name()
                    );
                }
            }
        }
    }
    for name in ["ikd-asn-2025", "digcomp-2.2"] {
        let scorer = scorer(name);
        for (item, shown) in presentations(&scorer) {
            let at = format!("{name} {}", item.id);
            if item.kind == "ranking" {
                let order: Vec<&str> = shown.choices.iter().map(|c| c.code.as_str()).collect();
                assert_ne!(order, item.key, "{at} is shown in its keyed order");
            }
            let shown_text = format!("{shown:?}");
            let is_code = |k: &str| shown.choices.iter().any(|c| c.code == k);
            for key in item.key.iter().filter(|k| k.len() > 1 && !is_code(k)) {
                assert!(
                    !shown_text.contains(&format!("\"{key}\"")),
                    "{at} shows its key {key}"
                );
            }
            for (field, value) in &item.params {
                if ["expert", "tolerance"].contains(&field.as_str()) {
                    let joined = value.to_string();
                    assert!(!shown_text.contains(&joined), "{at} shows its {field}");
                }
            }
        }
    }
}
