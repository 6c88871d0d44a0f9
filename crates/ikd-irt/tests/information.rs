//! Item and test information, checked against hand-derived values, the
//! closed forms of Baker & Kim (2004), and numerical derivatives: the Fisher
//! information of an answer is `E[−∂² log P_X(θ)/∂θ²]`, computed here from
//! second differences of `log_probs` (nothing shared with the analytic
//! θ-derivatives).

use ikd_irt::*;

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn items() -> Vec<Item> {
    vec![
        Item::new("r", Model::Rasch, 1.3, vec![0.4, -0.5]).unwrap(),
        Item::new("t", Model::TwoPl, 0.7, vec![-1.1]).unwrap(),
        Item::new("g", Model::Graded, 1.6, vec![2.0, 0.5, -0.3, -2.2]).unwrap(),
        Item::new("p", Model::PartialCredit, 0.9, vec![1.0, 0.7, -0.8]).unwrap(),
    ]
}

const THETAS: [f64; 6] = [-3.0, -1.2, 0.0, 0.4, 1.5, 3.5];

/// `Σ_k P_k · (−∂² log P_k/∂θ²)` with central second differences.
fn numerical_fisher(item: &Item, theta: f64) -> f64 {
    let h = 1e-4;
    let kc = item.categories();
    let log_p = |t: f64| {
        let mut lp = vec![0.0; kc];
        item.log_probs(t, &mut lp);
        lp
    };
    let (minus, centre, plus) = (log_p(theta - h), log_p(theta), log_p(theta + h));
    (0..kc)
        .map(|k| -centre[k].exp() * (plus[k] - 2.0 * centre[k] + minus[k]) / (h * h))
        .sum()
}

#[test]
fn information_is_the_expected_negative_curvature() {
    for item in items() {
        for theta in THETAS {
            let (ours, numeric) = (item.information(theta), numerical_fisher(&item, theta));
            assert!(
                (ours - numeric).abs() < 1e-5 * ours.max(1e-3),
                "{} θ={theta}: {ours} vs {numeric}",
                item.name()
            );
        }
    }
}

/// Dichotomous items: `a²·P·(1 − P)`.
#[test]
fn dichotomous_information_is_a2_p_q() {
    for (model, a, d) in [(Model::TwoPl, 1.7, -0.4), (Model::Rasch, 0.8, 1.2)] {
        let item = Item::new("x", model, a, vec![d]).unwrap();
        for theta in THETAS {
            let p = sigmoid(a * theta + d);
            let expected = a * a * p * (1.0 - p);
            assert!((item.information(theta) - expected).abs() < 1e-12);
        }
    }
}

/// Graded (Samejima): `Σ_k P_k'²/P_k` with `P_k' = a(P*_k Q*_k − P*_{k+1}
/// Q*_{k+1})`. By hand for a = 1, d = (1, −1), θ = 0: P*_1 = σ(1),
/// P*_2 = σ(−1), so P_1' = 0 and P_0' = −P_2' = −σ(1)σ(−1), with
/// P_0 = P_2 = σ(−1): I = 2σ(1)²σ(−1) = 0.287470.
#[test]
fn graded_information_by_hand_and_closed_form() {
    let item = Item::new("g", Model::Graded, 1.0, vec![1.0, -1.0]).unwrap();
    assert!((item.information(0.0) - 0.287_469_68).abs() < 1e-8);
    let item = Item::new("g", Model::Graded, 1.6, vec![2.0, 0.5, -0.3, -2.2]).unwrap();
    for theta in THETAS {
        let mut star = vec![1.0];
        star.extend(item.d().iter().map(|d| sigmoid(item.a() * theta + d)));
        star.push(0.0);
        let closed: f64 = (0..item.categories())
            .map(|k| {
                let p = star[k] - star[k + 1];
                let dp = item.a() * (star[k] * (1.0 - star[k]) - star[k + 1] * (1.0 - star[k + 1]));
                dp * dp / p
            })
            .sum();
        assert!(
            (item.information(theta) - closed).abs() < 1e-10 * closed.max(1.0),
            "θ={theta}"
        );
    }
}

