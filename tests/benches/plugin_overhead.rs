//! Plugin-call overhead: the weighted-index model called through the C ABI
//! (encode → `invoke` → decode, in a built cdylib) against the same code
//! called in-process, on the same batch.
//!
//! Run: `cargo bench -p ikd-tests --bench plugin_overhead`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ikd_core::host::{ModelHandle, PluginHost, PluginSearch};
use ikd_plugin_sdk::ScoreInput;
use ikd_plugin_sdk::ScoringModel;
use ikd_plugin_sdk::proto::{Band, DomainLayout, IndicatorLayout, ItemLayout, ModelConfig};
use ikd_scoring_weighted_index::WeightedIndex;
use ikd_tests::{built_plugin, install_plugin, workspace};

const DOMAINS: usize = 5;
const ITEMS_PER_DOMAIN: usize = 10;

/// Five domains of ten 5-point items in two indicators, five bands: the shape of the IKD instrument.
fn config() -> ModelConfig {
    let items = (0..DOMAINS * ITEMS_PER_DOMAIN)
        .map(|i| ItemLayout {
            id: format!("I{i}"),
            domain: (i / ITEMS_PER_DOMAIN) as u32,
            indicator: (i % 2) as u32,
            weight: 1.0,
            score_min: 1.0,
            score_max: 5.0,
            categories: 5,
        })
        .collect();
    ModelConfig {
        instrument_id: "bench".into(),
        instrument_version: "1.0.0".into(),
        domains: (0..DOMAINS)
            .map(|d| DomainLayout {
                code: format!("d{d}"),
                weight: 0.2,
                indicators: (0..2)
                    .map(|k| IndicatorLayout {
                        code: format!("k{k}"),
                        weight: 1.0,
                    })
                    .collect(),
                min_answered: 1,
                min_answered_fraction: 0.5,
            })
            .collect(),
        items,
        bands: (0..5)
            .map(|b| Band {
                code: format!("b{b}"),
                min: b as f64 * 20.0,
                max: (b + 1) as f64 * 20.0,
            })
            .collect(),
        min_domains: DOMAINS as u32,
        ..Default::default()
    }
}

fn request(respondents: usize) -> ScoreInput {
    let m = DOMAINS * ITEMS_PER_DOMAIN;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let item_scores = (0..respondents * m)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            1.0 + (state % 5) as f64
        })
        .collect();
    ScoreInput {
        respondents: respondents as u32,
        item_scores,
        item_status: vec![0; respondents * m],
    }
}

fn bench(c: &mut Criterion) {
    let root = tempfile::tempdir().expect("temp dir");
    install_plugin(
        root.path(),
        &workspace().join("plugins/scoring-weighted-index"),
        &built_plugin("ikd-scoring-weighted-index"),
    );
    let host = PluginHost::discover(&PluginSearch {
        dirs: vec![root.path().to_owned()],
        ..Default::default()
    });
    let config = config();
    let through_abi =
        ModelHandle::create(host.get("weighted-index").expect("loaded").clone(), &config)
            .expect("model created");
    let in_process = WeightedIndex::new(&config).expect("model created");

    let mut group = c.benchmark_group("weighted-index");
    for respondents in [1usize, 4096] {
        let req = request(respondents);
        group.throughput(Throughput::Elements(respondents as u64));
        group.bench_with_input(
            BenchmarkId::new("in-process", respondents),
            &req,
            |b, req| b.iter(|| in_process.score(req).expect("scored")),
        );
        group.bench_with_input(BenchmarkId::new("c-abi", respondents), &req, |b, req| {
            b.iter(|| through_abi.score(req).expect("scored"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
