//! CFA, fit measures and composite reliability against R's lavaan and psych.
//!
//! The reference numbers were produced by `tests/reference/cfa.R` (lavaan
//! 0.6-14, psych 2.2.9, R 4.2.2) on the data committed next to it; R is not
//! needed to run these tests. Tolerance 1e-4 absolute on every estimate, fit
//! measure and ω (the largest difference seen is 8e-6, a residual variance):
//! lavaan stops its quasi-Newton search at a relative change of 1e-10 in F,
//! which leaves its estimates accurate to about 1e-5. α and stratified α are
//! closed forms and agree to 1e-9.

use ikd_analysis::ItemMatrix;
use ikd_analysis::cfa::{Cfa, CfaModel, CfaOptions, Factor, SampleCovariance, fit_cfa};
use ikd_analysis::composite::{factor_omega, stratified_alpha};
use ikd_analysis::{Covariance, cronbach_alpha};
use std::collections::HashMap;
use std::path::PathBuf;

const TOLERANCE: f64 = 1e-4;

fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference")
}

/// A numeric CSV with a header row.
fn read_data(name: &str) -> ItemMatrix {
    let text = std::fs::read_to_string(reference_dir().join(name)).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    ItemMatrix::from_rows(&rows)
}

/// `cfa-reference.csv`: (dataset, model, quantity, i, j) → value.
struct Reference(HashMap<(String, String, String, String, String), f64>);

impl Reference {
    fn load() -> Self {
        let text = std::fs::read_to_string(reference_dir().join("cfa-reference.csv")).unwrap();
        let mut map = HashMap::new();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            if let Ok(v) = f[5].parse::<f64>() {
                let key = (f[0], f[1], f[2], f[3], f[4]).map_owned();
                map.insert(key, v);
            }
        }
        Reference(map)
    }

    fn get(&self, dataset: &str, model: &str, quantity: &str, i: &str, j: &str) -> f64 {
        *self
            .0
            .get(&(dataset, model, quantity, i, j).map_owned())
            .unwrap_or_else(|| panic!("no reference {dataset} {model} {quantity} {i} {j}"))
    }
}

trait MapOwned {
    fn map_owned(self) -> (String, String, String, String, String);
}

impl MapOwned for (&str, &str, &str, &str, &str) {
    fn map_owned(self) -> (String, String, String, String, String) {
        (
            self.0.to_owned(),
            self.1.to_owned(),
            self.2.to_owned(),
            self.3.to_owned(),
            self.4.to_owned(),
        )
    }
}

fn assert_close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() < TOLERANCE,
        "{what}: got {got}, lavaan {want}"
    );
}

fn model(groups: &[std::ops::Range<usize>]) -> CfaModel {
    CfaModel::new(
        groups
            .iter()
            .enumerate()
            .map(|(f, r)| Factor {
                name: format!("F{}", f + 1),
                items: r.clone().collect(),
            })
            .collect(),
    )
    .unwrap()
}

