//! `ListInstruments` / `GetInstrument`: the catalog's instruments as the API
//! describes them — a summary each, or one instrument whole in one language.

use crate::catalog::{Catalog, Entry};
use crate::presentation;
use ikd_core::lang::Lang;
use ikd_proto::v1 as api;

/// One summary per served instrument version.
pub(crate) fn summaries(catalog: &Catalog) -> Vec<api::InstrumentSummary> {
    catalog
        .entries()
        .iter()
        .map(|e| {
            let i = &e.instrument;
            api::InstrumentSummary {
                id: i.id.clone(),
                version: i.version.to_string(),
                sha256: i.sha256.clone(),
                title: Some(api::Text {
                    id: i.title.id.clone(),
                    en: i.title.en.clone(),
                }),
                domains: i.domains.len() as u32,
                items: i.items.len() as u32,
                model: i.scoring.model.clone(),
            }
        })
        .collect()
}

/// The instrument in one language.
pub(crate) fn describe(entry: &Entry, lang: Lang) -> api::Instrument {
    let i = &entry.instrument;
    api::Instrument {
        id: i.id.clone(),
        version: i.version.to_string(),
        sha256: i.sha256.clone(),
        title: i.title.get(lang).to_owned(),
        language: lang.code().to_owned(),
        model: i.scoring.model.clone(),
        delivery: i.delivery.mode().to_owned(),
        domains: i
            .domains
            .iter()
            .map(|d| api::Domain {
                code: d.code.clone(),
                name: d.name.get(lang).to_owned(),
                weight: d.weight,
                plugin: d.plugin.clone(),
                indicators: d
                    .indicators
                    .iter()
                    .map(|ind| api::Indicator {
                        code: ind.code.clone(),
                        name: ind.name.get(lang).to_owned(),
                        weight: ind.weight,
                    })
                    .collect(),
            })
            .collect(),
        items: i
            .items
            .iter()
            .enumerate()
            .map(|(k, item)| {
                let scale = item
                    .scale
                    .as_ref()
                    .and_then(|s| i.scales.iter().find(|sc| &sc.id == s));
                api::Item {
                    id: item.id.clone(),
                    domain: item.domain.clone(),
                    indicator: item.indicator.clone(),
                    kind: item.kind.clone(),
                    text: item.text.get(lang).to_owned(),
                    options: item
                        .options
                        .iter()
                        .map(|o| api::ItemOption {
                            code: o.code.clone(),
                            label: o.label.get(lang).to_owned(),
                        })
                        .collect(),
                    scale_min: scale.map(|s| f64::from(s.min)),
                    scale_max: scale.map(|s| f64::from(s.max)),
                    scale_labels: scale
                        .map(|s| s.labels.iter().map(|l| l.get(lang).to_owned()).collect())
                        .unwrap_or_default(),
                    presentation: entry
                        .scorer
                        .presentation(k)
                        .map(|shown| presentation::localise(shown, lang)),
                }
            })
            .collect(),
        levels: i
            .levels
            .iter()
            .map(|l| api::Level {
                code: l.code.clone(),
                name: l.name.get(lang).to_owned(),
                min: l.min,
                max: l.max,
            })
            .collect(),
    }
}
