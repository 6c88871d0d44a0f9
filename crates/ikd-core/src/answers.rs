//! Answers: the in-memory batch the pipeline scores, and the answers CSV.
//!
//! Answers CSV: a header `respondent_id,org_unit,<item id>...` (item columns in
//! any order, every item of the instrument present), optionally a
//! `duration_seconds` column; one row per respondent. An empty cell is
//! "skipped", `NA` is "not applicable"; every other cell is passed to the
//! item's kind unchanged (see `docs/answers-format.md`).

use crate::instrument::Instrument;
use crate::quote::{first_control, grouped, quote};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Who answered: everything about a respondent but the answers.
#[derive(Clone, Copy, Debug)]
pub struct Respondent<'a> {
    pub id: &'a str,
    pub org_unit: &'a str,
    /// Completion time in seconds, when known.
    pub duration: Option<f64>,
    /// Where the respondent came from (e.g. the CSV line), for error messages.
    pub origin: u64,
}

/// Raw answers of a batch of respondents, cells in instrument item order.
#[derive(Clone, Debug, Default)]
pub struct AnswerRows {
    pub respondent_ids: Vec<String>,
    pub org_units: Vec<String>,
    /// Completion time in seconds, when known.
    pub durations: Vec<Option<f64>>,
    /// Where each respondent came from (e.g. the CSV line), for error messages.
    pub origins: Vec<u64>,
    items: usize,
    data: Vec<u8>,
    /// `len = rows × items + 1`.
    offsets: Vec<u32>,
}

impl AnswerRows {
    pub fn new(items: usize) -> Self {
        AnswerRows {
            items,
            offsets: vec![0],
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.respondent_ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.respondent_ids.is_empty()
    }

    pub fn items(&self) -> usize {
        self.items
    }

    /// Adds a respondent; `cells` yields exactly one answer per item, in instrument order.
    pub fn push<'a>(&mut self, who: Respondent<'_>, cells: impl IntoIterator<Item = &'a str>) {
        let before = self.offsets.len();
        for cell in cells {
            self.data.extend_from_slice(cell.as_bytes());
            self.offsets.push(self.data.len() as u32);
        }
        assert_eq!(
            self.offsets.len() - before,
            self.items,
            "a respondent needs one cell per item"
        );
        self.push_respondent(who);
    }

    /// Adds a respondent whose cells are slices of one buffer: cell `i` (in
    /// instrument order) is `source[bounds(columns[i])]`.
    pub fn push_from(
        &mut self,
        who: Respondent<'_>,
        source: &[u8],
        bounds: impl Fn(usize) -> (usize, usize),
        columns: &[usize],
    ) {
        assert_eq!(
            columns.len(),
            self.items,
            "a respondent needs one cell per item"
        );
        append_cells(&mut self.data, &mut self.offsets, source, bounds, columns);
        self.push_respondent(who);
    }

    fn push_respondent(&mut self, who: Respondent<'_>) {
        self.respondent_ids.push(who.id.to_owned());
        self.org_units.push(who.org_unit.to_owned());
        self.durations.push(who.duration);
        self.origins.push(who.origin);
    }

    /// The cells `items` of respondent `r`, appended to `data` and `offsets`.
    pub fn append_row(
        &self,
        r: usize,
        items: &[usize],
        data: &mut Vec<u8>,
        offsets: &mut Vec<u32>,
    ) {
        let row = &self.offsets[r * self.items..=(r + 1) * self.items];
        append_cells(
            data,
            offsets,
            &self.data,
            |i| (row[i] as usize, row[i + 1] as usize),
            items,
        );
    }

    /// The raw answer of respondent `r` to item `i`.
    pub fn cell(&self, r: usize, i: usize) -> &str {
        let k = r * self.items + i;
        let bytes = &self.data[self.offsets[k] as usize..self.offsets[k + 1] as usize];
        // Cells are pushed as `&str`, so they are UTF-8.
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    /// Who respondent `r` is.
    pub fn respondent(&self, r: usize) -> Respondent<'_> {
        Respondent {
            id: &self.respondent_ids[r],
            org_unit: &self.org_units[r],
            duration: self.durations[r],
            origin: self.origins[r],
        }
    }

    /// Adds respondent `r` of `other` (a batch of the same instrument), answers and all.
    pub fn push_row(&mut self, other: &AnswerRows, r: usize) {
        self.push(
            other.respondent(r),
            (0..other.items).map(|i| other.cell(r, i)),
        );
    }

