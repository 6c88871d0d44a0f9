//! Results in two shapes: what the store keeps (level *codes*, language-free)
//! and what the API returns (names, feedback and the interval, in the caller's
//! language). Fresh and stored results go through the same [`render`], so
//! `Score`, `SubmitSession` and `GetResult` answer alike.

use ikd_core::pipeline::Scorer;
use ikd_core::results::RespondentResult;
use ikd_proto::v1 as api;
use ikd_store::{DomainScore, NewResult, StoredResult};
use tonic::Status;

/// A result as the store keeps it, whichever way it came.
pub struct ResultView<'a> {
    pub index: Option<f64>,
    pub index_se: Option<f64>,
    pub level: Option<&'a str>,
    pub domains: &'a [DomainScore],
    pub flags: &'a [String],
    pub provenance_json: &'a str,
}

impl<'a> From<&'a NewResult> for ResultView<'a> {
    fn from(r: &'a NewResult) -> Self {
        ResultView {
            index: r.index,
            index_se: r.index_se,
            level: r.level.as_deref(),
            domains: &r.domains,
            flags: &r.flags,
            provenance_json: &r.provenance_json,
        }
    }
}

impl<'a> From<&'a StoredResult> for ResultView<'a> {
    fn from(r: &'a StoredResult) -> Self {
        ResultView {
            index: r.index,
            index_se: r.index_se,
            level: r.level.as_deref(),
            domains: &r.domains,
            flags: &r.flags,
            provenance_json: &r.provenance_json,
        }
    }
}

/// The language-free record of a fresh result, ready to store: with the
/// provenance and the archived JSON.
pub fn to_new_result(scorer: &Scorer, result: &RespondentResult) -> NewResult {
    let mut record = to_record(scorer, result);
    record.provenance_json =
        serde_json::to_string(scorer.provenance().as_ref()).unwrap_or_default();
    record.result_json = archive_json(&record);
    record
}

/// The numbers and codes of a fresh result, without the serialised
/// provenance and archive (a stateless `Score` has no use for them).
pub fn to_record(scorer: &Scorer, result: &RespondentResult) -> NewResult {
    let instrument = scorer.instrument();
    let level_code = |l: Option<u32>| {
        l.and_then(|l| instrument.levels.get(l as usize))
            .map(|l| l.code.clone())
    };
    let provenance = scorer.provenance();
    NewResult {
        model: provenance.model.name.clone(),
        model_version: provenance.model.version.clone(),
        index: result.index,
        index_se: result.index_se,
        level: level_code(result.level),
        domains: instrument
            .domains
            .iter()
            .zip(&result.domains)
            .map(|(d, o)| DomainScore {
                code: d.code.clone(),
                score: o.score,
                se: o.se,
                level: level_code(o.level),
                answered: o.answered,
            })
            .collect(),
        flags: result.flags.iter().map(|f| f.as_str().to_owned()).collect(),
        provenance_json: String::new(),
        result_json: String::new(),
    }
}

/// The archived form of a result: every number and code, no language.
fn archive_json(r: &NewResult) -> String {
    serde_json::json!({
        "model": r.model,
        "model_version": r.model_version,
        "index": r.index,
        "index_se": r.index_se,
        "level": r.level,
        "domains": r.domains.iter().map(|d| serde_json::json!({
            "code": d.code, "score": d.score, "se": d.se, "level": d.level, "answered": d.answered,
        })).collect::<Vec<_>>(),
        "flags": r.flags,
    })
    .to_string()
}

