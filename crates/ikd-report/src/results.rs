//! The result rows reports are made from, and reading them from what
//! `ikd score` writes: a JSON array (`--format json`), JSON Lines (`jsonl`) or
//! CSV (`csv`, which has no standard errors and no feedback).
//!
//! Rows are [`ResultRecord`]s, the engine's one language-free result shape:
//! level and domain codes, numbers, feedback texts in both languages. They
//! are checked against the instrument when a report is made, so the same rows
//! can come from a file, from freshly scored results
//! ([`ResultRecord::from_result`]) or from the server's store.

use crate::error::ReportError;
use ikd_core::instrument::Text;
pub use ikd_core::results::{DomainRecord, Feedback, ModelRef, ResultRecord};
use serde::Deserialize;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

/// Reads results written by `ikd score`: a JSON array, JSON Lines or CSV,
/// told apart by the first character. Errors name the file and line.
pub fn read_results(path: &Path) -> Result<Vec<ResultRecord>, ReportError> {
    let file = std::fs::File::open(path).map_err(|e| ReportError::Results {
        origin: path.display().to_string(),
        message: format!("cannot open: {e}"),
    })?;
    read_results_from(file, &path.display().to_string())
}

/// [`read_results`] from any reader; `origin` names it in errors.
pub fn read_results_from(input: impl Read, origin: &str) -> Result<Vec<ResultRecord>, ReportError> {
    let mut input = BufReader::with_capacity(1 << 16, input);
    let first = first_byte(&mut input).map_err(|e| io_error(origin, e))?;
    match first {
        None => Ok(Vec::new()),
        Some(b'[') => json_array(input, origin),
        Some(b'{') => json_lines(input, origin),
        Some(_) => csv_rows(input, origin),
    }
}

/// The first byte that is not white space, left unread.
fn first_byte(input: &mut impl BufRead) -> std::io::Result<Option<u8>> {
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        // A UTF-8 byte order mark is skipped like white space.
        let skip = buf
            .iter()
            .take_while(|b| b.is_ascii_whitespace() || matches!(b, 0xEF | 0xBB | 0xBF))
            .count();
        if skip < buf.len() {
            let first = buf[skip];
            input.consume(skip);
            return Ok(Some(first));
        }
        let all = buf.len();
        input.consume(all);
    }
}

fn io_error(origin: &str, e: std::io::Error) -> ReportError {
    ReportError::Results {
        origin: origin.to_owned(),
        message: format!("cannot read: {e}"),
    }
}

fn json_error(origin: &str, e: serde_json::Error) -> ReportError {
    ReportError::Results {
        origin: format!("{origin}:{}:{}", e.line(), e.column()),
        message: format!("not a result of `ikd score --format json`: {e}"),
    }
}

/// One result object as `ikd score` writes it (fields the reports do not use are ignored).
#[derive(Deserialize)]
struct RawResult {
    respondent_id: String,
    #[serde(default)]
    org_unit: String,
    index: Option<f64>,
    #[serde(default)]
    index_se: Option<f64>,
    #[serde(default)]
    level: Option<RawLevel>,
    domains: Vec<RawDomain>,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    provenance: Option<RawProvenance>,
}

#[derive(Deserialize)]
struct RawLevel {
    code: String,
}

#[derive(Deserialize)]
struct RawDomain {
    code: String,
    score: Option<f64>,
    #[serde(default)]
    se: Option<f64>,
    #[serde(default)]
    level: Option<RawLevel>,
    #[serde(default)]
    answered: u32,
    /// Absent in files written before reasons were.
    #[serde(default)]
    needed: Option<u32>,
    #[serde(default)]
    feedback: Option<RawFeedback>,
}

#[derive(Deserialize)]
struct RawFeedback {
    #[serde(default)]
    summary: Option<Text>,
    #[serde(default)]
    advice: Option<Text>,
}

#[derive(Deserialize)]
struct RawProvenance {
    #[serde(default)]
    instrument_id: Option<String>,
    #[serde(default)]
    model: Option<RawModel>,
}

#[derive(Deserialize)]
struct RawModel {
    name: String,
    #[serde(default)]
    version: String,
}

/// Keeps one copy of each feedback text: every respondent at the same level
/// of a domain gets the same feedback, and a file holds thousands of them.
#[derive(Default)]
struct Interner {
    feedback: HashMap<(String, String, String, String), Arc<Feedback>>,
}

impl Interner {
    fn feedback(&mut self, raw: RawFeedback) -> Arc<Feedback> {
        let summary = raw.summary.unwrap_or_default();
        let advice = raw.advice.unwrap_or_default();
        let key = (summary.id, summary.en, advice.id, advice.en);
        self.feedback
            .entry(key)
            .or_insert_with_key(|(sid, sen, aid, aen)| {
                Arc::new(Feedback {
                    summary: Text {
                        id: sid.clone(),
                        en: sen.clone(),
                    },
                    advice: Text {
                        id: aid.clone(),
                        en: aen.clone(),
                    },
                })
            })
            .clone()
    }

