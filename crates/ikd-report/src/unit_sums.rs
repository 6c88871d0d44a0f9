//! An organisation unit's results as sums: what an organisation report needs
//! of them, without them (issue 18). Sums add up, so the groups a report
//! compares — a prefix, its parent, the whole data set, its children — are
//! their units' sums added, and a store that keeps each unit's sums up to
//! date can have a report made from thousands of units instead of millions
//! of results.
//!
//! [`UnitSums`] speaks codes, as a store does; [`unit_groups`] checks them
//! against the instrument and puts them in its order.

use crate::data::{Group, align};
use crate::error::ReportError;
use crate::indicator_scorer::indicator_codes;
use crate::indicators::{IndicatorMeans, IndicatorTotals};
use crate::org_unit::unit_within;
use crate::results::ResultRecord;
use crate::stats::Moments;
use ikd_core::instrument::Instrument;
use std::collections::BTreeMap;

/// The sums of one organisation unit's results (the exact unit, such as
/// `64.72/diskominfo`, not a prefix).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UnitSums {
    pub org_unit: String,
    /// Results of the unit.
    pub n: u64,
    /// Results flagged for answer quality.
    pub flagged: u64,
    /// The composite index.
    pub index: ScoreSums,
    /// By domain code; a domain left out has no score and no level.
    pub domains: BTreeMap<String, ScoreSums>,
    /// The indicator scores of the respondents whose answers were scored item
    /// by item ([`crate::IndicatorScorer`]); `None` when none were.
    pub indicators: Option<IndicatorSums>,
}

/// The sums of one score (the index or a domain) over a unit's results.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScoreSums {
    /// n, Σx and Σx² of the results that have the score.
    pub scores: Moments,
    /// Results per level code; a level left out has none.
    pub levels: BTreeMap<String, u64>,
}

/// A unit's indicator sums.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IndicatorSums {
    /// Respondents whose answers were scored item by item (with or without
    /// a score for any one indicator).
    pub respondents: u64,
    /// By (domain code, indicator code): n, Σx and Σx² of the respondents'
    /// indicator scores ([`crate::IndicatorScorer::scores`]); an indicator
    /// left out has none.
    pub scores: BTreeMap<(String, String), Moments>,
}

impl UnitSums {
    /// The sums of `rows`, one per unit in unit order; a row that does not
    /// match the instrument is an error naming the respondent.
    pub fn of_results(
        instrument: &Instrument,
        rows: &[ResultRecord],
    ) -> Result<Vec<UnitSums>, ReportError> {
        let mut units: BTreeMap<&str, Group> = BTreeMap::new();
        for obs in align(instrument, rows)? {
            units
                .entry(obs.row.org_unit.as_str())
                .or_insert_with(|| Group::new(instrument))
                .add(&obs);
        }
        Ok(units
            .into_iter()
            .map(|(unit, group)| UnitSums::of_group(instrument, unit, &group))
            .collect())
    }

    /// Checks the sums against the instrument: every domain, level and
    /// indicator code its own, no count above the unit's results, every sum
    /// finite. Errors name the unit and the code.
    pub fn check(&self, instrument: &Instrument) -> Result<(), ReportError> {
        self.in_order(instrument, &indicator_codes(instrument))
            .map(|_| ())
    }

    /// Gives every unit the indicator sums of `by_unit` (no respondents when
    /// it has none there), and adds the units only `by_unit` has, with no
    /// results: answers can be read for respondents whose results are not.
    pub fn join_indicators(
        units: &mut Vec<UnitSums>,
        mut by_unit: BTreeMap<String, IndicatorSums>,
    ) {
        for unit in units.iter_mut() {
            unit.indicators = Some(by_unit.remove(&unit.org_unit).unwrap_or_default());
        }
        units.extend(by_unit.into_iter().map(|(org_unit, sums)| UnitSums {
            org_unit,
            indicators: Some(sums),
            ..UnitSums::default()
        }));
    }

    fn of_group(instrument: &Instrument, org_unit: &str, group: &Group) -> Self {
        let score_sums = |scores: Moments, levels: &[u64]| ScoreSums {
            scores,
            levels: instrument
                .levels
                .iter()
                .zip(levels)
                .filter(|(_, count)| **count > 0)
                .map(|(level, count)| (level.code.clone(), *count))
                .collect(),
        };
        UnitSums {
            org_unit: org_unit.to_owned(),
            n: group.n,
            flagged: group.flagged,
            index: score_sums(group.index, &group.index_levels),
            domains: instrument
                .domains
                .iter()
                .zip(&group.domains)
                .map(|(d, sums)| (d.code.clone(), score_sums(sums.scores, &sums.levels)))
                .collect(),
            indicators: None,
        }
    }

