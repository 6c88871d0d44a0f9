//! One module per subcommand.

pub mod analyze;
pub mod bench;
pub mod calibrate;
pub mod cat;
pub mod compare;
pub mod demo;
pub mod export;
pub mod install;
pub mod invite;
pub mod irt;
pub mod plugin_new;
pub mod plugins;
pub mod report;
pub mod score;
pub mod serve;
pub mod simulate;
pub mod store;
pub mod token;
pub mod validate;
pub mod validation_report;
