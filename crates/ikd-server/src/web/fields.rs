//! Form fields ⇄ answer cells, for any widget of the presentation vocabulary.
//!
//! A page's form carries, per item, fields named after the item (and, for
//! orders and ratings, after each choice). The same field list is rebuilt
//! from a stored cell when a person comes back, so a page shows exactly what
//! was saved. The web app knows widgets, never item kinds: the cell is made
//! by [`write_cell`] and read by [`read_cell`] of the plugin SDK.

use ikd_plugin_sdk::present::{Given, read_cell, write_cell};
use ikd_plugin_sdk::proto::{ItemPresentation, Widget};
use std::collections::HashMap;

/// Values a form posted (or a stored cell stands for), by field name.
pub(crate) type Fields = HashMap<String, Vec<String>>;

/// The radio value of "don't know" and of "not applicable".
pub(crate) const DONT_KNOW: &str = "~dk";
pub(crate) const NOT_APPLICABLE: &str = "~na";
/// The checkbox value of "none of these" (multiple choice).
pub(crate) const NONE: &str = "~none";

/// The field of the item's one value (scale, single choice, number, text) and,
/// for scale and single choice, of its "don't know" / "not applicable" too.
pub(crate) fn answer_field(item: &str) -> String {
    format!("a:{item}")
}
/// The checkboxes of a multiple choice.
pub(crate) fn choices_field(item: &str) -> String {
    format!("m:{item}")
}
/// "Don't know" / "not applicable" of the other widgets.
pub(crate) fn special_field(item: &str) -> String {
    format!("x:{item}")
}
/// The position of one choice in an order.
pub(crate) fn position_field(item: &str, code: &str) -> String {
    format!("o:{item}:{code}")
}
/// The rating of one choice.
pub(crate) fn rating_field(item: &str, code: &str) -> String {
    format!("r:{item}:{code}")
}

/// Whether the widget keeps "don't know" / "not applicable" among its own
/// radio buttons (one group) rather than apart.
pub(crate) fn specials_inline(widget: Widget) -> bool {
    matches!(widget, Widget::Scale | Widget::SingleChoice)
}

/// The answer cell the fields give for an item, or why they cannot make one
/// (an order with a position twice, a rating left half done).
pub(crate) fn cell_from_fields(
    shown: &ItemPresentation,
    fields: &Fields,
) -> Result<String, String> {
    let id = &shown.item_id;
    let one = |name: &str| {
        fields
            .get(name)
            .and_then(|v| v.iter().find(|s| !s.trim().is_empty()))
            .map(|s| s.trim().to_owned())
    };
    let widget = shown.widget();
    let special = if specials_inline(widget) {
        one(&answer_field(id))
    } else {
        one(&special_field(id))
    };
    match special.as_deref() {
        Some(DONT_KNOW) if shown.dont_know.is_some() => {
            return Ok(write_cell(shown, &Given::DontKnow));
        }
        Some(NOT_APPLICABLE) if shown.not_applicable => {
            return Ok(write_cell(shown, &Given::NotApplicable));
        }
        _ => {}
    }
    let given = match widget {
        Widget::Scale | Widget::SingleChoice | Widget::Number | Widget::Text => {
            one(&answer_field(id)).map_or(Given::Nothing, Given::One)
        }
        Widget::MultipleChoice => {
            let chosen: Vec<String> = fields
                .get(&choices_field(id))
                .map(|v| v.iter().map(|s| s.trim().to_owned()).collect())
                .unwrap_or_default();
            let none = chosen.iter().any(|c| c == NONE);
            let codes: Vec<String> = shown
                .choices
                .iter()
                .filter(|c| chosen.contains(&c.code))
                .map(|c| c.code.clone())
                .collect();
            match (none, codes.is_empty()) {
                (true, false) => return Err("none_and_some".into()),
                (true, true) => Given::Codes(Vec::new()),
                (false, true) => Given::Nothing,
                (false, false) => Given::Codes(codes),
            }
        }
        Widget::Order => {
            let mut placed = Vec::new();
            for choice in &shown.choices {
                if let Some(p) = one(&position_field(id, &choice.code)) {
                    let p: usize = p.parse().map_err(|_| "order_incomplete".to_owned())?;
                    placed.push((p, choice.code.clone()));
                }
            }
            if placed.is_empty() {
                Given::Nothing
            } else {
                placed.sort();
                let positions: Vec<usize> = placed.iter().map(|(p, _)| *p).collect();
                let expected: Vec<usize> = (1..=shown.choices.len()).collect();
                if positions != expected {
                    return Err("order_incomplete".into());
                }
                Given::Codes(placed.into_iter().map(|(_, c)| c).collect())
            }
        }
        Widget::RatingPerChoice => {
            let ratings: Vec<Option<String>> = shown
                .choices
                .iter()
                .map(|c| one(&rating_field(id, &c.code)))
                .collect();
            if ratings.iter().all(Option::is_none) {
                Given::Nothing
            } else if ratings.iter().any(Option::is_none) {
                return Err("rating_incomplete".into());
            } else {
                Given::Ratings(ratings.into_iter().flatten().collect())
            }
        }
        Widget::Unspecified => Given::Nothing,
    };
    Ok(write_cell(shown, &given))
}

