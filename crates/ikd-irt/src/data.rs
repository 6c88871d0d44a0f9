//! Response matrices: persons × items of category codes, with missing cells,
//! and how they are read from CSV.

use crate::IrtError;
use crate::params::ItemBank;
use std::collections::HashSet;
use std::io::Read;

/// The code of a missing answer in a response array.
pub const MISSING: u8 = u8::MAX;

/// Responses of persons to items, person-major: person `p`'s answers are
/// `cells[p·items .. (p+1)·items]`, each a category `0..K−1` or [`MISSING`].
#[derive(Clone, Debug, PartialEq)]
pub struct ResponseMatrix {
    items: Vec<String>,
    cells: Vec<u8>,
}

impl ResponseMatrix {
    /// Wraps a person-major array; item names must be unique and non-empty.
    pub fn new(items: Vec<String>, cells: Vec<u8>) -> Result<Self, IrtError> {
        check_names(&items)?;
        if !cells.len().is_multiple_of(items.len()) {
            return Err(IrtError::Layout(format!(
                "{} cells do not fill rows of {} items",
                cells.len(),
                items.len()
            )));
        }
        Ok(ResponseMatrix { items, cells })
    }

    /// Builds a matrix from rows of optional categories (`None` = missing).
    pub fn from_rows<R>(items: Vec<String>, rows: R) -> Result<Self, IrtError>
    where
        R: IntoIterator,
        R::Item: AsRef<[Option<u8>]>,
    {
        let mut cells = Vec::new();
        for (p, row) in rows.into_iter().enumerate() {
            let row = row.as_ref();
            if row.len() != items.len() {
                return Err(IrtError::Layout(format!(
                    "person {p} has {} answers for {} items",
                    row.len(),
                    items.len()
                )));
            }
            for (i, cell) in row.iter().enumerate() {
                cells.push(match *cell {
                    None => MISSING,
                    Some(MISSING) => {
                        return Err(IrtError::Layout(format!(
                            "person {p}, item '{}': category {MISSING} is reserved for missing",
                            items[i]
                        )));
                    }
                    Some(v) => v,
                });
            }
        }
        Self::new(items, cells)
    }

    /// Reads a CSV whose header names the items and whose rows hold one
    /// person each: a category (integer 0..=254) per cell, or an empty cell
    /// (or `NA`) for a missing answer.
    pub fn read_csv<R: Read>(reader: R) -> Result<Self, IrtError> {
        read(reader, None)
    }

    /// Like [`read_csv`](Self::read_csv), for scoring with `bank`: the columns
    /// must be exactly the bank's items (in any order; the matrix follows the
    /// bank's order), and each answer must be a category of its item.
    pub fn read_csv_for<R: Read>(reader: R, bank: &ItemBank) -> Result<Self, IrtError> {
        read(reader, Some(bank))
    }

    pub fn items(&self) -> &[String] {
        &self.items
    }

    pub fn n_items(&self) -> usize {
        self.items.len()
    }

    pub fn persons(&self) -> usize {
        self.cells.len() / self.items.len()
    }

    /// Person `p`'s answers, one per item.
    pub fn person(&self, p: usize) -> &[u8] {
        let n = self.items.len();
        &self.cells[p * n..(p + 1) * n]
    }

    /// All answers, person-major.
    pub fn cells(&self) -> &[u8] {
        &self.cells
    }

    /// Per item, the number of categories the data imply: the largest
    /// observed category + 1 (0 for an item nobody answered).
    pub fn categories(&self) -> Vec<usize> {
        let n = self.items.len();
        let mut k = vec![0usize; n];
        for row in self.cells.chunks_exact(n) {
            for (slot, &v) in k.iter_mut().zip(row) {
                if v != MISSING {
                    *slot = (*slot).max(v as usize + 1);
                }
            }
        }
        k
    }
}

fn check_names(items: &[String]) -> Result<(), IrtError> {
    if items.is_empty() {
        return Err(IrtError::Layout("no items".into()));
    }
    let mut seen = HashSet::new();
    for (column, name) in items.iter().enumerate() {
        if name.is_empty() {
            return Err(IrtError::Layout(format!(
                "column {} has an empty item name",
                column + 1
            )));
        }
        if !seen.insert(name.as_str()) {
            return Err(IrtError::Layout(format!(
                "item '{name}' appears twice in the header (column {})",
                column + 1
            )));
        }
    }
    Ok(())
}

/// Parses one cell: `None` for missing, else the category.
fn parse_cell(raw: &[u8]) -> Result<Option<u8>, ()> {
    if raw.is_empty() || raw == b"NA" {
        return Ok(None);
    }
    if raw.len() > 3 || !raw.iter().all(u8::is_ascii_digit) {
        return Err(());
    }
    let v = raw
        .iter()
        .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
    if v >= u32::from(MISSING) {
        return Err(());
    }
    Ok(Some(v as u8))
}

