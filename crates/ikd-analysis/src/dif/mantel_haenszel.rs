//! Mantel–Haenszel DIF for 0/1 items (Mantel & Haenszel 1959; Holland &
//! Thayer 1988), the ETS delta scale and A/B/C classes (Zwick 2012), and the
//! generalized MH test for several groups (Somes 1986).

use super::{
    DifClass, DifError, DifOptions, Groups, ItemTable, Skipped, benjamini_hochberg, chi_square_sf,
    normal_quantile, prepare, solve_spd,
};
use crate::matrix::ItemMatrix;
use crate::reliability::Interval;

/// One criterion level's 2 × 2 table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MhTable {
    /// Reference group, score 1 (A).
    pub reference_right: f64,
    /// Reference group, score 0 (B).
    pub reference_wrong: f64,
    /// Focal group, score 1 (C).
    pub focal_right: f64,
    /// Focal group, score 0 (D).
    pub focal_wrong: f64,
}

/// The MH statistics of one focal group against the reference group on one item.
#[derive(Clone, Debug, PartialEq)]
pub struct MhComparison {
    pub focal: String,
    /// Respondents of the reference group analysed on the item.
    pub reference_n: usize,
    /// Respondents of the focal group analysed on the item.
    pub focal_n: usize,
    /// Criterion levels with information (both groups and both scores present).
    pub strata: usize,
    /// α_MH = Σ(A·D/N) / Σ(B·C/N): the odds of a 1 in the reference group over
    /// those in the focal group, common to all levels. Above 1: the item
    /// favours the reference group.
    pub odds_ratio: f64,
    /// Standard error of ln α_MH (Robins, Breslow & Greenland 1986).
    pub log_odds_ratio_se: f64,
    /// `exp(ln α_MH ± z·se)`, as `mantelhaen.test`'s `conf.int`.
    pub odds_ratio_ci: Interval,
    /// MH D-DIF: Δ_MH = −2.35 ln α_MH (ETS delta scale). Negative: the item is
    /// harder for the focal group than for reference respondents of the same level.
    pub delta: f64,
    /// 2.35 × the standard error of ln α_MH.
    pub delta_se: f64,
    /// MH χ² (1 df), with continuity correction when asked.
    pub chi_square: f64,
    pub p_value: f64,
    /// Benjamini–Hochberg adjusted p over the items of this comparison.
    pub p_adjusted: f64,
    /// ETS class from Δ, its SE and the unadjusted p.
    pub class: DifClass,
}

/// The generalized MH test of all groups at once (Somes 1986): the
/// Cochran–Mantel–Haenszel general-association statistic of the groups × score
/// table across levels, with `groups − 1` degrees of freedom, no continuity
/// correction (as `mantelhaen.test` for a G × 2 × K table).
#[derive(Clone, Debug, PartialEq)]
pub struct GeneralizedMh {
    /// The groups in the test (those with enough respondents on the item).
    pub groups: Vec<String>,
    pub chi_square: f64,
    pub df: usize,
    pub p_value: f64,
    /// Benjamini–Hochberg adjusted p over the items.
    pub p_adjusted: f64,
}

/// The results for one item.
#[derive(Clone, Debug, PartialEq)]
pub struct MhItem {
    /// Column of the item in the matrix.
    pub item: usize,
    /// One per focal group, in the order of [`MhReport::focal`].
    pub comparisons: Vec<Result<MhComparison, Skipped>>,
    /// The test of all groups together; with two groups it is the
    /// comparison's χ² without continuity correction.
    pub generalized: Result<GeneralizedMh, Skipped>,
}

/// Mantel–Haenszel DIF of every item of a matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct MhReport {
    pub reference: String,
    /// The other groups, sorted by name.
    pub focal: Vec<String>,
    /// Respondents with a group and a criterion value.
    pub persons_used: usize,
    pub items: Vec<MhItem>,
}

