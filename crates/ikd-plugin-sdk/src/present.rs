//! Building an item's presentation: what a respondent sees and how the
//! widget's value becomes the answer cell (`ItemKind::present`).
//!
//! The helpers keep what gives an answer away out by construction: they copy
//! codes and labels, never a key, credit, expert rating or tolerance.
//!
//! ```
//! use ikd_plugin_sdk::present;
//! use ikd_plugin_sdk::proto::{ItemSpec, ItemOption, Text, Widget};
//!
//! let item = ItemSpec {
//!     id: "Q1".into(),
//!     options: vec![
//!         ItemOption { code: "a".into(), label: Some(Text::new("Ya", "Yes")), ..Default::default() },
//!         ItemOption { code: "x".into(), label: Some(Text::new("Tidak tahu", "Don't know")),
//!                      dont_know: true, ..Default::default() },
//!     ],
//!     ..Default::default()
//! };
//! let shown = present::choice_item(&item, Widget::SingleChoice);
//! assert_eq!(shown.choices.len(), 1);
//! assert_eq!(shown.dont_know.unwrap().code, "x");
//! ```

use crate::proto::{
    Choice, ItemPresentation, ItemSpec, ScalePoint, StimulusBlock, Table, TableRow, Text, Widget,
    stimulus_block,
};

/// The presentation every item starts from: its id, the widget, and
/// "not applicable" when the instrument offers it.
pub fn base(item: &ItemSpec, widget: Widget) -> ItemPresentation {
    ItemPresentation {
        item_id: item.id.clone(),
        widget: widget as i32,
        not_applicable: item.not_applicable,
        ..Default::default()
    }
}

/// An item answered by choosing among its options: the options become the
/// choices, in the instrument's order, and a `dont_know` option becomes the
/// item's "don't know" (not a choice).
pub fn choice_item(item: &ItemSpec, widget: Widget) -> ItemPresentation {
    let mut shown = base(item, widget);
    for option in &item.options {
        let choice = Choice {
            code: option.code.clone(),
            label: option.label.clone(),
        };
        if option.dont_know {
            shown.dont_know = Some(choice);
        } else {
            shown.choices.push(choice);
        }
    }
    shown
}

/// The points of the item's response scale, lowest first, with their labels
/// when the instrument gives them (one label per point).
pub fn scale_points(item: &ItemSpec) -> Vec<ScalePoint> {
    let (Some(min), Some(max)) = (item.scale_min, item.scale_max) else {
        return Vec::new();
    };
    (min..=max)
        .enumerate()
        .map(|(k, value)| ScalePoint {
            value: value.to_string(),
            label: item.scale_labels.get(k).cloned(),
        })
        .collect()
}

/// A stimulus block of text.
pub fn text_block(text: Text) -> StimulusBlock {
    StimulusBlock {
        block: Some(stimulus_block::Block::Text(text)),
    }
}

/// A stimulus table from rows of cells (the first row is the header).
pub fn table_block(rows: Vec<Vec<Text>>) -> StimulusBlock {
    StimulusBlock {
        block: Some(stimulus_block::Block::Table(Table {
            rows: rows.into_iter().map(|cells| TableRow { cells }).collect(),
        })),
    }
}

/// The choices in an order that is never `keyed` (for items whose answer is
/// an order): sorted by code, then rotated by one if that happens to be the
/// keyed order, so the screen cannot give the answer away.
pub fn unkeyed_order(mut choices: Vec<Choice>, keyed: &[String]) -> Vec<Choice> {
    choices.sort_by(|a, b| a.code.cmp(&b.code));
    let same = choices.len() > 1
        && choices.len() == keyed.len()
        && choices.iter().zip(keyed).all(|(c, k)| &c.code == k);
    if same {
        choices.rotate_left(1);
    }
    choices
}

/// What a respondent gave through an item's widget: the pieces an answer
/// cell is made of. [`write_cell`] and [`read_cell`] convert between the two,
/// by the presentation's encoding, so a client (the web app, a test) handles
/// every widget without knowing any item kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Given {
    /// Nothing yet (the cell is empty: skipped).
    Nothing,
    /// "Not applicable" (`NA`).
    NotApplicable,
    /// The item's "don't know".
    DontKnow,
    /// SCALE, SINGLE_CHOICE, NUMBER, TEXT: one value (a point, a code, the text).
    One(String),
    /// MULTIPLE_CHOICE: the chosen codes; ORDER: every code, first to last.
    Codes(Vec<String>),
    /// RATING_PER_CHOICE: one point per choice, in choice order.
    Ratings(Vec<String>),
}

/// The answer cell for what was given.
pub fn write_cell(shown: &ItemPresentation, given: &Given) -> String {
    match given {
        Given::Nothing => String::new(),
        Given::NotApplicable => crate::NOT_APPLICABLE.to_owned(),
        Given::DontKnow => shown
            .dont_know
            .as_ref()
            .map(|c| c.code.clone())
            .unwrap_or_default(),
        Given::One(value) => value.trim().to_owned(),
        Given::Codes(codes) if codes.is_empty() => shown.none_value.clone(),
        Given::Codes(parts) | Given::Ratings(parts) => parts.join(&shown.separator),
    }
}

