//! Names the subject and field a TOML error falls in (`item 'LD03'`, `weight`),
//! since the toml error itself only carries a byte range.
//!
//! The text is parsed again into a spanned tree and searched for the innermost
//! key or value whose span holds the error's offset.

use super::subjects::{self, ALL_NAMED};
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One step of the path from the document root to a value.
enum Step<'t> {
    Key(&'t str),
    Index(usize),
}

/// `(subject, field)` of the innermost key or value at `offset`; empty when the
/// text does not parse (a syntax error) or nothing there holds the offset.
pub(super) fn subject_at(text: &str, offset: usize) -> (String, String) {
    let Ok(root) = DeTable::parse(text) else {
        return Default::default();
    };
    let root = DeValue::Table(root.into_inner());
    let mut path = Vec::new();
    let DeValue::Table(table) = &root else {
        return Default::default();
    };
    if !path_in_table(table, offset, &mut path) {
        return Default::default();
    }
    let mut subject = String::new();
    let mut field = String::new();
    describe(&root, &path, &mut subject, &mut field);
    (subject, field)
}

fn holds(span: Range<usize>, offset: usize) -> bool {
    span.start <= offset && offset < span.end
}

/// Pushes onto `path` the steps to the innermost key or value holding `offset`.
fn path_in_table<'t>(table: &'t DeTable<'_>, offset: usize, path: &mut Vec<Step<'t>>) -> bool {
    for (key, value) in table.iter() {
        path.push(Step::Key(key.get_ref()));
        if path_in_value(value, offset, path) || holds(key.span(), offset) {
            return true;
        }
        path.pop();
    }
    false
}

fn path_in_value<'t>(
    value: &'t Spanned<DeValue<'_>>,
    offset: usize,
    path: &mut Vec<Step<'t>>,
) -> bool {
    let inside = match value.get_ref() {
        DeValue::Table(table) => path_in_table(table, offset, path),
        DeValue::Array(array) => array.iter().enumerate().any(|(index, element)| {
            path.push(Step::Index(index));
            let found = path_in_value(element, offset, path);
            if !found {
                path.pop();
            }
            found
        }),
        _ => false,
    };
    inside || holds(value.span(), offset)
}

/// Turns a path into the subject (a named array element such as `item 'LD03'`,
/// or else the top-level table) and the field (the remaining keys, dotted).
fn describe(value: &DeValue<'_>, path: &[Step<'_>], subject: &mut String, field: &mut String) {
    match path {
        [Step::Key(key), Step::Index(index), rest @ ..] if field.is_empty() => {
            let array = value.get(*key).map(Spanned::get_ref);
            let element = array
                .and_then(|array| array.get(*index))
                .map(Spanned::get_ref);
            let Some(named) = ALL_NAMED.iter().find(|named| named.array == *key) else {
                if subject.is_empty() {
                    // An array of tables the format does not have, such as a mistyped `[[item]]`.
                    *subject = subjects::array_section(key);
                } else {
                    append_key(subject, field, key);
                    append_index(field, *index);
                }
                return describe_rest(element, rest, subject, field);
            };
            let name = element
                .and_then(|element| element.get(named.name_key))
                .and_then(|name| name.get_ref().as_str())
                .unwrap_or_default();
            *subject = if subject.is_empty() {
                named.subject(name, *index)
            } else {
                named.subject_within(subject, name, *index)
            };
            describe_rest(element, rest, subject, field);
        }
        [Step::Key(key), rest @ ..] => {
            append_key(subject, field, key);
            describe_rest(value.get(*key).map(Spanned::get_ref), rest, subject, field);
        }
        [Step::Index(index), rest @ ..] => {
            append_index(field, *index);
            describe_rest(
                value.get(*index).map(Spanned::get_ref),
                rest,
                subject,
                field,
            );
        }
        [] => {}
    }
}

fn describe_rest(
    value: Option<&DeValue<'_>>,
    path: &[Step<'_>],
    subject: &mut String,
    field: &mut String,
) {
    if let Some(value) = value {
        describe(value, path, subject, field);
    }
}

/// A top-level key becomes the subject (`[missing]`); deeper keys extend the field.
fn append_key(subject: &mut String, field: &mut String, key: &str) {
    if subject.is_empty() && field.is_empty() {
        *subject = subjects::section(key);
    } else {
        if !field.is_empty() {
            field.push('.');
        }
        field.push_str(key);
    }
}

fn append_index(field: &mut String, index: usize) {
    field.push_str(&format!("[{index}]"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, needle: &str) -> (String, String) {
        let offset = text.find(needle).expect("needle in text");
        subject_at(text, offset)
    }

    #[test]
    fn names_items_domains_indicators_and_sections() {
        let text = "[missing]\nmin_answered = 1\n\n\
                    [[domains]]\ncode = \"ld\"\n[[domains.indicators]]\ncode = \"info\"\nweight = 'x'\n\n\
                    [[items]]\nid = \"A1\"\noptions = [{ code = \"a\", credit = 'q' }]\n\n\
                    [[scales]]\nid = \"s\"\nlabels = [{ id = \"a\", en = 'zz' }]\n";
        let pair = |subject: &str, field: &str| (subject.to_owned(), field.to_owned());
        assert_eq!(at(text, "min_answered"), pair("[missing]", "min_answered"));
        assert_eq!(
            at(text, "'x'"),
            pair("domain 'ld', indicator 'info'", "weight")
        );
        assert_eq!(at(text, "'q'"), pair("item 'A1', option 'a'", "credit"));
        assert_eq!(at(text, "'zz'"), pair("scale 's'", "labels[0].en"));
    }

    #[test]
    fn unnamed_elements_are_named_by_index_and_syntax_errors_by_nothing() {
        let text = "[[items]]\nid = \"A1\"\n[[items]]\nweight = 'w'\n";
        assert_eq!(
            at(text, "'w'"),
            ("items[1]".to_owned(), "weight".to_owned())
        );
        assert_eq!(subject_at("a = = 1", 4), (String::new(), String::new()));
    }
}
