//! Item parameter sets (one per domain) and PARAMS.csv:
//! `item,model,a,d1..d{M},b1..b{M}`, one row per item in mirt's
//! slope-intercept convention, then the IRT metric (see [`Item::b`]). Rows of
//! items with fewer categories leave their trailing cells empty. On reading,
//! the `b` columns are ignored: they are derived from `a` and `d`.
//!
//! A bank with 3PL items has one more column after the `b` columns: `g`, the
//! lower asymptote (on the probability scale), filled for the 3PL items and
//! empty for the others. It is written only when the bank has a 3PL item,
//! so files without 3PL items are unchanged and files without the column
//! read as before.
//!
//! Optionally the standard errors follow: `se_a,se_d1..se_d{M}`, and
//! `se_g` when there is a `g` column ([`ItemBank::write_csv_with_errors`]).
//! Files without them read as before; [`ItemBank::read_csv`] ignores them,
//! [`ItemBank::read_csv_with_errors`] returns them.

use crate::IrtError;
use crate::model::{Item, Model};
use crate::stderr::ItemErrors;
use std::collections::HashMap;
use std::io::{Read, Write};

/// The calibrated items of one scale (one domain): what scoring needs.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemBank {
    items: Vec<Item>,
    index: HashMap<String, usize>,
}

impl ItemBank {
    /// Checks that names are unique and that all Rasch items share one slope.
    pub fn new(items: Vec<Item>) -> Result<Self, IrtError> {
        if items.is_empty() {
            return Err(IrtError::Layout(
                "an item bank needs at least one item".into(),
            ));
        }
        let mut index = HashMap::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if index.insert(item.name().to_owned(), i).is_some() {
                return Err(IrtError::InvalidItem {
                    item: item.name().to_owned(),
                    reason: "appears twice".into(),
                });
            }
        }
        let mut rasch = items.iter().filter(|i| i.model() == Model::Rasch);
        if let Some(first) = rasch.next()
            && let Some(other) = rasch.find(|i| i.a() != first.a())
        {
            return Err(IrtError::InvalidItem {
                item: other.name().to_owned(),
                reason: format!(
                    "Rasch items share one slope, but a = {} here and {} for '{}'",
                    other.a(),
                    first.a(),
                    first.name()
                ),
            });
        }
        Ok(ItemBank { items, index })
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The position and parameters of an item, by name.
    pub fn get(&self, name: &str) -> Option<(usize, &Item)> {
        self.index.get(name).map(|&i| (i, &self.items[i]))
    }

    /// The largest K over the items.
    pub fn max_categories(&self) -> usize {
        self.items.iter().map(Item::categories).max().unwrap_or(0)
    }

    /// The slope shared by the Rasch items, if any. mirt's `itemtype='Rasch'`
    /// reports the same model with slope 1 and latent variance `a²`.
    pub fn common_slope(&self) -> Option<f64> {
        self.items
            .iter()
            .find(|i| i.model() == Model::Rasch)
            .map(Item::a)
    }

    /// Writes PARAMS.csv. Numbers use the shortest representation that reads
    /// back to the same `f64`, so a write–read round trip is exact.
    pub fn write_csv<W: Write>(&self, writer: W) -> Result<(), IrtError> {
        self.write_table(None, writer)
    }

    /// Writes PARAMS.csv with the standard errors (one [`ItemErrors`] per
    /// item, in the bank's order, e.g. from [`crate::standard_errors`]) in
    /// the columns `se_a,se_d1..se_d{M}` after the `b` columns.
    pub fn write_csv_with_errors<W: Write>(
        &self,
        errors: &[ItemErrors],
        writer: W,
    ) -> Result<(), IrtError> {
        if errors.len() != self.len() {
            return Err(IrtError::Layout(format!(
                "{} standard errors for {} items",
                errors.len(),
                self.len()
            )));
        }
        if let Some((item, _)) = self
            .items
            .iter()
            .zip(errors)
            .find(|(item, e)| item.g().is_some() != e.g.is_some())
        {
            return Err(IrtError::InvalidItem {
                item: item.name().to_owned(),
                reason: "a standard error of g is needed for a 3pl item and only for one".into(),
            });
        }
        if let Some((item, e)) = self
            .items
            .iter()
            .zip(errors)
            .find(|(item, e)| item.d().len() != e.d.len())
        {
            return Err(IrtError::InvalidItem {
                item: item.name().to_owned(),
                reason: format!(
                    "{} intercepts but {} standard errors of intercepts",
                    item.d().len(),
                    e.d.len()
                ),
            });
        }
        self.write_table(Some(errors), writer)
    }

