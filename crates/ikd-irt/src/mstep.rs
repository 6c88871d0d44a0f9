//! The EM's M-step: per item, Fisher scoring on the expected complete-data
//! log-likelihood `Q_i = Σ_q Σ_k r_ikq·log P_ik(θ_q)` with step halving.

use crate::calibrate::GuessingPrior;
use crate::estep::{Layout, Params};
use crate::linalg;
use crate::model::{self, Kind, MAX_CATEGORIES};
use rayon::prelude::*;

/// Fisher scoring iterations per item per M-step, at most.
const ITERATIONS: usize = 50;

/// `Q` of one item at `phi = (a, d..)`, with its gradient and expected
/// (Fisher) information: `g = Σ_q Σ_k r_kq s_kq`,
/// `I = Σ_q N_q Σ_k P_kq s_kq s_kqᵀ`, `s` the score of `log P_k` in the
/// parameters and `N_q = Σ_k r_kq`. `Q` is not finite for invalid
/// parameters (unordered graded intercepts), which is how steps to them are
/// refused.
pub(crate) struct Eval {
    pub q: f64,
    pub grad: Vec<f64>,
    pub info: Vec<f64>,
}

/// [`Eval`] for one item whose expected counts are K rows of `stride` values
/// (the first `nodes.len()` used).
pub(crate) fn item_eval(
    kind: Kind,
    phi: &[f64],
    r: &[f64],
    stride: usize,
    nodes: &[f64],
    prior: &GuessingPrior,
) -> Eval {
    let np = phi.len();
    let (a, d) = (phi[0], &phi[1..]);
    let kc = model::n_categories(kind, d);
    let mut log_gap = [0.0; MAX_CATEGORIES];
    let mut inv_gap = [0.0; MAX_CATEGORIES];
    if kind == Kind::Cumulative {
        model::graded_gaps(d, &mut log_gap, &mut inv_gap);
    }
    let mut q = 0.0;
    let mut grad = vec![0.0; np];
    let mut info = vec![0.0; np * np];
    let mut lp = [0.0; MAX_CATEGORIES];
    let mut p = [0.0; MAX_CATEGORIES];
    let mut s = vec![0.0; kc * np];
    for (node, &theta) in nodes.iter().enumerate() {
        let n_q: f64 = (0..kc).map(|k| r[k * stride + node]).sum();
        if n_q <= 0.0 {
            continue;
        }
        model::log_probs_with(kind, a, d, &log_gap, theta, &mut lp[..kc]);
        for k in 0..kc {
            let rk = r[k * stride + node];
            if rk > 0.0 {
                q += rk * lp[k];
            }
            p[k] = lp[k].exp();
        }
        model::param_scores_with(kind, a, d, &inv_gap, theta, &p[..kc], &mut s);
        for k in 0..kc {
            let row = &s[k * np..(k + 1) * np];
            let rk = r[k * stride + node];
            let w = n_q * p[k];
            for x in 0..np {
                grad[x] += rk * row[x];
                for y in x..np {
                    info[x * np + y] += w * row[x] * row[y];
                }
            }
        }
    }
    for x in 0..np {
        for y in 0..x {
            info[x * np + y] = info[y * np + x];
        }
    }
    if kind == Kind::Guessing {
        let gamma = d[1];
        let (value, slope, curvature) = prior.logit_terms(gamma);
        q += value;
        grad[2] += slope;
        info[8] -= curvature;
    }
    Eval { q, grad, info }
}

/// Tries `phi + λ·step` for λ = 1, ½, ¼, …: the first trial whose objective
/// is finite and not below `current` is returned with its evaluation and the
/// largest parameter move. `None` when no trial qualifies.
fn line_search<T>(
    phi: &[f64],
    step: &[f64],
    current: f64,
    evaluate: impl Fn(&[f64]) -> (f64, T),
) -> Option<(Vec<f64>, T, f64)> {
    let mut lambda = 1.0;
    while lambda > 1e-12 {
        let trial: Vec<f64> = phi.iter().zip(step).map(|(p, s)| p + lambda * s).collect();
        let (value, extra) = evaluate(&trial);
        if value.is_finite() && value >= current {
            let moved = step.iter().map(|s| (lambda * s).abs()).fold(0.0, f64::max);
            return Some((trial, extra, moved));
        }
        lambda *= 0.5;
    }
    None
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().map(|x| x.abs()).fold(0.0, f64::max)
}

