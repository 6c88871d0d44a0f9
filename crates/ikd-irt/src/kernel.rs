//! The two hot loops — the EAP posterior per person (f32) and the E-step per
//! response pattern (f64) — written so that the compiler vectorises them over
//! the quadrature nodes, plus an exp that vectorises (the standard library's
//! does not). On x86-64 the same code is also compiled with AVX2 enabled and
//! chosen at run time; the arithmetic is the same on both paths.

use crate::data::MISSING;

/// Lanes of the f32 kernel.
pub(crate) const LANES: usize = 8;
/// Nodes summed together in registers (8 vectors of 8); the grid is padded
/// to a multiple of this.
pub(crate) const BLOCK: usize = 64;

/// `a·b + c`, fused when the caller is compiled for FMA (`F = true`): the
/// AVX2 path gets one rounding and half the latency, the portable path keeps
/// a plain multiply and add (`mul_add` without hardware FMA is a slow libm
/// call). The two differ only in the last bits.
#[inline(always)]
fn madd<const F: bool>(a: f32, b: f32, c: f32) -> f32 {
    if F { a.mul_add(b, c) } else { a * b + c }
}

/// `exp(x)` for `x ≤ 0` in f32: Cody–Waite reduction `x = n·ln2 + r`,
/// `|r| ≤ ln2/2`, a degree-7 Taylor polynomial for `e^r` (relative error
/// below 1e-7, about one ulp), and `2^n` built in the exponent bits.
///
/// Below −40 it returns exactly 0: relative to the posterior maximum (which
/// is 1) such weights are far below f32 precision, and products of tiny
/// weights with small θ would otherwise be subnormal numbers, which cost the
/// CPU a microcode assist each (it made the kernel several times slower).
#[inline(always)]
pub(crate) fn exp_f32<const F: bool>(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5·2^23: adding it rounds to an integer
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let xc = if x < EXP_CUTOFF { EXP_CUTOFF } else { x };
    let t = madd::<F>(xc, LOG2E, MAGIC);
    let n = t - MAGIC;
    let ni = t.to_bits().wrapping_sub(MAGIC.to_bits()) as i32;
    let r = madd::<F>(-n, LN2_LO, madd::<F>(-n, LN2_HI, xc));
    let mut p = 1.0 / 5040.0;
    for c in [
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = madd::<F>(p, r, c);
    }
    let y = f32::from_bits(((ni + 127) as u32) << 23) * p;
    if x < EXP_CUTOFF { 0.0 } else { y }
}

/// Log-weights this far below the maximum count as 0 in the EAP kernel.
pub(crate) const EXP_CUTOFF: f32 = -40.0;