/// Compares every estimate and fit measure of `fit` with lavaan's.
fn compare(reference: &Reference, dataset: &str, name: &str, fit: &Cfa, s: &SampleCovariance) {
    assert!(fit.converged, "{dataset} {name}: not converged");
    assert!(fit.heywood.is_empty(), "{:?}", fit.heywood);
    let get = |q: &str, i: &str, j: &str| reference.get(dataset, name, q, i, j);
    for (row, &item) in fit.items.iter().enumerate() {
        let (i, f) = (item.to_string(), fit.factor_of[row].to_string());
        assert_close(
            &format!("loading {i}"),
            fit.loadings[row],
            get("loading", &i, &f),
        );
        assert_close(
            &format!("std loading {i}"),
            fit.standardized_loadings[row],
            get("std_loading", &i, &f),
        );
        assert_close(
            &format!("residual {i}"),
            fit.residual_variances[row],
            get("residual", &i, ""),
        );
    }
    for f in 0..fit.factors() {
        for g in 0..f {
            assert_close(
                &format!("phi {f} {g}"),
                fit.factor_correlation(f, g),
                get("factor_cor", &f.to_string(), &g.to_string()),
            );
        }
    }
    let m = &fit.fit;
    assert_eq!(m.df as f64, get("df", "", ""));
    assert_eq!(m.n as f64, get("ntotal", "", ""));
    assert_close("chisq", m.chi_square, get("chisq", "", ""));
    assert_close("fmin (lavaan: F/2)", m.f_min / 2.0, get("fmin", "", ""));
    assert_close("pvalue", m.p_value.unwrap(), get("pvalue", "", ""));
    assert_close(
        "baseline chisq",
        m.baseline_chi_square,
        get("baseline.chisq", "", ""),
    );
    assert_eq!(m.baseline_df as f64, get("baseline.df", "", ""));
    assert_close("cfi", m.cfi, get("cfi", "", ""));
    assert_close("tli", m.tli.unwrap(), get("tli", "", ""));
    assert_close("rmsea", m.rmsea, get("rmsea", "", ""));
    let ci = m.rmsea_interval.unwrap();
    assert_eq!(ci.level, 0.90);
    assert_close("rmsea lower", ci.lower, get("rmsea.ci.lower", "", ""));
    assert_close("rmsea upper", ci.upper, get("rmsea.ci.upper", "", ""));
    assert_close(
        "rmsea p-close",
        m.rmsea_p_close.unwrap(),
        get("rmsea.pvalue", "", ""),
    );
    assert_close("srmr", m.srmr, get("srmr", "", ""));

    let omega = factor_omega(fit, s);
    for (f, &w) in omega.per_factor.iter().enumerate() {
        assert_close(&format!("omega {f}"), w, get("omega", &f.to_string(), ""));
    }
    assert_close("omega total", omega.total, get("omega_total", "", ""));
    assert_close(
        "omega total observed",
        omega.total_observed,
        get("omega_total_observed", "", ""),
    );
}

#[test]
fn holzinger_swineford_three_and_one_factor_match_lavaan() {
    let reference = Reference::load();
    let data = read_data("holzinger-swineford.csv");
    assert_eq!((data.persons(), data.items()), (301, 9));
    let s = SampleCovariance::from_complete_cases(&data);
    let options = CfaOptions::default();

    let three = fit_cfa(&s, &model(&[0..3, 3..6, 6..9]), &options).unwrap();
    compare(
        &reference,
        "holzinger-swineford",
        "three-factor",
        &three,
        &s,
    );
    // The textbook values (lavaan tutorial): χ² = 85.306 on 24 df.
    assert!((three.fit.chi_square - 85.306).abs() < 5e-4);

    let one = fit_cfa(
        &s,
        &CfaModel::one_factor("g", (0..9).collect()).unwrap(),
        &options,
    )
    .unwrap();
    compare(&reference, "holzinger-swineford", "one-factor", &one, &s);
}

#[test]
fn a_simulated_ikd_sample_matches_lavaan() {
    let reference = Reference::load();
    let data = read_data("ikd-simulated.csv");
    assert_eq!((data.persons(), data.items()), (500, 24));
    let s = SampleCovariance::from_complete_cases(&data);
    let options = CfaOptions::default();
    let domains = [0..5, 5..9, 9..15, 15..20, 20..24];

    let five = fit_cfa(&s, &model(&domains), &options).unwrap();
    compare(&reference, "ikd-simulated", "five-factor", &five, &s);
    let one = fit_cfa(
        &s,
        &CfaModel::one_factor("g", (0..24).collect()).unwrap(),
        &options,
    )
    .unwrap();
    compare(&reference, "ikd-simulated", "one-factor", &one, &s);

    // α per domain and stratified α against psych::alpha and the formula in R.
    let c = Covariance::pairwise(&data);
    let strata: Vec<Vec<usize>> = domains.iter().map(|r| r.clone().collect()).collect();
    let stratified = stratified_alpha(&c, &strata).unwrap();
    let get = |q: &str, i: &str| reference.get("ikd-simulated", "five-factor", q, i, "");
    for (h, &a) in stratified.strata.iter().enumerate() {
        assert!(
            (a - get("alpha", &h.to_string())).abs() < 1e-9,
            "domain {h}: {a}"
        );
    }
    assert!((stratified.alpha - get("stratified_alpha", "")).abs() < 1e-9);
    let all = cronbach_alpha(&c).unwrap();
    assert!((all - get("alpha_all", "")).abs() < 1e-9);
    // The domains differ, so plain α over all items is the lower one.
    assert!(stratified.alpha > all);
}
