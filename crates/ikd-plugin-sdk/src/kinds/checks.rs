//! Specification checks shared by the selection-like kinds (several codes
//! per answer), so that they refuse the same mistakes with the same words.

use super::answers::EMPTY_SELECTION;
use crate::proto::{ItemSpec, Violation};

/// Where each option stands in the key (`None`: not keyed). Reports an empty
/// key with `if_empty`, and each `key[k]` that is unknown or repeated.
pub fn key_codes(
    item: &ItemSpec,
    if_empty: &str,
    violations: &mut Vec<Violation>,
) -> Vec<Option<usize>> {
    let mut position = vec![None; item.options.len()];
    if item.key.is_empty() {
        violations.push(Violation::item(&item.id, "key", if_empty));
    }
    for (k, code) in item.key.iter().enumerate() {
        let field = format!("key[{k}]");
        match item.options.iter().position(|o| &o.code == code) {
            None => {
                let known: Vec<&str> = item.options.iter().map(|o| o.code.as_str()).collect();
                violations.push(Violation::item(
                    &item.id,
                    &field,
                    format!(
                        "'{code}' is not one of the option codes ({})",
                        known.join(", ")
                    ),
                ))
            }
            Some(i) if position[i].is_some() => violations.push(Violation::item(
                &item.id,
                &field,
                format!("'{code}' is listed twice"),
            )),
            Some(i) => position[i] = Some(k),
        }
    }
    position
}

/// Option codes must not contain the answer separator `sep`, nor be
/// [`EMPTY_SELECTION`] when the kind accepts it (`empty_means`: what it
/// means there, e.g. "selected nothing"); either would make answers ambiguous.
pub fn selection_codes(
    item: &ItemSpec,
    sep: char,
    empty_means: Option<&str>,
    violations: &mut Vec<Violation>,
) {
    for (i, o) in item.options.iter().enumerate() {
        let field = format!("options[{i}].code");
        if let Some(meaning) = empty_means.filter(|_| o.code.trim() == EMPTY_SELECTION) {
            violations.push(Violation::item(
                &item.id,
                &field,
                format!("'{EMPTY_SELECTION}' is reserved for \"{meaning}\""),
            ));
        } else if o.code.contains(sep) {
            violations.push(Violation::item(
                &item.id,
                &field,
                format!("'{}' contains the answer separator '{sep}'", o.code),
            ));
        }
    }
}

/// Why a kind refuses each common field it does not use.
pub struct Unused<'a> {
    pub reverse: &'a str,
    pub credit: &'a str,
    pub dont_know: &'a str,
}

/// Refuses `reverse`, option `credit` and option `dont_know` rather than
/// silently ignoring them.
pub fn unused_fields(item: &ItemSpec, why: &Unused, violations: &mut Vec<Violation>) {
    if item.reverse {
        violations.push(Violation::item(&item.id, "reverse", why.reverse));
    }
    for (i, o) in item.options.iter().enumerate() {
        if o.credit.is_some() {
            violations.push(Violation::item(
                &item.id,
                &format!("options[{i}].credit"),
                why.credit,
            ));
        }
        if o.dont_know {
            violations.push(Violation::item(
                &item.id,
                &format!("options[{i}].dont_know"),
                why.dont_know,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::ItemOption;

    fn item(codes: &[&str], key: &[&str]) -> ItemSpec {
        ItemSpec {
            id: "X1".into(),
            options: codes
                .iter()
                .map(|c| ItemOption {
                    code: c.to_string(),
                    ..Default::default()
                })
                .collect(),
            key: key.iter().map(|k| k.to_string()).collect(),
            ..Default::default()
        }
    }

    fn run(f: impl FnOnce(&mut Vec<Violation>)) -> Vec<(String, String)> {
        let mut v = Vec::new();
        f(&mut v);
        v.into_iter().map(|v| (v.field, v.message)).collect()
    }

    #[test]
    fn key_codes_place_each_option_and_report_unknown_or_repeated() {
        let it = item(&["a", "b", "c"], &["c", "x", "a", "c"]);
        let mut pos = Vec::new();
        let v = run(|v| pos = key_codes(&it, "empty", v));
        assert_eq!(pos, [Some(2), None, Some(0)]);
        assert_eq!(
            v,
            [
                (
                    "key[1]".into(),
                    "'x' is not one of the option codes (a, b, c)".into()
                ),
                ("key[3]".into(), "'c' is listed twice".into()),
            ]
        );
        let v = run(|v| {
            key_codes(&item(&["a"], &[]), "empty", v);
        });
        assert_eq!(v, [("key".into(), "empty".into())]);
    }

    #[test]
    fn selection_codes_refuse_the_separator_and_the_empty_token() {
        let it = item(&["a", " - ", "b|c", "d>e"], &[]);
        let v = run(|v| selection_codes(&it, '|', Some("none"), v));
        assert_eq!(
            v,
            [
                (
                    "options[1].code".into(),
                    "'-' is reserved for \"none\"".into()
                ),
                (
                    "options[2].code".into(),
                    "'b|c' contains the answer separator '|'".into()
                ),
            ]
        );
        let v = run(|v| selection_codes(&it, '>', None, v));
        let fields: Vec<&str> = v.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["options[3].code"]);
    }

    #[test]
    fn unused_fields_are_refused_with_the_kinds_reason() {
        let mut it = item(&["a", "b"], &[]);
        it.reverse = true;
        it.options[0].credit = Some(1.0);
        it.options[1].dont_know = true;
        let why = Unused {
            reverse: "r",
            credit: "c",
            dont_know: "d",
        };
        let v = run(|v| unused_fields(&it, &why, v));
        assert_eq!(
            v,
            [
                ("reverse".into(), "r".into()),
                ("options[0].credit".into(), "c".into()),
                ("options[1].dont_know".into(), "d".into()),
            ]
        );
    }
}
