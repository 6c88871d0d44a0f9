//! One module per subcommand.

pub mod demo;
pub mod plugins;
pub mod score;
pub mod simulate;
pub mod validate;