/// What an answer cell gives, checked against the presentation: every code
/// one of the choices, every point one of the scale's, an order complete.
/// An `Err` says what in the cell the widget could not have written.
pub fn read_cell(shown: &ItemPresentation, cell: &str) -> Result<Given, String> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Ok(Given::Nothing);
    }
    if cell == crate::NOT_APPLICABLE {
        return Ok(Given::NotApplicable);
    }
    if shown.dont_know.as_ref().is_some_and(|c| c.code == cell) {
        return Ok(Given::DontKnow);
    }
    let is_choice = |code: &str| shown.choices.iter().any(|c| c.code == code);
    let is_point = |value: &str| shown.scale.iter().any(|p| p.value == value);
    let parts = || -> Vec<String> {
        cell.split(shown.separator.as_str())
            .map(|p| p.trim().to_owned())
            .collect()
    };
    match shown.widget() {
        Widget::Scale if is_point(cell) => Ok(Given::One(cell.to_owned())),
        Widget::SingleChoice if is_choice(cell) => Ok(Given::One(cell.to_owned())),
        Widget::Number | Widget::Text => Ok(Given::One(cell.to_owned())),
        Widget::MultipleChoice if cell == shown.none_value => Ok(Given::Codes(Vec::new())),
        Widget::MultipleChoice if parts().iter().all(|c| is_choice(c)) => Ok(Given::Codes(parts())),
        Widget::Order => {
            let mut order = parts();
            let codes = order.clone();
            order.sort();
            order.dedup();
            let complete = order.len() == shown.choices.len() && order.iter().all(|c| is_choice(c));
            if complete {
                Ok(Given::Codes(codes))
            } else {
                Err(format!("'{cell}' does not put every choice in order once"))
            }
        }
        Widget::RatingPerChoice
            if parts().len() == shown.choices.len() && parts().iter().all(|p| is_point(p)) =>
        {
            Ok(Given::Ratings(parts()))
        }
        widget => Err(format!("'{cell}' cannot come from a {widget:?} widget")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::ItemOption;

    fn option(code: &str, dont_know: bool) -> ItemOption {
        ItemOption {
            code: code.into(),
            label: Some(Text::new(code, code)),
            credit: Some(0.5),
            dont_know,
        }
    }

    #[test]
    fn dont_know_is_apart_from_the_choices_and_credits_stay_behind() {
        let item = ItemSpec {
            id: "Q".into(),
            not_applicable: true,
            options: vec![option("a", false), option("x", true), option("b", false)],
            ..Default::default()
        };
        let shown = choice_item(&item, Widget::SingleChoice);
        let codes: Vec<_> = shown.choices.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes, ["a", "b"]);
        assert_eq!(shown.dont_know.as_ref().unwrap().code, "x");
        assert!(shown.not_applicable);
        assert!(!format!("{shown:?}").contains("0.5"));
    }

    #[test]
    fn scale_points_carry_their_labels() {
        let item = ItemSpec {
            scale_min: Some(1),
            scale_max: Some(3),
            scale_labels: vec![
                Text::new("x", "X"),
                Text::new("y", "Y"),
                Text::new("z", "Z"),
            ],
            ..Default::default()
        };
        let points = scale_points(&item);
        assert_eq!(points.len(), 3);
        assert_eq!(points[2].value, "3");
        assert_eq!(points[2].label.as_ref().unwrap().en, "Z");
        assert!(scale_points(&ItemSpec::default()).is_empty());
    }

    #[test]
    fn cells_and_what_was_given_convert_both_ways() {
        let choices = ["a", "b", "c"]
            .iter()
            .map(|c| Choice::new(*c, Text::new(*c, *c)))
            .collect::<Vec<_>>();
        let multiple = ItemPresentation {
            choices: choices.clone(),
            separator: "|".into(),
            none_value: "-".into(),
            dont_know: Some(Choice::new("x", Text::new("?", "?"))),
            ..base(&ItemSpec::default(), Widget::MultipleChoice)
        };
        for (cell, given) in [
            ("a|c", Given::Codes(vec!["a".into(), "c".into()])),
            ("-", Given::Codes(vec![])),
            ("x", Given::DontKnow),
            ("NA", Given::NotApplicable),
            ("", Given::Nothing),
        ] {
            assert_eq!(read_cell(&multiple, cell).unwrap(), given, "{cell}");
            assert_eq!(write_cell(&multiple, &given), cell);
        }
        assert!(read_cell(&multiple, "a|z").is_err());
        let order = ItemPresentation {
            choices,
            separator: ">".into(),
            ..base(&ItemSpec::default(), Widget::Order)
        };
        assert!(read_cell(&order, "c>a>b").is_ok());
        assert!(read_cell(&order, "c>a").is_err());
        assert!(read_cell(&order, "c>a>a").is_err());
    }

    #[test]
    fn an_order_is_never_shown_keyed() {
        let choices = |codes: &[&str]| -> Vec<Choice> {
            codes
                .iter()
                .map(|c| Choice {
                    code: (*c).into(),
                    label: None,
                })
                .collect()
        };
        let keyed = |codes: &[&str]| -> Vec<String> { codes.iter().map(|c| (*c).into()).collect() };
        let codes = |cs: Vec<Choice>| cs.into_iter().map(|c| c.code).collect::<Vec<_>>();
        assert_eq!(
            codes(unkeyed_order(
                choices(&["c", "a", "b"]),
                &keyed(&["b", "a", "c"])
            )),
            ["a", "b", "c"]
        );
        assert_eq!(
            codes(unkeyed_order(
                choices(&["c", "a", "b"]),
                &keyed(&["a", "b", "c"])
            )),
            ["b", "c", "a"]
        );
    }
}
