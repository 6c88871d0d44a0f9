//! `GetAggregate`: the store's sums of the latest results under the caller's
//! prefix, as means with 95% confidence intervals and level counts. What is
//! hidden is decided by disclosure control on every unit's count (see
//! [`crate::disclosure`]); a time window is widened to whole disclosure periods,
//! so that two windows cannot be subtracted to reveal a hidden group.

use crate::State;
use crate::auth::Caller;
use crate::catalog::Entry;
use crate::errors;
use ikd_core::disclosure::{self, Hidden, Suppression};
use ikd_core::lang::Lang;
use ikd_core::localise::suppression_text;
use ikd_proto::v1::{self as api, Estimate};
/// The 0.975 quantile of Student's t: one implementation, shared with the reports.
use ikd_report::stats::t_975;
use ikd_store::ResultFilter;
use tonic::Status;

/// The aggregate a request asks for, in `lang`, within the caller's scope.
pub(crate) async fn aggregate(
    state: &State,
    caller: &Caller,
    req: &api::GetAggregateRequest,
    lang: Lang,
) -> Result<api::Aggregate, Status> {
    let entry = state.catalog.resolve(req.instrument.as_ref())?;
    let mut filter = state.filter(
        caller,
        entry,
        &req.org_prefix,
        req.from.as_ref(),
        req.to.as_ref(),
    )?;
    let hidden = state.hidden_units(entry).await?;
    if filter.from.is_some() || filter.to.is_some() {
        let cuts = state.window_cuts(entry, &hidden).await?;
        (filter.from, filter.to) = disclosure::snap_window(&cuts, filter.from, filter.to);
    }
    let sums = state
        .store
        .aggregate(&filter)
        .await
        .map_err(errors::store)?;
    Ok(from_sums(
        entry,
        &filter,
        &sums,
        state.min_group_size,
        &hidden,
        lang,
    ))
}

/// The API aggregate from the store's sums. Below `min_group_size` results
/// nothing but the fact of suppression and its reason is returned (not even
/// n), and the same holds for each domain.
fn from_sums(
    entry: &Entry,
    filter: &ResultFilter,
    sums: &ikd_store::Aggregate,
    min_group_size: u32,
    hidden: &Hidden,
    lang: Lang,
) -> api::Aggregate {
    let instrument = &entry.instrument;
    let min = u64::from(min_group_size);
    let mut out = api::Aggregate {
        org_prefix: filter.org_prefix.clone(),
        instrument: Some(api::InstrumentRef {
            id: instrument.id.clone(),
            version: String::new(),
        }),
        min_group_size,
        ..Default::default()
    };
    if let Some(reason) = hidden.suppression(&filter.org_prefix, sums.n) {
        out.suppressed = true;
        (out.suppression_reason, out.suppression_message) =
            api_reason(reason, min_group_size, lang);
        return out;
    }
    let counts = |levels: &[(String, u64)]| {
        instrument
            .levels
            .iter()
            .map(|l| api::LevelCount {
                code: l.code.clone(),
                name: l.name.get(lang).to_owned(),
                count: levels
                    .iter()
                    .find(|(code, _)| code == &l.code)
                    .map_or(0, |(_, n)| *n),
            })
            .collect::<Vec<_>>()
    };
    out.n = sums.n;
    out.index = estimate(sums.index_n, sums.index_sum, sums.index_sum_sq);
    out.levels = counts(&sums.levels);
    out.domains = instrument
        .domains
        .iter()
        .map(|d| {
            let found = sums.domains.iter().find(|x| x.code == d.code);
            let n = found.map_or(0, |x| x.n);
            let mut domain = api::DomainAggregate {
                code: d.code.clone(),
                name: d.name.get(lang).to_owned(),
                suppressed: n < min,
                ..Default::default()
            };
            if domain.suppressed {
                // Only ever too few: the unit itself is published.
                (domain.suppression_reason, domain.suppression_message) =
                    api_reason(Suppression::TooFewResults, min_group_size, lang);
            } else if let Some(x) = found {
                domain.score = estimate(x.n, x.sum, x.sum_sq);
                domain.levels = counts(&x.levels);
            }
            domain
        })
        .collect();
    out
}

/// A suppression reason as the API gives it: the code and its message.
fn api_reason(reason: Suppression, min_group_size: u32, lang: Lang) -> (i32, String) {
    let code = match reason {
        Suppression::TooFewResults => api::SuppressionReason::TooFewResults,
        Suppression::DisclosureControl => api::SuppressionReason::DisclosureControl,
    };
    let message = suppression_text(reason, min_group_size)
        .get(lang)
        .to_owned();
    (code.into(), message)
}

/// Mean, sample SD and a 95% t interval from n, Σx and Σx². `None` for n = 0;
/// for n = 1 the SD is 0 and the interval unbounded: one value gives no interval.
fn estimate(n: u64, sum: f64, sum_sq: f64) -> Option<Estimate> {
    if n == 0 {
        return None;
    }
    let nf = n as f64;
    let mean = sum / nf;
    if n == 1 {
        return Some(Estimate {
            n,
            mean,
            sd: 0.0,
            ci_low: f64::NEG_INFINITY,
            ci_high: f64::INFINITY,
        });
    }
    // Σ(x − mean)² = Σx² − n·mean², clamped against rounding below zero.
    let variance = ((sum_sq - nf * mean * mean) / (nf - 1.0)).max(0.0);
    let sd = variance.sqrt();
    let half = t_975(n - 1) * sd / nf.sqrt();
    Some(Estimate {
        n,
        mean,
        sd,
        ci_low: mean - half,
        ci_high: mean + half,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The t quantile itself is ikd-report's, tested there against printed tables.

    #[test]
    fn estimate_by_hand() {
        // 60, 70, 80: mean 70, SD 10, half-width 4.303 · 10 / √3 = 24.843.
        let e = estimate(3, 210.0, 3600.0 + 4900.0 + 6400.0).unwrap();
        assert!((e.mean - 70.0).abs() < 1e-12);
        assert!((e.sd - 10.0).abs() < 1e-12);
        assert!((e.ci_high - 70.0 - 24.843).abs() < 1e-3, "{}", e.ci_high);
        assert!(estimate(0, 0.0, 0.0).is_none());
    }
}
