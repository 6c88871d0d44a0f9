//! Careless-answering checks. They flag; they never drop or change a result.
//!
//! * `straight-line-run`: at least `straight_line_run` consecutive identical
//!   answers among the answered rating items (items of the instrument's
//!   `straight_line_kinds`, `likert` by default);
//! * `straight-line-all`: every answered rating item has the same answer
//!   (with at least `straight_line_all_min` answered);
//! * `too-fast`: a completion time below `min_duration_seconds`.

use crate::answers::AnswerRows;
use crate::instrument::Instrument;
use ikd_plugin_sdk::NOT_APPLICABLE;
use serde::Serialize;

/// A reason to look at a respondent's answers before trusting them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QualityFlag {
    StraightLineRun,
    StraightLineAll,
    TooFast,
}

impl QualityFlag {
    pub fn as_str(self) -> &'static str {
        match self {
            QualityFlag::StraightLineRun => "straight-line-run",
            QualityFlag::StraightLineAll => "straight-line-all",
            QualityFlag::TooFast => "too-fast",
        }
    }
}

/// The instrument's quality rules, ready to apply.
#[derive(Clone, Debug)]
pub struct QualityCheck {
    /// Instrument indices of rating items, in order.
    rating_items: Vec<usize>,
    run: usize,
    all_min: usize,
    min_duration: f64,
}

impl QualityCheck {
    pub fn new(instrument: &Instrument) -> Self {
        QualityCheck {
            rating_items: rating_items(instrument),
            run: instrument.quality.straight_line_run as usize,
            all_min: instrument.quality.straight_line_all_min as usize,
            min_duration: instrument.quality.min_duration_seconds,
        }
    }

    /// The flags of respondent `r` of `rows`.
    pub fn flags(&self, rows: &AnswerRows, r: usize) -> Vec<QualityFlag> {
        let mut flags = Vec::new();
        let answers = self
            .rating_items
            .iter()
            .map(|&i| rows.cell(r, i).trim())
            .filter(|a| !a.is_empty() && *a != NOT_APPLICABLE);
        let (mut count, mut longest, mut current, mut all_same) = (0usize, 0usize, 0usize, true);
        let mut first: Option<&str> = None;
        let mut previous: Option<&str> = None;
        for answer in answers {
            count += 1;
            current = if previous == Some(answer) {
                current + 1
            } else {
                1
            };
            longest = longest.max(current);
            all_same &= *first.get_or_insert(answer) == answer;
            previous = Some(answer);
        }
        if self.all_min > 0 && count >= self.all_min && all_same {
            flags.push(QualityFlag::StraightLineAll);
        } else if self.run > 0 && longest >= self.run {
            flags.push(QualityFlag::StraightLineRun);
        }
        if self.min_duration > 0.0
            && let Some(d) = rows.durations[r]
            && d < self.min_duration
        {
            flags.push(QualityFlag::TooFast);
        }
        flags
    }
}

/// Items whose answers are judged for straight-lining, in instrument order.
pub fn rating_items(instrument: &Instrument) -> Vec<usize> {
    let kinds = &instrument.quality.straight_line_kinds;
    (0..instrument.items.len())
        .filter(|&i| kinds.contains(&instrument.items[i].kind))
        .collect()
}
