//! Latency summaries shared by the benchmarks.

use std::time::Duration;

/// Latencies and errors of one workload.
#[derive(Default)]
pub(super) struct Measured {
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
    pub errors: usize,
}

impl Measured {
    /// Completed calls per second.
    pub fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// The `q` quantile of the latencies, in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        quantile_ms(&self.latencies, q)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "completed": self.latencies.len(),
            "errors": self.errors,
            "per_second": self.rate(),
            "p50_ms": self.quantile_ms(0.5),
            "p99_ms": self.quantile_ms(0.99),
        })
    }

    /// Adds what one worker measured.
    pub fn absorb(&mut self, (latencies, errors): (Vec<Duration>, usize)) {
        self.latencies.extend(latencies);
        self.errors += errors;
    }
}

/// The `q` quantile (nearest rank) of `latencies` in milliseconds; NaN when empty.
pub(super) fn quantile_ms(latencies: &[Duration], q: f64) -> f64 {
    let mut sorted = latencies.to_vec();
    sorted.sort_unstable();
    sorted
        .get(((sorted.len() as f64 - 1.0) * q).round() as usize)
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

/// Count, p50 and p99 of `latencies`.
pub(super) fn summary(latencies: &[Duration]) -> serde_json::Value {
    serde_json::json!({
        "count": latencies.len(),
        "p50_ms": quantile_ms(latencies, 0.5),
        "p99_ms": quantile_ms(latencies, 0.99),
    })
}