/// The fields a stored cell stands for, to show it again. A cell the widget
/// could not have written (stored through the API) shows as nothing chosen
/// rather than as a wrong choice; the kinds still score the stored cell.
pub(crate) fn fields_from_cell(shown: &ItemPresentation, cell: &str) -> Fields {
    let id = &shown.item_id;
    let mut fields = Fields::new();
    let mut put = |name: String, value: &str| {
        fields.entry(name).or_default().push(value.to_owned());
    };
    let widget = shown.widget();
    let special_name = if specials_inline(widget) {
        answer_field(id)
    } else {
        special_field(id)
    };
    match read_cell(shown, cell) {
        Ok(Given::Nothing) | Err(_) => {}
        Ok(Given::DontKnow) => put(special_name, DONT_KNOW),
        Ok(Given::NotApplicable) => put(special_name, NOT_APPLICABLE),
        Ok(Given::One(v)) => put(answer_field(id), &v),
        Ok(Given::Codes(codes)) if widget == Widget::Order => {
            for (k, code) in codes.iter().enumerate() {
                put(position_field(id, code), &(k + 1).to_string());
            }
        }
        Ok(Given::Codes(codes)) if codes.is_empty() => put(choices_field(id), NONE),
        Ok(Given::Codes(codes)) => {
            for code in codes {
                put(choices_field(id), &code);
            }
        }
        Ok(Given::Ratings(points)) => {
            for (choice, point) in shown.choices.iter().zip(points) {
                put(rating_field(id, &choice.code), &point);
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use ikd_plugin_sdk::proto::{Choice, ScalePoint, Text};

    fn shown(widget: Widget) -> ItemPresentation {
        let choices = ["a", "b", "c"]
            .iter()
            .map(|c| Choice::new(*c, Text::new(*c, *c)))
            .collect();
        ItemPresentation {
            item_id: "Q1".into(),
            widget: widget as i32,
            choices,
            scale: (1..=4)
                .map(|v| ScalePoint {
                    value: v.to_string(),
                    label: None,
                })
                .collect(),
            separator: if widget == Widget::Order { ">" } else { "|" }.into(),
            none_value: "-".into(),
            dont_know: Some(Choice::new("x", Text::new("?", "?"))),
            not_applicable: true,
            ..Default::default()
        }
    }

    /// Every cell a widget can write comes back from its own fields.
    #[test]
    fn stored_cells_round_trip_through_the_form() {
        for (widget, cells) in [
            (Widget::SingleChoice, &["b", "x", "NA", ""][..]),
            (Widget::MultipleChoice, &["a|c", "-", "x", "NA", ""]),
            (Widget::Order, &["c>a>b", "NA", ""]),
            (Widget::RatingPerChoice, &["4|1|2", "x", ""]),
            (Widget::Number, &["33,3", ""]),
        ] {
            let p = shown(widget);
            for cell in cells {
                let fields = fields_from_cell(&p, cell);
                assert_eq!(
                    cell_from_fields(&p, &fields).as_deref(),
                    Ok(*cell),
                    "{widget:?}"
                );
            }
        }
    }

    #[test]
    fn half_done_orders_and_ratings_are_refused_not_guessed() {
        let order = shown(Widget::Order);
        let mut f = Fields::new();
        f.insert(position_field("Q1", "a"), vec!["1".into()]);
        f.insert(position_field("Q1", "b"), vec!["1".into()]);
        f.insert(position_field("Q1", "c"), vec!["2".into()]);
        assert_eq!(cell_from_fields(&order, &f), Err("order_incomplete".into()));
        let rating = shown(Widget::RatingPerChoice);
        let mut f = Fields::new();
        f.insert(rating_field("Q1", "a"), vec!["2".into()]);
        assert_eq!(
            cell_from_fields(&rating, &f),
            Err("rating_incomplete".into())
        );
        let multiple = shown(Widget::MultipleChoice);
        let mut f = Fields::new();
        f.insert(choices_field("Q1"), vec!["a".into(), NONE.into()]);
        assert_eq!(cell_from_fields(&multiple, &f), Err("none_and_some".into()));
    }
}