/// Mantel–Haenszel DIF of every item of `items` (scores 0 or 1; NaN missing),
/// each focal group against `reference`, matched as `options.matching` says.
///
/// Per item and comparison: a group with fewer than `options.min_group`
/// respondents on the item, a score other than 0/1, or no informative level
/// gives a [`Skipped`] reason instead of numbers.
pub fn mantel_haenszel(
    items: &ItemMatrix,
    groups: &Groups,
    reference: &str,
    options: &DifOptions,
) -> Result<MhReport, DifError> {
    let prep = prepare(items, groups, reference, &options.matching)?;
    let names = groups.names();
    let mut out = Vec::with_capacity(items.items());
    for i in 0..items.items() {
        let table = match prep.table(items, groups, i, Some(&[0.0, 1.0])) {
            Ok(t) => t,
            Err(e) => {
                out.push(MhItem {
                    item: i,
                    comparisons: vec![Err(e.clone()); prep.focal.len()],
                    generalized: Err(e),
                });
                continue;
            }
        };
        let right = table.categories.iter().position(|&c| c == 1.0);
        let wrong = table.categories.iter().position(|&c| c == 0.0);
        let (Some(right), Some(wrong)) = (right, wrong) else {
            out.push(MhItem {
                item: i,
                comparisons: vec![Err(Skipped::Constant); prep.focal.len()],
                generalized: Err(Skipped::Constant),
            });
            continue;
        };
        let count = |s: usize, g: usize| (table.count(s, g, right), table.count(s, g, wrong));
        let comparisons = prep
            .focal
            .iter()
            .map(|&f| {
                prep.check_sizes(&table, groups, &[prep.reference, f], options.min_group)?;
                let strata: Vec<MhTable> = (0..table.levels.len())
                    .map(|s| {
                        let (a, b) = count(s, prep.reference);
                        let (c, d) = count(s, f);
                        MhTable {
                            reference_right: a,
                            reference_wrong: b,
                            focal_right: c,
                            focal_wrong: d,
                        }
                    })
                    .collect();
                let stats = mh_two_by_two(&strata, options.continuity_correction, options.level)?;
                let class = ets_class(stats.delta, stats.delta_se, stats.p_value, options.alpha);
                Ok(MhComparison {
                    focal: names[f].clone(),
                    reference_n: table.group_n[prep.reference],
                    focal_n: table.group_n[f],
                    p_adjusted: f64::NAN,
                    class,
                    ..stats
                })
            })
            .collect();
        out.push(MhItem {
            item: i,
            comparisons,
            generalized: generalized_of(&table, groups, options.min_group, right, wrong),
        });
    }
    // Benjamini–Hochberg across items, per comparison and for the omnibus test.
    for k in 0..prep.focal.len() {
        let p: Vec<f64> = out
            .iter()
            .map(|it| it.comparisons[k].as_ref().map_or(f64::NAN, |c| c.p_value))
            .collect();
        for (it, q) in out.iter_mut().zip(benjamini_hochberg(&p)) {
            if let Ok(c) = &mut it.comparisons[k] {
                c.p_adjusted = q;
            }
        }
    }
    let p: Vec<f64> = out
        .iter()
        .map(|it| it.generalized.as_ref().map_or(f64::NAN, |g| g.p_value))
        .collect();
    for (it, q) in out.iter_mut().zip(benjamini_hochberg(&p)) {
        if let Ok(g) = &mut it.generalized {
            g.p_adjusted = q;
        }
    }
    Ok(MhReport {
        reference: reference.to_string(),
        focal: prep.focal.iter().map(|&f| names[f].clone()).collect(),
        persons_used: prep.persons_used,
        items: out,
    })
}

fn generalized_of(
    table: &ItemTable,
    groups: &Groups,
    min: usize,
    right: usize,
    wrong: usize,
) -> Result<GeneralizedMh, Skipped> {
    let used: Vec<usize> = (0..table.groups)
        .filter(|&g| table.group_n[g] >= min)
        .collect();
    if used.len() < 2 {
        // Name the smallest group as the reason.
        let g = (0..table.groups)
            .min_by_key(|&g| table.group_n[g])
            .unwrap_or(0);
        return Err(Skipped::TooSmall {
            group: groups.names()[g].clone(),
            n: table.group_n[g],
            min,
        });
    }
    let strata: Vec<Vec<(f64, f64)>> = (0..table.levels.len())
        .map(|s| {
            used.iter()
                .map(|&g| (table.count(s, g, right), table.count(s, g, wrong)))
                .collect()
        })
        .collect();
    let (chi_square, df, p_value) = mh_generalized(&strata).ok_or(Skipped::NoInformation)?;
    Ok(GeneralizedMh {
        groups: used.iter().map(|&g| groups.names()[g].clone()).collect(),
        chi_square,
        df,
        p_value,
        p_adjusted: f64::NAN,
    })
}

