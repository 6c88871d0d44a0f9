//! Fit statistics on data simulated from known models: under the model the
//! p-values must be close to uniform (type I error near the nominal 5%),
//! and an item generated from another curve must be flagged. Seeds are
//! fixed, so the tests are deterministic; the bounds are binomial intervals
//! (about ±3.5 standard deviations), so a correct implementation fails with
//! negligible probability while a wrong df or a biased statistic (rates of
//! 0% or 20%+) does not pass.

mod common;

use common::simulate;
use ikd_irt::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

fn two_pl(n: usize) -> Vec<Item> {
    (0..n)
        .map(|i| {
            let t = i as f64 / (n - 1) as f64;
            Item::new(
                format!("i{i}"),
                Model::TwoPl,
                0.8 + 1.0 * t,
                vec![1.5 - 3.0 * t],
            )
            .unwrap()
        })
        .collect()
}

fn graded(n: usize) -> Vec<Item> {
    (0..n)
        .map(|i| {
            let t = i as f64 / (n - 1) as f64;
            let shift = 1.0 - 2.0 * t;
            let d = vec![1.8 + shift, 0.2 + shift, -1.4 + shift];
            Item::new(format!("g{i}"), Model::Graded, 0.9 + 1.0 * t, d).unwrap()
        })
        .collect()
}

fn calibrate_quick(data: &ResponseMatrix, model: Model) -> ItemBank {
    let fit = calibrate(data, &CalibrationOptions::new(model)).unwrap();
    assert!(fit.converged);
    fit.bank
}

/// 12 replications × 15 items of 2PL data, N = 1000, model refitted each
/// time: 180 p-values. Binomial(180, 0.05): mean 9, SD 2.9; accepted 1..=20.
#[test]
fn s_x2_keeps_its_level_on_2pl_data() {
    let items = two_pl(15);
    let mut rejected = 0;
    let mut total = 0;
    for rep in 0..12 {
        let data = simulate(&items, 1000, 100 + rep);
        let bank = calibrate_quick(&data, Model::TwoPl);
        let fit = s_x2(&bank, &data, &SumScoreFitOptions::default()).unwrap();
        for item in &fit.items {
            total += 1;
            rejected += usize::from(item.p_value < 0.05);
        }
    }
    assert_eq!(total, 180);
    eprintln!("S-X² 2PL: {rejected} of 180 below 0.05");
    assert!(
        (1..=20).contains(&rejected),
        "{rejected} of 180 rejected at 5%"
    );
}

/// The same for graded items (10 items × 4 categories): 8 × 10 = 80 p-values,
/// Binomial(80, 0.05): mean 4, SD 1.9; accepted 0..=11.
#[test]
fn s_x2_keeps_its_level_on_graded_data() {
    let items = graded(10);
    let mut rejected = 0;
    for rep in 0..8 {
        let data = simulate(&items, 1000, 200 + rep);
        let bank = calibrate_quick(&data, Model::Graded);
        let fit = s_x2(&bank, &data, &SumScoreFitOptions::default()).unwrap();
        rejected += fit.items.iter().filter(|i| i.p_value < 0.05).count();
    }
    eprintln!("S-X² graded: {rejected} of 80 below 0.05");
    assert!(rejected <= 11, "{rejected} of 80 rejected at 5%");
}

/// 14 2PL items plus one whose curve has a lower asymptote of 0.3, a steep
/// slope and location 0.5 (a guessing item, 3PL-like), fitted as 2PL on
/// 2000 persons: S-X² must flag
/// the odd item in at least 9 of 10 replications, while the others stay
/// near the nominal level.
#[test]
fn s_x2_flags_an_item_from_another_curve() {
    let items = two_pl(14);
    let mut flagged = 0;
    let mut others = 0;
    for rep in 0..10 {
        let data = simulate_with_guessing_item(&items, 2000, 300 + rep);
        let bank = calibrate_quick(&data, Model::TwoPl);
        let fit = s_x2(&bank, &data, &SumScoreFitOptions::default()).unwrap();
        flagged += usize::from(fit.items[14].p_value < 0.05);
        others += fit.items[..14].iter().filter(|i| i.p_value < 0.05).count();
    }
    eprintln!("S-X² guessing item: flagged {flagged} of 10; others {others} of 140");
    assert!(flagged >= 9, "guessing item flagged in {flagged} of 10");
    assert!(others <= 16, "{others} of 140 well-fitting items flagged");
}

/// `items`, then one more item with P = 0.3 + 0.7·σ(3θ − 1.5).
fn simulate_with_guessing_item(items: &[Item], persons: usize, seed: u64) -> ResponseMatrix {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut cells = Vec::with_capacity(persons * (items.len() + 1));
    let mut p = [0.0; 2];
    for _ in 0..persons {
        let theta: f64 = rng.sample(StandardNormal);
        for item in items {
            item.probs(theta, &mut p);
            cells.push(u8::from(rng.random::<f64>() < p[1]));
        }
        let p_odd = 0.3 + 0.7 / (1.0 + (-(3.0 * theta - 1.5)).exp());
        cells.push(u8::from(rng.random::<f64>() < p_odd));
    }
    let mut names: Vec<String> = items.iter().map(|i| i.name().to_owned()).collect();
    names.push("odd".into());
    ResponseMatrix::new(names, cells).unwrap()
}

