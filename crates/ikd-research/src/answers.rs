//! Reading an answers file for analysis: batch by batch, with every invalid
//! answer of the whole file collected before anything is analysed, so a
//! researcher fixes the file once instead of once per error.

use ikd_core::answers::{AnswerRows, AnswersError, AnswersReader};
use ikd_core::instrument::Instrument;
use ikd_core::pipeline::{AnswerViolation, ScoreError, Scorer};
use ikd_core::quote::quote;
use std::path::{Path, PathBuf};

/// Respondents per plugin call.
pub const BATCH: usize = 4096;

/// Why an answers file could not be analysed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file cannot be read or is not an answers CSV of the instrument.
    #[error(transparent)]
    Answers(#[from] AnswersError),
    /// Some answers are invalid; nothing was analysed.
    #[error("{} invalid answer(s) in {}; nothing analysed", .0.count, .0.file.display())]
    Invalid(InvalidAnswers),
    /// A plugin failed.
    #[error(transparent)]
    Score(ScoreError),
}

/// The invalid answers of a whole file: all counted, the first few located.
#[derive(Debug)]
pub struct InvalidAnswers {
    pub file: PathBuf,
    pub count: usize,
    /// `file:line: respondent 'R', item 'Q': why`, at most the requested number.
    pub listed: Vec<String>,
}

/// One invalid answer located for a person: `file:line: respondent 'R', item 'Q': why`.
pub fn violation_line(file: &Path, rows: &AnswerRows, v: &AnswerViolation) -> String {
    format!(
        "{}:{}: respondent {}, item {}: {}",
        file.display(),
        rows.origins[v.respondent],
        quote(&rows.respondent_ids[v.respondent]),
        quote(&v.item),
        v.message
    )
}

/// Reads every batch of `path` and hands it to `each`; `progress` gets the
/// bytes read so far after each batch. Invalid answers (reported by `each`
/// as [`ScoreError::InvalidAnswers`]) are collected over the whole file,
/// the first `max_listed` located; if there are any, the result is
/// [`ReadError::Invalid`]. Returns the number of respondents read.
pub fn for_each_batch(
    path: &Path,
    instrument: &Instrument,
    batch: usize,
    max_listed: usize,
    mut progress: impl FnMut(u64),
    mut each: impl FnMut(&AnswerRows) -> Result<(), ScoreError>,
) -> Result<usize, ReadError> {
    let mut reader = AnswersReader::open(path, instrument)?;
    let mut rows = AnswerRows::new(instrument.items.len());
    let mut invalid = InvalidAnswers {
        file: path.to_owned(),
        count: 0,
        listed: Vec::new(),
    };
    let mut persons = 0;
    while reader.read_batch(&mut rows, batch.max(1))? > 0 {
        persons += rows.len();
        match each(&rows) {
            Ok(()) => {}
            Err(ScoreError::InvalidAnswers(violations)) => {
                invalid.count += violations.len();
                let room = max_listed.saturating_sub(invalid.listed.len());
                invalid.listed.extend(
                    violations
                        .iter()
                        .take(room)
                        .map(|v| violation_line(path, &rows, v)),
                );
            }
            Err(other) => return Err(ReadError::Score(other)),
        }
        progress(reader.byte_position());
    }
    if invalid.count > 0 {
        return Err(ReadError::Invalid(invalid));
    }
    Ok(persons)
}

/// The item scores of every respondent of an answers file, as the
/// instrument's domain plugins give them (keys, credits and reverse keying
/// applied): respondent-major, NaN where a cell is not answered (skipped,
/// not applicable); a "don't know" keeps the score its kind gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemScoreMatrix {
    pub respondent_ids: Vec<String>,
    pub org_units: Vec<String>,
    /// Items, in instrument order.
    pub items: usize,
    pub scores: Vec<f64>,
}

impl ItemScoreMatrix {
    /// Respondents in the matrix.
    pub fn persons(&self) -> usize {
        self.respondent_ids.len()
    }

    /// The scores of respondent `r`, in instrument item order.
    pub fn row(&self, r: usize) -> &[f64] {
        &self.scores[r * self.items..(r + 1) * self.items]
    }
}

/// Reads `path` into an [`ItemScoreMatrix`] (see [`for_each_batch`] for errors).
pub fn item_scores(
    path: &Path,
    scorer: &Scorer,
    max_listed: usize,
) -> Result<ItemScoreMatrix, ReadError> {
    let instrument = scorer.instrument();
    let mut matrix = ItemScoreMatrix {
        respondent_ids: Vec::new(),
        org_units: Vec::new(),
        items: instrument.items.len(),
        scores: Vec::new(),
    };
    for_each_batch(
        path,
        instrument,
        BATCH,
        max_listed,
        |_| {},
        |rows| {
            let items = scorer.item_scores(rows)?;
            matrix
                .respondent_ids
                .extend_from_slice(&rows.respondent_ids);
            matrix.org_units.extend_from_slice(&rows.org_units);
            matrix.scores.extend(items.observed());
            Ok(())
        },
    )?;
    Ok(matrix)
}
