//! `kind = "numeric-reading"`: read a small table shown with the item and
//! give a number (a total, a difference, a percentage, ...).
//!
//! The answer scores 1 when it lies within `tolerance` of the key (the
//! boundary counts as right) and 0 otherwise. A comma or a point may be the
//! decimal separator; thousands separators are not accepted.

use ikd_plugin_sdk::domain::{AnswerOutcome, ItemKind, ItemScorer};
use ikd_plugin_sdk::kinds::answers::parse_decimal;
use ikd_plugin_sdk::present;
use ikd_plugin_sdk::proto::{ItemPresentation, ItemSpec, Text, Violation, Widget};
use ikd_plugin_sdk::sim::{SimRng, item_offset, logistic};
use serde_json::{Map, Value};

/// The `numeric-reading` item kind.
pub struct NumericReading;

struct NumericReadingScorer {
    key: f64,
    /// The key as the instrument wrote it (simulation answers with it).
    key_text: String,
    /// Decimals the key is written with (simulated wrong readings use as many).
    key_decimals: usize,
    tolerance: f64,
    unit: Option<String>,
    /// Simulation only: where the item sits on the trait.
    offset: f64,
}

impl ItemKind for NumericReading {
    fn name(&self) -> &'static str {
        "numeric-reading"
    }

    fn description(&self) -> &'static str {
        "read a number off a small table; 1 when within `tolerance` of the key, else 0"
    }

    fn prepare(&self, item: &ItemSpec) -> Result<Box<dyn ItemScorer>, Vec<Violation>> {
        let mut violations = Vec::new();
        let key = match item.key.as_slice() {
            [one] => match parse_decimal(one) {
                Ok(x) => Some(x),
                Err(e) => {
                    violations.push(Violation::item(&item.id, "key", e));
                    None
                }
            },
            keys => {
                violations.push(Violation::item(
                    &item.id,
                    "key",
                    format!("needs exactly one correct value, got {}", keys.len()),
                ));
                None
            }
        };
        check_unused_fields(item, &mut violations);
        let params = item.params().unwrap_or_else(|v| {
            violations.push(v);
            Map::new()
        });
        let tolerance = tolerance(item, &params, &mut violations);
        check_table(item, params.get("table"), &mut violations);
        let unit = unit(&params).unwrap_or_else(|message| {
            violations.push(Violation::item(&item.id, "unit", message));
            None
        });
        match (key, violations.is_empty()) {
            (Some(key), true) => Ok(Box::new(NumericReadingScorer {
                key,
                key_text: item.key[0].trim().to_owned(),
                key_decimals: decimals(&item.key[0]),
                tolerance,
                unit: unit.map(|u| u.id),
                offset: item_offset(&item.id),
            })),
            _ => Err(violations),
        }
    }

    /// A number field in the item's unit, under the table it is read from.
    fn present(&self, item: &ItemSpec) -> ItemPresentation {
        let params = item.params().unwrap_or_default();
        let table = match params.get("table") {
            Some(Value::Array(rows)) => vec![present::table_block(
                rows.iter()
                    .map(|row| {
                        let cells = row.as_array().map(Vec::as_slice).unwrap_or_default();
                        cells
                            .iter()
                            .map(|c| {
                                let c = c.as_str().unwrap_or_default();
                                Text::new(c, c)
                            })
                            .collect()
                    })
                    .collect(),
            )],
            _ => Vec::new(),
        };
        ItemPresentation {
            stimulus: table,
            unit: unit(&params).ok().flatten(),
            ..present::base(item, Widget::Number)
        }
    }
}

/// `unit`: a string (the same in both languages) or `{ id, en }`; `None` when absent or blank.
fn unit(params: &Map<String, Value>) -> Result<Option<Text>, String> {
    fn text(v: Option<&Value>) -> Option<&str> {
        v.and_then(Value::as_str).map(str::trim)
    }
    match params.get("unit") {
        None => Ok(None),
        Some(Value::String(u)) => {
            Ok(Some(Text::new(u.trim(), u.trim())).filter(|u| !u.id.is_empty()))
        }
        Some(Value::Object(t)) => match (text(t.get("id")), text(t.get("en"))) {
            (Some(id), en) if !id.is_empty() && t.keys().all(|k| k == "id" || k == "en") => Ok(
                Some(Text::new(id, en.filter(|e| !e.is_empty()).unwrap_or(id))),
            ),
            _ => Err(format!(
                "must be a string or {{ id = \"…\", en = \"…\" }}, got {}",
                Value::Object(t.clone())
            )),
        },
        Some(other) => Err(format!(
            "must be a string or {{ id = \"…\", en = \"…\" }}, got {other}"
        )),
    }
}

