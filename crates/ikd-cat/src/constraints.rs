//! Settings checked against a bank and resolved into the limits content
//! balancing and the stopping rule work with: per domain and per indicator a
//! minimum and a maximum number of items, per domain an SE target, and the
//! test's maximum.
//!
//! A maximum above what the bank has is capped silently (a test-wide "at
//! most 20 per domain" fits a domain of 12); a minimum the bank or the other
//! limits cannot meet is an error. Once resolved, every limit can be met
//! together, which content balancing relies on ([`crate::content`]).

use crate::bank::Bank;
use crate::settings::{DomainSettings, Settings};
use std::fmt;

/// The resolved limits of a test on one bank.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraints {
    /// Items of the whole test at most.
    pub max_items: usize,
    /// Per domain, in bank order.
    pub domains: Vec<DomainLimits>,
}

/// The limits of one domain.
#[derive(Clone, Debug, PartialEq)]
pub struct DomainLimits {
    pub se_target: f64,
    /// At least the domain's own minimum and the sum of its indicators'.
    pub min_items: usize,
    pub max_items: usize,
    /// Per indicator of the domain, in bank order.
    pub indicators: Vec<Limits>,
}

/// A minimum and a maximum number of items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub min: usize,
    pub max: usize,
}

/// A setting that cannot be used, named by its path in the settings table
/// (`se_target`, `domains.<code>.indicators.<code>.min_items`, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

/// Every problem of a settings table at once.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct SettingsError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "adaptive-test settings:")?;
        for (n, p) in self.problems.iter().enumerate() {
            let sep = if n == 0 { " " } else { "; " };
            write!(f, "{sep}{}: {}", p.field, p.message)?;
        }
        Ok(())
    }
}

/// Collects problems while settings are checked.
#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            field: field.into(),
            message: message.into(),
        });
    }
}

impl Settings {
    /// Checks every field, and the limits against `bank`, and resolves the
    /// per-domain and per-indicator limits. All problems are reported at once.
    pub fn check(&self, bank: &Bank) -> Result<Constraints, SettingsError> {
        let mut problems = Problems::default();
        self.check_scalars(&mut problems);
        self.check_codes(bank, &mut problems);
        let domains: Vec<DomainLimits> = bank
            .domains()
            .iter()
            .map(|domain| self.domain_limits(bank, &domain.code, &mut problems))
            .collect();
        let needed: usize = domains.iter().map(|d| d.min_items).sum();
        let max_items = match self.max_items {
            Some(0) => {
                problems.add("max_items", "must be at least 1");
                0
            }
            Some(max) if max < needed => {
                problems.add(
                    "max_items",
                    format!("{max} is below the {needed} items the domains' minimums need"),
                );
                max
            }
            Some(max) => max.min(bank.len()),
            None => bank.len(),
        };
        if problems.0.is_empty() {
            Ok(Constraints { max_items, domains })
        } else {
            Err(SettingsError {
                problems: problems.0,
            })
        }
    }

    fn check_scalars(&self, problems: &mut Problems) {
        check_se_target("se_target", self.se_target, problems);
        if self.randomesque == 0 {
            problems.add("randomesque", "must be at least 1 (1: the best item)");
        }
        if !(self.kl_radius.is_finite() && self.kl_radius > 0.0) {
            problems.add(
                "kl_radius",
                format!("must be a finite number above 0, not {}", self.kl_radius),
            );
        }
        if !(3..=100_000).contains(&self.quadpts) {
            problems.add(
                "quadpts",
                format!("must be from 3 to 100000 nodes, not {}", self.quadpts),
            );
        }
        if self.max_items_per_domain == Some(0) {
            problems.add("max_items_per_domain", "must be at least 1");
        }
    }

    /// Overrides must name domains and indicators of the bank.
    fn check_codes(&self, bank: &Bank, problems: &mut Problems) {
        for (code, overrides) in &self.domains {
            let Some(domain) = bank.domains().iter().find(|d| &d.code == code) else {
                let known: Vec<&str> = bank.domains().iter().map(|d| d.code.as_str()).collect();
                problems.add(
                    format!("domains.{code}"),
                    format!(
                        "the bank has no domain '{code}' (it has {})",
                        known.join(", ")
                    ),
                );
                continue;
            };
            for indicator in overrides.indicators.keys() {
                if !domain.indicators.iter().any(|i| &i.code == indicator) {
                    let known: Vec<&str> =
                        domain.indicators.iter().map(|i| i.code.as_str()).collect();
                    problems.add(
                        format!("domains.{code}.indicators.{indicator}"),
                        format!(
                            "domain '{code}' has no indicator '{indicator}' (it has {})",
                            known.join(", ")
                        ),
                    );
                }
            }
        }
    }

