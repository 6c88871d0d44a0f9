//! Gauss–Legendre quadrature, for the Kullback–Leibler selector's integral
//! over an interval of θ: exact for polynomials of degree < 2n, and for the
//! smooth KL integrand far more accurate than equally spaced nodes.

/// Nodes and weights of the n-point rule on [−1, 1].
#[derive(Clone, Debug, PartialEq)]
pub struct GaussLegendre {
    nodes: Vec<f64>,
    weights: Vec<f64>,
}

impl GaussLegendre {
    /// The n-point rule (n ≥ 1): the nodes are the roots of the Legendre
    /// polynomial P_n, found by Newton's method from the usual first guesses
    /// `cos(π(i + 3/4)/(n + 1/2))`; the weights are `2/((1 − x²)·P_n'(x)²)`.
    pub fn new(n: usize) -> Self {
        assert!(n >= 1, "a quadrature rule needs at least one node");
        let mut nodes = vec![0.0; n];
        let mut weights = vec![0.0; n];
        for i in 0..n.div_ceil(2) {
            let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
            for _ in 0..100 {
                let (p, dp) = legendre(n, x);
                let step = p / dp;
                x -= step;
                if step.abs() < 1e-15 {
                    break;
                }
            }
            if 2 * i + 1 == n {
                x = 0.0; // the middle node of an odd rule, exactly
            }
            let derivative = legendre(n, x).1;
            let w = 2.0 / ((1.0 - x * x) * derivative * derivative);
            nodes[i] = -x;
            nodes[n - 1 - i] = x;
            weights[i] = w;
            weights[n - 1 - i] = w;
        }
        GaussLegendre { nodes, weights }
    }

    /// `∫_{lo}^{hi} f(x) dx`.
    pub fn integrate(&self, lo: f64, hi: f64, mut f: impl FnMut(f64) -> f64) -> f64 {
        let half = 0.5 * (hi - lo);
        let mid = 0.5 * (hi + lo);
        half * self
            .nodes
            .iter()
            .zip(&self.weights)
            .map(|(&x, &w)| w * f(mid + half * x))
            .sum::<f64>()
    }
}

/// `(P_n(x), P_n'(x))` by the three-term recurrence.
fn legendre(n: usize, x: f64) -> (f64, f64) {
    let (mut previous, mut current) = (1.0, x);
    for k in 2..=n {
        let k = k as f64;
        let next = ((2.0 * k - 1.0) * x * current - (k - 1.0) * previous) / k;
        previous = current;
        current = next;
    }
    if n == 0 {
        return (1.0, 0.0);
    }
    let derivative = n as f64 * (x * current - previous) / (x * x - 1.0);
    (current, derivative)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_rules_by_hand() {
        // n = 1: node 0, weight 2; n = 2: ±1/√3, weights 1;
        // n = 3: 0 and ±√(3/5), weights 8/9 and 5/9.
        let one = GaussLegendre::new(1);
        assert_eq!(one.nodes, [0.0]);
        assert!((one.weights[0] - 2.0).abs() < 1e-15);
        let two = GaussLegendre::new(2);
        assert!((two.nodes[1] - 1.0 / 3f64.sqrt()).abs() < 1e-15);
        assert!((two.weights[0] - 1.0).abs() < 1e-14);
        let three = GaussLegendre::new(3);
        assert!(three.nodes[1].abs() < 1e-15);
        assert!((three.nodes[2] - 0.6f64.sqrt()).abs() < 1e-15);
        assert!((three.weights[1] - 8.0 / 9.0).abs() < 1e-14);
        assert!((three.weights[0] - 5.0 / 9.0).abs() < 1e-14);
    }

    #[test]
    fn exact_for_polynomials_below_degree_2n() {
        let rule = GaussLegendre::new(10);
        for degree in 0..20 {
            let exact = (3f64.powi(degree + 1) - (-1f64).powi(degree + 1)) / (degree + 1) as f64;
            let got = rule.integrate(-1.0, 3.0, |x| x.powi(degree));
            assert!(
                (got - exact).abs() <= 1e-12 * exact.abs().max(1.0),
                "degree {degree}: {got} vs {exact}"
            );
        }
    }

    #[test]
    fn weights_sum_to_two_and_nodes_are_symmetric() {
        for n in [4, 15, 30, 64] {
            let rule = GaussLegendre::new(n);
            assert!((rule.weights.iter().sum::<f64>() - 2.0).abs() < 1e-13);
            for i in 0..n {
                assert_eq!(rule.nodes[i], -rule.nodes[n - 1 - i]);
            }
        }
    }
}
