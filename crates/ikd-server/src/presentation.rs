//! An item's presentation, as its domain plugin gave it, put into one
//! language for the API. Only what the plugin contract's presentation holds
//! can be copied, and it holds no key, credit, expert rating or tolerance.

use ikd_core::lang::Lang;
use ikd_plugin_sdk::proto as wire;
use ikd_proto::v1 as api;

/// The API's presentation of one item in `lang`.
pub(crate) fn localise(shown: &wire::ItemPresentation, lang: Lang) -> api::Presentation {
    let text = |t: &Option<wire::Text>| {
        t.as_ref()
            .map(|t| lang.pick(&t.id, &t.en).to_owned())
            .unwrap_or_default()
    };
    let choice = |c: &wire::Choice| api::ItemOption {
        code: c.code.clone(),
        label: text(&c.label),
    };
    api::Presentation {
        widget: widget(shown.widget()) as i32,
        stimulus: shown
            .stimulus
            .iter()
            .filter_map(|b| {
                let block = match b.block.as_ref()? {
                    wire::stimulus_block::Block::Text(t) => {
                        api::stimulus::Block::Text(text(&Some(t.clone())))
                    }
                    wire::stimulus_block::Block::Table(t) => {
                        api::stimulus::Block::Table(api::Table {
                            rows: t
                                .rows
                                .iter()
                                .map(|r| api::TableRow {
                                    cells: r
                                        .cells
                                        .iter()
                                        .map(|c| lang.pick(&c.id, &c.en).to_owned())
                                        .collect(),
                                })
                                .collect(),
                        })
                    }
                };
                Some(api::Stimulus { block: Some(block) })
            })
            .collect(),
        choices: shown.choices.iter().map(choice).collect(),
        choice_style: match shown.choice_style() {
            wire::ChoiceStyle::Plain => api::ChoiceStyle::Plain,
            wire::ChoiceStyle::Message => api::ChoiceStyle::Message,
        } as i32,
        scale: shown
            .scale
            .iter()
            .map(|p| api::ScalePoint {
                value: p.value.clone(),
                label: text(&p.label),
            })
            .collect(),
        unit: text(&shown.unit),
        separator: shown.separator.clone(),
        none_value: shown.none_value.clone(),
        dont_know: shown.dont_know.as_ref().map(choice),
        not_applicable: shown.not_applicable,
        max_length: shown.max_length,
    }
}

/// The same widget in the API's enum (the two vocabularies are one, kept
/// in two packages so the plugin contract and the public API evolve apart).
fn widget(w: wire::Widget) -> api::Widget {
    match w {
        wire::Widget::Unspecified => api::Widget::Unspecified,
        wire::Widget::Scale => api::Widget::Scale,
        wire::Widget::SingleChoice => api::Widget::SingleChoice,
        wire::Widget::MultipleChoice => api::Widget::MultipleChoice,
        wire::Widget::Order => api::Widget::Order,
        wire::Widget::Number => api::Widget::Number,
        wire::Widget::RatingPerChoice => api::Widget::RatingPerChoice,
        wire::Widget::Text => api::Widget::Text,
    }
}