    fn domain_limits(&self, bank: &Bank, code: &str, problems: &mut Problems) -> DomainLimits {
        let domain = bank
            .domains()
            .iter()
            .find(|d| d.code == code)
            .expect("a bank domain");
        let none = DomainSettings::default();
        let overrides = self.domains.get(code).unwrap_or(&none);
        let own = |key: &str, test_wide: &str, set: bool| {
            if set {
                format!("domains.{code}.{key}")
            } else {
                test_wide.to_owned()
            }
        };

        let se_target = overrides.se_target.unwrap_or(self.se_target);
        if let Some(se) = overrides.se_target {
            check_se_target(&format!("domains.{code}.se_target"), se, problems);
        }

        let size = domain.items.len();
        let min_field = own(
            "min_items",
            "min_items_per_domain",
            overrides.min_items.is_some(),
        );
        let max_field = own(
            "max_items",
            "max_items_per_domain",
            overrides.max_items.is_some(),
        );
        let min = overrides.min_items.unwrap_or(self.min_items_per_domain);
        let max_set = overrides.max_items.or(self.max_items_per_domain);
        if overrides.max_items == Some(0) {
            problems.add(&max_field, "must be at least 1");
        }
        let max = max_set.unwrap_or(size).min(size);
        if min > size {
            problems.add(
                &min_field,
                format!("domain '{code}' has {size} items, fewer than its minimum {min}"),
            );
        } else if max_set.is_some() && min > max {
            problems.add(
                &min_field,
                format!("domain '{code}': minimum {min} is above its maximum {max}"),
            );
        }

        let mut indicators = Vec::with_capacity(domain.indicators.len());
        for indicator in &domain.indicators {
            let set = overrides.indicators.get(&indicator.code);
            let field = |key: &str, test_wide: &str, is_set: bool| {
                if is_set {
                    format!("domains.{code}.indicators.{}.{key}", indicator.code)
                } else {
                    test_wide.to_owned()
                }
            };
            let min_i = set
                .and_then(|s| s.min_items)
                .unwrap_or(self.min_items_per_indicator);
            let max_i_set = set
                .and_then(|s| s.max_items)
                .or(self.max_items_per_indicator);
            let size_i = indicator.items.len();
            let max_i = max_i_set.unwrap_or(size_i).min(size_i);
            let min_i_field = field(
                "min_items",
                "min_items_per_indicator",
                set.is_some_and(|s| s.min_items.is_some()),
            );
            if min_i > size_i {
                problems.add(
                    &min_i_field,
                    format!(
                        "indicator '{}' of domain '{code}' has {size_i} items, fewer than its minimum {min_i}",
                        indicator.code
                    ),
                );
            } else if min_i > max_i {
                problems.add(
                    &min_i_field,
                    format!(
                        "indicator '{}' of domain '{code}': minimum {min_i} is above its maximum {max_i}",
                        indicator.code
                    ),
                );
            }
            indicators.push(Limits {
                min: min_i,
                max: max_i,
            });
        }

        let indicators_need: usize = indicators.iter().map(|l| l.min).sum();
        let indicators_allow: usize = indicators.iter().map(|l| l.max).sum();
        if indicators_need > max {
            problems.add(
                &max_field,
                format!(
                    "domain '{code}': its indicators' minimums need {indicators_need} items, above its maximum {max}"
                ),
            );
        }
        if indicators_allow < min && min <= size {
            problems.add(
                &min_field,
                format!(
                    "domain '{code}': its indicators' maximums allow {indicators_allow} items, below its minimum {min}"
                ),
            );
        }
        DomainLimits {
            se_target,
            min_items: min.max(indicators_need),
            max_items: max,
            indicators,
        }
    }
}

