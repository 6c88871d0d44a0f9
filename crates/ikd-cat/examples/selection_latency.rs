//! Latency percentiles of next-item selection (`AdaptiveTest::next`) over
//! every decision of simulated adaptive tests, for the p99 targets:
//! ≤ 1 ms on IKD-ASN 2025's 60 items, ≤ 5 ms on a 2,000-item bank.
//!
//! Each decision is timed twice: wall time (what a caller waits, including
//! any time the thread was preempted on a shared machine) and the thread's
//! CPU time (the work itself; the clock read costs about a microsecond, so
//! CPU figures below a few microseconds are mostly the clock).
//!
//! `cargo run --release -p ikd-cat --example selection_latency [PERSONS]`

#[path = "../benches/common/mod.rs"]
mod common;

use ikd_cat::simulation::draw_category;
use ikd_cat::{AdaptiveTest, Next, SelectorKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::time::{Duration, Instant};

fn main() {
    let persons: usize = std::env::args()
        .nth(1)
        .map_or(200, |n| n.parse().expect("PERSONS is a number"));
    println!("{persons} simulated persons per row; one sample per next-item decision");
    println!(
        "{:<30} {:>9}  {:>8} {:>8} {:>8} {:>8} {:>9}  {:>8} {:>8} {:>8}",
        "bank, selector",
        "decisions",
        "wall µs:",
        "mean",
        "p50",
        "p99",
        "max",
        "CPU µs:",
        "p50",
        "p99"
    );
    let banks = [
        ("ikd-asn-2025, 60 items", common::test(common::ikd_bank())),
        (
            "simulated, 2000 items",
            common::test(common::simulated_bank(2000)),
        ),
    ];
    for (name, test) in &banks {
        for kind in [SelectorKind::Mfi, SelectorKind::Kl, SelectorKind::Random] {
            let (wall, cpu) = latencies(test, kind, persons);
            let (wall, cpu) = (Percentiles::of(wall), Percentiles::of(cpu));
            println!(
                "{:<30} {:>9}  {:>8} {:>8.1} {:>8.1} {:>8.1} {:>9.1}  {:>8} {:>8.1} {:>8.1}",
                format!("{name}, {kind}"),
                wall.count,
                "",
                wall.mean,
                wall.p50,
                wall.p99,
                wall.max,
                "",
                cpu.p50,
                cpu.p99
            );
        }
    }
}

/// Mean, median, 99th percentile and maximum, in microseconds.
struct Percentiles {
    count: usize,
    mean: f64,
    p50: f64,
    p99: f64,
    max: f64,
}

impl Percentiles {
    fn of(mut times: Vec<Duration>) -> Self {
        times.sort_unstable();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let at = |q: f64| us(times[((times.len() - 1) as f64 * q).round() as usize]);
        Percentiles {
            count: times.len(),
            mean: times.iter().map(|&d| us(d)).sum::<f64>() / times.len() as f64,
            p50: at(0.5),
            p99: at(0.99),
            max: us(*times.last().unwrap()),
        }
    }
}

/// The calling thread's CPU time.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The wall and CPU time of every `next` call while `persons` simulated
/// persons take the test.
fn latencies(
    test: &AdaptiveTest,
    kind: SelectorKind,
    persons: usize,
) -> (Vec<Duration>, Vec<Duration>) {
    let selector = kind.build(test.settings());
    let mut rng = StdRng::seed_from_u64(7);
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..persons {
        let truth: Vec<f64> = test
            .bank()
            .domains()
            .iter()
            .map(|_| rng.sample(StandardNormal))
            .collect();
        let mut state = test.start();
        loop {
            let (started, cpu_started) = (Instant::now(), thread_cpu_time());
            let next = test.next(&state, selector.as_ref(), &mut rng).unwrap();
            cpu.push(thread_cpu_time() - cpu_started);
            wall.push(started.elapsed());
            let Next::Item(item) = next else { break };
            let irt = &test.bank().item(item).irt;
            let category = draw_category(irt, truth[test.bank().place(item).domain], &mut rng);
            test.record(&mut state, item, category).unwrap();
        }
    }
    (wall, cpu)
}
