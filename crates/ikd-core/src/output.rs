//! Writing results as CSV, a JSON array, or JSON Lines, streaming: each batch
//! is written as soon as it is scored, so memory does not grow with the
//! number of respondents.
//!
//! CSV columns: `respondent_id,org_unit,index,level,index_missing`, then
//! `<domain>.score,<domain>.level,<domain>.answered,<domain>.needed,<domain>.missing`
//! per domain, then `flags` (`;`-separated). Missing values are empty cells;
//! `index_missing` and `<domain>.missing` say why (a [`MissingReason`] code,
//! empty when there is a value), `<domain>.needed` how many answers the
//! missing-data rule needs (0: no item applies). Scores are rounded to 4
//! decimals. JSON objects add standard errors, level names, feedback, the
//! reasons with their counts and messages in both languages, and the
//! provenance of the result.

use crate::instrument::{Instrument, Text};
use crate::localise::missing_text;
use crate::pipeline::Scorer;
use crate::quality::QualityFlag;
use crate::results::{Feedback, Missing, MissingReason, Provenance, RespondentResult};
use serde::Serialize;
use std::io::{self, Write};
use std::sync::Arc;

/// Output formats of `ikd score`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Jsonl,
}

impl std::str::FromStr for OutputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "csv" => Ok(OutputFormat::Csv),
            "json" => Ok(OutputFormat::Json),
            "jsonl" => Ok(OutputFormat::Jsonl),
            other => Err(format!(
                "unknown format '{other}' (expected csv, json or jsonl)"
            )),
        }
    }
}

/// Turns results into bytes of one format. Cheap to clone and `Send`, so
/// batches can be formatted on several threads and written in order.
#[derive(Clone)]
pub struct ResultFormatter {
    format: OutputFormat,
    instrument: Arc<Instrument>,
    provenance: Arc<Provenance>,
    /// Feedback per domain per level.
    feedback: Arc<Vec<Vec<Option<Arc<Feedback>>>>>,
}

impl ResultFormatter {
    pub fn new(format: OutputFormat, scorer: &Scorer) -> Self {
        let instrument = scorer.instrument().clone();
        let feedback = (0..instrument.domains.len())
            .map(|d| {
                (0..instrument.levels.len())
                    .map(|l| scorer.feedback(d, l).cloned())
                    .collect()
            })
            .collect();
        ResultFormatter {
            format,
            instrument,
            provenance: scorer.provenance().clone(),
            feedback: Arc::new(feedback),
        }
    }

    /// What opens the output: the CSV header, or a JSON array's bracket.
    pub fn header(&self) -> io::Result<Vec<u8>> {
        match self.format {
            OutputFormat::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                let mut header = vec![
                    "respondent_id".to_owned(),
                    "org_unit".into(),
                    "index".into(),
                    "level".into(),
                    "index_missing".into(),
                ];
                for d in &self.instrument.domains {
                    for suffix in ["score", "level", "answered", "needed", "missing"] {
                        header.push(format!("{}.{suffix}", d.code));
                    }
                }
                header.push("flags".into());
                w.write_record(&header)?;
                w.into_inner().map_err(|e| e.into_error())
            }
            OutputFormat::Json => Ok(b"[".to_vec()),
            OutputFormat::Jsonl => Ok(Vec::new()),
        }
    }

    /// A batch of results; `first` when it is the first batch of the output
    /// (a JSON array separates later objects with commas).
    pub fn format(&self, results: &[RespondentResult], first: bool) -> io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(results.len() * 128);
        match self.format {
            OutputFormat::Csv => {
                let mut w = csv::Writer::from_writer(&mut out);
                for result in results {
                    write_csv_row(&mut w, &self.instrument, result)?;
                }
                w.flush()?;
            }
            OutputFormat::Json | OutputFormat::Jsonl => {
                for (i, result) in results.iter().enumerate() {
                    if self.format == OutputFormat::Json {
                        out.extend_from_slice(if first && i == 0 { b"\n" } else { b",\n" });
                    }
                    let view =
                        JsonResult::new(result, &self.instrument, &self.feedback, &self.provenance);
                    serde_json::to_writer(&mut out, &view)?;
                    if self.format == OutputFormat::Jsonl {
                        out.push(b'\n');
                    }
                }
            }
        }
        Ok(out)
    }

    /// What closes the output.
    pub fn footer(&self) -> &'static [u8] {
        match self.format {
            OutputFormat::Json => b"\n]\n",
            OutputFormat::Csv | OutputFormat::Jsonl => b"",
        }
    }
}

/// Streams results to a writer, batch by batch.
pub struct ResultWriter<W: Write> {
    formatter: ResultFormatter,
    out: W,
    written: u64,
}

impl<W: Write> ResultWriter<W> {
    /// Starts the output (CSV header, or the opening bracket of a JSON array).
    pub fn new(format: OutputFormat, mut out: W, scorer: &Scorer) -> io::Result<Self> {
        let formatter = ResultFormatter::new(format, scorer);
        out.write_all(&formatter.header()?)?;
        Ok(ResultWriter {
            formatter,
            out,
            written: 0,
        })
    }