    /// Empties the batch, keeping its buffers.
    pub fn clear(&mut self) {
        self.respondent_ids.clear();
        self.org_units.clear();
        self.durations.clear();
        self.origins.clear();
        self.data.clear();
        self.offsets.truncate(1);
    }
}

/// Appends cells `columns` of `source` (cell `c` is `source[bounds(c)]`) to
/// `data`, pushing each cell's end to `offsets`. A run of consecutive columns
/// lies contiguous in `source`, so it is copied at once: the items of a domain
/// and the columns of a CSV written in instrument order usually are such runs.
fn append_cells(
    data: &mut Vec<u8>,
    offsets: &mut Vec<u32>,
    source: &[u8],
    bounds: impl Fn(usize) -> (usize, usize),
    columns: &[usize],
) {
    let mut k = 0;
    while k < columns.len() {
        let mut end = k + 1;
        while end < columns.len() && columns[end] == columns[end - 1] + 1 {
            end += 1;
        }
        let start = bounds(columns[k]).0;
        let base = data.len();
        data.extend_from_slice(&source[start..bounds(columns[end - 1]).1]);
        offsets.extend(
            columns[k..end]
                .iter()
                .map(|&c| (base + bounds(c).1 - start) as u32),
        );
        k = end;
    }
}

/// A problem in an answers file, naming the file, line and column or item.
#[derive(Debug, thiserror::Error)]
pub enum AnswersError {
    #[error("{file}: {source}")]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: header: {message}")]
    Header { file: PathBuf, message: String },
    #[error("{file}:{line}: {message}")]
    Row {
        file: PathBuf,
        line: u64,
        message: String,
    },
}

/// Column roles in an answers CSV.
const ID_COLUMN: &str = "respondent_id";
const ORG_COLUMN: &str = "org_unit";
const DURATION_COLUMN: &str = "duration_seconds";

/// Longest header accepted. The CSV parser keeps a whole record in memory: a
/// 1 GB header line took 8.4 GB and came back as a 1 GB error.
pub const MAX_HEADER_BYTES: usize = 1 << 20;
/// Longest line of a respondent row accepted (60 items of 4 KiB answers fit
/// many times over).
pub const MAX_ROW_LINE_BYTES: usize = 16 << 20;
/// Header problems listed before the rest are only counted.
const MAX_HEADER_PROBLEMS: usize = 10;

/// The input of the CSV parser, failing as soon as the header grows past
/// [`MAX_HEADER_BYTES`] (counted whole: a quoted name may hold newlines) or,
/// after it, a line past [`MAX_ROW_LINE_BYTES`], so an oversized record is
/// refused without being read whole.
struct LineLimit<R> {
    inner: R,
    /// Bytes allowed in the current line (or the header).
    limit: usize,
    /// Bytes of the current line (or the header) read so far.
    current: usize,
    /// Whether a newline starts a new count (rows) or not (the header).
    per_line: bool,
    /// 1-based number of the current line.
    line: u64,
    /// The line that went past the limit, once one did.
    overlong: Option<u64>,
}

impl<R: Read> LineLimit<R> {
    fn new(inner: R) -> Self {
        LineLimit {
            inner,
            limit: MAX_HEADER_BYTES,
            current: 0,
            per_line: false,
            line: 1,
            overlong: None,
        }
    }

    /// The header is read: from now on each line has the row limit. What the
    /// parser read ahead counts towards the header, which only errs on the
    /// side of allowing a few more bytes.
    fn rows(&mut self) {
        self.limit = MAX_ROW_LINE_BYTES;
        self.current = 0;
        self.per_line = true;
    }

    fn check(&mut self) -> std::io::Result<()> {
        if self.current <= self.limit {
            return Ok(());
        }
        self.overlong = Some(self.line);
        let what = if self.per_line { "line" } else { "header" };
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{what} longer than {} bytes", self.limit),
        ))
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut rest = &buf[..n];
        while let Some(k) = rest.iter().position(|&b| b == b'\n') {
            self.current += k;
            self.check()?;
            self.line += 1;
            if self.per_line {
                self.current = 0;
            } else {
                self.current += 1;
            }
            rest = &rest[k + 1..];
        }
        self.current += rest.len();
        self.check()?;
        Ok(n)
    }
}

/// Reads an answers CSV in batches, checking it against the instrument.
pub struct AnswersReader<R: Read> {
    file: PathBuf,
    reader: csv::Reader<LineLimit<R>>,
    record: csv::StringRecord,
    /// For each instrument item, the CSV column holding it.
    item_columns: Vec<usize>,
    id_column: usize,
    org_column: usize,
    duration_column: Option<usize>,
    /// Respondent id hash → line first seen, to refuse duplicates.
    seen: HashMap<u64, u64>,
}

