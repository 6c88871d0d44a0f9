//! Computerized adaptive testing (CAT) on IRT item banks: each next item is
//! chosen where it tells most about this person, and each domain stops once
//! its θ is precise enough — the precision of the full instrument with fewer
//! items.
//!
//! A pure library (no I/O, no plugin, no instrument): the later selector
//! plugin, the session API and `ikd cat simulate` are thin layers over it.
//!
//! * [`Bank`] — items with domain, indicator and IRT parameters (ikd-irt's
//!   2PL, 3PL, GRM, GPCM, Rasch), as PARAMS.csv gives them.
//! * [`Settings`] — the stopping rule, content limits and exposure control,
//!   serde-readable (an instrument's `[delivery.settings]`), checked against
//!   a bank into [`Constraints`] with every problem named by field.
//! * [`AdaptiveTest`] — [`AdaptiveTest::next`] picks the next item (content
//!   balancing picks the domain and the admissible items, a [`Selector`]
//!   the item) or says why the test is over ([`StopReason`],
//!   [`DomainStop`]); [`AdaptiveTest::record`] takes an answer and updates
//!   the domain's θ and SE by the `irt` model's own EAP.
//! * Selectors: [`MaxInformation`], [`KullbackLeibler`], [`RandomItem`].
//! * `plugin` (feature `plugin`) — the selector plugin boundary: the bank a
//!   selector instance is created with, and `plugin::HostedSelector` to
//!   serve any [`Selector`] as a plugin.
//! * [`simulation`] — simulation studies: true θ, answers drawn from the
//!   model, the real selector and stopping rule, and the report (test
//!   length, bias, RMSE, correlation with the full-bank θ, conditional SE,
//!   item exposure).
//!
//! ```
//! use ikd_cat::{AdaptiveTest, Bank, BankItem, MaxInformation, Next, Settings};
//! use ikd_irt::{Item, Model};
//! use rand::{SeedableRng, rngs::StdRng};
//!
//! let items = (0..20)
//!     .map(|i| {
//!         let b = -2.0 + 0.2 * i as f64;
//!         let id = format!("q{i}");
//!         BankItem {
//!             irt: Item::new(&id, Model::TwoPl, 1.5, vec![-1.5 * b]).unwrap(),
//!             id,
//!             domain: "numeracy".into(),
//!             indicator: "arithmetic".into(),
//!         }
//!     })
//!     .collect();
//! let settings = Settings { se_target: 0.5, ..Settings::default() };
//! let test = AdaptiveTest::new(Bank::new(items)?, settings)?;
//! let (selector, mut rng) = (MaxInformation::new(1), StdRng::seed_from_u64(1));
//! let mut state = test.start();
//! while let Next::Item(item) = test.next(&state, &selector, &mut rng)? {
//!     let answer = u8::from(test.bank().item(item).irt.b()[0] < 0.3); // a person near θ = 0.3
//!     test.record(&mut state, item, answer)?;
//! }
//! assert!(state.estimate(0).se <= 0.5);
//! assert!(state.total() < 20);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The algorithms, settings and the simulation studies: `docs/adaptive.md`.

mod adaptive;
mod bank;
mod constraints;
mod content;
mod estimate;
#[cfg(feature = "plugin")]
pub mod plugin;
mod quadrature;
mod select;
mod settings;
pub mod simulation;
mod state;
mod stopping;

pub use adaptive::{AdaptiveTest, AnswerError, Next, Progress, SelectionError};
pub use bank::{Bank, BankError, BankItem, Domain, Indicator, Place};
pub use constraints::{Constraints, DomainLimits, Limits, Problem, SettingsError};
pub use select::{
    KullbackLeibler, MaxInformation, RandomItem, SelectionContext, Selector, SelectorFault,
    SelectorKind, randomesque,
};
pub use settings::{DomainOrder, DomainSettings, IndicatorSettings, Settings};
pub use state::{Step, TestState};
pub use stopping::{DomainStatus, DomainStop, StopReason};