    /// The sums in instrument order (positions instead of codes), checked.
    fn in_order(
        &self,
        instrument: &Instrument,
        indicators: &[(String, String)],
    ) -> Result<UnitGroup, ReportError> {
        let check = Check {
            instrument,
            unit: &self.org_unit,
            n: self.n,
        };
        check.at_most_n("flagged", self.flagged)?;
        let mut group = Group::new(instrument);
        group.n = self.n;
        group.flagged = self.flagged;
        check.score(
            "the index",
            &self.index,
            &mut group.index,
            &mut group.index_levels,
        )?;
        for (code, sums) in &self.domains {
            let at = instrument
                .domains
                .iter()
                .position(|d| &d.code == code)
                .ok_or_else(|| check.error(format!("domain '{code}' is not in the instrument")))?;
            let domain = &mut group.domains[at];
            check.score(
                &format!("domain '{code}'"),
                sums,
                &mut domain.scores,
                &mut domain.levels,
            )?;
        }
        let indicators = match &self.indicators {
            Some(sums) => Some(check.indicators(sums, indicators)?),
            None => None,
        };
        Ok(UnitGroup {
            unit: self.org_unit.clone(),
            group,
            indicators,
        })
    }
}

/// Checks one unit's sums; errors name the unit.
struct Check<'a> {
    instrument: &'a Instrument,
    unit: &'a str,
    /// The unit's results: no count may exceed them.
    n: u64,
}

impl Check<'_> {
    fn error(&self, message: String) -> ReportError {
        ReportError::Mismatch {
            instrument: self.instrument.id.clone(),
            message: format!("unit '{}': {message}", self.unit),
        }
    }

    fn at_most_n(&self, what: &str, count: u64) -> Result<(), ReportError> {
        if count > self.n {
            return Err(self.error(format!(
                "{what}: {count} results, more than the unit's {}",
                self.n
            )));
        }
        Ok(())
    }

    fn finite(&self, what: &str, m: &Moments) -> Result<(), ReportError> {
        if !(m.sum.is_finite() && m.sum_sq.is_finite()) {
            return Err(self.error(format!("the sums of {what} are not finite")));
        }
        Ok(())
    }

    /// Checks a score's sums and puts its level counts in instrument order.
    fn score(
        &self,
        what: &str,
        sums: &ScoreSums,
        scores: &mut Moments,
        levels: &mut [u64],
    ) -> Result<(), ReportError> {
        self.finite(what, &sums.scores)?;
        self.at_most_n(what, sums.scores.n)?;
        for (code, count) in &sums.levels {
            let at = self
                .instrument
                .levels
                .iter()
                .position(|l| &l.code == code)
                .ok_or_else(|| {
                    self.error(format!(
                        "{what}: level '{code}' is not one of the instrument's levels"
                    ))
                })?;
            levels[at] = *count;
        }
        self.at_most_n(&format!("{what}, levels"), levels.iter().sum())?;
        *scores = sums.scores;
        Ok(())
    }

    /// Checks indicator sums and puts them in instrument order (`codes`).
    fn indicators(
        &self,
        sums: &IndicatorSums,
        codes: &[(String, String)],
    ) -> Result<IndicatorTotals, ReportError> {
        let mut totals = IndicatorTotals::new(codes.len());
        totals.respondents = sums.respondents;
        for ((domain, indicator), moments) in &sums.scores {
            let what = format!("indicator '{indicator}' of domain '{domain}'");
            let at = codes
                .iter()
                .position(|(d, i)| d == domain && i == indicator)
                .ok_or_else(|| self.error(format!("{what} is not in the instrument")))?;
            self.finite(&what, moments)?;
            if moments.n > sums.respondents {
                return Err(self.error(format!(
                    "{what}: {} scores, more than the unit's {} respondents with indicator scores",
                    moments.n, sums.respondents
                )));
            }
            totals.scores[at] = *moments;
        }
        Ok(totals)
    }
}

/// One unit's sums in instrument order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct UnitGroup {
    pub unit: String,
    pub group: Group,
    /// `None` when no answers of the unit were scored item by item.
    pub indicators: Option<IndicatorTotals>,
}

impl UnitGroup {
    fn merge(&mut self, other: UnitGroup) {
        self.group.merge(&other.group);
        self.indicators = match (self.indicators.take(), other.indicators) {
            (Some(mut mine), Some(other)) => {
                mine.merge(&other);
                Some(mine)
            }
            (mine, other) => mine.or(other),
        };
    }
}