/// The API result in `lang`: names and feedback come from the instrument and
/// its domain plugins (through `scorer`), the numbers from the record. With
/// `full` false, feedback and provenance are left out (batch scoring).
/// A record without stored provenance gets the scorer's own.
pub fn render(scorer: &Scorer, view: ResultView<'_>, lang: &str, full: bool) -> api::Result {
    let instrument = scorer.instrument();
    let level_ref = |code: Option<&str>| {
        code.map(|code| {
            let name = instrument
                .levels
                .iter()
                .find(|l| l.code == code)
                .map(|l| l.name.get(lang).to_owned())
                .unwrap_or_default();
            api::LevelRef {
                code: code.to_owned(),
                name,
            }
        })
    };
    let domains = view
        .domains
        .iter()
        .map(|d| {
            let position = instrument.domains.iter().position(|x| x.code == d.code);
            let level = d
                .level
                .as_deref()
                .and_then(|c| instrument.levels.iter().position(|l| l.code == c));
            let feedback = position
                .zip(level)
                .filter(|_| full)
                .and_then(|(p, l)| scorer.feedback(p, l))
                .map(|f| api::Feedback {
                    summary: text(f.summary.as_ref(), lang),
                    advice: text(f.advice.as_ref(), lang),
                });
            api::DomainResult {
                code: d.code.clone(),
                name: position
                    .map(|p| instrument.domains[p].name.get(lang).to_owned())
                    .unwrap_or_default(),
                score: d.score,
                se: d.se,
                level: level_ref(d.level.as_deref()),
                answered: d.answered,
                feedback,
            }
        })
        .collect();
    let (low, high) = (instrument.reporting.min, instrument.reporting.max);
    let interval = view
        .index
        .zip(view.index_se)
        .map(|(x, se)| ((x - 1.96 * se).max(low), (x + 1.96 * se).min(high)));
    api::Result {
        instrument: Some(api::InstrumentRef {
            id: instrument.id.clone(),
            version: instrument.version.to_string(),
        }),
        index: view.index,
        index_se: view.index_se,
        index_ci_low: interval.map(|i| i.0),
        index_ci_high: interval.map(|i| i.1),
        level: level_ref(view.level),
        domains,
        flags: view.flags.to_vec(),
        provenance: match (full, view.provenance_json) {
            (false, _) => None,
            (true, "") => Some(provenance(
                &serde_json::to_value(scorer.provenance().as_ref()).unwrap_or_default(),
            )),
            (true, json) => Some(provenance(&serde_json::from_str(json).unwrap_or_default())),
        },
    }
}

fn text(t: Option<&ikd_plugin_sdk::Text>, lang: &str) -> String {
    t.map(|t| {
        if lang == "en" && !t.en.is_empty() {
            t.en.clone()
        } else {
            t.id.clone()
        }
    })
    .unwrap_or_default()
}

/// The API provenance from the JSON form of `ikd_core::results::Provenance`.
fn provenance(value: &serde_json::Value) -> api::Provenance {
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let plugin = |v: &serde_json::Value| api::PluginRef {
        name: s(&v["name"]),
        version: s(&v["version"]),
        sha256: s(&v["sha256"]),
    };
    api::Provenance {
        instrument_id: s(&value["instrument_id"]),
        instrument_version: s(&value["instrument_version"]),
        instrument_sha256: s(&value["instrument_sha256"]),
        engine_version: s(&value["engine_version"]),
        model: Some(plugin(&value["model"])),
        model_settings_json: match &value["model_settings"] {
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        },
        plugins: value["plugins"]
            .as_array()
            .map(|a| a.iter().map(plugin).collect())
            .unwrap_or_default(),
    }
}

/// `Timestamp` of unix milliseconds.
pub fn timestamp(millis: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: millis.div_euclid(1000),
        nanos: (millis.rem_euclid(1000) * 1_000_000) as i32,
    }
}

/// Unix milliseconds of a `Timestamp`, refusing impossible ones.
pub fn millis(t: &prost_types::Timestamp, field: &str) -> Result<i64, Status> {
    if !(0..1_000_000_000).contains(&t.nanos) {
        return Err(Status::invalid_argument(format!(
            "{field}: nanos out of range"
        )));
    }
    t.seconds
        .checked_mul(1000)
        .and_then(|s| s.checked_add(i64::from(t.nanos / 1_000_000)))
        .ok_or_else(|| Status::invalid_argument(format!("{field}: out of range")))
}

/// The requested language, `id` by default.
pub fn language(requested: &str) -> Result<&'static str, Status> {
    match requested {
        "" | "id" => Ok("id"),
        "en" => Ok("en"),
        other => Err(Status::invalid_argument(format!(
            "language {}: use 'id' or 'en'",
            ikd_core::quote::quote(other)
        ))),
    }
}
