//! Answers as they arrive over the API (item id → raw cell) turned into the
//! engine's answer rows, with every problem of a request reported at once.

use crate::errors::{Invalid, Violations};
use ikd_core::answers::{AnswerRows, Respondent};
use ikd_core::instrument::{Instrument, MAX_ITEM_ID};
use ikd_core::quote::quote;
use std::collections::HashMap;

/// Longest raw answer cell accepted.
pub const MAX_CELL_BYTES: usize = 4096;
/// Longest organisation-unit code accepted.
pub const MAX_ORG_UNIT: usize = 128;
/// Longest respondent identifier, session id or request id accepted.
const MAX_ID: usize = 256;

/// Item id → position in the instrument, built once per instrument.
pub struct ItemIndex {
    positions: HashMap<String, usize>,
    items: usize,
}

impl ItemIndex {
    pub fn new(instrument: &Instrument) -> Self {
        ItemIndex {
            positions: instrument
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| (item.id.clone(), i))
                .collect(),
            items: instrument.items.len(),
        }
    }

    /// Checks `answers` and returns the cells in instrument order (items not
    /// answered are empty, i.e. skipped). Item ids longer than any instrument
    /// allows, unknown items, items answered twice and oversized cells are
    /// violations; only the first few are spelled out (see [`Violations`]).
    pub fn cells<'a>(
        &self,
        answers: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Vec<&'a str>, Violations> {
        let mut cells = vec![""; self.items];
        let mut seen = vec![false; self.items];
        let mut problems = Violations::default();
        for (item, value) in answers {
            if item.len() > MAX_ITEM_ID {
                problems.add(|| {
                    Invalid::answer(
                        item,
                        format!(
                            "item id of {} bytes is longer than {MAX_ITEM_ID} bytes",
                            item.len()
                        ),
                    )
                });
                continue;
            }
            match self.positions.get(item) {
                None => problems.add(|| Invalid::answer(item, "no such item in this instrument")),
                Some(&i) if seen[i] => {
                    problems.add(|| Invalid::answer(item, "answered twice in one request"))
                }
                Some(_) if value.len() > MAX_CELL_BYTES => problems.add(|| {
                    Invalid::answer(item, format!("answer longer than {MAX_CELL_BYTES} bytes"))
                }),
                Some(&i) => {
                    seen[i] = true;
                    cells[i] = value;
                }
            }
        }
        if problems.is_empty() {
            Ok(cells)
        } else {
            Err(problems)
        }
    }

    /// Checks answers given as cells in instrument order (`answer_values`, or the
    /// cells of `answer_line`): one per item, none oversized. Violations name
    /// `field`, and `field[i]` for the cell at fault.
    pub fn cells_in_order<'a>(
        &self,
        field: &str,
        values: Vec<&'a str>,
    ) -> Result<Vec<&'a str>, Violations> {
        let mut problems = Violations::default();
        if values.len() != self.items {
            problems.add(|| Invalid {
                field: field.into(),
                description: format!(
                    "gives {} values; the instrument has {} items, one value each (\"\" = not answered)",
                    values.len(),
                    self.items
                ),
            });
        }
        for (i, value) in values.iter().enumerate() {
            if value.len() > MAX_CELL_BYTES {
                problems.add(|| Invalid {
                    field: format!("{field}[{i}]"),
                    description: format!("answer longer than {MAX_CELL_BYTES} bytes"),
                });
            }
        }
        if problems.is_empty() {
            Ok(values)
        } else {
            Err(problems)
        }
    }

    pub fn empty_rows(&self) -> AnswerRows {
        AnswerRows::new(self.items)
    }

    /// How many items (cells per respondent) the instrument has.
    pub fn count(&self) -> usize {
        self.items
    }

    /// Adds a respondent whose answers are stored (item id, raw cell) pairs.
    pub fn push_stored(
        &self,
        rows: &mut AnswerRows,
        who: (&str, &str, Option<f64>),
        answers: &[(String, String)],
    ) -> Result<(), Violations> {
        let cells = self.cells(answers.iter().map(|(i, v)| (i.as_str(), v.as_str())))?;
        push(rows, who.0, who.1, who.2, &cells);
        Ok(())
    }
}

/// Adds one respondent to `rows`.
pub fn push(
    rows: &mut AnswerRows,
    id: &str,
    org_unit: &str,
    duration: Option<f64>,
    cells: &[&str],
) {
    rows.push(
        Respondent {
            id,
            org_unit,
            duration,
            origin: rows.len() as u64,
        },
        cells.iter().copied(),
    );
}

/// A completion time must be a finite, non-negative number of seconds.
pub fn check_duration(duration: Option<f64>) -> Result<Option<f64>, Invalid> {
    match duration {
        Some(d) if !d.is_finite() || d < 0.0 => Err(Invalid {
            field: "duration_seconds".into(),
            description: format!("{d} is not a number of seconds"),
        }),
        other => Ok(other),
    }
}

/// Organisation units are codes such as `36.72` or `36.72/diskominfo`:
/// letters, digits, `-` and `_` in segments separated by `.` or `/`.
pub fn check_org_unit(unit: &str, field: &str) -> Result<(), Invalid> {
    let fail = |why: &str| {
        Err(Invalid {
            field: field.to_owned(),
            description: format!("{}: {why}", quote(unit)),
        })
    };
    if unit.is_empty() {
        return fail("is empty");
    }
    if unit.len() > MAX_ORG_UNIT {
        return fail("is longer than 128 bytes");
    }
    let separator = |c: char| c == '.' || c == '/';
    if unit.split(separator).any(str::is_empty) {
        return fail("has an empty segment (a leading, trailing or doubled separator)");
    }
    if !unit
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '-' | '_'))
    {
        return fail("may hold only letters, digits, '-', '_' and the separators '.' and '/'");
    }
    Ok(())
}

/// Identifiers (respondent, session, request) are non-blank, at most
/// [`MAX_ID`] bytes and free of control characters: they are looked up,
/// logged and echoed.
pub fn check_id(id: &str, field: &str) -> Result<(), Invalid> {
    let fail = |why: &str| {
        Err(Invalid {
            field: field.to_owned(),
            description: why.to_owned(),
        })
    };
    if id.trim().is_empty() {
        return fail("is empty");
    }
    if id.len() > MAX_ID {
        return fail("is longer than 256 bytes");
    }
    if id.chars().any(char::is_control) {
        return fail("contains control characters");
    }
    Ok(())
}

/// Seconds from a session's start to its end (its submission), for the
/// too-fast quality flag. Submit and rescore both use it, so a rescore keeps
/// the flag revision 1 had.
pub fn completion_seconds(started_ms: i64, ended_ms: i64) -> f64 {
    (ended_ms - started_ms).max(0) as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_units() {
        for good in [
            "36.72",
            "36.72/diskominfo",
            "64.72.01",
            "34_03/dinas-kominfo",
        ] {
            assert!(check_org_unit(good, "org_unit").is_ok(), "{good}");
        }
        for bad in ["", "36..72", ".36", "36.72/", "36 72", "36.72/ä", "36%"] {
            let err = check_org_unit(bad, "org_unit").unwrap_err();
            assert_eq!(err.field, "org_unit");
        }
    }

    #[test]
    fn durations() {
        assert!(check_duration(Some(f64::NAN)).is_err());
        assert!(check_duration(Some(-1.0)).is_err());
        assert_eq!(check_duration(Some(30.0)).unwrap(), Some(30.0));
        assert_eq!(check_duration(None).unwrap(), None);
    }
}