/// `exp(x)` for `x ≤ 0` in f64, the same way with a degree-12 polynomial
/// (relative error about 2e−16); exactly 0 below [`EXP_CUTOFF_F64`].
#[inline(always)]
pub(crate) fn exp_f64(x: f64) -> f64 {
    const MAGIC: f64 = 6_755_399_441_055_744.0; // 1.5·2^52
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const CUTOFF: f64 = EXP_CUTOFF_F64;
    let xc = if x < CUTOFF { CUTOFF } else { x };
    let t = xc * LOG2E + MAGIC;
    let n = t - MAGIC;
    let ni = t.to_bits().wrapping_sub(MAGIC.to_bits()) as i64;
    let r = xc - n * LN2_HI - n * LN2_LO;
    let mut p = 1.0 / 479_001_600.0;
    for c in [
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    let y = f64::from_bits(((ni + 1023) as u64) << 52) * p;
    if x < CUTOFF { 0.0 } else { y }
}

/// Coarse nodes: at most this many, every `coarse_step`-th node of the grid.
pub(crate) const COARSE: usize = 16;

/// Log-weights this far below the maximum count as 0 in the E-step: e^−40
/// is 4e−18 of the largest weight, below f64 resolution of the sums.
pub(crate) const EXP_CUTOFF_F64: f64 = -40.0;

/// Per item per category per node `log P(X = k | θ_q)` in f32, nodes padded
/// to [`BLOCK`]: the EAP scorer's precomputed table, plus the same values at
/// every `coarse_step`-th node for the coarse pass.
#[derive(Clone, Debug)]
pub(crate) struct EapTable {
    /// Nodes after padding (a multiple of [`BLOCK`]).
    pub qp: usize,
    /// Row `base[i] + k` holds item i, category k; `qp` values per row.
    pub rows: Vec<f32>,
    pub base: Vec<usize>,
    /// K per item: answers at or above are refused.
    pub categories: Vec<u8>,
    /// Log prior weights; padding nodes get −1e30 (weight 0).
    pub log_w: Vec<f32>,
    /// Nodes; padding nodes are 0.
    pub nodes: Vec<f32>,
    /// Coarse node j is grid node `j·coarse_step` (`⌈q/16⌉`: 8 for 121 nodes).
    pub coarse_step: usize,
    /// Coarse nodes that exist (the rest are padding).
    pub coarse_len: usize,
    /// [`COARSE`] values per row: the rows at the coarse nodes.
    pub coarse_rows: Vec<f32>,
    /// Log prior at the coarse nodes; −1e30 in padding.
    pub coarse_log_w: [f32; COARSE],
}

impl EapTable {
    /// Builds the table from `log_prob(row, node)` for `n_rows` rows.
    pub(crate) fn new(
        nodes: &[f64],
        log_w: &[f64],
        base: Vec<usize>,
        categories: Vec<u8>,
        n_rows: usize,
        log_prob: impl Fn(usize, usize) -> f64,
    ) -> Self {
        let q = nodes.len();
        let qp = q.div_ceil(BLOCK) * BLOCK;
        let coarse_step = q.div_ceil(COARSE);
        let coarse_len = q.div_ceil(coarse_step);
        let mut rows = vec![0f32; n_rows * qp];
        let mut coarse_rows = vec![0f32; n_rows * COARSE];
        for row in 0..n_rows {
            for node in 0..q {
                rows[row * qp + node] = log_prob(row, node).max(-1e30) as f32;
            }
            for j in 0..coarse_len {
                coarse_rows[row * COARSE + j] = rows[row * qp + j * coarse_step];
            }
        }
        let mut padded_w = vec![-1e30f32; qp];
        let mut padded_nodes = vec![0f32; qp];
        for node in 0..q {
            padded_w[node] = log_w[node] as f32;
            padded_nodes[node] = nodes[node] as f32;
        }
        let mut coarse_log_w = [-1e30f32; COARSE];
        for (j, w) in coarse_log_w.iter_mut().enumerate().take(coarse_len) {
            *w = padded_w[j * coarse_step];
        }
        EapTable {
            qp,
            rows,
            base,
            categories,
            log_w: padded_w,
            nodes: padded_nodes,
            coarse_step,
            coarse_len,
            coarse_rows,
            coarse_log_w,
        }
    }
}

/// θ and SE per person, or `None` for a person with no answer.
pub(crate) type Posterior = Option<(f64, f64)>;

/// `(person, item)` of an answer that is not a category of its item.
pub(crate) type BadAnswer = (usize, usize);

/// Per person, three steps.
///
/// 1. Coarse pass: the log posterior at every `coarse_step`-th node (16
///    values, two vector registers, summed over the answered items).
/// 2. The log posterior is concave in θ (every model here is log-concave and
///    so is the normal prior), so the coarse values bracket the nodes within
///    e^−40 of the maximum: walking out from the coarse maximum, the first
///    coarse node more than 41 below it (one of slack for rounding) bounds
///    everything beyond it. Only blocks of 64 nodes covering that window are
///    summed, eight vector registers held over all the answered items (the
///    sum never goes through memory). Nodes outside the window would weigh
///    exactly 0, so the result equals a pass over the whole grid; on a long
///    test it is a third of the grid.
/// 3. One pass for the maximum, one for the weights `exp(l − max)` and their
///    first two moments about the coarse mode, which is within one coarse
///    step of the mean (centred, so neither the mean nor the variance
///    `E[δ²] − E[δ]²` loses f32 digits to cancellation).
#[inline(always)]
fn eap_batch_generic<const F: bool>(
    t: &EapTable,
    responses: &[u8],
    n_items: usize,
    out: &mut dyn FnMut(usize, Posterior),
) -> Result<(), BadAnswer> {
    let qp = t.qp;
    let total_chunks = qp / LANES;
    let mut post = vec![0f32; qp];
    // Per answered item: its row, and where that row starts in the table.
    let mut rows: Vec<usize> = Vec::with_capacity(n_items);
    let mut offsets: Vec<usize> = Vec::with_capacity(n_items);
    for (p, resp) in responses.chunks_exact(n_items).enumerate() {
        rows.clear();
        offsets.clear();
        for (i, &x) in resp.iter().enumerate() {
            if x == MISSING {
                continue;
            }
            if x >= t.categories[i] {
                return Err((p, i));
            }
            let row = t.base[i] + x as usize;
            rows.push(row);
            offsets.push(row * qp);
        }
        if rows.is_empty() {
            out(p, None);
            continue;
        }
        // 1. Coarse pass.
        let mut coarse = t.coarse_log_w;
        for &row in &rows {
            let values: &[f32; COARSE] = t.coarse_rows[row * COARSE..(row + 1) * COARSE]
                .try_into()
                .expect("row");
            for l in 0..COARSE {
                coarse[l] += values[l];
            }
        }
        // 2. The window, in chunks of LANES nodes: [lo, hi).
        let mut top = 0;
        for j in 1..t.coarse_len {
            if coarse[j] > coarse[top] {
                top = j;
            }
        }
        let floor = coarse[top] + (EXP_CUTOFF - 1.0);
        let (mut left, mut right) = (top, top);
        while left > 0 && coarse[left] >= floor {
            left -= 1;
        }
        while right + 1 < t.coarse_len && coarse[right] >= floor {
            right += 1;
        }
        let wanted_hi = if coarse[right] >= floor {
            total_chunks // the grid's tail beyond the last coarse node
        } else {
            (right * t.coarse_step / LANES + 1).min(total_chunks)
        };
        let lo = (left * t.coarse_step / LANES).min(total_chunks - BLOCK / LANES);
        let mut hi = lo;
        while hi < wanted_hi {
            let start = hi.min(total_chunks - BLOCK / LANES) * LANES;
            let mut acc: [f32; BLOCK] = t.log_w[start..start + BLOCK].try_into().expect("block");
            for &offset in &offsets {
                let at = offset + start;
                let values: &[f32; BLOCK] = t.rows[at..at + BLOCK].try_into().expect("block");
                for l in 0..BLOCK {
                    acc[l] += values[l];
                }
            }
            post[start..start + BLOCK].copy_from_slice(&acc);
            hi = start / LANES + BLOCK / LANES;
        }
        let lo = lo.min(hi - BLOCK / LANES);
        // 3. Maximum, weights, moments about the coarse mode.
        let chunks = &post.as_chunks::<LANES>().0[lo..hi];
        let node_chunks = &t.nodes.as_chunks::<LANES>().0[lo..hi];
        let mut mx = [f32::MIN; LANES];
        for c in chunks {
            for l in 0..LANES {
                mx[l] = mx[l].max(c[l]);
            }
        }
        let m = mx.iter().fold(f32::MIN, |a, &b| a.max(b));
        let center = t.nodes[top * t.coarse_step];
        let (mut s0, mut s1, mut s2) = ([0f32; LANES], [0f32; LANES], [0f32; LANES]);
        for (c, th) in chunks.iter().zip(node_chunks) {
            for l in 0..LANES {
                let e = exp_f32::<F>(c[l] - m);
                let dev = th[l] - center;
                s0[l] += e;
                s1[l] = madd::<F>(e, dev, s1[l]);
                s2[l] = madd::<F>(e * dev, dev, s2[l]);
            }
        }
        let total: f32 = s0.iter().sum();
        let shift = s1.iter().sum::<f32>() / total;
        let var = (s2.iter().sum::<f32>() / total - shift * shift).max(0.0);
        out(p, Some((f64::from(center + shift), f64::from(var).sqrt())));
    }
    Ok(())
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn eap_batch_avx2(
    t: &EapTable,
    responses: &[u8],
    n_items: usize,
    out: &mut dyn FnMut(usize, Posterior),
) -> Result<(), BadAnswer> {
    eap_batch_generic::<true>(t, responses, n_items, out)
}

/// EAP posterior mean and SD for each person of a person-major batch;
/// `out(p, …)` receives them in order. Stops at the first answer that is not
/// a category of its item.
pub(crate) fn eap_batch(
    t: &EapTable,
    responses: &[u8],
    n_items: usize,
    out: &mut dyn FnMut(usize, Posterior),
) -> Result<(), BadAnswer> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has AVX2 and FMA (checked just above), the only
        // requirement of `eap_batch_avx2`.
        return unsafe { eap_batch_avx2(t, responses, n_items, out) };
    }
    eap_batch_generic::<false>(t, responses, n_items, out)
}