/// Every unit's sums checked and in instrument order, in unit order; a unit
/// given more than once has its sums added.
pub(crate) fn unit_groups(
    instrument: &Instrument,
    units: &[UnitSums],
) -> Result<Vec<UnitGroup>, ReportError> {
    let codes = indicator_codes(instrument);
    let mut by_unit: BTreeMap<&str, UnitGroup> = BTreeMap::new();
    for sums in units {
        let unit = sums.in_order(instrument, &codes)?;
        match by_unit.get_mut(sums.org_unit.as_str()) {
            Some(known) => known.merge(unit),
            None => {
                by_unit.insert(&sums.org_unit, unit);
            }
        }
    }
    Ok(by_unit.into_values().collect())
}

/// The indicator means of the units under `org_prefix`; `None` when none of
/// them has indicator sums.
pub(crate) fn indicator_means_within(
    instrument: &Instrument,
    units: &[UnitGroup],
    org_prefix: &str,
) -> Option<IndicatorMeans> {
    let mut totals: Option<IndicatorTotals> = None;
    for unit in units.iter().filter(|u| unit_within(org_prefix, &u.unit)) {
        if let Some(sums) = &unit.indicators {
            match &mut totals {
                Some(totals) => totals.merge(sums),
                None => totals = Some(sums.clone()),
            }
        }
    }
    totals.map(|t| t.means(org_prefix, &indicator_codes(instrument)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Lang;
    use crate::results::DomainRecord;
    use crate::testing::instrument;

    /// A result of unit `unit` with domain scores and levels (`None`: no score).
    fn row(
        unit: &str,
        alpha: Option<(f64, &str)>,
        beta: Option<(f64, &str)>,
        index: Option<(f64, &str)>,
        flagged: bool,
    ) -> ResultRecord {
        let domain = |code: &str, score: Option<(f64, &str)>| DomainRecord {
            code: code.into(),
            score: score.map(|s| s.0),
            level: score.map(|s| s.1.to_owned()),
            ..Default::default()
        };
        ResultRecord {
            respondent_id: format!("{unit}-{alpha:?}"),
            org_unit: unit.into(),
            index: index.map(|i| i.0),
            level: index.map(|i| i.1.to_owned()),
            domains: vec![domain("alpha", alpha), domain("beta", beta)],
            flags: if flagged {
                vec!["too-fast".into()]
            } else {
                Vec::new()
            },
            ..Default::default()
        }
    }

    /// u: (alpha 40 lo, beta 60 hi, index 50 hi, flagged), (alpha 80 hi);
    /// v: (alpha 20 lo, beta 30 lo, index 25 lo).
    fn rows() -> Vec<ResultRecord> {
        vec![
            row(
                "u",
                Some((40.0, "lo")),
                Some((60.0, "hi")),
                Some((50.0, "hi")),
                true,
            ),
            row(
                "v",
                Some((20.0, "lo")),
                Some((30.0, "lo")),
                Some((25.0, "lo")),
                false,
            ),
            row("u", Some((80.0, "hi")), None, None, false),
        ]
    }

    fn moments(n: u64, sum: f64, sum_sq: f64) -> Moments {
        Moments { n, sum, sum_sq }
    }

    fn levels(counts: &[(&str, u64)]) -> BTreeMap<String, u64> {
        counts.iter().map(|(l, n)| ((*l).to_owned(), *n)).collect()
    }

    #[test]
    fn the_sums_of_results_by_hand() {
        let sums = UnitSums::of_results(&instrument(), &rows()).unwrap();
        let u = UnitSums {
            org_unit: "u".into(),
            n: 2,
            flagged: 1,
            index: ScoreSums {
                scores: moments(1, 50.0, 2500.0),
                levels: levels(&[("hi", 1)]),
            },
            domains: BTreeMap::from([
                (
                    "alpha".into(),
                    ScoreSums {
                        scores: moments(2, 120.0, 1600.0 + 6400.0),
                        levels: levels(&[("lo", 1), ("hi", 1)]),
                    },
                ),
                (
                    "beta".into(),
                    ScoreSums {
                        scores: moments(1, 60.0, 3600.0),
                        levels: levels(&[("hi", 1)]),
                    },
                ),
            ]),
            indicators: None,
        };
        assert_eq!(sums.len(), 2);
        assert_eq!(sums[0], u);
        assert_eq!((sums[1].org_unit.as_str(), sums[1].n), ("v", 1));
        assert_eq!(sums[1].domains["beta"].scores, moments(1, 30.0, 900.0));
    }

    #[test]
    fn merged_unit_sums_equal_the_sums_of_the_rows() {
        let instrument = instrument();
        let rows = rows();
        let of_rows = Group::of(&instrument, &align(&instrument, &rows).unwrap());
        // Each row's sums on their own: u comes twice and adds up.
        let mut units = Vec::new();
        for row in rows.iter().rev() {
            units.extend(UnitSums::of_results(&instrument, std::slice::from_ref(row)).unwrap());
        }
        let groups = unit_groups(&instrument, &units).unwrap();
        assert_eq!(
            groups.iter().map(|u| u.unit.as_str()).collect::<Vec<_>>(),
            ["u", "v"]
        );
        let mut merged = Group::new(&instrument);
        groups.iter().for_each(|u| merged.merge(&u.group));
        assert_eq!(merged, of_rows);
        // By hand: alpha 40, 20, 80; index 50, 25.
        assert_eq!((merged.n, merged.flagged), (3, 1));
        assert_eq!(merged.domains[0].scores, moments(3, 140.0, 8400.0));
        assert_eq!(merged.domains[0].levels, [2, 1]);
        assert_eq!(merged.index, moments(2, 75.0, 3125.0));
        assert_eq!(merged.index_levels, [1, 1]);
    }

    #[test]
    fn unknown_codes_are_errors_naming_the_unit_and_the_code() {
        let instrument = instrument();
        let good = UnitSums::of_results(&instrument, &rows())
            .unwrap()
            .remove(0);
        good.check(&instrument).unwrap();
        let refused = |change: &dyn Fn(&mut UnitSums), wanted: &[&str]| {
            let mut sums = good.clone();
            change(&mut sums);
            let err = sums.check(&instrument).unwrap_err();
            assert!(matches!(err, ReportError::Mismatch { .. }), "{err}");
            let text = err.to_string();
            for part in ["unit 'u'"].iter().chain(wanted) {
                assert!(text.contains(part), "{part} not in: {text}");
            }
        };
        refused(
            &|s| {
                s.domains.insert("gamma".into(), ScoreSums::default());
            },
            &["domain 'gamma'"],
        );
        refused(
            &|s| {
                s.index.levels.insert("mega".into(), 1);
            },
            &["the index", "level 'mega'"],
        );
        refused(
            &|s| {
                s.domains.get_mut("beta").unwrap().levels = levels(&[("top", 1)]);
            },
            &["domain 'beta'", "level 'top'"],
        );
        for (domain, indicator) in [("alpha", "zz"), ("beta", "a1")] {
            refused(
                &|s| {
                    let scores = BTreeMap::from([(
                        (domain.to_owned(), indicator.to_owned()),
                        moments(1, 50.0, 2500.0),
                    )]);
                    s.indicators = Some(IndicatorSums {
                        respondents: 1,
                        scores,
                    });
                },
                &[&format!("indicator '{indicator}' of domain '{domain}'")],
            );
        }
        refused(
            &|s| {
                let scores = BTreeMap::from([(
                    ("alpha".to_owned(), "a1".to_owned()),
                    moments(2, 100.0, 5000.0),
                )]);
                s.indicators = Some(IndicatorSums {
                    respondents: 1,
                    scores,
                });
            },
            &["indicator 'a1' of domain 'alpha'", "2 scores"],
        );
        // Counts beyond the unit's results, sums that are not numbers.
        refused(&|s| s.flagged = 3, &["flagged", "3"]);
        refused(
            &|s| {
                s.domains.get_mut("alpha").unwrap().levels = levels(&[("lo", 2), ("hi", 1)]);
            },
            &["domain 'alpha'", "3"],
        );
        refused(
            &|s| s.index.scores.sum = f64::NAN,
            &["the index", "not finite"],
        );
        // A report refuses them alike.
        let mut bad = good.clone();
        bad.domains.insert("gamma".into(), ScoreSums::default());
        let err = crate::org_report_from_units(&instrument, &[bad], &[], "", Lang::En, 1, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unit 'u'") && err.contains("'gamma'"), "{err}");
    }

    #[test]
    fn indicator_sums_join_their_units() {
        let instrument = instrument();
        let mut units = UnitSums::of_results(&instrument, &rows()).unwrap();
        let sums = |respondents| IndicatorSums {
            respondents,
            scores: BTreeMap::from([(("alpha".into(), "a1".into()), moments(1, 50.0, 2500.0))]),
        };
        let by_unit = BTreeMap::from([("u".to_owned(), sums(2)), ("w".to_owned(), sums(1))]);
        UnitSums::join_indicators(&mut units, by_unit);
        let joined: Vec<(&str, u64, Option<&IndicatorSums>)> = units
            .iter()
            .map(|u| (u.org_unit.as_str(), u.n, u.indicators.as_ref()))
            .collect();
        assert_eq!(
            joined,
            [
                ("u", 2, Some(&sums(2))),
                // v's answers were not read: no respondents, rather than no sums.
                ("v", 1, Some(&IndicatorSums::default())),
                // Answers without results: a unit with none.
                ("w", 0, Some(&sums(1))),
            ]
        );
    }
}
