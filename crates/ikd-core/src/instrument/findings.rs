//! Collects every problem found in one file, so a user fixes them in one pass
//! instead of one per run.

use super::spans::LineIndex;
use super::{Diagnostic, InstrumentError, Location, locate};
use std::ops::Range;
use std::path::Path;

pub(super) struct Findings<'a> {
    text: &'a str,
    file: &'a Path,
    lines: LineIndex<'a>,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> Findings<'a> {
    pub(super) fn new(text: &'a str, file: &'a Path) -> Self {
        Self {
            text,
            file,
            lines: LineIndex::new(text),
            diagnostics: Vec::new(),
        }
    }

    /// Where a span of the file starts.
    pub(super) fn locate(&self, span: &Range<usize>) -> Location {
        self.lines.start_of(span)
    }

    /// Records a problem at a known place (or none, for the file as a whole).
    pub(super) fn report(
        &mut self,
        location: Option<Location>,
        subject: &str,
        field: &str,
        message: impl Into<String>,
    ) {
        self.diagnostics.push(Diagnostic::new(
            self.file, location, subject, field, message,
        ));
    }

    /// Records a problem at the start of a span of the file.
    pub(super) fn report_at(
        &mut self,
        span: &Range<usize>,
        subject: &str,
        field: &str,
        message: impl Into<String>,
    ) {
        let location = self.locate(span);
        self.report(Some(location), subject, field, message);
    }

    /// Records a TOML syntax or type error, naming the item and field it falls in.
    pub(super) fn report_toml_error(&mut self, error: &toml::de::Error) {
        let span = error.span();
        let location = span.as_ref().map(|span| self.locate(span));
        let (subject, field) = span
            .map(|span| locate::subject_at(self.text, span.start))
            .unwrap_or_default();
        // serde quotes names with backticks; every other message uses single quotes.
        let message = error.message().replace('`', "'");
        self.report(location, &subject, &field, message);
    }

    /// `value` when nothing was found, otherwise every problem found.
    pub(super) fn into_result<T>(self, value: T) -> Result<T, InstrumentError> {
        if self.diagnostics.is_empty() {
            Ok(value)
        } else {
            Err(self.into_error())
        }
    }

    /// Every problem found, as the error of this file, in the order of the file
    /// (problems of the file as a whole first), the order a user fixes them in.
    pub(super) fn into_error(mut self) -> InstrumentError {
        self.diagnostics
            .sort_by_key(|diagnostic| diagnostic.location.map(|at| (at.line, at.column)));
        InstrumentError {
            file: self.file.to_path_buf(),
            diagnostics: self.diagnostics,
        }
    }
}
