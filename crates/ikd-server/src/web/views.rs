//! What a page template sees: items as their widgets need them, in one
//! language, with what the person has chosen so far marked.

use super::fields::{
    DONT_KNOW, Fields, NONE, NOT_APPLICABLE, answer_field, choices_field, position_field,
    rating_field, special_field, specials_inline,
};
use ikd_core::instrument::Item;
use ikd_core::lang::Lang;
use ikd_plugin_sdk::proto::{self as wire, ChoiceStyle, ItemPresentation, Widget, stimulus_block};
use serde::Serialize;

#[derive(Serialize)]
pub(crate) struct ItemView {
    pub id: String,
    pub number: usize,
    pub text: String,
    /// `scale`, `single`, `multiple`, `order`, `number`, `rating` or `text`.
    pub widget: &'static str,
    pub messages: bool,
    pub stimulus: Vec<StimulusView>,
    pub answer_field: String,
    pub choices_field: String,
    pub special_field: String,
    pub choices: Vec<ChoiceView>,
    pub scale: Vec<PointView>,
    /// Positions an order offers, 1..=n.
    pub positions: Vec<usize>,
    pub value: String,
    pub unit: String,
    pub max_length: u32,
    pub specials_inline: bool,
    pub dont_know: Option<SpecialView>,
    pub not_applicable: Option<SpecialView>,
    /// Multiple choice: "none of these".
    pub none: Option<SpecialView>,
    pub error: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct StimulusView {
    pub text: Option<String>,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Serialize)]
pub(crate) struct ChoiceView {
    pub code: String,
    pub label: String,
    pub checked: bool,
    /// Order: the field of this choice's position and the position chosen.
    pub position_field: String,
    pub position: String,
    /// Rating: the field of this choice's rating and the points, marked.
    pub rating_field: String,
    pub points: Vec<PointView>,
}

#[derive(Serialize)]
pub(crate) struct PointView {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

#[derive(Serialize)]
pub(crate) struct SpecialView {
    pub value: &'static str,
    pub label: String,
    pub checked: bool,
}

/// The view of one item: `fields` holds what is chosen (posted or stored).
pub(crate) fn item_view(
    item: &Item,
    number: usize,
    shown: &ItemPresentation,
    fields: &Fields,
    error: Option<String>,
    lang: Lang,
) -> ItemView {
    let t = super::texts::texts(lang);
    let id = &shown.item_id;
    let text = |t: &Option<wire::Text>| {
        t.as_ref()
            .map(|t| lang.pick(&t.id, &t.en).to_owned())
            .unwrap_or_default()
    };
    let has = |name: &str, value: &str| {
        fields
            .get(name)
            .is_some_and(|v| v.iter().any(|s| s == value))
    };
    let first = |name: &str| {
        fields
            .get(name)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    };
    let widget = shown.widget();
    let inline = specials_inline(widget);
    let special_name = if inline {
        answer_field(id)
    } else {
        special_field(id)
    };
    let points = |name: &str| -> Vec<PointView> {
        shown
            .scale
            .iter()
            .map(|p| PointView {
                value: p.value.clone(),
                label: text(&p.label),
                checked: has(name, &p.value),
            })
            .collect()
    };
    ItemView {
        id: id.clone(),
        number,
        text: item.text.get(lang).to_owned(),
        widget: widget_name(widget),
        messages: shown.choice_style() == ChoiceStyle::Message,
        stimulus: shown
            .stimulus
            .iter()
            .filter_map(|b| b.block.as_ref())
            .map(|b| stimulus_view(b, lang))
            .collect(),
        answer_field: answer_field(id),
        choices_field: choices_field(id),
        special_field: special_field(id),
        choices: shown
            .choices
            .iter()
            .map(|c| {
                let checked = match widget {
                    Widget::MultipleChoice => has(&choices_field(id), &c.code),
                    _ => has(&answer_field(id), &c.code),
                };
                ChoiceView {
                    code: c.code.clone(),
                    label: text(&c.label),
                    checked,
                    position_field: position_field(id, &c.code),
                    position: first(&position_field(id, &c.code)),
                    rating_field: rating_field(id, &c.code),
                    points: points(&rating_field(id, &c.code)),
                }
            })
            .collect(),
        scale: points(&answer_field(id)),
        positions: (1..=shown.choices.len()).collect(),
        value: match widget {
            Widget::Number | Widget::Text => first(&answer_field(id)),
            _ => String::new(),
        },
        unit: text(&shown.unit),
        max_length: shown.max_length,
        specials_inline: inline,
        dont_know: shown.dont_know.as_ref().map(|c| SpecialView {
            value: DONT_KNOW,
            label: text(&c.label),
            checked: has(&special_name, DONT_KNOW),
        }),
        not_applicable: shown.not_applicable.then(|| SpecialView {
            value: NOT_APPLICABLE,
            label: t.not_applicable.to_owned(),
            checked: has(&special_name, NOT_APPLICABLE),
        }),
        none: (widget == Widget::MultipleChoice).then(|| SpecialView {
            value: NONE,
            label: t.none_of_these.to_owned(),
            checked: has(&choices_field(id), NONE),
        }),
        error,
    }
}

fn widget_name(widget: Widget) -> &'static str {
    match widget {
        Widget::Scale => "scale",
        Widget::SingleChoice => "single",
        Widget::MultipleChoice => "multiple",
        Widget::Order => "order",
        Widget::Number => "number",
        Widget::RatingPerChoice => "rating",
        Widget::Text | Widget::Unspecified => "text",
    }
}

fn stimulus_view(block: &stimulus_block::Block, lang: Lang) -> StimulusView {
    match block {
        stimulus_block::Block::Text(t) => StimulusView {
            text: Some(lang.pick(&t.id, &t.en).to_owned()),
            header: Vec::new(),
            rows: Vec::new(),
        },
        stimulus_block::Block::Table(table) => {
            let mut rows = table.rows.iter().map(|r| {
                r.cells
                    .iter()
                    .map(|c| lang.pick(&c.id, &c.en).to_owned())
                    .collect::<Vec<_>>()
            });
            StimulusView {
                text: None,
                header: rows.next().unwrap_or_default(),
                rows: rows.collect(),
            }
        }
    }
}

/// The message for an error code of [`super::fields::cell_from_fields`], or the
/// kind's own message.
pub(crate) fn error_message(code: &str, lang: Lang) -> String {
    let t = super::texts::texts(lang);
    match code {
        "order_incomplete" => t.order_incomplete,
        "rating_incomplete" => t.rating_incomplete,
        "none_and_some" => t.none_and_some,
        other => other,
    }
    .to_owned()
}