    fn row(&mut self, raw: RawResult) -> ResultRecord {
        let (instrument_id, model) = match raw.provenance {
            Some(p) => (
                p.instrument_id,
                p.model.map(|m| ModelRef {
                    name: m.name,
                    version: m.version,
                }),
            ),
            None => (None, None),
        };
        ResultRecord {
            respondent_id: raw.respondent_id,
            org_unit: raw.org_unit,
            index: raw.index,
            index_se: raw.index_se,
            level: raw.level.map(|l| l.code),
            domains: raw
                .domains
                .into_iter()
                .map(|d| DomainRecord {
                    code: d.code,
                    score: d.score,
                    se: d.se,
                    level: d.level.map(|l| l.code),
                    answered: d.answered,
                    needed: d.needed,
                    feedback: d.feedback.map(|f| self.feedback(f)),
                })
                .collect(),
            flags: raw.flags,
            model,
            instrument_id,
        }
    }
}

/// A JSON array of results, converted element by element (never held as JSON).
fn json_array(input: impl Read, origin: &str) -> Result<Vec<ResultRecord>, ReportError> {
    struct Rows<'a>(&'a mut Vec<ResultRecord>, &'a mut Interner);
    impl<'de> serde::de::Visitor<'de> for Rows<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of results")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(raw) = seq.next_element::<RawResult>()? {
                let row = self.1.row(raw);
                self.0.push(row);
            }
            Ok(())
        }
    }
    let mut rows = Vec::new();
    let mut interner = Interner::default();
    let mut de = serde_json::Deserializer::from_reader(input);
    serde::Deserializer::deserialize_seq(&mut de, Rows(&mut rows, &mut interner))
        .and_then(|()| de.end())
        .map_err(|e| json_error(origin, e))?;
    Ok(rows)
}

/// JSON Lines: one result object per line.
fn json_lines(input: impl Read, origin: &str) -> Result<Vec<ResultRecord>, ReportError> {
    let mut interner = Interner::default();
    serde_json::Deserializer::from_reader(input)
        .into_iter::<RawResult>()
        .map(|raw| {
            raw.map(|r| interner.row(r))
                .map_err(|e| json_error(origin, e))
        })
        .collect()
}

/// Column positions of a results CSV.
struct CsvColumns {
    id: usize,
    org: Option<usize>,
    index: Option<usize>,
    index_se: Option<usize>,
    level: Option<usize>,
    flags: Option<usize>,
    domains: Vec<DomainColumns>,
}

/// The columns of one domain: `<code>.score`, `<code>.se`, `<code>.level`,
/// `<code>.answered`, `<code>.needed`.
struct DomainColumns {
    code: String,
    score: Option<usize>,
    se: Option<usize>,
    level: Option<usize>,
    answered: Option<usize>,
    needed: Option<usize>,
}

impl CsvColumns {
    fn new(header: &csv::StringRecord, origin: &str) -> Result<Self, ReportError> {
        let find = |name: &str| header.iter().position(|h| h == name);
        let id = find("respondent_id").ok_or_else(|| ReportError::Results {
            origin: format!("{origin}:1"),
            message: "no 'respondent_id' column: not a results CSV of `ikd score --format csv`"
                .into(),
        })?;
        let mut domains: Vec<DomainColumns> = Vec::new();
        for (col, name) in header.iter().enumerate() {
            let Some((code, field)) = name.rsplit_once('.') else {
                continue;
            };
            let slot = match domains.iter().position(|d| d.code == code) {
                Some(at) => at,
                None if matches!(field, "score" | "se" | "level") => {
                    domains.push(DomainColumns {
                        code: code.to_owned(),
                        score: None,
                        se: None,
                        level: None,
                        answered: None,
                        needed: None,
                    });
                    domains.len() - 1
                }
                None => continue,
            };
            match field {
                "score" => domains[slot].score = Some(col),
                "se" => domains[slot].se = Some(col),
                "level" => domains[slot].level = Some(col),
                "answered" => domains[slot].answered = Some(col),
                "needed" => domains[slot].needed = Some(col),
                _ => {}
            }
        }
        Ok(CsvColumns {
            id,
            org: find("org_unit"),
            index: find("index"),
            index_se: find("index_se"),
            level: find("level"),
            flags: find("flags"),
            domains,
        })
    }
}

