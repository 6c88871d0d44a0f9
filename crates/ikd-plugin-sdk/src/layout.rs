//! Checks of the instrument layout every scoring model relies on: level
//! bands and domains. A model calls them from its `new` and adds its own.

use crate::proto::DomainLayout;
use crate::{Band, ModelConfig, Violation};

fn violation(item: &str, field: &str, message: impl Into<String>) -> Violation {
    Violation::item(item, field, message)
}

/// A weight a weighted mean can use: finite and above 0.
pub fn is_positive_weight(w: f64) -> bool {
    w.is_finite() && w > 0.0
}

/// Bands: at least one, finite, each with `min < max`, ascending without overlap.
pub fn check_bands(bands: &[Band], violations: &mut Vec<Violation>) {
    if bands.is_empty() {
        violations.push(violation(
            "",
            "bands",
            "no level bands: every score needs a level",
        ));
        return;
    }
    for (b, band) in bands.iter().enumerate() {
        let name = if band.code.is_empty() {
            format!("bands[{b}]")
        } else {
            band.code.clone()
        };
        if !band.min.is_finite() || !band.max.is_finite() {
            violations.push(violation(
                &name,
                "min/max",
                format!(
                    "band bounds must be finite numbers (min {}, max {})",
                    band.min, band.max
                ),
            ));
        } else if band.min >= band.max {
            violations.push(violation(
                &name,
                "max",
                format!("band max {} is not above its min {}", band.max, band.min),
            ));
        }
        if b > 0 && band.min < bands[b - 1].max {
            violations.push(violation(
                &name,
                "min",
                format!(
                    "band min {} lies below the max {} of the band before it: bands must ascend without overlap",
                    band.min,
                    bands[b - 1].max
                ),
            ));
        }
    }
}

/// Domains: at least one, `min_domains` reachable, positive weights, a
/// fraction in [0, 1], and items in every domain.
pub fn check_domains(config: &ModelConfig, violations: &mut Vec<Violation>) {
    if config.domains.is_empty() {
        violations.push(violation("", "domains", "the instrument has no domains"));
    }
    if config.min_domains as usize > config.domains.len() {
        violations.push(violation(
            "",
            "min_domains",
            format!(
                "min_domains {} exceeds the number of domains ({}): no composite could ever be computed",
                config.min_domains,
                config.domains.len()
            ),
        ));
    }
    for (d, domain) in config.domains.iter().enumerate() {
        let name = if domain.code.is_empty() {
            format!("domains[{d}]")
        } else {
            domain.code.clone()
        };
        if !is_positive_weight(domain.weight) {
            violations.push(violation(
                &name,
                "weight",
                format!(
                    "domain weight must be a finite number above 0, not {}",
                    domain.weight
                ),
            ));
        }
        let f = domain.min_answered_fraction;
        if !(0.0..=1.0).contains(&f) {
            violations.push(violation(
                &name,
                "min_answered_fraction",
                format!("must lie in [0, 1], not {f}"),
            ));
        }
        if !config.items.iter().any(|it| it.domain as usize == d) {
            violations.push(violation(
                &name,
                "items",
                "the domain has no items: it could never be scored",
            ));
        }
    }
}

/// The missing-answers rule every scoring model applies: how many answers a
/// domain needs for a score, for each possible number of applicable items
/// `0..=items` (index = applicable items). A domain is scored when it has
/// applicable items and at least one answer, and its answers reach both
/// `min_answered` and `⌈min_answered_fraction · applicable⌉` (the 1e-9 keeps
/// a fraction like 0.6 · 5 from rounding up to 4 through floating-point
/// noise).
pub fn answers_needed(domain: &DomainLayout, items: usize) -> Vec<u32> {
    (0..=items)
        .map(|applicable| {
            let by_fraction = (domain.min_answered_fraction * applicable as f64 - 1e-9)
                .ceil()
                .max(0.0) as u32;
            by_fraction.max(domain.min_answered)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(min_answered: u32, min_answered_fraction: f64) -> DomainLayout {
        DomainLayout {
            min_answered,
            min_answered_fraction,
            ..Default::default()
        }
    }

    #[test]
    fn the_count_and_the_fraction_both_hold() {
        // ⌈0.6·n⌉ for n = 0..5 is 0 1 2 2 3 3, at least 2 answers.
        assert_eq!(answers_needed(&domain(2, 0.6), 5), [2, 2, 2, 2, 3, 3]);
        assert_eq!(answers_needed(&domain(0, 0.5), 4), [0, 1, 1, 2, 2]);
        assert_eq!(answers_needed(&domain(1, 1.0), 3), [1, 1, 2, 3]);
    }
}
