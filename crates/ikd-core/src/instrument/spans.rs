//! Byte offsets → 1-based line and column, the one way every diagnostic gets
//! its position.

use super::Location;
use std::ops::Range;

/// Line starts of one text, so that many offsets can be placed cheaply.
pub(super) struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Self { text, line_starts }
    }

    /// The line and column (counted in characters, as editors do) of a byte offset.
    /// Offsets past the end land just after the last character.
    pub(super) fn location(&self, offset: usize) -> Location {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = self
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let column = match self.text.get(line_start..offset) {
            Some(prefix) => prefix.chars().count(),
            // Not on a character boundary (cannot come from the TOML parser): count bytes.
            None => offset - line_start,
        };
        Location {
            line: line.max(1),
            column: column + 1,
        }
    }

    /// Where a span starts.
    pub(super) fn start_of(&self, span: &Range<usize>) -> Location {
        self.location(span.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_one_based_lines_and_character_columns() {
        let index = LineIndex::new("ab\nçd = 1\n\nx");
        assert_eq!(index.location(0), Location { line: 1, column: 1 });
        assert_eq!(index.location(2), Location { line: 1, column: 3 });
        assert_eq!(index.location(3), Location { line: 2, column: 1 });
        // 'ç' is two bytes but one column.
        assert_eq!(index.location(5), Location { line: 2, column: 2 });
        assert_eq!(index.location(11), Location { line: 3, column: 1 });
        assert_eq!(index.location(12), Location { line: 4, column: 1 });
        assert_eq!(index.location(999), Location { line: 4, column: 2 });
    }
}
