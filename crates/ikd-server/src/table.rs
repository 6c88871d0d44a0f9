//! The CSV layout of `ExportTable`: one line per stored result, numbers and codes only, one
//! group of columns per domain (see `TableChunk` in `proto/ikd/v1/assessment.proto`).
//!
//! Why a table beside `ExportResults`: a data set for analysis is read into R, Stata or a
//! spreadsheet, which want a flat table; and a table costs a fraction of a nested message per
//! row to write and to read, so the export runs nearer the database's own speed.

use std::collections::HashMap;
use std::fmt::Write as _;

use ikd_store::StoredResult;
use tonic::Status;

use crate::catalog::{Catalog, Entry};
use crate::render::timestamp;

/// The columns before the domains'.
const FIXED: [&str; 13] = [
    "session_id",
    "org_unit",
    "respondent_pseudonym",
    "revision",
    "submitted_at",
    "instrument_id",
    "instrument_version",
    "model",
    "model_version",
    "index",
    "index_se",
    "level",
    "flags",
];

/// Columns of each domain, as suffixes of its code.
const PER_DOMAIN: [&str; 4] = ["", "_se", "_level", "_answered"];

/// Writes results as CSV lines under one header.
pub(crate) struct Table {
    /// The domain codes with columns, in column order.
    domains: Vec<String>,
    /// Domain code → its place in `domains`.
    column: HashMap<String, usize>,
    /// For each column's domain, where the row's result has it; reused from row to row.
    cells: Vec<Option<usize>>,
    /// A number being formatted, reused.
    scratch: String,
}

impl Table {
    /// The columns of `entry`'s instrument: its domains in its order, then those only other
    /// versions of the same instrument in the catalogue have (an export holds every version).
    pub(crate) fn new(catalog: &Catalog, entry: &Entry) -> Self {
        let mut domains: Vec<String> = Vec::new();
        let versions = std::iter::once(entry).chain(
            catalog
                .entries()
                .iter()
                .map(|e| e.as_ref())
                .filter(|e| e.instrument.id == entry.instrument.id),
        );
        for version in versions {
            for d in &version.instrument.domains {
                if !domains.contains(&d.code) {
                    domains.push(d.code.clone());
                }
            }
        }
        let column = domains
            .iter()
            .enumerate()
            .map(|(i, code)| (code.clone(), i))
            .collect();
        Table {
            cells: vec![None; domains.len()],
            domains,
            column,
            scratch: String::new(),
        }
    }

    /// The header line.
    pub(crate) fn header(&self, out: &mut csv::Writer<Vec<u8>>) -> Result<(), Status> {
        for name in FIXED {
            out.write_field(name).map_err(written)?;
        }
        for code in &self.domains {
            for suffix in PER_DOMAIN {
                out.write_field(format!("{code}{suffix}"))
                    .map_err(written)?;
            }
        }
        out.write_record(None::<&[u8]>).map_err(written)
    }

    /// One result's line. A domain the header has no column for is refused, naming the
    /// session and the domain, rather than left out.
    pub(crate) fn row(
        &mut self,
        r: &StoredResult,
        out: &mut csv::Writer<Vec<u8>>,
    ) -> Result<(), Status> {
        self.cells.iter_mut().for_each(|c| *c = None);
        for (at, d) in r.domains.iter().enumerate() {
            let Some(&place) = self.column.get(&d.code) else {
                return Err(Status::failed_precondition(format!(
                    "session '{}' has a score of domain '{}', which instrument '{}' of this \
                     server does not have: export it with ExportResults",
                    r.session_id, d.code, r.instrument_id
                )));
            };
            self.cells[place] = Some(at);
        }
        let revision = r.revision.to_string();
        let submitted_at = timestamp(r.submitted_at).to_string();
        let texts: [&str; 9] = [
            &r.session_id,
            &r.org_unit,
            &r.respondent_key,
            &revision,
            &submitted_at,
            &r.instrument_id,
            &r.instrument_version,
            &r.model,
            &r.model_version,
        ];
        for text in texts {
            out.write_field(text).map_err(written)?;
        }
        self.number(out, r.index)?;
        self.number(out, r.index_se)?;
        out.write_field(r.level.as_deref().unwrap_or_default())
            .map_err(written)?;
        out.write_field(r.flags.join(";")).map_err(written)?;
        for place in 0..self.cells.len() {
            let domain = self.cells[place].map(|at| &r.domains[at]);
            self.number(out, domain.and_then(|d| d.score))?;
            self.number(out, domain.and_then(|d| d.se))?;
            out.write_field(domain.and_then(|d| d.level.as_deref()).unwrap_or_default())
                .map_err(written)?;
            self.number(out, domain.map(|d| f64::from(d.answered)))?;
        }
        out.write_record(None::<&[u8]>).map_err(written)
    }

