//! `ikd validate PATH...`

use crate::common::{PluginArgs, instrument_path};
use anyhow::Result;
use ikd_core::instrument;
use ikd_core::pipeline::{Scorer, ScorerOptions};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Args {
    /// Instrument files, directories holding `instrument.toml`, or bundled instrument ids.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<String>,
}

/// Loads each instrument and binds it to the plugins (which check every item's
/// specification); prints every problem found, and exits 0 only if all are valid.
pub fn run(plugins: &PluginArgs, args: Args) -> Result<ExitCode> {
    let host = plugins.host()?;
    let mut failed = 0;
    for reference in &args.paths {
        let checked = instrument_path(reference).and_then(|path| {
            let loaded = Arc::new(instrument::load(&path)?);
            Scorer::new(loaded.clone(), &host, &ScorerOptions::default())?;
            // An adaptive test's settings against its bank, as a server would bind it.
            if let Some(delivery) = loaded.delivery.adaptive() {
                ikd_core::adaptive::adaptive_test(&loaded, delivery)?;
            }
            Ok(loaded)
        });
        match checked {
            Ok(i) => eprintln!(
                "ok: {}: {} {} ({} domains, {} items, {} delivery, sha256 {})",
                i.source.display(),
                i.id,
                i.version,
                i.domains.len(),
                i.items.len(),
                i.delivery.mode(),
                i.sha256
            ),
            Err(err) => {
                failed += 1;
                eprintln!("error: {err:#}");
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