/// Partial credit: `a²·Var(k | θ)`. By hand for a = 1, d = (0.5, 0), θ = 1:
/// P ∝ (1, e^{1.5}, e²) = (0.0776956, 0.3482074, 0.5740970), mean 1.4964014,
/// variance 0.4053782.
#[test]
fn partial_credit_information_by_hand_and_closed_form() {
    let item = Item::new("p", Model::PartialCredit, 1.0, vec![0.5, 0.0]).unwrap();
    assert!((item.information(1.0) - 0.405_378_21).abs() < 1e-8);
    let item = Item::new("p", Model::PartialCredit, 0.9, vec![1.0, 0.7, -0.8]).unwrap();
    for theta in THETAS {
        let mut p = vec![0.0; 4];
        item.probs(theta, &mut p);
        let mean: f64 = p.iter().enumerate().map(|(k, v)| k as f64 * v).sum();
        let var: f64 = p
            .iter()
            .enumerate()
            .map(|(k, v)| (k as f64 - mean).powi(2) * v)
            .sum();
        assert!((item.information(theta) - 0.81 * var).abs() < 1e-12);
    }
}

#[test]
fn test_information_adds_items_and_gives_the_se() {
    let items = items();
    let bank = ItemBank::new(items.clone()).unwrap();
    let curve = bank.information_curve(&THETAS, 1.0);
    assert_eq!(curve.items.len(), 4);
    for (t, &theta) in THETAS.iter().enumerate() {
        let sum: f64 = items.iter().map(|i| numerical_fisher(i, theta)).sum();
        assert!((curve.test[t] - sum).abs() < 1e-5 * sum);
        assert_eq!(curve.test[t], bank.test_information(theta));
        assert!((curve.se[t] - 1.0 / (sum + 1.0).sqrt()).abs() < 1e-6);
        assert_eq!(curve.se[t], bank.conditional_se(theta, 1.0));
        assert!(bank.conditional_se(theta, 0.0) > curve.se[t]);
    }
}

/// One 2PL item: SE ≤ s where `a²P(1 − P) ≥ c = 1/s² − prior`, i.e. P in
/// `(1 ∓ √(1 − 4c/a²))/2` and θ = (logit P − d)/a.
fn two_pl_range(a: f64, d: f64, se: f64, prior: f64) -> (f64, f64) {
    let c = 1.0 / (se * se) - prior;
    let root = (1.0 - 4.0 * c / (a * a)).sqrt();
    let theta = |p: f64| ((p / (1.0 - p)).ln() - d) / a;
    (theta((1.0 - root) / 2.0), theta((1.0 + root) / 2.0))
}

#[test]
fn precise_ranges_by_hand() {
    let bank = ItemBank::new(vec![Item::new("t", Model::TwoPl, 2.5, vec![0.5]).unwrap()]).unwrap();
    for (se, prior) in [(1.0, 0.0), (0.9, 1.0)] {
        let ranges = bank.precise_ranges(se, prior, (-6.0, 6.0));
        let (lo, hi) = two_pl_range(2.5, 0.5, se, prior);
        assert_eq!(ranges.len(), 1, "{ranges:?}");
        assert!((ranges[0].0 - lo).abs() < 1e-8 && (ranges[0].1 - hi).abs() < 1e-8);
    }
    // The peak information is a²/4 = 1.5625: SE ≥ 0.8 everywhere.
    assert!(bank.precise_ranges(0.79, 0.0, (-6.0, 6.0)).is_empty());
    // Clipped at the ends of the range.
    assert_eq!(
        bank.precise_ranges(1.0, 0.0, (-0.1, 0.0)),
        vec![(-0.1, 0.0)]
    );
    // Two steep items far apart (b = −4 and 4): two ranges, each the
    // single item's (the other item adds under 1e−8 of information there).
    let bank = ItemBank::new(vec![
        Item::new("easy", Model::TwoPl, 3.0, vec![12.0]).unwrap(),
        Item::new("hard", Model::TwoPl, 3.0, vec![-12.0]).unwrap(),
    ])
    .unwrap();
    let ranges = bank.precise_ranges(1.2, 0.0, (-6.0, 6.0));
    assert_eq!(ranges.len(), 2, "{ranges:?}");
    for (got, d) in ranges.iter().zip([12.0, -12.0]) {
        let (lo, hi) = two_pl_range(3.0, d, 1.2, 0.0);
        assert!(
            (got.0 - lo).abs() < 1e-6 && (got.1 - hi).abs() < 1e-6,
            "{got:?}"
        );
    }
}
