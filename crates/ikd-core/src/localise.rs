//! The one place a result is put into a language: level and domain names
//! from the instrument, feedback from the record, and the index's 95%
//! interval on the reporting scale. The gRPC API and the person report show
//! results through it; everything before it (the pipeline, the store, the
//! files `ikd score` writes) stays language-free.

use crate::disclosure::Suppression;
use crate::instrument::{Instrument, Text};
use crate::lang::Lang;
use crate::results::{Missing, MissingReason, ResultRecord};

/// A result as a person reads it, in one language.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalisedResult {
    pub index: Option<f64>,
    pub index_se: Option<f64>,
    /// The 95% interval of the index (`± 1.96·SE`, kept inside the reporting
    /// scale); `None` without a standard error.
    pub interval: Option<(f64, f64)>,
    pub level: Option<Named>,
    /// Why the index is absent, with its message.
    pub index_missing: Option<LocalisedMissing>,
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
    /// Why the domain has no score, with its message.
    pub missing: Option<LocalisedMissing>,
    /// The plugin's summary and advice, when the record carries feedback.
    pub feedback: Option<LocalisedFeedback>,
}

/// A [`Missing`] with its message in the chosen language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalisedMissing {
    pub missing: Missing,
    pub message: String,
}

impl LocalisedMissing {
    fn new(missing: Missing, lang: Lang) -> Self {
        LocalisedMissing {
            message: missing_text(&missing).get(lang).to_owned(),
            missing,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalisedFeedback {
    pub summary: String,
    pub advice: String,
}

/// `record` in `lang`, with names from `instrument`. It takes the record: its codes
/// and flags move into the result rather than being copied (this runs once per
/// respondent of a stream or an export).
pub fn localise(record: ResultRecord, instrument: &Instrument, lang: Lang) -> LocalisedResult {
    let level = |code: Option<String>| {
        code.map(|code| Named {
            name: instrument
                .levels
                .iter()
                .find(|l| l.code == code)
                .map(|l| l.name.get(lang).to_owned())
                .unwrap_or_default(),
            code,
        })
    };
    let index_missing = record
        .index_missing(instrument.missing.min_domains)
        .map(|m| LocalisedMissing::new(m, lang));
    let domains = record
        .domains
        .into_iter()
        .map(|d| LocalisedDomain {
            missing: d.missing().map(|m| LocalisedMissing::new(m, lang)),
            domain: Named {
                name: instrument
                    .domains
                    .iter()
                    .find(|x| x.code == d.code)
                    .map(|x| x.name.get(lang).to_owned())
                    .unwrap_or_default(),
                code: d.code,
            },
            score: d.score,
            se: d.se,
            level: level(d.level),
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
        level: level(record.level),
        index_missing,
        domains,
        flags: record.flags,
    }
}

/// Why a value is absent, in both languages: one sentence with the counts.
pub fn missing_text(m: &Missing) -> Text {
    let (count, needed) = (m.count, m.needed);
    let (id, en) = match m.reason {
        MissingReason::TooFewAnswers => (
            format!("Tidak dinilai: {count} dari {needed} butir yang diperlukan dijawab."),
            format!("Not scored: {count} of the {needed} answers needed were given."),
        ),
        MissingReason::NoApplicableItems => (
            "Tidak dinilai: semua butir dijawab \"tidak berlaku\".".to_owned(),
            "Not scored: every item was answered \"not applicable\".".to_owned(),
        ),
        MissingReason::TooFewDomains => (
            format!("Indeks tidak dihitung: {count} dari {needed} domain yang diperlukan memiliki skor."),
            format!("No index: {count} of the {needed} scored domains needed."),
        ),
        MissingReason::Model => (
            "Tidak dinilai oleh model penilaian (aturannya sendiri); jumlah jawaban memenuhi batas instrumen.".to_owned(),
            "Not scored by the scoring model (a rule of its own); the answers met the instrument's minimum.".to_owned(),
        ),
        MissingReason::Unknown => (
            "Tidak dinilai; alasannya tidak tersimpan bersama hasil ini.".to_owned(),
            "Not scored; the reason was not kept with this result.".to_owned(),
        ),
    };
    Text { id, en }
}

/// Why a published figure is suppressed, in both languages, for groups of
/// at least `min` results.
pub fn suppression_text(reason: Suppression, min: u32) -> Text {
    let (id, en) = match reason {
        Suppression::TooFewResults => (
            format!("Tidak ditampilkan: kurang dari {min} hasil."),
            format!("Not shown: fewer than {min} results."),
        ),
        Suppression::DisclosureControl => (
            format!(
                "Tidak ditampilkan: kelompok ini memiliki kurang dari {min} hasil, atau angkanya \
                 dapat dipakai untuk menghitung kelompok lain yang lebih kecil dengan selisih. \
                 Yang mana tidak disebutkan, karena hal itu dapat mengungkap ukuran kelompok."
            ),
            format!(
                "Not shown: this group has fewer than {min} results, or its figures would let \
                 another, smaller group's be worked out by subtraction. Which of the two is not \
                 said, as saying it could reveal a group's size."
            ),
        ),
    };
    Text { id, en }
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