    /// A number as the shortest decimal that reads back to the same `f64`; empty if absent.
    fn number(&mut self, out: &mut csv::Writer<Vec<u8>>, x: Option<f64>) -> Result<(), Status> {
        self.scratch.clear();
        if let Some(x) = x {
            write!(self.scratch, "{x}").expect("writing to a String");
        }
        out.write_field(&self.scratch).map_err(written)
    }
}

/// Writing to memory fails only on a bug.
fn written(e: csv::Error) -> Status {
    Status::internal(format!("writing a CSV line: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ikd_store::DomainScore;

    fn table(domains: &[&str]) -> Table {
        let domains: Vec<String> = domains.iter().map(|d| d.to_string()).collect();
        Table {
            cells: vec![None; domains.len()],
            column: domains
                .iter()
                .enumerate()
                .map(|(i, d)| (d.clone(), i))
                .collect(),
            domains,
            scratch: String::new(),
        }
    }

    fn result(domains: Vec<DomainScore>) -> StoredResult {
        StoredResult {
            session_id: "s-1".into(),
            revision: 2,
            instrument_id: "ikd".into(),
            instrument_version: "1.0.0".into(),
            instrument_sha256: String::new(),
            org_unit: "36.72/a,\"b\"".into(),
            respondent_key: "ab12".into(),
            submitted_at: 1_748_766_645_123,
            created_at: 0,
            model: "weighted-index".into(),
            model_version: "1.0.0".into(),
            index: Some(61.25),
            index_se: None,
            level: Some("sedang".into()),
            domains,
            flags: vec!["too-fast".into(), "straight-line-run".into()],
            provenance_json: "".into(),
        }
    }

    fn domain(code: &str, score: Option<f64>) -> DomainScore {
        DomainScore {
            code: code.into(),
            score,
            se: score.map(|s| s / 10.0),
            level: score.map(|_| "tinggi".into()),
            answered: 3,
            needed: Some(2),
        }
    }

    #[test]
    fn a_row_has_its_domains_in_the_header_order_and_quotes_what_needs_it() {
        let mut t = table(&["lit", "bud"]);
        let mut out = csv::Writer::from_writer(Vec::new());
        t.header(&mut out).unwrap();
        // Domains in another order than the columns', one without a score.
        let r = result(vec![domain("bud", None), domain("lit", Some(72.5))]);
        t.row(&r, &mut out).unwrap();
        let text = String::from_utf8(out.into_inner().unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "session_id,org_unit,respondent_pseudonym,revision,submitted_at,instrument_id,\
             instrument_version,model,model_version,index,index_se,level,flags,\
             lit,lit_se,lit_level,lit_answered,bud,bud_se,bud_level,bud_answered"
        );
        assert_eq!(
            lines[1],
            "s-1,\"36.72/a,\"\"b\"\"\",ab12,2,2025-06-01T08:30:45.123Z,ikd,1.0.0,\
             weighted-index,1.0.0,61.25,,sedang,too-fast;straight-line-run,\
             72.5,7.25,tinggi,3,,,,3"
        );
    }

    #[test]
    fn a_domain_without_a_column_is_refused_by_name() {
        let mut t = table(&["lit"]);
        let mut out = csv::Writer::from_writer(Vec::new());
        let r = result(vec![domain("lit", Some(1.0)), domain("baru", Some(2.0))]);
        let refused = t.row(&r, &mut out).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
        assert!(refused.message().contains("session 's-1'"), "{refused:?}");
        assert!(refused.message().contains("domain 'baru'"), "{refused:?}");
    }

    #[test]
    fn numbers_read_back_bit_for_bit_and_absent_ones_are_empty() {
        let mut table = table(&[]);
        let mut out = csv::Writer::from_writer(Vec::new());
        let xs = [72.541_666_666_666_67, 0.1 + 0.2, 1e-7, 3.0, -0.0];
        for x in xs {
            table.number(&mut out, Some(x)).unwrap();
        }
        table.number(&mut out, None).unwrap();
        out.write_record(None::<&[u8]>).unwrap();
        let line = String::from_utf8(out.into_inner().unwrap()).unwrap();
        let cells: Vec<&str> = line.trim_end().split(',').collect();
        assert_eq!(cells[3], "3");
        assert_eq!(cells[5], "");
        for (cell, x) in cells.iter().zip(xs) {
            assert_eq!(
                cell.parse::<f64>().unwrap().to_bits(),
                x.to_bits(),
                "{cell}"
            );
        }
    }
}
