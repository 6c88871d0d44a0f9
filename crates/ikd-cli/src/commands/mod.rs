//! One module per subcommand.

pub mod bench;
pub mod demo;
pub mod plugins;
pub mod score;
pub mod serve;
pub mod simulate;
pub mod validate;