    /// Writes a batch of results.
    pub fn write(&mut self, results: &[RespondentResult]) -> io::Result<()> {
        if results.is_empty() {
            return Ok(());
        }
        let bytes = self.formatter.format(results, self.written == 0)?;
        self.write_formatted(&bytes, results.len())
    }

    /// Writes a batch formatted elsewhere (by [`ResultFormatter::format`]) of `count` results.
    pub fn write_formatted(&mut self, bytes: &[u8], count: usize) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += count as u64;
        Ok(())
    }

    /// Number of results written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Closes the output (the JSON array's bracket), flushes, and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(self.formatter.footer())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Rounds to 4 decimals and prints the shortest form (`62.5`, `66.6667`).
fn number(x: Option<f64>) -> String {
    x.map(|v| ((v * 1e4).round() / 1e4).to_string())
        .unwrap_or_default()
}

fn level_code(instrument: &Instrument, level: Option<u32>) -> &str {
    level
        .and_then(|l| instrument.levels.get(l as usize))
        .map(|l| l.code.as_str())
        .unwrap_or("")
}

fn write_csv_row<W: Write>(
    w: &mut csv::Writer<W>,
    instrument: &Instrument,
    r: &RespondentResult,
) -> io::Result<()> {
    w.write_field(&r.respondent_id)?;
    w.write_field(&r.org_unit)?;
    w.write_field(number(r.index))?;
    w.write_field(level_code(instrument, r.level))?;
    w.write_field(reason(index_missing(instrument, r)))?;
    for d in &r.domains {
        w.write_field(number(d.score))?;
        w.write_field(level_code(instrument, d.level))?;
        w.write_field(d.answered.to_string())?;
        w.write_field(d.needed.to_string())?;
        w.write_field(reason(Missing::of_domain(
            d.score,
            d.answered,
            Some(d.needed),
        )))?;
    }
    let flags: Vec<&str> = r.flags.iter().map(|f| f.as_str()).collect();
    w.write_field(flags.join(";"))?;
    w.write_record(None::<&[u8]>)?;
    Ok(())
}

/// A reason's code, empty when there is a value.
fn reason(missing: Option<Missing>) -> &'static str {
    missing.map_or("", |m| m.reason.code())
}

fn index_missing(instrument: &Instrument, r: &RespondentResult) -> Option<Missing> {
    let scored = r.domains.iter().filter(|d| d.score.is_some()).count() as u32;
    Missing::of_index(r.index, scored, instrument.missing.min_domains)
}

/// Why a value is absent, with its message in both languages.
#[derive(Serialize)]
struct JsonMissing {
    reason: MissingReason,
    count: u32,
    needed: u32,
    message: Text,
}

impl From<Missing> for JsonMissing {
    fn from(m: Missing) -> Self {
        JsonMissing {
            message: missing_text(&m),
            reason: m.reason,
            count: m.count,
            needed: m.needed,
        }
    }
}

#[derive(Serialize)]
struct JsonLevel<'a> {
    code: &'a str,
    name: &'a Text,
}

#[derive(Serialize)]
struct JsonDomain<'a> {
    code: &'a str,
    score: Option<f64>,
    se: Option<f64>,
    level: Option<JsonLevel<'a>>,
    answered: u32,
    needed: u32,
    missing: Option<JsonMissing>,
    feedback: Option<&'a Feedback>,
}

#[derive(Serialize)]
struct JsonResult<'a> {
    respondent_id: &'a str,
    org_unit: &'a str,
    index: Option<f64>,
    index_se: Option<f64>,
    level: Option<JsonLevel<'a>>,
    index_missing: Option<JsonMissing>,
    domains: Vec<JsonDomain<'a>>,
    flags: &'a [QualityFlag],
    provenance: &'a Provenance,
}

impl<'a> JsonResult<'a> {
    fn new(
        r: &'a RespondentResult,
        instrument: &'a Instrument,
        feedback: &'a [Vec<Option<Arc<Feedback>>>],
        provenance: &'a Provenance,
    ) -> Self {
        let level = |l: Option<u32>| {
            l.and_then(|l| instrument.levels.get(l as usize))
                .map(|l| JsonLevel {
                    code: &l.code,
                    name: &l.name,
                })
        };
        JsonResult {
            respondent_id: &r.respondent_id,
            org_unit: &r.org_unit,
            index: r.index,
            index_se: r.index_se,
            level: level(r.level),
            index_missing: index_missing(instrument, r).map(JsonMissing::from),
            domains: r
                .domains
                .iter()
                .enumerate()
                .map(|(d, o)| JsonDomain {
                    code: &instrument.domains[d].code,
                    score: o.score,
                    se: o.se,
                    level: level(o.level),
                    answered: o.answered,
                    needed: o.needed,
                    missing: Missing::of_domain(o.score, o.answered, Some(o.needed))
                        .map(JsonMissing::from),
                    feedback: o
                        .level
                        .and_then(|l| feedback.get(d)?.get(l as usize)?.as_deref()),
                })
                .collect(),
            flags: &r.flags,
            provenance,
        }
    }
}