impl AnswersReader<std::fs::File> {
    pub fn open(path: &Path, instrument: &Instrument) -> Result<Self, AnswersError> {
        let file = std::fs::File::open(path).map_err(|source| AnswersError::Io {
            file: path.to_owned(),
            source,
        })?;
        AnswersReader::new(file, path, instrument)
    }
}

impl<R: Read> AnswersReader<R> {
    /// Reads and checks the header; `file` names the source in errors.
    pub fn new(input: R, file: &Path, instrument: &Instrument) -> Result<Self, AnswersError> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(LineLimit::new(input));
        let header_error = |message: String| AnswersError::Header {
            file: file.to_owned(),
            message,
        };
        let header = reader
            .headers()
            .map_err(|e| header_error(e.to_string()))?
            .clone();
        reader.get_mut().rows();
        let mut columns: HashMap<&str, usize> = HashMap::new();
        let mut problems = Vec::new();
        let mut more = 0usize;
        let mut problem = |text: String| {
            if problems.len() < MAX_HEADER_PROBLEMS {
                problems.push(text);
            } else {
                more += 1;
            }
        };
        let known = |name: &str| {
            [ID_COLUMN, ORG_COLUMN, DURATION_COLUMN].contains(&name)
                || instrument.items.iter().any(|i| i.id == name)
        };
        for (i, name) in header.iter().enumerate() {
            if columns.insert(name, i).is_some() {
                problem(format!("column {} {} appears twice", i + 1, quote(name)));
            } else if !known(name) {
                problem(format!(
                    "column {} {} is not an item of instrument {} {} (nor {ID_COLUMN}, {ORG_COLUMN} or {DURATION_COLUMN})",
                    i + 1,
                    quote(name),
                    instrument.id,
                    instrument.version
                ));
            }
        }
        let missing: Vec<&str> = [ID_COLUMN, ORG_COLUMN]
            .into_iter()
            .chain(instrument.items.iter().map(|i| i.id.as_str()))
            .filter(|name| !columns.contains_key(name))
            .collect();
        if !missing.is_empty() {
            problem(format!("missing column(s): {}", missing.join(", ")));
        }
        if more > 0 {
            problems.push(format!("… and {} more", grouped(more)));
        }
        if !problems.is_empty() {
            return Err(header_error(problems.join("; ")));
        }
        Ok(AnswersReader {
            file: file.to_owned(),
            item_columns: instrument
                .items
                .iter()
                .map(|i| columns[i.id.as_str()])
                .collect(),
            id_column: columns[ID_COLUMN],
            org_column: columns[ORG_COLUMN],
            duration_column: columns.get(DURATION_COLUMN).copied(),
            reader,
            record: csv::StringRecord::new(),
            seen: HashMap::new(),
        })
    }

    fn row_error(&self, line: u64, message: String) -> AnswersError {
        AnswersError::Row {
            file: self.file.clone(),
            line,
            message,
        }
    }

    /// Bytes of the input consumed so far (for progress bars).
    pub fn byte_position(&self) -> u64 {
        self.reader.position().byte()
    }

    /// Fills `rows` with up to `max` respondents; returns how many were read (0 at the end).
    pub fn read_batch(&mut self, rows: &mut AnswerRows, max: usize) -> Result<usize, AnswersError> {
        rows.clear();
        while rows.len() < max {
            let more = self.reader.read_record(&mut self.record).map_err(|e| {
                let line = self
                    .reader
                    .get_ref()
                    .overlong
                    .or(e.position().map(|p| p.line()))
                    .unwrap_or(0);
                self.row_error(line, e.to_string())
            })?;
            if !more {
                break;
            }
            let line = self.record.position().map(|p| p.line()).unwrap_or(0);
            let id = self.record[self.id_column].trim();
            if id.is_empty() {
                return Err(self.row_error(line, format!("{ID_COLUMN} is empty")));
            }
            for (column, name) in [(self.id_column, ID_COLUMN), (self.org_column, ORG_COLUMN)] {
                if let Some(shown) = first_control(self.record[column].trim()) {
                    return Err(self.row_error(
                        line,
                        format!(
                            "column {} ({name}) contains a control character ({shown})",
                            column + 1
                        ),
                    ));
                }
            }
            if let Some(first) = self.seen.insert(id_hash(id), line) {
                return Err(self.row_error(
                    line,
                    format!(
                        "duplicate {ID_COLUMN} {} (first at line {first})",
                        quote(id)
                    ),
                ));
            }
            let duration = match self.duration_column.map(|c| self.record[c].trim()) {
                None | Some("") => None,
                Some(text) => match text.parse::<f64>() {
                    Ok(d) if d.is_finite() && d >= 0.0 => Some(d),
                    _ => {
                        return Err(self.row_error(
                            line,
                            format!(
                                "{DURATION_COLUMN} {} is not a non-negative number of seconds",
                                quote(text)
                            ),
                        ));
                    }
                },
            };
            let record = self.record.as_byte_record();
            rows.push_from(
                Respondent {
                    id,
                    org_unit: self.record[self.org_column].trim(),
                    duration,
                    origin: line,
                },
                record.as_slice(),
                |c| {
                    record
                        .range(c)
                        .map(|r| (r.start, r.end))
                        .unwrap_or_default()
                },
                &self.item_columns,
            );
        }
        Ok(rows.len())
    }
}