/// The MH statistics of a stratified 2 × 2 table. Levels without information
/// (a group or a score absent, fewer than two respondents) are dropped; they
/// add nothing to any sum. The result's `focal`, `reference_n`, `focal_n`,
/// `p_adjusted` and `class` are left empty (`""`, 0, NaN, A).
///
/// * `α_MH = Σ(A·D/N) / Σ(B·C/N)`;
/// * Var(ln α_MH) after Robins, Breslow & Greenland (1986), with
///   `P = (A+D)/N`, `Q = (B+C)/N`, `R = AD/N`, `S = BC/N`:
///   `ΣPR/(2(ΣR)²) + Σ(PS+QR)/(2ΣR·ΣS) + ΣQS/(2(ΣS)²)`;
/// * `χ² = (|ΣA − ΣE(A)| − ½)² / ΣVar(A)` with `E(A) = n_R·m_1/N`,
///   `Var(A) = n_R·n_F·m_1·m_0 / (N²(N − 1))`; the ½ only when asked and when
///   `|ΣA − ΣE(A)| ≥ ½` (as `mantelhaen.test`).
pub fn mh_two_by_two(
    strata: &[MhTable],
    continuity_correction: bool,
    level: f64,
) -> Result<MhComparison, Skipped> {
    let (mut sum_r, mut sum_s) = (0.0, 0.0);
    let (mut pr, mut ps_qr, mut qs) = (0.0, 0.0, 0.0);
    let (mut dev, mut var) = (0.0, 0.0);
    let mut used = 0;
    for t in strata {
        let (a, b, c, d) = (
            t.reference_right,
            t.reference_wrong,
            t.focal_right,
            t.focal_wrong,
        );
        let n_r = a + b;
        let n_f = c + d;
        let m1 = a + c;
        let m0 = b + d;
        let n = n_r + n_f;
        if n_r <= 0.0 || n_f <= 0.0 || m1 <= 0.0 || m0 <= 0.0 || n < 2.0 {
            continue;
        }
        used += 1;
        let r = a * d / n;
        let s = b * c / n;
        let p = (a + d) / n;
        let q = (b + c) / n;
        sum_r += r;
        sum_s += s;
        pr += p * r;
        ps_qr += p * s + q * r;
        qs += q * s;
        dev += a - n_r * m1 / n;
        var += n_r * n_f * m1 * m0 / (n * n * (n - 1.0));
    }
    if used == 0 {
        return Err(Skipped::NoInformation);
    }
    if sum_r <= 0.0 || sum_s <= 0.0 {
        return Err(Skipped::UndefinedOddsRatio);
    }
    let odds_ratio = sum_r / sum_s;
    let log_var =
        pr / (2.0 * sum_r * sum_r) + ps_qr / (2.0 * sum_r * sum_s) + qs / (2.0 * sum_s * sum_s);
    let se = log_var.sqrt();
    let z = normal_quantile(1.0 - (1.0 - level) / 2.0);
    let yates = if continuity_correction && dev.abs() >= 0.5 {
        0.5
    } else {
        0.0
    };
    let chi_square = (dev.abs() - yates).powi(2) / var;
    Ok(MhComparison {
        focal: String::new(),
        reference_n: 0,
        focal_n: 0,
        strata: used,
        odds_ratio,
        log_odds_ratio_se: se,
        odds_ratio_ci: Interval {
            level,
            lower: (odds_ratio.ln() - z * se).exp(),
            upper: (odds_ratio.ln() + z * se).exp(),
        },
        delta: -2.35 * odds_ratio.ln(),
        delta_se: 2.35 * se,
        chi_square,
        p_value: chi_square_sf(chi_square, 1.0),
        p_adjusted: f64::NAN,
        class: DifClass::A,
    })
}

/// The ETS class of an item (Zwick 2012, after Dorans & Holland 1993), with
/// significance level `alpha` (0.05 at ETS):
///
/// * **A** when the MH χ² is not significant (`p ≥ alpha`) or `|Δ| < 1`;
/// * **C** when `|Δ| ≥ 1.5` and `|Δ|` is significantly above 1:
///   `(|Δ| − 1) / se(Δ) > z_{1−alpha}` (the one-sided test of the interval
///   null `|Δ| ≤ 1`, Paek & Holland 2013);
/// * **B** otherwise.
pub fn ets_class(delta: f64, delta_se: f64, p_value: f64, alpha: f64) -> DifClass {
    let size = delta.abs();
    if p_value.is_nan() || p_value >= alpha || size < 1.0 {
        DifClass::A
    } else if size >= 1.5 && (size - 1.0) / delta_se > normal_quantile(1.0 - alpha) {
        DifClass::C
    } else {
        DifClass::B
    }
}

/// The generalized MH statistic of a G × 2 × K table: `strata[k][g]` is group
/// g's (score 1, score 0) count at level k. With `n_g`, `m_1`, `m_0`, `N` the
/// margins of a level and `x_g` its score-1 counts, over the first G − 1
/// groups `d = Σ_k (x − n·m_1/N)` and
/// `V = Σ_k m_1·m_0/(N²(N − 1)) · (N·diag(n) − n·nᵀ)`, and `χ² = dᵀV⁻¹d`
/// with G − 1 df. Levels with fewer than two respondents are skipped. Returns
/// (χ², df, p), or `None` when V is singular (a group without information).
pub fn mh_generalized(strata: &[Vec<(f64, f64)>]) -> Option<(f64, usize, f64)> {
    let g = strata.first()?.len();
    if g < 2 {
        return None;
    }
    let k = g - 1;
    let mut d = vec![0.0; k];
    let mut v = vec![0.0; k * k];
    for level in strata {
        let n: Vec<f64> = level.iter().map(|&(r, w)| r + w).collect();
        let total: f64 = n.iter().sum();
        let m1: f64 = level.iter().map(|&(r, _)| r).sum();
        let m0 = total - m1;
        if total < 2.0 || m1 <= 0.0 || m0 <= 0.0 {
            continue;
        }
        let f = m1 * m0 / (total * total * (total - 1.0));
        for a in 0..k {
            d[a] += level[a].0 - n[a] * m1 / total;
            for b in 0..k {
                let diag = if a == b { total * n[a] } else { 0.0 };
                v[a * k + b] += f * (diag - n[a] * n[b]);
            }
        }
    }
    let x = solve_spd(&v, &d)?;
    let chi: f64 = d.iter().zip(&x).map(|(a, b)| a * b).sum();
    Some((chi, k, chi_square_sf(chi, k as f64)))
}
