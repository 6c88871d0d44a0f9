//! What a confirmatory factor model says: which items measure which factor.

use super::CfaError;

/// One factor and the items (columns of the covariance matrix) that measure it.
#[derive(Clone, Debug, PartialEq)]
pub struct Factor {
    pub name: String,
    pub items: Vec<usize>,
}

/// A simple-structure factor model: every item measures exactly one factor,
/// the factors are correlated, and each has variance 1 (lavaan's
/// `std.lv = TRUE`), so that every loading is free and the loadings of a
/// factor are in the units of its items.
///
/// Items of the covariance matrix that no factor names are not part of the
/// model (the fit uses the sub-matrix of the named items).
#[derive(Clone, Debug, PartialEq)]
pub struct CfaModel {
    factors: Vec<Factor>,
}

impl CfaModel {
    /// A model from its factors.
    ///
    /// # Errors
    /// When a factor has no items, an item is named twice, a factor of a
    /// multi-factor model has fewer than two items, or the one factor of a
    /// one-factor model has fewer than three: with fewer, the loadings are not
    /// identified (two items give one covariance for two loadings, unless a
    /// correlation with another factor helps).
    pub fn new(factors: Vec<Factor>) -> Result<Self, CfaError> {
        if factors.is_empty() {
            return Err(CfaError::NoFactors);
        }
        let need = if factors.len() == 1 { 3 } else { 2 };
        let mut seen = std::collections::BTreeSet::new();
        for f in &factors {
            if f.items.len() < need {
                return Err(CfaError::FactorTooSmall {
                    factor: f.name.clone(),
                    items: f.items.len(),
                    need,
                });
            }
            for &i in &f.items {
                if !seen.insert(i) {
                    return Err(CfaError::ItemInTwoPlaces { item: i });
                }
            }
        }
        Ok(CfaModel { factors })
    }

    /// One factor measured by `items`.
    ///
    /// # Errors
    /// As [`CfaModel::new`].
    pub fn one_factor(name: &str, items: Vec<usize>) -> Result<Self, CfaError> {
        CfaModel::new(vec![Factor {
            name: name.to_owned(),
            items,
        }])
    }

    pub fn factors(&self) -> &[Factor] {
        &self.factors
    }

    /// The model's items in model order: the first factor's items, then the second's, ….
    pub fn items(&self) -> Vec<usize> {
        self.factors.iter().flat_map(|f| f.items.clone()).collect()
    }

    /// The factor of each item, in model order.
    pub(crate) fn factor_of_items(&self) -> Vec<usize> {
        self.factors
            .iter()
            .enumerate()
            .flat_map(|(f, factor)| std::iter::repeat_n(f, factor.items.len()))
            .collect()
    }

    /// Free parameters: a loading and a residual variance per item, and a
    /// correlation per pair of factors.
    pub fn parameters(&self) -> usize {
        let p = self.items().len();
        let m = self.factors.len();
        2 * p + m * (m - 1) / 2
    }

    /// Degrees of freedom: the `p(p + 1)/2` distinct covariances less the parameters.
    pub fn degrees_of_freedom(&self) -> i64 {
        let p = self.items().len() as i64;
        p * (p + 1) / 2 - self.parameters() as i64
    }
}