/// Respondent ids are remembered as 64-bit hashes, not strings, so that the
/// duplicate check costs 16 bytes per respondent; a false duplicate would need
/// a hash collision (about 3·10⁻⁸ for a million respondents).
fn id_hash(id: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(id)
}

/// Writes answers as an answers CSV (with `duration_seconds`).
pub struct AnswersWriter<W: std::io::Write> {
    csv: csv::Writer<W>,
}

impl<W: std::io::Write> AnswersWriter<W> {
    pub fn new(out: W, instrument: &Instrument) -> std::io::Result<Self> {
        let mut csv = csv::Writer::from_writer(out);
        csv.write_field(ID_COLUMN)?;
        csv.write_field(ORG_COLUMN)?;
        for item in &instrument.items {
            csv.write_field(&item.id)?;
        }
        csv.write_field(DURATION_COLUMN)?;
        csv.write_record(None::<&[u8]>)?;
        Ok(AnswersWriter { csv })
    }

    pub fn write(&mut self, rows: &AnswerRows) -> std::io::Result<()> {
        for r in 0..rows.len() {
            self.csv.write_field(&rows.respondent_ids[r])?;
            self.csv.write_field(&rows.org_units[r])?;
            for i in 0..rows.items() {
                self.csv.write_field(rows.cell(r, i))?;
            }
            self.csv
                .write_field(rows.durations[r].map(|d| d.to_string()).unwrap_or_default())?;
            self.csv.write_record(None::<&[u8]>)?;
        }
        Ok(())
    }

    pub fn finish(self) -> std::io::Result<W> {
        self.csv.into_inner().map_err(|e| e.into_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `input` through a [`LineLimit`], switched to rows at once when
    /// `rows`; returns the bytes read or the error, and the overlong line.
    fn read_all(input: &[u8], rows: bool) -> (std::io::Result<usize>, Option<u64>) {
        let mut limited = LineLimit::new(input);
        if rows {
            limited.rows();
        }
        let mut buf = [0u8; 8192];
        let mut total = 0;
        loop {
            match limited.read(&mut buf) {
                Ok(0) => return (Ok(total), limited.overlong),
                Ok(n) => total += n,
                Err(e) => return (Err(e), limited.overlong),
            }
        }
    }

    #[test]
    fn the_header_is_limited_as_a_whole_and_rows_line_by_line() {
        // A header of short physical lines (a quoted name with newlines) still counts whole.
        let header = "a\n".repeat(MAX_HEADER_BYTES / 2 + 1);
        let (result, overlong) = read_all(header.as_bytes(), false);
        assert!(
            result
                .unwrap_err()
                .to_string()
                .contains("header longer than")
        );
        assert!(overlong.is_some());
        // Rows: many lines, each under the limit, pass; one over it fails at its line.
        let mut rows = "h\n".to_owned();
        rows.push_str(&"x".repeat(1000).repeat(3));
        rows.push('\n');
        let (result, _) = read_all(rows.as_bytes(), true);
        assert_eq!(result.unwrap(), rows.len());
        let mut long = "h\nshort\n".to_owned();
        long.push_str(&"x".repeat(MAX_ROW_LINE_BYTES + 1));
        let (result, overlong) = read_all(long.as_bytes(), true);
        assert!(result.unwrap_err().to_string().contains("line longer than"));
        assert_eq!(overlong, Some(3));
    }
}
