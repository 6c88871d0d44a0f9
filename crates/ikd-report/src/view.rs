//! What both reports show alike: the instrument's header, its levels with
//! their colours, the scale bar, the radar's rings, and intervals as text.

use crate::chart::colour::{level_colour, text_on};
use crate::chart::scale::{ScaleBar, scale_bar};
use crate::lang::{Lang, number};
use ikd_core::instrument::Instrument;
use serde::Serialize;

/// The instrument as the page header shows it.
#[derive(Serialize)]
pub struct InstrumentView {
    pub id: String,
    pub version: String,
    pub title: String,
    pub description: Option<String>,
    pub sha256_short: String,
}

impl InstrumentView {
    pub fn new(instrument: &Instrument, lang: Lang) -> Self {
        InstrumentView {
            id: instrument.id.clone(),
            version: instrument.version.to_string(),
            title: instrument.title.get(lang).to_owned(),
            description: instrument
                .description
                .as_ref()
                .map(|d| d.get(lang).to_owned()),
            sha256_short: instrument.sha256.chars().take(12).collect(),
        }
    }
}

/// A level in a legend.
#[derive(Serialize)]
pub struct LevelView {
    pub code: String,
    pub name: String,
    pub colour: String,
    pub range: String,
}

pub fn levels(instrument: &Instrument, lang: Lang) -> Vec<LevelView> {
    let count = instrument.levels.len();
    instrument
        .levels
        .iter()
        .enumerate()
        .map(|(k, l)| LevelView {
            code: l.code.clone(),
            name: l.name.get(lang).to_owned(),
            colour: level_colour(k, count),
            range: format!(
                "{}–{}",
                number(Some(l.min), 0, lang),
                number(Some(l.max), 0, lang)
            ),
        })
        .collect()
}

/// A level's name, colour and the text colour that reads on it.
pub struct LevelLook {
    pub code: String,
    pub name: String,
    pub colour: String,
    pub text_colour: &'static str,
}

pub fn level_look(instrument: &Instrument, level: usize, lang: Lang) -> Option<LevelLook> {
    let l = instrument.levels.get(level)?;
    let colour = level_colour(level, instrument.levels.len());
    Some(LevelLook {
        code: l.code.clone(),
        name: l.name.get(lang).to_owned(),
        text_colour: text_on(&colour),
        colour,
    })
}

/// The level band holding `value`: `[min, max)`, the last band including its max.
pub fn level_at(instrument: &Instrument, value: f64) -> Option<usize> {
    let last = instrument.levels.len().checked_sub(1)?;
    instrument
        .levels
        .iter()
        .enumerate()
        .position(|(k, l)| value >= l.min && (value < l.max || (k == last && value <= l.max)))
}

/// The reporting scale with its level bands, a value and its interval.
pub fn scale(
    instrument: &Instrument,
    lang: Lang,
    value: Option<f64>,
    interval: Option<(f64, f64)>,
) -> ScaleBar {
    let names: Vec<String> = instrument
        .levels
        .iter()
        .map(|l| l.name.get(lang).to_owned())
        .collect();
    let bands: Vec<(&str, &str, f64, f64)> = instrument
        .levels
        .iter()
        .zip(&names)
        .map(|(l, name)| (l.code.as_str(), name.as_str(), l.min, l.max))
        .collect();
    let reporting = instrument.reporting;
    scale_bar(
        &bands,
        reporting.min,
        reporting.max,
        value.map(|v| (v, number(Some(v), 1, lang))),
        interval.filter(|(lo, hi)| lo.is_finite() && hi.is_finite()),
        |v| number(Some(v), 0, lang),
    )
}

/// The radar's rings: one at each level's upper bound.
pub fn rings(instrument: &Instrument, lang: Lang) -> Vec<(f64, String)> {
    instrument
        .levels
        .iter()
        .map(|l| (l.max, number(Some(l.max), 0, lang)))
        .collect()
}

/// An interval as text (`54,2–62,0`); `None` when unbounded.
pub fn interval(lo: f64, hi: f64, lang: Lang) -> Option<String> {
    (lo.is_finite() && hi.is_finite()).then(|| {
        format!(
            "{}–{}",
            number(Some(lo), 1, lang),
            number(Some(hi), 1, lang)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{ikd_asn, instrument};

    #[test]
    fn values_fall_in_half_open_bands() {
        let instrument = instrument();
        assert_eq!(level_at(&instrument, 0.0), Some(0));
        assert_eq!(level_at(&instrument, 49.99), Some(0));
        assert_eq!(level_at(&instrument, 50.0), Some(1));
        assert_eq!(level_at(&instrument, 100.0), Some(1));
        assert_eq!(level_at(&instrument, 100.5), None);
        assert_eq!(level_at(&instrument, -1.0), None);
    }

    #[test]
    fn intervals_and_levels_read_in_the_language() {
        assert_eq!(
            interval(54.18, 62.02, Lang::Id).as_deref(),
            Some("54,2–62,0")
        );
        assert_eq!(interval(f64::NEG_INFINITY, 1.0, Lang::En), None);
        let levels = levels(&ikd_asn(), Lang::En);
        assert_eq!(levels.len(), 5);
        assert_eq!(levels[4].name, "Very High");
        assert_eq!(levels[4].range, "80–100");
        assert_eq!(levels[0].colour, "#d7191c");
    }
}
