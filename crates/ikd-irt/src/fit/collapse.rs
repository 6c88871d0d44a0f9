//! Pooling the sparse cells of an S-X² table, so that no expected count is
//! below a minimum (Orlando & Thissen pool adjacent sum-score groups; mirt's
//! `mincell`, default 1). The rule, in two stages:
//!
//! 1. **Score groups.** A group is *adequate* when at least two of its
//!    possible categories have an expected count ≥ the minimum. While some
//!    group is not, the lowest such group is merged into a neighbour: the
//!    next one at the low end, the previous one at the high end, otherwise
//!    the neighbour with fewer persons (the lower one on a tie). Groups of
//!    scores nobody obtained merge away the same way.
//! 2. **Categories** (polytomous items). Within a group, while a cell's
//!    expected count is below the minimum, the smallest cell (the highest
//!    category on a tie) is merged into the adjacent cell with the smaller
//!    expected count (the lower one on a tie), as mirt does.
//!
//! Categories that cannot occur at a score (an item's category k needs
//! `s − k` to be a possible rest score) are structural zeros: they are not
//! cells and count in neither the statistic nor the degrees of freedom.
//! After stage 1 every group keeps at least two cells, so each contributes
//! (cells − 1) degrees of freedom.

/// One sum-score group of one item's table: observed and expected counts
/// per category, and whether the category can occur at all.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ScoreGroup {
    pub observed: Vec<f64>,
    pub expected: Vec<f64>,
    pub possible: Vec<bool>,
}

impl ScoreGroup {
    fn adequate(&self, min_expected: f64) -> bool {
        self.expected
            .iter()
            .zip(&self.possible)
            .filter(|&(&e, &p)| p && e >= min_expected)
            .count()
            >= 2
    }

    fn persons(&self) -> f64 {
        self.observed.iter().sum()
    }

    fn absorb(&mut self, other: &ScoreGroup) {
        for k in 0..self.observed.len() {
            self.observed[k] += other.observed[k];
            self.expected[k] += other.expected[k];
            self.possible[k] |= other.possible[k];
        }
    }
}

/// The pooled table's Pearson statistic `Σ (O − E)²/E`, its number of free
/// cells `Σ_groups (cells − 1)`, and the number of groups left.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Pooled {
    pub statistic: f64,
    pub free_cells: usize,
    pub groups: usize,
}

pub(crate) fn pool(mut groups: Vec<ScoreGroup>, min_expected: f64) -> Pooled {
    // Stage 1: score groups.
    while groups.len() > 1 {
        let Some(g) = groups.iter().position(|x| !x.adequate(min_expected)) else {
            break;
        };
        let last = groups.len() - 1;
        let into = if g == 0 {
            1
        } else if g == last || groups[g - 1].persons() <= groups[g + 1].persons() {
            g - 1
        } else {
            g + 1
        };
        let merged = groups.remove(g);
        let into = if into > g { into - 1 } else { into };
        groups[into].absorb(&merged);
    }
    // Stage 2: categories within each group.
    let mut statistic = 0.0;
    let mut free_cells = 0;
    for group in &groups {
        let mut cells: Vec<(f64, f64)> = group
            .observed
            .iter()
            .zip(&group.expected)
            .zip(&group.possible)
            .filter(|(_, p)| **p)
            .map(|((&o, &e), _)| (o, e))
            .collect();
        while cells.len() >= 2 && cells.iter().any(|c| c.1 < min_expected) {
            let smallest = (0..cells.len())
                .rev()
                .min_by(|&a, &b| cells[a].1.total_cmp(&cells[b].1))
                .expect("two or more cells");
            let into = if smallest == 0 {
                1
            } else if smallest == cells.len() - 1 || cells[smallest - 1].1 <= cells[smallest + 1].1
            {
                smallest - 1
            } else {
                smallest + 1
            };
            let (o, e) = cells.remove(smallest);
            let into = if into > smallest { into - 1 } else { into };
            cells[into].0 += o;
            cells[into].1 += e;
        }
        free_cells += cells.len().saturating_sub(1);
        statistic += cells
            .iter()
            .filter(|c| c.1 > 0.0)
            .map(|(o, e)| (o - e).powi(2) / e)
            .sum::<f64>();
    }
    Pooled {
        statistic,
        free_cells,
        groups: groups.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dich(o: [f64; 2], e: [f64; 2]) -> ScoreGroup {
        ScoreGroup {
            observed: o.to_vec(),
            expected: e.to_vec(),
            possible: vec![true, true],
        }
    }

    /// No sparse cell: nothing pooled; the statistic by hand.
    #[test]
    fn adequate_tables_are_left_alone() {
        let pooled = pool(
            vec![
                dich([3.0, 7.0], [4.0, 6.0]),
                dich([10.0, 10.0], [8.0, 12.0]),
            ],
            1.0,
        );
        let by_hand = 1.0 / 4.0 + 1.0 / 6.0 + 4.0 / 8.0 + 4.0 / 12.0;
        assert!((pooled.statistic - by_hand).abs() < 1e-12);
        assert_eq!((pooled.free_cells, pooled.groups), (2, 2));
    }

    /// The lowest group has an expected count of 0.5: it joins the second;
    /// the top group (0.8) joins the one below it.
    #[test]
    fn sparse_end_groups_merge_inwards() {
        let groups = vec![
            dich([2.0, 0.0], [1.5, 0.5]),
            dich([5.0, 3.0], [4.0, 4.0]),
            dich([6.0, 6.0], [5.0, 7.0]),
            dich([0.0, 3.0], [0.8, 2.2]),
        ];
        let pooled = pool(groups, 1.0);
        assert_eq!(pooled.groups, 2);
        // Groups (7, 3 | 5.5, 4.5) and (6, 9 | 5.8, 9.2).
        let by_hand = 1.5f64.powi(2) / 5.5
            + 1.5f64.powi(2) / 4.5
            + 0.2f64.powi(2) / 5.8
            + 0.2f64.powi(2) / 9.2;
        assert!((pooled.statistic - by_hand).abs() < 1e-12);
        assert_eq!(pooled.free_cells, 2);
    }

    /// A polytomous group: category 2 is impossible (structural zero) and
    /// category 3 has expected 0.4, which joins category 1 (its only
    /// neighbour once the structural zero is left out): cells (4 | 4.5) and
    /// (5 + 1 | 4.1 + 0.4).
    #[test]
    fn categories_pool_within_a_group_and_structural_zeros_are_not_cells() {
        let group = ScoreGroup {
            observed: vec![4.0, 5.0, 0.0, 1.0],
            expected: vec![4.5, 4.1, 0.0, 0.4],
            possible: vec![true, true, false, true],
        };
        let pooled = pool(vec![group], 1.0);
        assert_eq!(pooled.free_cells, 1);
        let by_hand = 0.25 / 4.5 + 2.25 / 4.5;
        assert!((pooled.statistic - by_hand).abs() < 1e-12);
    }
}