/// `tolerance`: a finite number ≥ 0, 0 when absent.
fn tolerance(item: &ItemSpec, params: &Map<String, Value>, violations: &mut Vec<Violation>) -> f64 {
    match params.get("tolerance") {
        None => 0.0,
        Some(Value::Number(n)) => match n.as_f64() {
            Some(t) if t.is_finite() && t >= 0.0 => t,
            _ => {
                violations.push(Violation::item(
                    &item.id,
                    "tolerance",
                    format!("must be a number ≥ 0, got {n}"),
                ));
                0.0
            }
        },
        Some(other) => {
            violations.push(Violation::item(
                &item.id,
                "tolerance",
                format!("must be a number ≥ 0, got {other}"),
            ));
            0.0
        }
    }
}

/// `table` (optional): rows of strings, every row as long as the first.
fn check_table(item: &ItemSpec, table: Option<&Value>, violations: &mut Vec<Violation>) {
    let Some(table) = table else {
        return;
    };
    let Value::Array(rows) = table else {
        violations.push(Violation::item(
            &item.id,
            "table",
            "must be an array of rows, each an array of strings",
        ));
        return;
    };
    if rows.is_empty() {
        violations.push(Violation::item(&item.id, "table", "has no rows"));
    }
    let mut width = None;
    for (r, row) in rows.iter().enumerate() {
        let Value::Array(cells) = row else {
            violations.push(Violation::item(
                &item.id,
                &format!("table[{r}]"),
                format!("must be an array of strings, got {row}"),
            ));
            continue;
        };
        for (c, cell) in cells.iter().enumerate() {
            if !cell.is_string() {
                violations.push(Violation::item(
                    &item.id,
                    &format!("table[{r}][{c}]"),
                    format!("must be a string (write numbers as text, e.g. \"12,5\"), got {cell}"),
                ));
            }
        }
        match width {
            None if cells.is_empty() => violations.push(Violation::item(
                &item.id,
                &format!("table[{r}]"),
                "has no cells",
            )),
            None => width = Some((r, cells.len())),
            Some((first, w)) if cells.len() != w => violations.push(Violation::item(
                &item.id,
                &format!("table[{r}]"),
                format!("has {} cell(s), but row {first} has {w}", cells.len()),
            )),
            Some(_) => {}
        }
    }
}

/// Fields of the common item model a numeric-reading item does not use:
/// refused rather than silently ignored.
fn check_unused_fields(item: &ItemSpec, violations: &mut Vec<Violation>) {
    if !item.options.is_empty() {
        violations.push(Violation::item(
            &item.id,
            "options",
            "a numeric-reading item takes no options: the answer is a number",
        ));
    }
    if item.scale_min.is_some() || item.scale_max.is_some() {
        violations.push(Violation::item(
            &item.id,
            "scale",
            "a numeric-reading item does not use a response scale",
        ));
    }
    if item.reverse {
        violations.push(Violation::item(
            &item.id,
            "reverse",
            "a numeric-reading item cannot be reverse-keyed",
        ));
    }
}

/// Number of digits after the decimal separator of a number as written (at most 6).
fn decimals(text: &str) -> usize {
    text.trim()
        .rsplit_once(['.', ','])
        .map_or(0, |(_, fraction)| fraction.len().min(6))
}

/// Writes a decimal number with a comma or a point, as respondents do.
fn with_separator(text: &str, comma: bool) -> String {
    if comma {
        text.replace('.', ",")
    } else {
        text.replace(',', ".")
    }
}

impl ItemScorer for NumericReadingScorer {
    fn range(&self) -> (f64, f64) {
        (0.0, 1.0)
    }