/// A results CSV (`ikd score --format csv`): no SEs unless `index_se` /
/// `<domain>.se` columns are present, no feedback.
fn csv_rows(input: impl Read, origin: &str) -> Result<Vec<ResultRecord>, ReportError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let csv_error = |e: csv::Error| {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        ReportError::Results {
            origin: format!("{origin}:{line}"),
            message: format!("not a results CSV: {e}"),
        }
    };
    let header = reader.headers().map_err(csv_error)?.clone();
    let columns = CsvColumns::new(&header, origin)?;
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(csv_error)? {
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let text = |col: Option<usize>| {
            col.and_then(|c| record.get(c))
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let number = |col: Option<usize>| -> Result<Option<f64>, ReportError> {
            let Some(c) = col else { return Ok(None) };
            let cell = record.get(c).unwrap_or("");
            if cell.is_empty() {
                return Ok(None);
            }
            match cell.parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(ReportError::Results {
                    origin: format!("{origin}:{line}"),
                    message: format!(
                        "column '{}': '{cell}' is not a number",
                        header.get(c).unwrap_or("?")
                    ),
                }),
            }
        };
        let domains = columns
            .domains
            .iter()
            .map(|d| {
                Ok(DomainRecord {
                    code: d.code.clone(),
                    score: number(d.score)?,
                    se: number(d.se)?,
                    level: text(d.level),
                    answered: number(d.answered)?.map_or(0, |n| n as u32),
                    needed: number(d.needed)?.map(|n| n as u32),
                    feedback: None,
                })
            })
            .collect::<Result<Vec<_>, ReportError>>()?;
        rows.push(ResultRecord {
            respondent_id: record.get(columns.id).unwrap_or("").to_owned(),
            org_unit: text(columns.org).unwrap_or_default(),
            index: number(columns.index)?,
            index_se: number(columns.index_se)?,
            level: text(columns.level),
            domains,
            flags: text(columns.flags)
                .map(|f| f.split(';').map(str::to_owned).collect())
                .unwrap_or_default(),
            model: None,
            instrument_id: None,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = r#"[
{"respondent_id":"r1","org_unit":"36.72/a","index":61.5,"index_se":2.5,"level":{"code":"hi","name":{"id":"T","en":"H"}},
 "domains":[{"code":"alpha","score":70.0,"se":null,"level":{"code":"hi"},"answered":2,
   "feedback":{"summary":{"id":"ringkas","en":"summary"},"advice":{"id":"1. a","en":"1. b"}}},
  {"code":"beta","score":null,"se":null,"level":null,"answered":0,"feedback":null}],
 "flags":["too-fast"],"provenance":{"instrument_id":"small","model":{"name":"weighted-index","version":"0.1.0"}}},
{"respondent_id":"r2","org_unit":"36.72/a","index":null,"level":null,
 "domains":[{"code":"alpha","score":70.0,"level":{"code":"hi"},
   "feedback":{"summary":{"id":"ringkas","en":"summary"},"advice":{"id":"1. a","en":"1. b"}}}],"flags":[]}
]"#;

    #[test]
    fn json_arrays_and_lines_read_alike_and_share_feedback() {
        let rows = read_results_from(JSON.as_bytes(), "r.json").unwrap();
        assert_eq!(rows.len(), 2);
        let r1 = &rows[0];
        assert_eq!((r1.index, r1.index_se), (Some(61.5), Some(2.5)));
        assert_eq!(r1.level.as_deref(), Some("hi"));
        assert_eq!(
            r1.model.as_ref().map(ToString::to_string).as_deref(),
            Some("weighted-index 0.1.0")
        );
        assert_eq!(r1.instrument_id.as_deref(), Some("small"));
        assert_eq!(r1.flags, ["too-fast"]);
        assert_eq!(r1.domains[1].score, None);
        let (a, b) = (&r1.domains[0].feedback, &rows[1].domains[0].feedback);
        assert!(
            Arc::ptr_eq(a.as_ref().unwrap(), b.as_ref().unwrap()),
            "one copy"
        );
        assert_eq!(a.as_ref().unwrap().summary.get(crate::Lang::En), "summary");

        let values: Vec<serde_json::Value> = serde_json::from_str(JSON).unwrap();
        let lines: String = values.iter().map(|v| format!("{v}\n")).collect();
        assert_eq!(
            read_results_from(lines.as_bytes(), "r.jsonl").unwrap(),
            rows
        );
    }

    #[test]
    fn csv_results_read_with_missing_cells_as_missing() {
        let csv = "respondent_id,org_unit,index,level,alpha.score,alpha.level,alpha.answered,beta.score,beta.level,beta.answered,flags\n\
                   r1,36.72/a,61.5,hi,70,hi,2,,,0,too-fast;straight-line-run\n";
        let rows = read_results_from(csv.as_bytes(), "r.csv").unwrap();
        let r = &rows[0];
        assert_eq!((r.index, r.index_se), (Some(61.5), None));
        assert_eq!(r.domains.len(), 2);
        assert_eq!(
            (r.domains[0].code.as_str(), r.domains[0].score),
            ("alpha", Some(70.0))
        );
        assert_eq!(
            (r.domains[1].score, r.domains[1].level.as_deref()),
            (None, None)
        );
        assert_eq!(r.flags, ["too-fast", "straight-line-run"]);
        assert!(r.domains[0].feedback.is_none());
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let bad = "respondent_id,org_unit,index\nr1,u,61.5\nr2,u,high\n";
        let err = read_results_from(bad.as_bytes(), "r.csv")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("r.csv:3") && err.contains("'high'") && err.contains("'index'"),
            "{err}"
        );
        let err = read_results_from("org_unit\nu\n".as_bytes(), "r.csv")
            .unwrap_err()
            .to_string();
        assert!(err.contains("respondent_id"), "{err}");
        let err = read_results_from("[{\"respondent_id\": 3}]".as_bytes(), "r.json")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("r.json:1:"), "{err}");
        assert!(
            read_results_from("  \n".as_bytes(), "empty")
                .unwrap()
                .is_empty()
        );
    }
}
