//! Adjusting p-values for the many items tested.

/// Benjamini–Hochberg (1995) adjusted p-values, as R's
/// `p.adjust(p, method = "BH")`: with the m finite p-values sorted ascending,
/// `q_(i) = min_{j ≥ i} min(1, m/j · p_(j))`. NaN entries (items without a
/// test) stay NaN and do not count in m.
///
/// Rejecting where `q ≤ α` keeps the expected share of false discoveries
/// among the flagged items at or below α (for independent or positively
/// dependent tests).
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    let m = order.len();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut q = vec![f64::NAN; p.len()];
    let mut running = f64::INFINITY;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min(m as f64 / (rank + 1) as f64 * p[i]);
        q[i] = running.min(1.0);
    }
    q
}
