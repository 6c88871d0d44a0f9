//! The packed text of a list of answer cells (item id, raw value): how a session keeps its
//! latest answers (`sessions.answers`) and a save request its cells (`save_requests.cells`),
//! one column each instead of a row per cell (migration 0010).
//!
//! Each cell is `item TAB value`; cells are joined by LF, in list order; no cell is the
//! empty text. In an item id or a value, backslash, TAB and LF are written `\\`, `\t` and
//! `\n`; every other character (anything the store accepts: text without NUL) as it is.
//! So the encoding is lossless and canonical (equal lists, equal texts: a replay compares
//! texts), a reader splits on raw TABs and LFs, and the SQL of migration 0010 produces the
//! same text with `replace` and `string_agg` / `group_concat`.

use std::fmt;

/// Cell separator.
const CELL_END: char = '\n';
/// Item / value separator.
const ITEM_END: char = '\t';

/// Why a packed text cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed(String);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The packed text of `cells`, in their order.
pub(crate) fn pack<'a>(cells: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut packed = String::new();
    for (n, (item, value)) in cells.into_iter().enumerate() {
        if n > 0 {
            packed.push(CELL_END);
        }
        escape_into(&mut packed, item);
        packed.push(ITEM_END);
        escape_into(&mut packed, value);
    }
    packed
}

/// The cells of a packed text, in their order.
pub(crate) fn unpack(packed: &str) -> Result<Vec<(String, String)>, Malformed> {
    if packed.is_empty() {
        return Ok(Vec::new());
    }
    packed
        .split(CELL_END)
        .enumerate()
        .map(|(n, cell)| {
            let (item, value) = cell
                .split_once(ITEM_END)
                .ok_or_else(|| Malformed(format!("cell {n} has no tab between item and value")))?;
            let at = |what: &'static str| {
                move |e: Malformed| Malformed(format!("cell {n}, {what}: {e}"))
            };
            Ok((
                unescape(item).map_err(at("item id"))?,
                unescape(value).map_err(at("value"))?,
            ))
        })
        .collect()
}

/// How many cells a packed text holds, without unpacking it (escaped LFs are not raw LFs).
pub(crate) fn count(packed: &str) -> usize {
    if packed.is_empty() {
        0
    } else {
        packed.bytes().filter(|&b| b == CELL_END as u8).count() + 1
    }
}

fn escape_into(out: &mut String, text: &str) {
    if !text.contains(['\\', ITEM_END, CELL_END]) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ITEM_END => out.push_str("\\t"),
            CELL_END => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A field written with the escapes above (it holds no raw TAB), as it was.
pub(crate) fn unescape(text: &str) -> Result<String, Malformed> {
    if text.contains(ITEM_END) {
        return Err(Malformed("a second raw tab".to_owned()));
    }
    if !text.contains('\\') {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('t') => out.push(ITEM_END),
            Some('n') => out.push(CELL_END),
            Some(other) => return Err(Malformed(format!("unknown escape '\\{other}'"))),
            None => return Err(Malformed("a backslash at the end".to_owned())),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cells(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(i, v)| (i.to_string(), v.to_string()))
            .collect()
    }

    fn packed(list: &[(&str, &str)]) -> String {
        pack(list.iter().copied())
    }

    #[test]
    fn plain_cells_are_item_tab_value_joined_by_newlines() {
        assert_eq!(
            packed(&[("lit01", "4"), ("lit02", "")]),
            "lit01\t4\nlit02\t"
        );
        assert_eq!(packed(&[]), "");
        assert_eq!(packed(&[("", "")]), "\t", "one empty cell is not no cell");
        assert_eq!(unpack("\t").unwrap(), cells(&[("", "")]));
        assert_eq!(unpack("").unwrap(), cells(&[]));
    }

    #[test]
    fn backslash_tab_and_newline_are_escaped_and_everything_else_kept() {
        let awkward = [
            ("a\\b", "x\ty\nz"),
            ("\\t", "\\n"),
            ("ítem ✓\r", "\u{1}\u{1f}\u{7f}\u{ffff}"),
            ("a\n", "\\"),
        ];
        let text = packed(&awkward);
        assert_eq!(
            text,
            "a\\\\b\tx\\ty\\nz\n\\\\t\t\\\\n\nítem ✓\r\t\u{1}\u{1f}\u{7f}\u{ffff}\na\\n\t\\\\"
        );
        assert_eq!(unpack(&text).unwrap(), cells(&awkward));
        assert_eq!(count(&text), 4);
    }

    #[test]
    fn malformed_texts_are_refused_naming_the_cell() {
        assert_eq!(
            unpack("a\t1\nb").unwrap_err().to_string(),
            "cell 1 has no tab between item and value"
        );
        assert!(
            unpack("a\t1\t2")
                .unwrap_err()
                .to_string()
                .contains("cell 0, value")
        );
        assert!(unpack("a\\x\t1").unwrap_err().to_string().contains("'\\x'"));
        assert!(
            unpack("a\t1\\")
                .unwrap_err()
                .to_string()
                .contains("backslash at the end")
        );
    }

    proptest! {
        #[test]
        fn any_cells_round_trip_and_count(
            list in prop::collection::vec(("[\\\\\t\nab\u{1}é]{0,6}", "\\PC{0,4}|[\\\\\t\n ]{0,4}"), 0..8)
        ) {
            let text = pack(list.iter().map(|(i, v)| (i.as_str(), v.as_str())));
            prop_assert_eq!(count(&text), list.len());
            prop_assert_eq!(unpack(&text).unwrap(), list);
        }

        #[test]
        fn equal_texts_only_for_equal_lists(
            a in prop::collection::vec(("[\\\\\tn\na]{0,3}", "[\\\\\tn\na]{0,3}"), 0..4),
            b in prop::collection::vec(("[\\\\\tn\na]{0,3}", "[\\\\\tn\na]{0,3}"), 0..4),
        ) {
            let pa = pack(a.iter().map(|(i, v)| (i.as_str(), v.as_str())));
            let pb = pack(b.iter().map(|(i, v)| (i.as_str(), v.as_str())));
            prop_assert_eq!(pa == pb, a == b);
        }
    }
}