/// Full M2 on graded data (5 items × 3 categories: 10 univariate + 40
/// bivariate margins, 15 parameters, df 35), model refitted: over 30
/// replications the mean statistic must be near df (the mean of 30 χ²₃₅
/// has SD 1.5; accepted 35 ± 5.5) and at most 5 of 30 p-values below 5%
/// (Binomial(30, 0.05): mean 1.5, SD 1.2). M2* on 8 items (36 margins, 32
/// parameters, df 4) is checked the same way.
#[test]
fn m2_is_chi_square_on_graded_data() {
    let items: Vec<Item> = graded(5)
        .into_iter()
        .map(|i| Item::new(i.name(), Model::Graded, i.a(), vec![i.d()[0], i.d()[2]]).unwrap())
        .collect();
    let (mut sum, mut rejected) = (0.0, 0);
    for rep in 0..30 {
        let data = simulate(&items, 1000, 400 + rep);
        let bank = calibrate_quick(&data, Model::Graded);
        let options = M2Options {
            moments: Moments::Full,
            null_model: false,
            ..M2Options::default()
        };
        let m = m2(&bank, &data, &options).unwrap();
        assert_eq!(m.df, 35);
        sum += m.statistic;
        rejected += usize::from(m.p_value < 0.05);
    }
    let mean = sum / 30.0;
    eprintln!("M2 graded: mean {mean:.2} (df 35), {rejected} of 30 below 0.05");
    assert!((mean - 35.0).abs() < 5.5, "mean M2 {mean} for df 35");
    assert!(rejected <= 5, "{rejected} of 30 rejected");

    let items = graded(8);
    let (mut sum, mut rejected) = (0.0, 0);
    for rep in 0..30 {
        let data = simulate(&items, 1000, 500 + rep);
        let bank = calibrate_quick(&data, Model::Graded);
        let options = M2Options {
            null_model: false,
            ..M2Options::default()
        };
        let m = m2(&bank, &data, &options).unwrap();
        assert_eq!(m.df, 4);
        sum += m.statistic;
        rejected += usize::from(m.p_value < 0.05);
    }
    // Mean of 30 χ²₄: SD 0.52; accepted 4 ± 1.8.
    let mean = sum / 30.0;
    eprintln!("M2* graded: mean {mean:.2} (df 4), {rejected} of 30 below 0.05");
    assert!((mean - 4.0).abs() < 1.8, "mean M2* {mean} for df 4");
    assert!(rejected <= 5, "{rejected} of 30 rejected");
}

