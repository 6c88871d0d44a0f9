//! Result rows checked against the instrument and put in its order (domain
//! and level positions instead of codes), and the sums a group of them gives:
//! the one place where rows are counted, averaged and suppressed.

use crate::error::ReportError;
use crate::results::{Feedback, ResultRecord};
use crate::stats::{Estimate, Moments};
use ikd_core::instrument::Instrument;

/// One row in instrument order.
pub struct Obs<'a> {
    pub row: &'a ResultRecord,
    /// Position of the index's level among the instrument's levels.
    pub level: Option<usize>,
    /// One per instrument domain.
    pub domains: Vec<DomainObs<'a>>,
}

#[derive(Clone, Copy, Default)]
pub struct DomainObs<'a> {
    pub score: Option<f64>,
    pub se: Option<f64>,
    pub level: Option<usize>,
    pub feedback: Option<&'a Feedback>,
}

/// Checks every row against the instrument (its id when the row names one,
/// domain and level codes) and puts it in instrument order. A domain the row
/// lacks is missing; a code the instrument lacks is an error naming the
/// respondent.
pub fn align<'a>(
    instrument: &Instrument,
    rows: impl IntoIterator<Item = &'a ResultRecord>,
) -> Result<Vec<Obs<'a>>, ReportError> {
    let mismatch = |message: String| ReportError::Mismatch {
        instrument: instrument.id.clone(),
        message,
    };
    let level_of = |code: &Option<String>, who: &str, field: &str| {
        match code {
        None => Ok(None),
        Some(code) => instrument
            .levels
            .iter()
            .position(|l| &l.code == code)
            .map(Some)
            .ok_or_else(|| {
                mismatch(format!(
                    "respondent '{who}', {field}: level '{code}' is not one of the instrument's levels"
                ))
            }),
    }
    };
    rows.into_iter()
        .map(|row| {
            let who = row.respondent_id.as_str();
            if let Some(id) = row
                .instrument_id
                .as_deref()
                .filter(|id| *id != instrument.id)
            {
                return Err(mismatch(format!(
                    "respondent '{who}' was scored with instrument '{id}'"
                )));
            }
            let mut domains = vec![DomainObs::default(); instrument.domains.len()];
            for d in &row.domains {
                let at = instrument
                    .domains
                    .iter()
                    .position(|x| x.code == d.code)
                    .ok_or_else(|| {
                        mismatch(format!(
                            "respondent '{who}': domain '{}' is not in the instrument",
                            d.code
                        ))
                    })?;
                domains[at] = DomainObs {
                    score: d.score.filter(|x| x.is_finite()),
                    se: d.se.filter(|x| x.is_finite()),
                    level: level_of(&d.level, who, &format!("domain '{}'", d.code))?,
                    feedback: d.feedback.as_deref(),
                };
            }
            Ok(Obs {
                row,
                level: level_of(&row.level, who, "index")?,
                domains,
            })
        })
        .collect()
}

/// What a group of results sums to.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// Results in the group.
    pub n: u64,
    /// Results flagged for answer quality.
    pub flagged: u64,
    pub index: Moments,
    /// Results per index level.
    pub index_levels: Vec<u64>,
    pub domains: Vec<DomainGroup>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DomainGroup {
    pub scores: Moments,
    /// Results per level.
    pub levels: Vec<u64>,
}

impl Group {
    pub fn new(instrument: &Instrument) -> Self {
        let levels = instrument.levels.len();
        Group {
            n: 0,
            flagged: 0,
            index: Moments::default(),
            index_levels: vec![0; levels],
            domains: vec![
                DomainGroup {
                    scores: Moments::default(),
                    levels: vec![0; levels],
                };
                instrument.domains.len()
            ],
        }
    }

