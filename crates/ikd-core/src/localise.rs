//! The one place a result is put into a language: level and domain names
//! from the instrument, feedback from the record, and the index's 95%
//! interval on the reporting scale. The gRPC API and the person report show
//! results through it; everything before it (the pipeline, the store, the
//! files `ikd score` writes) stays language-free.

use crate::instrument::Instrument;
use crate::lang::Lang;
use crate::results::ResultRecord;

/// A result as a person reads it, in one language.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalisedResult {
    pub index: Option<f64>,
    pub index_se: Option<f64>,
    /// The 95% interval of the index (`± 1.96·SE`, kept inside the reporting
    /// scale); `None` without a standard error.
    pub interval: Option<(f64, f64)>,
    pub level: Option<Named>,
    /// In the record's order.
    pub domains: Vec<LocalisedDomain>,
    pub flags: Vec<String>,
}

/// A code with its name in the chosen language (empty when the instrument
/// does not know the code).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub code: String,
    pub name: String,
}

/// One domain of a [`LocalisedResult`].
#[derive(Clone, Debug, PartialEq)]
pub struct LocalisedDomain {
    pub domain: Named,
    pub score: Option<f64>,
    pub se: Option<f64>,
    pub level: Option<Named>,
    pub answered: u32,
    /// The plugin's summary and advice, when the record carries feedback.
    pub feedback: Option<LocalisedFeedback>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalisedFeedback {
    pub summary: String,
    pub advice: String,
}

/// `record` in `lang`, with names from `instrument`.
pub fn localise(record: &ResultRecord, instrument: &Instrument, lang: Lang) -> LocalisedResult {
    let level = |code: &Option<String>| {
        code.as_ref().map(|code| Named {
            name: instrument
                .levels
                .iter()
                .find(|l| &l.code == code)
                .map(|l| l.name.get(lang).to_owned())
                .unwrap_or_default(),
            code: code.clone(),
        })
    };
    let domains = record
        .domains
        .iter()
        .map(|d| LocalisedDomain {
            domain: Named {
                name: instrument
                    .domains
                    .iter()
                    .find(|x| x.code == d.code)
                    .map(|x| x.name.get(lang).to_owned())
                    .unwrap_or_default(),
                code: d.code.clone(),
            },
            score: d.score,
            se: d.se,
            level: level(&d.level),
            answered: d.answered,
            feedback: d.feedback.as_ref().map(|f| LocalisedFeedback {
                summary: f.summary.get(lang).to_owned(),
                advice: f.advice.get(lang).to_owned(),
            }),
        })
        .collect();
    LocalisedResult {
        index: record.index,
        index_se: record.index_se,
        interval: record
            .index
            .zip(record.index_se)
            .filter(|(x, se)| x.is_finite() && se.is_finite())
            .map(|(x, se)| interval95(x, se, instrument.reporting.min, instrument.reporting.max)),
        level: level(&record.level),
        domains,
        flags: record.flags.clone(),
    }
}

/// The normal quantile of a two-sided 95% interval.
pub const Z_95: f64 = 1.96;

/// A person's 95% interval `x ± 1.96·se`, clipped to the reporting scale
/// `[min, max]`.
pub fn interval95(x: f64, se: f64, min: f64, max: f64) -> (f64, f64) {
    let half = Z_95 * se.abs();
    ((x - half).max(min), (x + half).min(max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_persons_interval_is_clipped_to_the_reporting_scale() {
        let (lo, hi) = interval95(58.1, 2.0, 0.0, 100.0);
        assert!((lo - 54.18).abs() < 1e-12 && (hi - 62.02).abs() < 1e-12);
        assert_eq!(interval95(97.0, 5.0, 0.0, 100.0).1, 100.0);
        assert_eq!(interval95(3.0, 5.0, 0.0, 100.0).0, 0.0);
    }
}
