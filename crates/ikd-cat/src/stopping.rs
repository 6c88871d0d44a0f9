//! The stopping rule: when a domain is done, when the test is, and why.
//!
//! A domain is done when its minimums are met and its SE is at the target,
//! when it has had its maximum, or when its part of the bank is used up
//! (every item given, or its indicators at their maximums). The test stops
//! when every domain is done or it has given `max_items`.

use crate::content::Balance;
use serde::Serialize;

/// Why a domain gets no more items.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainStop {
    /// SE(θ) reached the target with the domain's minimums met.
    SeTarget,
    /// The domain had its maximum number of items.
    MaxItems,
    /// No item of the domain may be given any more (all given, or the
    /// indicators left are at their maximums) and the SE target was missed.
    BankExhausted,
}

impl DomainStop {
    pub fn name(self) -> &'static str {
        match self {
            DomainStop::SeTarget => "se_target",
            DomainStop::MaxItems => "max_items",
            DomainStop::BankExhausted => "bank_exhausted",
        }
    }
}

/// Where a domain stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DomainStatus {
    /// It may have more items.
    Open,
    Done(DomainStop),
}

/// Why the test stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Every domain is done (see each domain's [`DomainStop`]).
    Completed,
    /// The test gave `max_items`; domains still open missed their SE target.
    MaxItems,
}

impl StopReason {
    pub fn name(self) -> &'static str {
        match self {
            StopReason::Completed => "completed",
            StopReason::MaxItems => "max_items",
        }
    }
}

/// The status of `domain` given its estimate and counts.
pub(crate) fn domain_status(balance: &Balance<'_>, domain: usize) -> DomainStatus {
    let limits = balance.limits(domain);
    let state = balance.state();
    if balance.need(domain) == 0 && state.estimate(domain).se <= limits.se_target {
        DomainStatus::Done(DomainStop::SeTarget)
    } else if state.domain_count(domain) >= limits.max_items {
        DomainStatus::Done(DomainStop::MaxItems)
    } else if !balance.has_items_left(domain) {
        DomainStatus::Done(DomainStop::BankExhausted)
    } else {
        DomainStatus::Open
    }
}