fn check_se_target(field: &str, se: f64, problems: &mut Problems) {
    if !(se.is_finite() && se > 0.0) {
        problems.add(field, format!("must be a finite number above 0, not {se}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::BankItem;
    use crate::settings::IndicatorSettings;
    use ikd_irt::{Item, Model};

    /// Domain A: indicators x (3 items) and y (2); domain B: z (4).
    fn bank() -> Bank {
        let layout = [
            ("A", "x"),
            ("A", "x"),
            ("A", "x"),
            ("A", "y"),
            ("A", "y"),
            ("B", "z"),
            ("B", "z"),
            ("B", "z"),
            ("B", "z"),
        ];
        let items = layout
            .iter()
            .enumerate()
            .map(|(i, (d, ind))| BankItem {
                id: format!("i{i}"),
                domain: (*d).into(),
                indicator: (*ind).into(),
                irt: Item::new(format!("i{i}"), Model::TwoPl, 1.0, vec![0.0]).unwrap(),
            })
            .collect();
        Bank::new(items).unwrap()
    }

    fn fields(err: SettingsError) -> Vec<String> {
        err.problems.into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn defaults_allow_the_whole_bank() {
        let c = Settings::default().check(&bank()).unwrap();
        assert_eq!(c.max_items, 9);
        assert_eq!(c.domains[0].max_items, 5);
        assert_eq!(c.domains[0].min_items, 1);
        assert_eq!(c.domains[0].indicators[1], Limits { min: 0, max: 2 });
        assert_eq!(c.domains[1].se_target, 0.3);
    }

    #[test]
    fn overrides_apply_and_maximums_are_capped_at_the_bank() {
        let mut s = Settings {
            max_items_per_domain: Some(20),
            min_items_per_indicator: 1,
            max_items: Some(100),
            ..Settings::default()
        };
        s.domains.insert(
            "B".into(),
            DomainSettings {
                se_target: Some(0.4),
                max_items: Some(3),
                ..DomainSettings::default()
            },
        );
        let c = s.check(&bank()).unwrap();
        assert_eq!(c.max_items, 9);
        assert_eq!(c.domains[0].max_items, 5);
        // A's effective minimum: one item for each of its two indicators.
        assert_eq!(c.domains[0].min_items, 2);
        assert_eq!(c.domains[1].max_items, 3);
        assert_eq!(c.domains[1].se_target, 0.4);
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        let mut s = Settings {
            se_target: 0.0,
            randomesque: 0,
            kl_radius: f64::NAN,
            quadpts: 2,
            min_items_per_domain: 5,
            ..Settings::default()
        };
        s.domains.insert("C".into(), DomainSettings::default());
        let mut a = DomainSettings::default();
        a.indicators
            .insert("w".into(), IndicatorSettings::default());
        a.indicators.insert(
            "y".into(),
            IndicatorSettings {
                min_items: Some(3),
                max_items: None,
            },
        );
        s.domains.insert("A".into(), a);
        let err = s.check(&bank()).unwrap_err();
        let text = err.to_string();
        assert_eq!(
            fields(err),
            [
                "se_target",
                "randomesque",
                "kl_radius",
                "quadpts",
                "domains.A.indicators.w",
                "domains.C",
                "domains.A.indicators.y.min_items",
                "min_items_per_domain",
            ],
            "{text}"
        );
        assert!(text.contains("indicator 'y' of domain 'A' has 2 items, fewer than its minimum 3"));
        assert!(text.contains("the bank has no domain 'C' (it has A, B)"));
    }

    #[test]
    fn unreachable_minimums_are_refused() {
        let s = Settings {
            min_items_per_domain: 5,
            ..Settings::default()
        };
        // B has 4 items.
        let err = s.check(&bank()).unwrap_err();
        assert_eq!(err.problems.len(), 1);
        assert_eq!(err.problems[0].field, "min_items_per_domain");
        assert!(err.problems[0].message.contains("domain 'B' has 4 items"));

        let s = Settings {
            min_items_per_domain: 3,
            max_items: Some(5),
            ..Settings::default()
        };
        let err = s.check(&bank()).unwrap_err();
        assert_eq!(fields(err.clone()), ["max_items"]);
        assert!(err.to_string().contains("5 is below the 6 items"));

        let s = Settings {
            min_items_per_domain: 3,
            max_items_per_indicator: Some(1),
            ..Settings::default()
        };
        let err = s.check(&bank()).unwrap_err();
        assert!(
            err.to_string().contains(
                "domain 'A': its indicators' maximums allow 2 items, below its minimum 3"
            ),
            "{err}"
        );

        let mut s = Settings {
            min_items_per_indicator: 2,
            ..Settings::default()
        };
        s.domains.insert(
            "A".into(),
            DomainSettings {
                max_items: Some(3),
                ..DomainSettings::default()
            },
        );
        let err = s.check(&bank()).unwrap_err();
        assert_eq!(fields(err.clone()), ["domains.A.max_items"]);
        assert!(
            err.to_string()
                .contains("minimums need 4 items, above its maximum 3")
        );
    }
}
