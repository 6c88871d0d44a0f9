//! Small, dependency-free randomness for simulated answers.
//!
//! Simulation must be reproducible from a seed whatever the batch size and
//! thread layout, so each (seed, respondent, item) cell gets its own stream.

/// A SplitMix64 generator: tiny, fast and good enough for synthetic answers
/// (not for anything secret).
#[derive(Clone, Debug)]
pub struct SimRng(u64);

impl SimRng {
    pub fn new(seed: u64) -> Self {
        SimRng(seed)
    }

    /// The stream of one answer cell.
    pub fn for_cell(seed: u64, respondent: u64, item_id: &str) -> Self {
        let mut rng = SimRng(seed ^ stable_hash(item_id));
        rng.0 ^= respondent.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        rng.next_u64();
        rng
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal draw (Box–Muller); uses two uniforms, so streams stay
    /// reproducible.
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // in (0, 1]
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Uniform index in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.uniform() * n as f64) as usize).min(n.saturating_sub(1))
    }
}

/// FNV-1a: a hash that is the same on every platform and release.
pub fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// A fixed per-item difficulty offset in `[-1, 1)`, so simulated items differ.
pub fn item_offset(item_id: &str) -> f64 {
    (stable_hash(item_id) % 2000) as f64 / 1000.0 - 1.0
}

pub fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Draws a category `0..k` of a graded response model with slope `a` and
/// thresholds evenly spread over `[-2, 2]` shifted by `offset`.
pub fn graded_category(theta: f64, k: usize, a: f64, offset: f64, rng: &mut SimRng) -> usize {
    let u = rng.uniform();
    // P(X >= c) for c = 1..k-1 decreases with c; the category is the number of thresholds passed.
    (1..k)
        .take_while(|&c| {
            let b = -2.0 + 4.0 * (c as f64 - 0.5) / (k as f64 - 1.0) + offset;
            u < logistic(a * (theta - b))
        })
        .count()
}

/// Per-option difficulties of a selection item (multi-select, phishing spotting):
/// the item's own offset plus a smaller one for each option.
pub fn option_difficulties(item: &crate::proto::ItemSpec) -> Vec<f64> {
    item.options
        .iter()
        .map(|o| item_offset(&item.id) + 0.5 * item_offset(&format!("{}#{}", item.id, o.code)))
        .collect()
}

/// A simulated answer to a selection item: each option is judged on its own,
/// rightly with probability 0.5 (guessing) + 0.5 · logistic(1.7 (θ − difficulty)),
/// and marked when judged keyed. Gives `-` when nothing is marked.
pub fn simulate_selection(
    theta: f64,
    options: &[crate::proto::ItemOption],
    keyed: &[bool],
    difficulty: &[f64],
    separator: char,
    rng: &mut SimRng,
) -> String {
    let mut marked = Vec::new();
    for (i, option) in options.iter().enumerate() {
        let judged_right = rng.uniform() < 0.5 + 0.5 * logistic(1.7 * (theta - difficulty[i]));
        if judged_right == keyed[i] {
            marked.push(option.code.as_str());
        }
    }
    if marked.is_empty() {
        crate::kinds::answers::EMPTY_SELECTION.to_owned()
    } else {
        marked.join(&separator.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..3)
            .map(|_| SimRng::for_cell(7, 1, "Q1").next_u64())
            .collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            SimRng::for_cell(7, 1, "Q1").next_u64(),
            SimRng::for_cell(7, 2, "Q1").next_u64()
        );
        assert_ne!(
            SimRng::for_cell(7, 1, "Q1").next_u64(),
            SimRng::for_cell(7, 1, "Q2").next_u64()
        );
    }

    #[test]
    fn normal_draws_have_mean_0_and_sd_1() {
        let mut rng = SimRng::new(3);
        let n = 20_000;
        let x: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        assert!(x.iter().all(|v| v.is_finite()));
        let mean = x.iter().sum::<f64>() / n as f64;
        let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((sd - 1.0).abs() < 0.03, "sd {sd}");
    }

    #[test]
    fn higher_theta_gives_higher_categories_on_average() {
        let mean = |theta: f64| {
            let mut rng = SimRng::new(1);
            (0..4000)
                .map(|_| graded_category(theta, 5, 1.5, 0.0, &mut rng) as f64)
                .sum::<f64>()
                / 4000.0
        };
        let (low, mid, high) = (mean(-2.0), mean(0.0), mean(2.0));
        assert!(low < mid && mid < high, "{low} {mid} {high}");
        assert!(
            (mid - 2.0).abs() < 0.15,
            "a centred item averages the middle category: {mid}"
        );
    }
}
