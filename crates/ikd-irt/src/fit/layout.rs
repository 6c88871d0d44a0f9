//! Which item parameters are free, and where each sits in the parameter
//! vector: the columns of the Jacobian Δ of the margins (M2) and the count
//! that degrees of freedom subtract.

use crate::model::Model;
use crate::params::ItemBank;

/// Per item, the column of each of its parameters `(a, d_1..)` (`None`:
/// fixed), and the number of free parameters.
#[derive(Clone, Debug)]
pub(crate) struct FreeParams {
    pub column: Vec<Vec<Option<usize>>>,
    pub count: usize,
}

impl FreeParams {
    /// Every slope and intercept is free, except that the Rasch items share
    /// one slope: one column, as in calibration (mirt's constrained
    /// parameters, whose columns of Δ are summed).
    pub fn of_bank(bank: &ItemBank) -> Self {
        Self::build(bank, true)
    }

    /// Intercepts only, slopes fixed: the independence (null) model, whose
    /// slopes are 0.
    pub fn intercepts_only(bank: &ItemBank) -> Self {
        Self::build(bank, false)
    }

    fn build(bank: &ItemBank, slopes: bool) -> Self {
        let mut count = 0;
        let mut shared = None;
        let column = bank
            .items()
            .iter()
            .map(|item| {
                let a = slopes.then(|| {
                    if item.model() == Model::Rasch {
                        *shared.get_or_insert_with(|| {
                            count += 1;
                            count - 1
                        })
                    } else {
                        count += 1;
                        count - 1
                    }
                });
                let mut row = vec![a];
                for _ in item.kernel_d() {
                    row.push(Some(count));
                    count += 1;
                }
                row
            })
            .collect();
        FreeParams { column, count }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Item;

    #[test]
    fn rasch_items_share_one_slope_column() {
        let bank = ItemBank::new(vec![
            Item::new("r1", Model::Rasch, 1.1, vec![0.2]).unwrap(),
            Item::new("g", Model::Graded, 1.3, vec![1.0, -1.0]).unwrap(),
            Item::new("r2", Model::Rasch, 1.1, vec![0.5, 0.1]).unwrap(),
        ])
        .unwrap();
        let free = FreeParams::of_bank(&bank);
        assert_eq!(free.count, 7);
        assert_eq!(free.column[0], vec![Some(0), Some(1)]);
        assert_eq!(free.column[1], vec![Some(2), Some(3), Some(4)]);
        assert_eq!(free.column[2], vec![Some(0), Some(5), Some(6)]);
        let null = FreeParams::intercepts_only(&bank);
        assert_eq!(null.count, 5);
        assert_eq!(null.column[1], vec![None, Some(1), Some(2)]);
    }
}