/// Fisher scoring with step halving for one item, until a step is below
/// `tol`: every accepted step raises `Q_i` (a generalised EM, so the
/// marginal likelihood cannot fall).
#[allow(clippy::too_many_arguments)]
fn fit_item(
    kind: Kind,
    a: f64,
    d: &[f64],
    r: &[f64],
    stride: usize,
    nodes: &[f64],
    tol: f64,
    prior: &GuessingPrior,
) -> (f64, Vec<f64>) {
    let np = d.len() + 1;
    let mut phi: Vec<f64> = std::iter::once(a).chain(d.iter().copied()).collect();
    let mut current = item_eval(kind, &phi, r, stride, nodes, prior);
    for _ in 0..ITERATIONS {
        let Some(l) = linalg::factor_with_ridge(&current.info, np) else {
            break;
        };
        let mut step = current.grad.clone();
        linalg::cholesky_solve(&l, np, &mut step);
        if max_abs(&step) < tol {
            break;
        }
        let evaluate = |t: &[f64]| {
            let e = item_eval(kind, t, r, stride, nodes, prior);
            (e.q, e)
        };
        let Some((trial, eval, moved)) = line_search(&phi, &step, current.q, evaluate) else {
            break;
        };
        phi = trial;
        current = eval;
        if moved < tol {
            break;
        }
    }
    (phi[0], phi[1..].to_vec())
}

/// M-step for items with their own slopes, in parallel over items.
pub(crate) fn m_step(
    params: &Params,
    r: &[f64],
    layout: &Layout,
    nodes: &[f64],
    tol: f64,
    prior: &GuessingPrior,
) -> Params {
    let fitted: Vec<(f64, Vec<f64>)> = (0..layout.k.len())
        .into_par_iter()
        .map(|i| {
            let rows = layout.item_rows(r, i);
            fit_item(
                layout.kinds[i],
                params.a[i],
                &params.d[i],
                rows,
                layout.qp,
                nodes,
                tol,
                prior,
            )
        })
        .collect();
    let (a, d) = fitted.into_iter().unzip();
    Params { a, d }
}

/// M-step with one slope shared by every item: joint Fisher scoring on
/// `(a, d_1.., d_2.., …)`. The information matrix is an arrow (the slope row
/// and column, then one block per item), so the step is solved through the
/// Schur complement of the slope: linear in the number of items.
pub(crate) fn m_step_common(
    params: &Params,
    r: &[f64],
    layout: &Layout,
    nodes: &[f64],
    tol: f64,
) -> Params {
    let n = layout.k.len();
    let evaluate = |a: f64, d: &[Vec<f64>]| -> (f64, Vec<Eval>) {
        let evals: Vec<Eval> = (0..n)
            .into_par_iter()
            .map(|i| {
                let phi: Vec<f64> = std::iter::once(a).chain(d[i].iter().copied()).collect();
                item_eval(
                    layout.kinds[i],
                    &phi,
                    layout.item_rows(r, i),
                    layout.qp,
                    nodes,
                    &GuessingPrior::default(),
                )
            })
            .collect();
        (evals.iter().map(|e| e.q).sum(), evals)
    };
    let mut a = params.a[0];
    let mut d = params.d.clone();
    let (mut current, mut evals) = evaluate(a, &d);
    for _ in 0..ITERATIONS {
        // Per item: B = info[d, d], c = info[d, a]; solve B⁻¹c and B⁻¹g_d.
        let (mut schur, mut rhs) = (0.0, 0.0);
        let mut solved: Vec<(Vec<f64>, Vec<f64>)> = Vec::with_capacity(n);
        for e in &evals {
            let kc = e.grad.len();
            let p = kc - 1;
            let b: Vec<f64> = (1..kc)
                .flat_map(|x| (1..kc).map(move |y| (x, y)))
                .map(|(x, y)| e.info[x * kc + y])
                .collect();
            let c: Vec<f64> = (1..kc).map(|x| e.info[x * kc]).collect();
            let Some(l) = linalg::factor_with_ridge(&b, p) else {
                return Params { a: vec![a; n], d };
            };
            let mut bc = c.clone();
            linalg::cholesky_solve(&l, p, &mut bc);
            let mut bg = e.grad[1..].to_vec();
            linalg::cholesky_solve(&l, p, &mut bg);
            schur += e.info[0] - c.iter().zip(&bc).map(|(x, y)| x * y).sum::<f64>();
            rhs += e.grad[0] - c.iter().zip(&bg).map(|(x, y)| x * y).sum::<f64>();
            solved.push((bc, bg));
        }
        if schur.is_nan() || schur <= 0.0 {
            break;
        }
        let step_a = rhs / schur;
        let mut step = vec![step_a];
        for (bc, bg) in &solved {
            step.extend(bg.iter().zip(bc).map(|(g, c)| g - c * step_a));
        }
        if max_abs(&step) < tol {
            break;
        }
        let shape = Params {
            a: vec![a],
            d: d.clone(),
        };
        let phi = shape.flat();
        let trial_eval = |t: &[f64]| {
            let unpacked = shape.with_flat(t);
            let (q, evals) = evaluate(t[0], &unpacked.d);
            (q, (unpacked.d, evals))
        };
        let Some((trial, (trial_d, trial_evals), moved)) =
            line_search(&phi, &step, current, trial_eval)
        else {
            break;
        };
        a = trial[0];
        d = trial_d;
        current = trial_evals.iter().map(|e| e.q).sum();
        evals = trial_evals;
        if moved < tol {
            break;
        }
    }
    Params { a: vec![a; n], d }
}