    fn write_table<W: Write>(
        &self,
        errors: Option<&[ItemErrors]>,
        writer: W,
    ) -> Result<(), IrtError> {
        let m = self.max_categories() - 1;
        let has_g = self.items.iter().any(|i| i.g().is_some());
        let mut csv = csv::Writer::from_writer(writer);
        let mut header = vec!["item".to_owned(), "model".into(), "a".into()];
        header.extend((1..=m).map(|k| format!("d{k}")));
        header.extend((1..=m).map(|k| format!("b{k}")));
        if has_g {
            header.push("g".into());
        }
        if errors.is_some() {
            header.push("se_a".into());
            header.extend((1..=m).map(|k| format!("se_d{k}")));
            if has_g {
                header.push("se_g".into());
            }
        }
        csv.write_record(&header)?;
        for (i, item) in self.items.iter().enumerate() {
            let mut row = vec![
                item.name().to_owned(),
                item.model().name().into(),
                item.a().to_string(),
            ];
            let pad = m - item.d().len();
            row.extend(item.d().iter().map(f64::to_string));
            row.extend(std::iter::repeat_n(String::new(), pad));
            row.extend(item.b().iter().map(f64::to_string));
            row.extend(std::iter::repeat_n(String::new(), pad));
            if has_g {
                row.push(item.g().map(|g| g.to_string()).unwrap_or_default());
            }
            if let Some(errors) = errors {
                row.push(errors[i].a.to_string());
                row.extend(errors[i].d.iter().map(f64::to_string));
                row.extend(std::iter::repeat_n(String::new(), pad));
                if has_g {
                    row.push(errors[i].g.map(|g| g.to_string()).unwrap_or_default());
                }
            }
            csv.write_record(&row)?;
        }
        csv.flush()?;
        Ok(())
    }

    /// Reads PARAMS.csv; every error names the line and column (or item).
    /// Standard error columns, if any, are checked and then ignored.
    pub fn read_csv<R: Read>(reader: R) -> Result<Self, IrtError> {
        Ok(Self::read_csv_with_errors(reader)?.0)
    }