    /// The group of `obs`.
    pub fn of<'o, 'a: 'o>(
        instrument: &Instrument,
        obs: impl IntoIterator<Item = &'o Obs<'a>>,
    ) -> Self {
        let mut group = Group::new(instrument);
        obs.into_iter().for_each(|o| group.add(o));
        group
    }

    pub fn add(&mut self, obs: &Obs<'_>) {
        self.n += 1;
        self.flagged += u64::from(!obs.row.flags.is_empty());
        self.index.add_opt(obs.row.index.filter(|x| x.is_finite()));
        if let Some(l) = obs.level {
            self.index_levels[l] += 1;
        }
        for (sum, d) in self.domains.iter_mut().zip(&obs.domains) {
            sum.scores.add_opt(d.score);
            if let Some(l) = d.level {
                sum.levels[l] += 1;
            }
        }
    }

    /// Adds another group of the same instrument: the sums of both together
    /// (a prefix's group is its units' groups merged).
    pub fn merge(&mut self, other: &Group) {
        self.n += other.n;
        self.flagged += other.flagged;
        self.index.merge(&other.index);
        add_counts(&mut self.index_levels, &other.index_levels);
        for (sum, d) in self.domains.iter_mut().zip(&other.domains) {
            sum.scores.merge(&d.scores);
            add_counts(&mut sum.levels, &d.levels);
        }
    }

    /// The server's rule: a group of fewer than `min` results is not reported.
    pub fn suppressed(&self, min: u32) -> bool {
        self.n < u64::from(min)
    }

    /// The domain's mean and interval, `None` when fewer than `min` results
    /// have a score for it (the server's rule for a domain).
    pub fn domain(&self, d: usize, min: u32) -> Option<Estimate> {
        let scores = &self.domains.get(d)?.scores;
        (scores.n >= u64::from(min))
            .then(|| scores.estimate())
            .flatten()
    }

    /// The index mean and interval, under the same rule.
    pub fn index(&self, min: u32) -> Option<Estimate> {
        (self.index.n >= u64::from(min))
            .then(|| self.index.estimate())
            .flatten()
    }
}

fn add_counts(into: &mut [u64], counts: &[u64]) {
    for (sum, count) in into.iter_mut().zip(counts) {
        *sum += count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::DomainRecord;
    use crate::testing::instrument;

    fn row(id: &str, unit: &str, scores: [Option<f64>; 2]) -> ResultRecord {
        ResultRecord {
            respondent_id: id.into(),
            org_unit: unit.into(),
            index: scores[0].zip(scores[1]).map(|(a, b)| (a + b) / 2.0),
            level: Some("hi".into()),
            domains: vec![
                // Out of instrument order on purpose.
                DomainRecord {
                    code: "beta".into(),
                    score: scores[1],
                    level: scores[1].map(|_| "lo".into()),
                    ..Default::default()
                },
                DomainRecord {
                    code: "alpha".into(),
                    score: scores[0],
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn rows_are_put_in_instrument_order() {
        let instrument = instrument();
        let rows = [row("r1", "u", [Some(10.0), Some(30.0)])];
        let obs = align(&instrument, &rows).unwrap();
        assert_eq!(obs[0].domains[0].score, Some(10.0));
        assert_eq!(obs[0].domains[1].score, Some(30.0));
        assert_eq!(obs[0].domains[1].level, Some(0));
        assert_eq!(obs[0].level, Some(1));
    }

    #[test]
    fn foreign_codes_are_errors_naming_the_respondent() {
        let instrument = instrument();
        let mut bad = row("r9", "u", [Some(1.0), None]);
        bad.domains[0].code = "gamma".into();
        let err = align(&instrument, &[bad]).err().unwrap().to_string();
        assert!(err.contains("'r9'") && err.contains("'gamma'"), "{err}");
        let mut bad = row("r8", "u", [Some(1.0), None]);
        bad.level = Some("mega".into());
        let err = align(&instrument, &[bad]).err().unwrap().to_string();
        assert!(err.contains("'r8'") && err.contains("'mega'"), "{err}");
        let mut bad = row("r7", "u", [Some(1.0), None]);
        bad.instrument_id = Some("other".into());
        let err = align(&instrument, &[bad]).err().unwrap().to_string();
        assert!(err.contains("'r7'") && err.contains("'other'"), "{err}");
    }

    #[test]
    fn groups_count_missing_as_missing_and_suppress_small_ones() {
        let instrument = instrument();
        let rows: Vec<ResultRecord> = (0..5)
            .map(|i| {
                let beta = (i < 3).then_some(50.0 + i as f64);
                row(&format!("r{i}"), "u", [Some(60.0 + 10.0 * i as f64), beta])
            })
            .collect();
        let obs = align(&instrument, &rows).unwrap();
        let group = Group::of(&instrument, &obs);
        assert_eq!(group.n, 5);
        assert!(!group.suppressed(5) && group.suppressed(6));
        // alpha: 60..100, mean 80; beta has 3 scores, below a minimum of 5.
        assert_eq!(group.domain(0, 5).map(|e| e.mean), Some(80.0));
        assert!(group.domain(1, 5).is_none());
        assert_eq!(group.domain(1, 3).map(|e| e.mean), Some(51.0));
        assert_eq!(group.domains[1].levels, [3, 0]);
        // The index needs both domains: 3 results.
        assert_eq!(group.index.n, 3);
    }
}
