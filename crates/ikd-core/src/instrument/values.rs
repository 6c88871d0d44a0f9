//! Free-form TOML values turned into what the model carries: JSON for plugin
//! settings and item parameters, strings for keys.

use serde_json::{Map, Number, Value as Json};
use toml::Value;

/// A TOML table as a JSON object. Fails on a non-finite float, which JSON (the
/// form settings and parameters reach plugins in) cannot carry; the error names
/// the offending entry, e.g. `thresholds[2] is nan`.
pub(super) fn table_to_json(table: &toml::Table) -> Result<Map<String, Json>, String> {
    entries_to_json(table, "")
}

/// The entries of a table; `prefix` is the table's own path (empty at the top).
fn entries_to_json(table: &toml::Table, prefix: &str) -> Result<Map<String, Json>, String> {
    table
        .iter()
        .map(|(key, value)| {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            Ok((key.clone(), to_json(value, &path)?))
        })
        .collect()
}

/// One TOML value as JSON; `path` names it in the error.
pub(super) fn to_json(value: &Value, path: &str) -> Result<Json, String> {
    Ok(match value {
        Value::String(text) => Json::String(text.clone()),
        Value::Integer(number) => Json::from(*number),
        Value::Float(number) => {
            Json::Number(Number::from_f64(*number).ok_or_else(|| {
                format!("{path} is {number}: only finite numbers can be passed on")
            })?)
        }
        Value::Boolean(flag) => Json::Bool(*flag),
        // A plugin reads dates as RFC 3339 text.
        Value::Datetime(datetime) => Json::String(datetime.to_string()),
        Value::Array(values) => Json::Array(
            values
                .iter()
                .enumerate()
                .map(|(index, value)| to_json(value, &format!("{path}[{index}]")))
                .collect::<Result<_, _>>()?,
        ),
        Value::Table(table) => Json::Object(entries_to_json(table, path)?),
    })
}

/// An item's `key`: one string or number, or an array of them, as strings
/// (numbers written as Rust prints them: `2`, `0.5`).
pub(super) fn key_entries(value: &Value) -> Result<Vec<String>, String> {
    let entries = match value {
        Value::Array(values) if values.is_empty() => {
            return Err("key is an empty array: give at least one keyed value".to_owned());
        }
        Value::Array(values) => values
            .iter()
            .map(key_entry)
            .collect::<Result<Vec<_>, _>>()?,
        scalar => vec![key_entry(scalar)?],
    };
    if entries.iter().any(|entry| entry.trim().is_empty()) {
        return Err("key holds an empty string".to_owned());
    }
    Ok(entries)
}

fn key_entry(value: &Value) -> Result<String, String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Integer(number) => Ok(number.to_string()),
        Value::Float(number) if number.is_finite() => Ok(number.to_string()),
        Value::Float(number) => Err(format!("key holds {number}, which is not a finite number")),
        other => Err(format!(
            "key must be a string, a number, or an array of strings and numbers (found {})",
            other.type_str()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Value {
        let table: toml::Table = toml::from_str(&format!("v = {text}")).expect("valid TOML");
        table["v"].clone()
    }

    #[test]
    fn keys_accept_strings_numbers_and_arrays() {
        assert_eq!(key_entries(&value("\"b\"")), Ok(vec!["b".to_owned()]));
        assert_eq!(key_entries(&value("2")), Ok(vec!["2".to_owned()]));
        assert_eq!(key_entries(&value("0.5")), Ok(vec!["0.5".to_owned()]));
        assert_eq!(
            key_entries(&value("[\"c\", 1, 2.5]")),
            Ok(vec!["c".to_owned(), "1".to_owned(), "2.5".to_owned()])
        );
    }

    #[test]
    fn keys_refuse_other_shapes() {
        for bad in ["true", "[]", "[[\"a\"]]", "\"\"", "nan", "{ a = 1 }"] {
            assert!(key_entries(&value(bad)).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn json_conversion_keeps_structure_and_refuses_non_finite_numbers() {
        let table: toml::Table =
            toml::from_str("a = 1\nb = [0.5, \"x\"]\nc = { d = true }\n").expect("valid TOML");
        let json = table_to_json(&table).expect("finite values");
        assert_eq!(
            Json::Object(json),
            serde_json::json!({"a": 1, "b": [0.5, "x"], "c": {"d": true}})
        );

        let table: toml::Table = toml::from_str("t = { u = [1.0, inf] }").expect("valid TOML");
        let error = table_to_json(&table).expect_err("inf is refused");
        assert!(error.contains("t.u[1] is inf"), "{error}");
    }
}