    /// Reads PARAMS.csv and its standard error columns (`None` for a file
    /// without them). Every item needs `se_a` and one `se_d` per intercept.
    pub fn read_csv_with_errors<R: Read>(
        reader: R,
    ) -> Result<(Self, Option<Vec<ItemErrors>>), IrtError> {
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .from_reader(reader);
        let header: Vec<String> = csv.headers()?.iter().map(str::to_owned).collect();
        if header.len() < 4 || header[0] != "item" || header[1] != "model" || header[2] != "a" {
            return Err(IrtError::Layout(format!(
                "PARAMS.csv header must start with item,model,a,d1 (found '{}')",
                header.join(",")
            )));
        }
        let d_count = header[3..]
            .iter()
            .enumerate()
            .take_while(|(k, name)| **name == format!("d{}", k + 1))
            .count();
        if d_count == 0 {
            return Err(IrtError::Layout("PARAMS.csv has no d1 column".into()));
        }
        let b_count = header[3 + d_count..]
            .iter()
            .enumerate()
            .take_while(|(k, name)| **name == format!("b{}", k + 1))
            .count();
        let g_column = 3 + d_count + b_count;
        let has_g = header.get(g_column).is_some_and(|h| h == "g");
        let se_start = g_column + usize::from(has_g);
        let se_count = 1 + d_count + usize::from(has_g);
        let expected_se = std::iter::once("se_a".to_owned())
            .chain((1..=d_count).map(|k| format!("se_d{k}")))
            .chain(has_g.then(|| "se_g".to_owned()));
        let has_errors = se_start < header.len();
        if has_errors {
            for (column, expected) in (se_start..).zip(expected_se) {
                let found = header.get(column).map_or("", String::as_str);
                if found != expected {
                    return Err(IrtError::Layout(format!(
                        "PARAMS.csv column {} is '{found}'; expected {expected} \
                         (columns: item,model,a,d1..dM,b1..bM, g if there are 3pl items, \
                         optionally se_a,se_d1..se_dM and se_g)",
                        column + 1
                    )));
                }
            }
            if header.len() > se_start + se_count {
                return Err(IrtError::Layout(format!(
                    "PARAMS.csv has columns after {}: '{}'",
                    header[se_start + se_count - 1],
                    header[se_start + se_count..].join(",")
                )));
            }
        }
        let mut items = Vec::new();
        let mut errors = Vec::new();
        for record in csv.records() {
            let record = record?;
            let line = record.position().map_or(0, |p| p.line());
            let name = record.get(0).unwrap_or_default().to_owned();
            let cell_error = |column: usize, reason: String| IrtError::Cell {
                line,
                column: column + 1,
                what: "field",
                name: header[column].clone(),
                reason,
            };
            if name.is_empty() {
                return Err(cell_error(0, "empty item name".into()));
            }
            let model: Model = record[1]
                .parse()
                .map_err(|e: IrtError| cell_error(1, e.to_string()))?;
            let number = |column: usize| -> Result<f64, IrtError> {
                record[column].parse::<f64>().map_err(|_| {
                    cell_error(column, format!("'{}' is not a number", &record[column]))
                })
            };
            let a = number(2)?;
            let mut d = Vec::new();
            for column in 3..3 + d_count {
                if record[column].is_empty() {
                    if let Some(late) = (column + 1..3 + d_count).find(|&c| !record[c].is_empty()) {
                        return Err(cell_error(
                            late,
                            "intercepts must be contiguous from d1".into(),
                        ));
                    }
                    break;
                }
                d.push(number(column)?);
            }
            let g = if has_g && !record[g_column].is_empty() {
                Some(number(g_column)?)
            } else {
                None
            };
            let built = match (model, g) {
                (Model::ThreePl, Some(g)) if d.len() == 1 => {
                    Item::three_pl(name.clone(), a, d[0], g)
                }
                (Model::ThreePl, Some(_)) => {
                    return Err(cell_error(
                        4,
                        format!("a 3pl item has one intercept, not {}", d.len()),
                    ));
                }
                (Model::ThreePl, None) => {
                    return Err(cell_error(
                        if has_g { g_column } else { 1 },
                        "a 3pl item needs its lower asymptote in a g column".into(),
                    ));
                }
                (_, Some(_)) => {
                    return Err(cell_error(
                        g_column,
                        format!(
                            "only 3pl items have a lower asymptote, not {model} items; leave this cell empty"
                        ),
                    ));
                }
                (_, None) => Item::new(name.clone(), model, a, d),
            };
            let item = built.map_err(|e| IrtError::Cell {
                line,
                column: 1,
                what: "item",
                name: name.clone(),
                reason: match e {
                    IrtError::InvalidItem { reason, .. } => reason,
                    other => other.to_string(),
                },
            })?;
            if has_errors {
                let n_d = item.d().len();
                let mut se_d = Vec::with_capacity(n_d);
                for k in 0..d_count {
                    let column = se_start + 1 + k;
                    if k < n_d {
                        se_d.push(number(column)?);
                    } else if !record[column].is_empty() {
                        return Err(cell_error(
                            column,
                            format!("the item has {n_d} intercepts; leave this cell empty"),
                        ));
                    }
                }
                let se_g_column = se_start + 1 + d_count;
                let se_g = if item.g().is_some() {
                    Some(number(se_g_column)?)
                } else {
                    if has_g && !record[se_g_column].is_empty() {
                        return Err(cell_error(
                            se_g_column,
                            "the item has no g; leave this cell empty".into(),
                        ));
                    }
                    None
                };
                errors.push(ItemErrors {
                    a: number(se_start)?,
                    d: se_d,
                    g: se_g,
                });
            }
            items.push(item);
        }
        Ok((Self::new(items)?, has_errors.then_some(errors)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank() -> ItemBank {
        ItemBank::new(vec![
            Item::new("q1", Model::TwoPl, 1.25, vec![-0.3]).unwrap(),
            Item::new("q2", Model::Graded, 0.8, vec![1.5, 0.1, -2.0 / 3.0]).unwrap(),
            Item::new("q,3", Model::PartialCredit, 1.1, vec![0.2, 0.9]).unwrap(),
        ])
        .unwrap()
    }

    #[test]
    fn round_trip_is_exact() {
        let mut out = Vec::new();
        bank().write_csv(&mut out).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.starts_with("item,model,a,d1,d2,d3,b1,b2,b3\n"),
            "{text}"
        );
        assert!(text.contains("q1,2pl,1.25,-0.3,,,0.24,,\n"), "{text}");
        let back = ItemBank::read_csv(out.as_slice()).unwrap();
        assert_eq!(back, bank());
    }

    #[test]
    fn errors_name_line_and_column() {
        let text = "item,model,a,d1,d2\nq1,2pl,1,0.5,\nq2,grm,x,1,0\n";
        let err = ItemBank::read_csv(text.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("line 3, column 3"), "{err}");
        let text = "item,model,a,d1,d2\nq1,grm,1,0.5,0.7\n";
        let err = ItemBank::read_csv(text.as_bytes()).unwrap_err().to_string();
        assert!(
            err.contains("line 2") && err.contains("'q1'") && err.contains("decrease"),
            "{err}"
        );
        let text = "item,model,a,d1,d2\nq1,4pl,1,0.5,\n";
        let err = ItemBank::read_csv(text.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("unknown model '4pl'"), "{err}");
        let text = "item,model,a,d1,se\nq1,2pl,1,0.5,\n";
        assert!(ItemBank::read_csv(text.as_bytes()).is_err());
    }

    fn errors() -> Vec<ItemErrors> {
        vec![
            ItemErrors {
                a: 0.125,
                d: vec![0.1],
                g: None,
            },
            ItemErrors {
                a: 0.2,
                d: vec![0.3, 0.25, 1.0 / 3.0],
                g: None,
            },
            ItemErrors {
                a: 0.15,
                d: vec![0.2, 0.4],
                g: None,
            },
        ]
    }

    #[test]
    fn standard_errors_round_trip_after_the_b_columns() {
        let mut out = Vec::new();
        bank().write_csv_with_errors(&errors(), &mut out).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.starts_with("item,model,a,d1,d2,d3,b1,b2,b3,se_a,se_d1,se_d2,se_d3\n"),
            "{text}"
        );
        assert!(
            text.contains("q1,2pl,1.25,-0.3,,,0.24,,,0.125,0.1,,\n"),
            "{text}"
        );
        let (back, back_errors) = ItemBank::read_csv_with_errors(out.as_slice()).unwrap();
        assert_eq!(back, bank());
        assert_eq!(back_errors, Some(errors()));
        // read_csv takes the same file and ignores the standard errors.
        assert_eq!(ItemBank::read_csv(out.as_slice()).unwrap(), bank());
    }

    #[test]
    fn files_without_standard_errors_still_read() {
        let text = "item,model,a,d1,b1\nq1,2pl,1.25,-0.3,0.24\n";
        let (bank, errors) = ItemBank::read_csv_with_errors(text.as_bytes()).unwrap();
        assert_eq!(bank.len(), 1);
        assert_eq!(errors, None);
        let text = "item,model,a,d1\nq1,2pl,1.25,-0.3\n";
        assert_eq!(
            ItemBank::read_csv_with_errors(text.as_bytes()).unwrap().1,
            None
        );
    }

    #[test]
    fn malformed_standard_error_columns_are_refused() {
        let cases = [
            // se_d2 missing from the header.
            (
                "item,model,a,d1,d2,se_a,se_d1\nq1,grm,1,0.5,0,0.1,0.1\n",
                "expected se_d2",
            ),
            // A column after the last se_d.
            (
                "item,model,a,d1,se_a,se_d1,x\nq1,2pl,1,0.5,0.1,0.1,1\n",
                "after se_d1",
            ),
            // An SE for an intercept the item does not have.
            (
                "item,model,a,d1,d2,se_a,se_d1,se_d2\nq1,2pl,1,0.5,,0.1,0.1,0.2\n",
                "line 2, column 8",
            ),
            // A missing SE of an intercept the item has.
            (
                "item,model,a,d1,se_a,se_d1\nq1,2pl,1,0.5,0.1,\n",
                "line 2, column 6",
            ),
        ];
        for (text, expected) in cases {
            let err = ItemBank::read_csv_with_errors(text.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
        let short = &errors()[..2];
        assert!(bank().write_csv_with_errors(short, Vec::new()).is_err());
        let mut wrong = errors();
        wrong[0].d.push(0.5);
        assert!(bank().write_csv_with_errors(&wrong, Vec::new()).is_err());
    }

    fn bank_3pl() -> ItemBank {
        ItemBank::new(vec![
            Item::three_pl("m1", 1.3, -0.4, 0.2).unwrap(),
            Item::new("q2", Model::Graded, 0.8, vec![1.5, 0.1]).unwrap(),
            Item::three_pl("m3", 0.9, 0.7, 1.0 / 7.0).unwrap(),
        ])
        .unwrap()
    }

    #[test]
    fn three_pl_items_round_trip_with_a_g_column() {
        let mut out = Vec::new();
        bank_3pl().write_csv(&mut out).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.starts_with("item,model,a,d1,d2,b1,b2,g\n"), "{text}");
        assert!(text.contains("m1,3pl,1.3,-0.4,,"), "{text}");
        assert!(text.contains(",0.2\n"), "{text}");
        assert!(text.contains("q2,grm,0.8,1.5,0.1,"), "{text}");
        let back = ItemBank::read_csv(out.as_slice()).unwrap();
        assert_eq!(back, bank_3pl());
        assert_eq!(back.items()[2].g(), Some(1.0 / 7.0));
        // With standard errors: se_g after the last se_d.
        let errors = vec![
            ItemErrors {
                a: 0.1,
                d: vec![0.2],
                g: Some(0.03),
            },
            ItemErrors {
                a: 0.1,
                d: vec![0.2, 0.3],
                g: None,
            },
            ItemErrors {
                a: 0.12,
                d: vec![0.25],
                g: Some(0.04),
            },
        ];
        let mut out = Vec::new();
        bank_3pl().write_csv_with_errors(&errors, &mut out).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.starts_with("item,model,a,d1,d2,b1,b2,g,se_a,se_d1,se_d2,se_g\n"),
            "{text}"
        );
        let (back, back_errors) = ItemBank::read_csv_with_errors(out.as_slice()).unwrap();
        assert_eq!(back, bank_3pl());
        assert_eq!(back_errors, Some(errors.clone()));
        let mut wrong = errors;
        wrong[1].g = Some(0.1);
        assert!(
            bank_3pl()
                .write_csv_with_errors(&wrong, Vec::new())
                .is_err()
        );
        // Without 3PL items there is no g column: the file is as before.
        let mut out = Vec::new();
        bank().write_csv(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("item,model,a,d1,d2,d3,b1,b2,b3\n"),
            "{text}"
        );
    }

    #[test]
    fn malformed_g_cells_are_refused() {
        let cases = [
            ("item,model,a,d1,b1\nm1,3pl,1,0.5,-0.5\n", "lower asymptote"),
            (
                "item,model,a,d1,b1,g\nm1,3pl,1,0.5,-0.5,\n",
                "line 2, column 6",
            ),
            (
                "item,model,a,d1,b1,g\nm1,2pl,1,0.5,-0.5,0.2\n",
                "only 3pl items",
            ),
            (
                "item,model,a,d1,b1,g\nm1,3pl,1,0.5,-0.5,1.2\n",
                "between 0 and 1",
            ),
            (
                "item,model,a,d1,b1,g\nm1,3pl,1,0.5,-0.5,x\n",
                "not a number",
            ),
            (
                "item,model,a,d1,d2,b1,b2,g\nm1,3pl,1,0.5,0.1,,,0.2\n",
                "one intercept",
            ),
        ];
        for (text, expected) in cases {
            let err = ItemBank::read_csv(text.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn rasch_items_share_their_slope() {
        let items = vec![
            Item::new("a", Model::Rasch, 1.0, vec![0.0]).unwrap(),
            Item::new("b", Model::Rasch, 1.1, vec![0.0]).unwrap(),
        ];
        assert!(ItemBank::new(items).is_err());
        let items = vec![
            Item::new("a", Model::Rasch, 1.2, vec![0.0]).unwrap(),
            Item::new("b", Model::Rasch, 1.2, vec![0.3, -0.1]).unwrap(),
        ];
        assert_eq!(ItemBank::new(items).unwrap().common_slope(), Some(1.2));
    }
}