/// Nodes of the f64 E-step summed together in registers (8 vectors of 4);
/// the calibration grid is padded to a multiple of this.
pub(crate) const BLOCK_F64: usize = 32;

/// What the E-step needs from the current parameters: per item per category
/// per node `log P` (row `base[i] + k`, `qp` values per row, nodes padded to
/// [`BLOCK_F64`] with 0) and the log prior (padding: −1e300, weight 0).
pub(crate) struct LogTable<'a> {
    pub qp: usize,
    pub rows: &'a [f64],
    pub base: &'a [usize],
    pub log_w: &'a [f64],
}

/// E-step over some response patterns: adds `count·posterior` to the
/// expected counts `r` (laid out like the table's rows, when given) and
/// returns the patterns' marginal log-likelihood `Σ count·log Σ_q w_q L_q`,
/// computed by log-sum-exp so that long tests do not underflow. Same shape
/// as the EAP kernel: register blocks, then a separate exp loop.
#[inline(always)]
fn e_step_generic(
    t: &LogTable<'_>,
    patterns: &[u8],
    counts: &[f64],
    n_items: usize,
    mut r: Option<&mut [f64]>,
) -> f64 {
    const L: usize = 4;
    let qp = t.qp;
    let mut post = vec![0f64; qp];
    let mut starts: Vec<usize> = Vec::with_capacity(n_items);
    let mut loglik = 0.0;
    for (pattern, &count) in patterns.chunks_exact(n_items).zip(counts) {
        starts.clear();
        starts.extend(
            pattern
                .iter()
                .enumerate()
                .filter(|&(_, &x)| x != MISSING)
                .map(|(i, &x)| (t.base[i] + x as usize) * qp),
        );
        for block in (0..qp).step_by(BLOCK_F64) {
            let mut acc: [f64; BLOCK_F64] =
                t.log_w[block..block + BLOCK_F64].try_into().expect("block");
            for &start in &starts {
                let row: &[f64; BLOCK_F64] = t.rows[start + block..start + block + BLOCK_F64]
                    .try_into()
                    .expect("block");
                for l in 0..BLOCK_F64 {
                    acc[l] += row[l];
                }
            }
            post[block..block + BLOCK_F64].copy_from_slice(&acc);
        }
        let mut mx = [f64::MIN; L];
        for c in post.as_chunks::<L>().0 {
            for l in 0..L {
                mx[l] = mx[l].max(c[l]);
            }
        }
        let m = mx.iter().fold(f64::MIN, |x, &y| x.max(y));
        // The log posterior is concave, so the nodes within the cutoff of its
        // maximum are one run: exponentiate and scatter only that (in whole
        // chunks of L); everything outside would weigh exactly 0.
        let floor = m + EXP_CUTOFF_F64;
        let first = post.iter().position(|&v| v >= floor).unwrap_or(0);
        let last = post.iter().rposition(|&v| v >= floor).unwrap_or(qp - 1);
        let (lo, hi) = (first / L * L, (last / L + 1) * L);
        let window = &mut post[lo..hi];
        for v in window.iter_mut() {
            *v = exp_f64(*v - m);
        }
        let mut sums = [0f64; L];
        for c in window.as_chunks::<L>().0 {
            for l in 0..L {
                sums[l] += c[l];
            }
        }
        let total = (sums[0] + sums[1]) + (sums[2] + sums[3]);
        loglik += count * (m + total.ln());
        if let Some(r) = r.as_deref_mut() {
            let scale = count / total;
            for v in window.iter_mut() {
                *v *= scale;
            }
            for &start in &starts {
                for (slot, v) in r[start + lo..start + hi].iter_mut().zip(window.iter()) {
                    *slot += v;
                }
            }
        }
    }
    loglik
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn e_step_avx2(
    t: &LogTable<'_>,
    patterns: &[u8],
    counts: &[f64],
    n_items: usize,
    r: Option<&mut [f64]>,
) -> f64 {
    e_step_generic(t, patterns, counts, n_items, r)
}

/// See [`e_step_generic`].
pub(crate) fn e_step(
    t: &LogTable<'_>,
    patterns: &[u8],
    counts: &[f64],
    n_items: usize,
    r: Option<&mut [f64]>,
) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        return unsafe { e_step_avx2(t, patterns, counts, n_items, r) };
    }
    e_step_generic(t, patterns, counts, n_items, r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_f32_is_accurate_to_about_one_ulp() {
        let mut worst = 0f64;
        let mut x = -40.0f32;
        while x <= 0.0 {
            let exact = f64::from(x).exp();
            for got in [exp_f32::<false>(x), exp_f32::<true>(x)] {
                worst = worst.max(((f64::from(got) - exact) / exact).abs());
            }
            x += 0.001_3;
        }
        assert!(worst < 3e-7, "{worst}");
        assert_eq!(exp_f32::<false>(0.0), 1.0);
        assert_eq!(exp_f32::<false>(-40.01), 0.0);
        assert_eq!(exp_f32::<true>(-1e30), 0.0);
    }

    #[test]
    fn fast_exp_f64_is_accurate_to_a_few_ulp() {
        let mut worst = 0f64;
        let mut x = -40.0f64;
        while x <= 0.0 {
            let exact = x.exp();
            worst = worst.max(((exp_f64(x) - exact) / exact).abs());
            x += 0.000_7;
        }
        assert!(worst < 1e-15, "{worst}");
        assert_eq!(exp_f64(0.0), 1.0);
        assert_eq!(exp_f64(-40.01), 0.0);
        assert_eq!(exp_f64(-1e300), 0.0);
    }
}
