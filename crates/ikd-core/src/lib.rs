//! # ikd-core
//!
//! The engine of the IKD platform. It knows no competency domain and no
//! scoring formula: both arrive as plugins.
//!
//! * [`instrument`]: the instrument model, TOML loader and validator;
//! * [`host`]: plugin discovery, manifests, integrity, loading and safe calls;
//! * [`pipeline`]: domain plugins → scoring model → feedback, over batches;
//! * [`answers`] / [`results`]: answer and result formats (CSV, JSON);
//! * [`simulate`]: synthetic respondents from a latent-trait model;
//! * [`quote`]: user input quoted in error messages, cut short;
//! * [`settings_files`]: request settings may only name files inside the instrument's
//!   directory.

pub mod adaptive;
pub mod answers;
pub mod disclosure;
pub mod home;
pub mod host;
pub mod instrument;
pub mod lang;
pub mod localise;
pub mod org_unit;
pub mod output;
pub mod pipeline;
pub mod quality;
pub mod quote;
pub mod results;
pub mod settings_files;
pub mod simulate;
