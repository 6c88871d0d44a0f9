//! Collecting the bad cells of a batch a scoring model cannot score.

use crate::{PluginError, Violation};

/// At most this many bad cells are listed in one error; all are counted.
pub const MAX_LISTED_CELLS: usize = 50;

/// Bad cells found while scoring a batch (a score outside the item's range,
/// an unknown status): the first [`MAX_LISTED_CELLS`] are listed with their
/// respondent, item and field, all are counted, and the batch fails with one
/// error naming them. Capped so that a batch of a million bad rows does not
/// build a million violations.
#[derive(Debug, Default)]
pub struct CellErrors {
    violations: Vec<Violation>,
    count: usize,
}

impl CellErrors {
    /// Records one bad cell of `respondent` (its index in the batch).
    #[cold]
    pub fn add(&mut self, respondent: usize, item: &str, field: &str, message: String) {
        self.count += 1;
        if self.violations.len() < MAX_LISTED_CELLS {
            self.violations.push(Violation {
                item: item.to_owned(),
                field: field.to_owned(),
                message,
                respondent: respondent as i64,
            });
        }
    }

    /// An answered cell whose score is NaN or outside the item's range.
    #[cold]
    pub fn score_out_of_range(
        &mut self,
        respondent: usize,
        item: &str,
        x: f64,
        min: f64,
        max: f64,
    ) {
        let message = if x.is_nan() {
            "answered cell has no score (NaN)".to_owned()
        } else {
            format!("score {x} of an answered cell is outside the item's range [{min}, {max}]")
        };
        self.add(respondent, item, "item_scores", message);
    }

    /// A cell whose status is none of the [`crate::status`] values.
    #[cold]
    pub fn unknown_status(&mut self, respondent: usize, item: &str, status: u8) {
        let message = format!("unknown answer status {status} (expected 0–4)");
        self.add(respondent, item, "item_status", message);
    }

    /// How many bad cells were found.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The batch's error, naming the model (`None` when every cell was good).
    pub fn into_error(self, model: &str) -> Option<PluginError> {
        if self.count == 0 {
            return None;
        }
        let listed = self.violations.len();
        let more = if self.count > listed {
            format!(" (the first {listed} are listed)")
        } else {
            String::new()
        };
        Some(PluginError::invalid(
            format!(
                "{model}: {} cell(s) of the batch cannot be scored{more}",
                self.count
            ),
            self.violations,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_bad_cell_is_no_error() {
        assert!(CellErrors::default().into_error("m").is_none());
    }

    #[test]
    fn all_bad_cells_are_counted_and_the_first_ones_listed() {
        let mut errors = CellErrors::default();
        for r in 0..MAX_LISTED_CELLS + 7 {
            errors.unknown_status(r, "Q1", 9);
        }
        assert_eq!(errors.count(), MAX_LISTED_CELLS + 7);
        let err = errors.into_error("my-model").expect("an error");
        assert_eq!(
            err.message,
            format!(
                "my-model: {} cell(s) of the batch cannot be scored (the first {MAX_LISTED_CELLS} are listed)",
                MAX_LISTED_CELLS + 7
            )
        );
        assert_eq!(err.violations.len(), MAX_LISTED_CELLS);
        let last = err.violations.last().unwrap();
        assert_eq!(
            (last.item.as_str(), last.field.as_str(), last.respondent),
            ("Q1", "item_status", MAX_LISTED_CELLS as i64 - 1)
        );
        assert_eq!(last.message, "unknown answer status 9 (expected 0–4)");
    }
}
