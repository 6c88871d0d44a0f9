//! The fixed quadrature grid over θ: equally spaced nodes with normal-density
//! weights normalised to one (mirt's rectangular quadrature).

use crate::IrtError;

/// mirt's default integration range for one dimension (`theta_lim`).
pub const THETA_RANGE: (f64, f64) = (-6.0, 6.0);
/// Nodes for scoring: mirt's `fscores` default for one dimension.
pub const SCORING_QUADPTS: usize = 121;
/// Nodes for calibration: mirt's `mirt` default (`quadpts`) for one dimension.
pub const CALIBRATION_QUADPTS: usize = 61;

/// Nodes θ_q and prior weights w_q ∝ φ(θ_q), Σ w_q = 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    nodes: Vec<f64>,
    weights: Vec<f64>,
    log_weights: Vec<f64>,
}

impl Grid {
    /// `q` nodes on [−6, 6].
    pub fn new(q: usize) -> Result<Self, IrtError> {
        Self::with_range(q, THETA_RANGE.0, THETA_RANGE.1)
    }

    /// `q` equally spaced nodes from `lo` to `hi`, both included.
    pub fn with_range(q: usize, lo: f64, hi: f64) -> Result<Self, IrtError> {
        if !(3..=100_000).contains(&q) {
            return Err(IrtError::InvalidGrid(format!("{q} nodes; use 3 to 100000")));
        }
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(IrtError::InvalidGrid(format!(
                "range [{lo}, {hi}] is not a finite interval"
            )));
        }
        // lo + (hi − lo)·i/(q − 1): symmetric grids get an exact 0 node.
        let nodes: Vec<f64> = (0..q)
            .map(|i| lo + (hi - lo) * i as f64 / (q - 1) as f64)
            .collect();
        let log_density: Vec<f64> = nodes.iter().map(|t| -0.5 * t * t).collect();
        let max = log_density
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let log_total = max
            + log_density
                .iter()
                .map(|l| (l - max).exp())
                .sum::<f64>()
                .ln();
        let log_weights: Vec<f64> = log_density.iter().map(|l| l - log_total).collect();
        let weights = log_weights.iter().map(|l| l.exp()).collect();
        Ok(Grid {
            nodes,
            weights,
            log_weights,
        })
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn nodes(&self) -> &[f64] {
        &self.nodes
    }

    /// Prior weights, summing to one.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    pub fn log_weights(&self) -> &[f64] {
        &self.log_weights
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_a_normalised_standard_normal() {
        let grid = Grid::new(61).unwrap();
        assert_eq!(grid.len(), 61);
        assert_eq!(grid.nodes()[0], -6.0);
        assert!((grid.nodes()[60] - 6.0).abs() < 1e-12);
        assert_eq!(grid.nodes()[30], 0.0);
        let total: f64 = grid.weights().iter().sum();
        assert!((total - 1.0).abs() < 1e-12);
        let mean: f64 = grid
            .nodes()
            .iter()
            .zip(grid.weights())
            .map(|(t, w)| t * w)
            .sum();
        let var: f64 = grid
            .nodes()
            .iter()
            .zip(grid.weights())
            .map(|(t, w)| t * t * w)
            .sum();
        assert!(mean.abs() < 1e-12);
        assert!((var - 1.0).abs() < 1e-6, "{var}");
    }

    #[test]
    fn three_node_grid_by_hand() {
        // Nodes −6, 0, 6: weights ∝ e^{−18}, 1, e^{−18}.
        let grid = Grid::new(3).unwrap();
        let e = (-18.0f64).exp();
        assert!((grid.weights()[1] - 1.0 / (1.0 + 2.0 * e)).abs() < 1e-15);
        assert!((grid.weights()[0] - e / (1.0 + 2.0 * e)).abs() < 1e-20);
    }

    #[test]
    fn bad_grids_are_refused() {
        assert!(Grid::new(2).is_err());
        assert!(Grid::with_range(11, 1.0, -1.0).is_err());
        assert!(Grid::with_range(11, f64::NEG_INFINITY, 1.0).is_err());
    }
}