fn read<R: Read>(reader: R, bank: Option<&ItemBank>) -> Result<ResponseMatrix, IrtError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let header: Vec<String> = csv.headers()?.iter().map(str::to_owned).collect();
    check_names(&header)?;
    // Column j of the file goes to column target[j] of the matrix.
    let (items, target, max_category): (Vec<String>, Vec<usize>, Vec<usize>) = match bank {
        None => (
            header.clone(),
            (0..header.len()).collect(),
            vec![usize::from(MISSING) - 1; header.len()],
        ),
        Some(bank) => {
            let mut target = Vec::with_capacity(header.len());
            let mut max = Vec::with_capacity(header.len());
            for (j, name) in header.iter().enumerate() {
                let Some((index, item)) = bank.get(name) else {
                    return Err(IrtError::Layout(format!(
                        "column {} '{name}' is not an item of the parameter set",
                        j + 1
                    )));
                };
                target.push(index);
                max.push(item.categories() - 1);
            }
            let absent: Vec<&str> = bank
                .items()
                .iter()
                .map(|i| i.name())
                .filter(|n| !header.iter().any(|h| h == n))
                .collect();
            if !absent.is_empty() {
                return Err(IrtError::Layout(format!(
                    "the data have no column for item(s) {}",
                    absent.join(", ")
                )));
            }
            let names = bank.items().iter().map(|i| i.name().to_owned()).collect();
            (names, target, max)
        }
    };
    let n = items.len();
    let mut cells = Vec::new();
    let mut record = csv::ByteRecord::new();
    while csv.read_byte_record(&mut record)? {
        let line = record.position().map_or(0, |p| p.line());
        let start = cells.len();
        cells.resize(start + n, MISSING);
        for (j, raw) in record.iter().enumerate() {
            let cell_error = |reason: String| IrtError::Cell {
                line,
                column: j + 1,
                what: "item",
                name: header[j].clone(),
                reason,
            };
            let value = parse_cell(raw).map_err(|()| {
                cell_error(format!(
                    "'{}' is not a category: expected an integer 0..=254, or an empty cell for a missing answer",
                    String::from_utf8_lossy(raw)
                ))
            })?;
            if let Some(v) = value {
                if usize::from(v) > max_category[j] {
                    return Err(cell_error(format!(
                        "category {v} is outside this item's categories 0..={}",
                        max_category[j]
                    )));
                }
                cells[start + target[j]] = v;
            }
        }
    }
    ResponseMatrix::new(items, cells)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Item, Model};

    #[test]
    fn reads_categories_and_missing_cells() {
        let csv = "a,b,c\n0,1,\n2, ,1\nNA,0,0\n";
        let m = ResponseMatrix::read_csv(csv.as_bytes()).unwrap();
        assert_eq!(m.items(), ["a", "b", "c"]);
        assert_eq!(m.persons(), 3);
        assert_eq!(m.person(0), [0, 1, MISSING]);
        assert_eq!(m.person(1), [2, MISSING, 1]);
        assert_eq!(m.person(2), [MISSING, 0, 0]);
        assert_eq!(m.categories(), vec![3, 2, 2]);
    }

    #[test]
    fn errors_name_the_line_the_item_and_the_value() {
        let csv = "a,b\n0,1\n1,x2\n";
        let err = ResponseMatrix::read_csv(csv.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("column 2"), "{err}");
        assert!(err.contains("'b'"), "{err}");
        assert!(err.contains("'x2'"), "{err}");
        for bad in ["-1", "255", "1.0", "1000"] {
            let csv = format!("a\n{bad}\n");
            assert!(ResponseMatrix::read_csv(csv.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn duplicate_items_are_refused() {
        let err = ResponseMatrix::read_csv("a,b,a\n0,0,0\n".as_bytes()).unwrap_err();
        assert!(err.to_string().contains("'a' appears twice"), "{err}");
    }

    #[test]
    fn reading_for_a_bank_reorders_and_checks_categories() {
        let bank = ItemBank::new(vec![
            Item::new("x", Model::TwoPl, 1.0, vec![0.0]).unwrap(),
            Item::new("y", Model::Graded, 1.0, vec![1.0, 0.0]).unwrap(),
        ])
        .unwrap();
        let m = ResponseMatrix::read_csv_for("y,x\n2,1\n,0\n".as_bytes(), &bank).unwrap();
        assert_eq!(m.items(), ["x", "y"]);
        assert_eq!(m.person(0), [1, 2]);
        assert_eq!(m.person(1), [0, MISSING]);
        let err = ResponseMatrix::read_csv_for("y,x\n3,1\n".as_bytes(), &bank).unwrap_err();
        assert!(
            err.to_string()
                .contains("line 2, column 1 (item 'y'): category 3"),
            "{err}"
        );
        let err = ResponseMatrix::read_csv_for("x\n1\n".as_bytes(), &bank).unwrap_err();
        assert!(err.to_string().contains("no column for item(s) y"), "{err}");
        let err = ResponseMatrix::read_csv_for("x,y,z\n1,1,1\n".as_bytes(), &bank).unwrap_err();
        assert!(err.to_string().contains("'z' is not an item"), "{err}");
    }

    #[test]
    fn from_rows_marks_missing() {
        let m = ResponseMatrix::from_rows(
            vec!["a".into(), "b".into()],
            [[Some(1), None], [None, Some(0)]],
        )
        .unwrap();
        assert_eq!(m.cells(), [1, MISSING, MISSING, 0]);
    }
}
