//! A result as the API returns it: the record localised by
//! `ikd_core::localise` (names, feedback and the interval in the caller's
//! language) and mapped onto the proto. Fresh and stored results go through
//! the same [`render`], so `Score`, `SubmitSession` and `GetResult` answer
//! alike.

use ikd_core::lang::Lang;
use ikd_core::localise::{LocalisedMissing, Named, localise};
use ikd_core::pipeline::Scorer;
use ikd_core::results::{
    AdministeredItem, Administration, PluginProvenance, Provenance, ResultRecord,
};
use ikd_proto::v1 as api;
use tonic::Status;

/// The API result in `lang`. With `full` false, feedback and provenance are
/// left out (batch scoring); with `full` true a result without provenance
/// (a fresh one, or one whose stored provenance cannot be read) gets the
/// scorer's own.
pub fn render(
    scorer: &Scorer,
    record: ResultRecord,
    provenance: Option<&Provenance>,
    lang: Lang,
    full: bool,
) -> api::Result {
    let instrument = scorer.instrument();
    let shown = localise(record, instrument, lang);
    let level = |l: Option<Named>| {
        l.map(|l| api::LevelRef {
            code: l.code,
            name: l.name,
        })
    };
    api::Result {
        instrument: Some(api::InstrumentRef {
            id: instrument.id.clone(),
            // The scorer's own provenance has it formatted already.
            version: scorer.provenance().instrument_version.clone(),
        }),
        index: shown.index,
        index_se: shown.index_se,
        index_ci_low: shown.interval.map(|i| i.0),
        index_ci_high: shown.interval.map(|i| i.1),
        level: level(shown.level),
        index_missing: shown.index_missing.map(api_missing),
        domains: shown
            .domains
            .into_iter()
            .map(|d| api::DomainResult {
                code: d.domain.code,
                name: d.domain.name,
                score: d.score,
                se: d.se,
                level: level(d.level),
                answered: d.answered,
                missing: d.missing.map(api_missing),
                feedback: d.feedback.filter(|_| full).map(|f| api::Feedback {
                    summary: f.summary,
                    advice: f.advice,
                }),
            })
            .collect(),
        flags: shown.flags,
        provenance: full.then(|| api_provenance(provenance.unwrap_or(scorer.provenance()))),
        adaptive: provenance
            .and_then(|p| p.adaptive.as_ref())
            .filter(|_| full)
            .map(api_administration),
    }
}

fn api_administration(a: &Administration) -> api::AdaptiveRecord {
    api::AdaptiveRecord {
        selector: Some(plugin_ref(&a.selector)),
        stop_reason: a.stop_reason.clone(),
        steps: a.steps.iter().map(api_step).collect(),
    }
}

/// An administered item as the API shows it (the category code stays in the provenance).
pub(crate) fn api_step(step: &AdministeredItem) -> api::AdaptiveStep {
    api::AdaptiveStep {
        item_id: step.item.clone(),
        domain: step.domain.clone(),
        theta: step.theta,
        se: step.se,
    }
}

fn plugin_ref(p: &PluginProvenance) -> api::PluginRef {
    api::PluginRef {
        name: p.name.clone(),
        version: p.version.clone(),
        sha256: p.sha256.clone(),
    }
}

fn api_missing(m: LocalisedMissing) -> api::Missing {
    use ikd_core::results::MissingReason as R;
    let reason = match m.missing.reason {
        R::TooFewAnswers => api::MissingReason::TooFewAnswers,
        R::NoApplicableItems => api::MissingReason::NoApplicableItems,
        R::TooFewDomains => api::MissingReason::TooFewDomains,
        R::Model => api::MissingReason::Model,
        R::Unknown => api::MissingReason::Unspecified,
    };
    api::Missing {
        reason: reason.into(),
        count: m.missing.count,
        needed: m.missing.needed,
        message: m.message,
    }
}

fn api_provenance(p: &Provenance) -> api::Provenance {
    let plugin = plugin_ref;
    api::Provenance {
        instrument_id: p.instrument_id.clone(),
        instrument_version: p.instrument_version.clone(),
        instrument_sha256: p.instrument_sha256.clone(),
        engine_version: p.engine_version.clone(),
        model: Some(plugin(&p.model)),
        model_settings_json: match &p.model_settings {
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        },
        plugins: p.plugins.iter().map(plugin).collect(),
    }
}

/// Unix milliseconds now.
pub(crate) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
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
pub fn language(requested: &str) -> Result<Lang, Status> {
    Lang::requested(requested).map_err(|e| Status::invalid_argument(e.to_string()))
}