/// At the true θ, l_z has mean 0 and variance 1 exactly (by construction);
/// over 2000 persons on 40 items the sample mean is within 0.1 and the
/// variance within 0.85..1.15. Persons who answer at random (P = 0.5 per
/// item, whatever θ) get markedly negative values.
#[test]
fn lz_is_standardised_at_the_true_theta_and_flags_random_answering() {
    let items = two_pl(40);
    let bank = ItemBank::new(items.clone()).unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    let mut p = [0.0; 2];
    let (mut values, mut random) = (Vec::new(), Vec::new());
    for person in 0..2200 {
        let theta: f64 = rng.sample(StandardNormal);
        let answers: Vec<u8> = items
            .iter()
            .map(|item| {
                item.probs(theta, &mut p);
                let p1 = if person < 2000 { p[1] } else { 0.5 };
                u8::from(rng.random::<f64>() < p1)
            })
            .collect();
        let value = lz(&bank, &answers, theta);
        if person < 2000 {
            values.push(value);
        } else {
            random.push(value);
        }
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let flagged = random.iter().filter(|&&v| v < -1.645).count();
    eprintln!(
        "l_z: mean {mean:.3}, variance {var:.3}; random answerers below −1.645: {flagged} of 200"
    );
    assert!(mean.abs() < 0.1, "mean l_z {mean}");
    assert!((0.85..1.15).contains(&var), "variance of l_z {var}");
    assert!(
        flagged >= 120,
        "{flagged} of 200 random answerers below −1.645"
    );
}

/// Rasch data (common slope 1.2) plus one flat item (a = 0.4) and one steep
/// item (a = 3), scored at the true θ, 3000 persons: the Rasch items'
/// infit and outfit are within 0.08 of 1 and their t within ±3.5; the flat
/// item underfits (infit > 1.15, t > 3.5), the steep one overfits
/// (infit < 0.85, t < −3.5).
#[test]
fn infit_and_outfit_are_one_under_the_model_and_flag_odd_slopes() {
    let mut items: Vec<Item> = (0..10)
        .map(|i| {
            Item::new(
                format!("r{i}"),
                Model::TwoPl,
                1.2,
                vec![1.5 - 0.3 * i as f64],
            )
            .unwrap()
        })
        .collect();
    items.push(Item::new("flat", Model::TwoPl, 0.4, vec![0.0]).unwrap());
    items.push(Item::new("steep", Model::TwoPl, 3.0, vec![0.0]).unwrap());
    let bank = ItemBank::new(items.clone()).unwrap();
    let mut rng = StdRng::seed_from_u64(11);
    let mut p = [0.0; 2];
    let mut thetas = Vec::new();
    let mut cells = Vec::new();
    for _ in 0..3000 {
        let theta: f64 = rng.sample(StandardNormal);
        thetas.push(theta);
        for item in &items {
            item.probs(theta, &mut p);
            cells.push(u8::from(rng.random::<f64>() < p[1]));
        }
    }
    let names = items.iter().map(|i| i.name().to_owned()).collect();
    let data = ResponseMatrix::new(names, cells).unwrap();
    // Fitted as if all were Rasch items with slope 1.2.
    let rasch = ItemBank::new(
        items
            .iter()
            .map(|i| Item::new(i.name(), Model::Rasch, 1.2, i.d().to_vec()).unwrap())
            .collect(),
    )
    .unwrap();
    let fit = infit_outfit(&rasch, &data, &thetas).unwrap();
    for f in &fit {
        eprintln!(
            "infit {:.3} ({:.2}), outfit {:.3} ({:.2})",
            f.infit, f.z_infit, f.outfit, f.z_outfit
        );
    }
    for f in &fit[..10] {
        assert!(
            (f.infit - 1.0).abs() < 0.08 && (f.outfit - 1.0).abs() < 0.08,
            "{f:?}"
        );
        assert!(f.z_infit.abs() < 3.5 && f.z_outfit.abs() < 3.5, "{f:?}");
    }
    assert!(
        fit[10].infit > 1.15 && fit[10].z_infit > 3.5,
        "{:?}",
        fit[10]
    );
    assert!(
        fit[11].infit < 0.85 && fit[11].z_infit < -3.5,
        "{:?}",
        fit[11]
    );
    // The true slopes make every item fit.
    let fit = infit_outfit(&bank, &data, &thetas).unwrap();
    assert!(fit.iter().all(|f| (f.infit - 1.0).abs() < 0.1), "{fit:?}");
}

/// M2 on 3PL data (10 items, N = 2000, g near 0.2, calibrated with the
/// 5-choice prior whose mode is 0.2): 55 margins, 30 parameters (a, d, g per
/// item), df 25. Over 20 replications the mean statistic must be near df
/// (the mean of 20 χ²₂₅ has SD 1.6; accepted 25 ± 6, the prior's pull on g
/// included) and at most 4 of 20 p-values below 5% (Binomial(20, 0.05):
/// mean 1, SD 1). S-X² subtracts 3 parameters per item from its df.
#[test]
fn m2_is_chi_square_on_3pl_data() {
    let items: Vec<Item> = (0..10)
        .map(|i| {
            let t = i as f64 / 9.0;
            let a = 1.0 + 0.8 * ((i * 3) % 10) as f64 / 9.0;
            Item::three_pl(format!("m{i}"), a, -a * (-1.0 + 2.5 * t), 0.16 + 0.08 * t).unwrap()
        })
        .collect();
    let options = CalibrationOptions {
        guessing_prior: GuessingPrior::for_options(5).unwrap(),
        max_cycles: 2000,
        ..CalibrationOptions::new(Model::ThreePl)
    };
    let (mut sum, mut rejected) = (0.0, 0);
    for rep in 0..20 {
        let data = simulate(&items, 2000, 900 + rep);
        let fit = calibrate(&data, &options).unwrap();
        assert!(fit.converged);
        assert_eq!(fit.bank.free_parameters(), 30);
        let m = m2(&fit.bank, &data, &M2Options::default()).unwrap();
        assert_eq!(m.df, 25);
        assert!(m.cfi.is_some_and(|c| c > 0.9), "{:?}", m.cfi);
        sum += m.statistic;
        rejected += usize::from(m.p_value < 0.05);
        if rep == 0 {
            let sx2 = s_x2(&fit.bank, &data, &SumScoreFitOptions::default()).unwrap();
            for item in &sx2.items {
                assert!(item.df > 0 && item.statistic.is_finite());
            }
        }
    }
    let mean = sum / 20.0;
    eprintln!("M2 3PL: mean {mean:.2} (df 25), {rejected} of 20 below 0.05");
    assert!((mean - 25.0).abs() < 6.0, "mean M2 {mean} for df 25");
    assert!(rejected <= 4, "{rejected} of 20 rejected");
}