    fn score(&self, answer: &str) -> Result<AnswerOutcome, String> {
        let x = parse_decimal(answer).map_err(|e| match &self.unit {
            Some(unit) => format!("{e} (give the number alone, without the unit '{unit}')"),
            None => e,
        })?;
        // A relative slack of 1e-9 keeps the boundary inclusive despite binary
        // fractions (0.4 − 0.3 = 0.10000000000000003).
        let slack = 1e-9 * self.key.abs().max(1.0);
        let right = (x - self.key).abs() <= self.tolerance + slack;
        Ok(AnswerOutcome::Score(if right { 1.0 } else { 0.0 }))
    }

    fn categories(&self) -> u32 {
        2
    }

    /// Right with probability logistic(1.7 (θ − offset)); a wrong reading
    /// misses by more than the tolerance (by 10–50 % of the key, at least 0.1,
    /// rounded up to the key's decimals). Written with a decimal comma or
    /// point at random.
    fn simulate(&self, theta: f64, rng: &mut SimRng) -> Option<String> {
        let right = rng.uniform() < logistic(1.7 * (theta - self.offset));
        let comma = rng.uniform() < 0.5;
        if right {
            return Some(with_separator(&self.key_text, comma));
        }
        let step = 10f64.powi(-(self.key_decimals as i32));
        let miss = self.tolerance + self.key.abs().max(1.0) * (0.1 + 0.4 * rng.uniform());
        let miss = (miss / step).ceil() * step;
        let sign = if rng.uniform() < 0.5 { -1.0 } else { 1.0 };
        let value = self.key + sign * miss;
        Some(with_separator(
            &format!("{value:.*}", self.key_decimals),
            comma,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(key: &[&str], params: &str) -> ItemSpec {
        ItemSpec {
            id: "BD-NR1".into(),
            kind: "numeric-reading".into(),
            key: key.iter().map(|k| k.to_string()).collect(),
            params_json: params.into(),
            ..Default::default()
        }
    }

    fn scorer(key: &str, params: &str) -> Box<dyn ItemScorer> {
        NumericReading
            .prepare(&item(&[key], params))
            .expect("a valid item")
    }

    fn score(s: &dyn ItemScorer, answer: &str) -> f64 {
        match s.score(answer) {
            Ok(AnswerOutcome::Score(x)) => x,
            other => panic!("'{answer}' gave {other:?}"),
        }
    }

    fn fields(item: &ItemSpec) -> Vec<String> {
        NumericReading
            .prepare(item)
            .err()
            .expect("a refused item")
            .into_iter()
            .map(|v| {
                assert_eq!(v.item, item.id);
                assert_eq!(v.respondent, -1);
                v.field
            })
            .collect()
    }

    #[test]
    fn right_within_the_tolerance() {
        let s = scorer("42.5", r#"{"tolerance": 0.5, "unit": "%"}"#);
        // |42.9 − 42.5| = 0.4 ≤ 0.5 → 1
        assert_eq!(score(&*s, "42,9"), 1.0);
        // |43.1 − 42.5| = 0.6 > 0.5 → 0
        assert_eq!(score(&*s, "43,1"), 0.0);
        // the boundary counts: |42 − 42.5| = |43 − 42.5| = 0.5 → 1
        assert_eq!(score(&*s, "42"), 1.0);
        assert_eq!(score(&*s, "43.0"), 1.0);
        // |41.99 − 42.5| = 0.51 → 0
        assert_eq!(score(&*s, "41,99"), 0.0);
        assert_eq!(s.range(), (0.0, 1.0));
        assert_eq!(s.categories(), 2);
    }

    #[test]
    fn without_a_tolerance_only_the_exact_value_is_right() {
        // key written with a decimal comma; tolerance defaults to 0
        let s = scorer("12,0", "{}");
        assert_eq!(score(&*s, "12"), 1.0);
        assert_eq!(score(&*s, "12,00"), 1.0);
        // |12.01 − 12| = 0.01 > 0 → 0
        assert_eq!(score(&*s, "12.01"), 0.0);
        let s = scorer("-3", "");
        assert_eq!(score(&*s, "-3,0"), 1.0);
    }

    #[test]
    fn the_boundary_survives_binary_fractions() {
        // 0.4 − 0.3 = 0.10000000000000003 in binary floating point, which is
        // not ≤ 0.1; the answer is exactly on the boundary and must score 1.
        let s = scorer("0,3", r#"{"tolerance": 0.1}"#);
        assert_eq!(score(&*s, "0,4"), 1.0);
        assert_eq!(score(&*s, "0,2"), 1.0);
        assert_eq!(score(&*s, "0,41"), 0.0);
    }

    #[test]
    fn invalid_answers_say_why() {
        let s = scorer("42.5", r#"{"tolerance": 0.5, "unit": "%"}"#);
        let err = |a: &str| s.score(a).expect_err(a);
        assert!(err("empat puluh dua").contains("is not a number"));
        assert!(err("42,5 %").contains("without the unit '%'"));
        assert!(err("1.042,5").contains("'1.042,5' is not a number"));
        assert!(err("42..5").contains("not a number"));
        let s = scorer("42.5", "");
        assert_eq!(s.score("x"), Err("'x' is not a number".into()));
    }

    #[test]
    fn every_specification_error_names_its_field() {
        // No key, two keys, a key that is not a number.
        assert_eq!(fields(&item(&[], "")), ["key"]);
        assert_eq!(fields(&item(&["1", "2"], "")), ["key"]);
        assert_eq!(fields(&item(&["sepuluh"], "")), ["key"]);
        // Tolerance negative, or not a number.
        assert_eq!(
            fields(&item(&["1"], r#"{"tolerance": -0.5}"#)),
            ["tolerance"]
        );
        assert_eq!(
            fields(&item(&["1"], r#"{"tolerance": "0,5"}"#)),
            ["tolerance"]
        );
        // Table: not an array; empty; a row that is not an array, a number cell, a short row.
        assert_eq!(fields(&item(&["1"], r#"{"table": "A;B"}"#)), ["table"]);
        assert_eq!(fields(&item(&["1"], r#"{"table": []}"#)), ["table"]);
        assert_eq!(
            fields(&item(
                &["1"],
                r#"{"table": [["Kecamatan", "Jumlah"], "x", ["Serang", 12], ["Ciwandan"]]}"#
            )),
            ["table[1]", "table[2][1]", "table[3]"]
        );
        // Unit not a string; extra fields that are not a JSON object.
        assert_eq!(fields(&item(&["1"], r#"{"unit": 5}"#)), ["unit"]);
        assert_eq!(fields(&item(&["1"], "[1]")), ["params"]);
        assert_eq!(fields(&item(&["1"], "{tolerance")), ["params"]);
        // Everything at once, each with its field.
        let mut it = item(&[], r#"{"tolerance": -1, "table": [[]], "unit": true}"#);
        it.options = vec![Default::default()];
        it.scale_min = Some(1);
        it.scale_max = Some(5);
        it.reverse = true;
        assert_eq!(
            fields(&it),
            [
                "key",
                "options",
                "scale",
                "reverse",
                "tolerance",
                "table[0]",
                "unit"
            ]
        );
    }

    #[test]
    fn simulated_answers_are_valid_and_improve_with_theta() {
        let s = scorer("1250.75", r#"{"tolerance": 0.01}"#);
        let mean = |theta: f64| {
            let mut rng = SimRng::new(9);
            (0..3000)
                .map(|_| score(&*s, &s.simulate(theta, &mut rng).expect("an answer")))
                .sum::<f64>()
                / 3000.0
        };
        let (low, mid, high) = (mean(-2.0), mean(0.0), mean(2.0));
        assert!(low < mid && mid < high, "{low} {mid} {high}");

        // Wrong readings are written like the key (two decimals here), with
        // either separator; a key without decimals gives whole numbers that
        // still miss (key 1, tolerance 0: a 0.1 miss rounds up to 1, not to 0).
        let mut rng = SimRng::new(4);
        let answers: Vec<String> = (0..200)
            .filter_map(|_| s.simulate(-3.0, &mut rng))
            .collect();
        assert!(answers.iter().any(|a| a.contains(',')) && answers.iter().any(|a| a.contains('.')));
        assert!(answers.iter().all(|a| decimals(a) == 2), "{answers:?}");
        let s = scorer("1", "");
        for _ in 0..200 {
            let a = s.simulate(-3.0, &mut rng).expect("an answer");
            assert!(!a.contains([',', '.']), "{a}");
            if a != "1" {
                assert_eq!(score(&*s, &a), 0.0, "{a}");
            }
        }
    }
}
