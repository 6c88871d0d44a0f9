//! `ikd install --prefix DIR`: this `ikd`, the plugins it loads and the
//! instruments it finds, copied into an installation that works away from
//! the build tree (`ikd_core::home`):
//!
//! ```text
//! DIR/bin/ikd
//! DIR/share/ikd/plugins/<plugin>/plugin.toml   (+ its library, or a process plugin's files)
//! DIR/share/ikd/instruments/<id>/instrument.toml (+ the files it names)
//! ```

use crate::common::{PluginArgs, instrument_dirs};
use anyhow::{Context, Result, bail};
use ikd_core::host::{PluginStatus, Transport};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Directory to install into (created if missing), e.g. `/opt/ikd`.
    #[arg(long, value_name = "DIR")]
    prefix: PathBuf,
}

pub fn run(plugins: &PluginArgs, args: Args) -> Result<ExitCode> {
    let host = plugins.host()?;
    let refused: Vec<String> = host
        .entries()
        .iter()
        .filter_map(|e| match &e.status {
            PluginStatus::Refused(why) => Some(format!("{}: {why}", e.manifest_path.display())),
            PluginStatus::Loaded(_) => None,
        })
        .collect();
    if !refused.is_empty() {
        bail!(
            "refusing to install a partial set: {} plugin(s) refused:\n  {}",
            refused.len(),
            refused.join("\n  ")
        );
    }
    let bin = args.prefix.join("bin");
    let home = args.prefix.join("share/ikd");
    for dir in [&bin, &home.join("plugins"), &home.join("instruments")] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let exe = std::env::current_exe().context("finding this executable")?;
    copy(&exe, &bin.join("ikd"))?;

    let mut installed = 0;
    for plugin in host.loaded() {
        let manifest_dir = plugin
            .library_path
            .parent()
            .map(Path::to_owned)
            .unwrap_or_default();
        let entry = host
            .entries()
            .iter()
            .find(|e| e.manifest.as_ref().is_some_and(|m| m.name == plugin.name()))
            .expect("a loaded plugin has an entry");
        let target = home.join("plugins").join(plugin.name());
        std::fs::create_dir_all(&target)?;
        match plugin.manifest.transport {
            Transport::Native => {
                copy(&entry.manifest_path, &target.join("plugin.toml"))?;
                let library = plugin.library_path.file_name().expect("a library file");
                copy(&plugin.library_path, &target.join(library))?;
            }
            // A process plugin is its directory (the program and what it reads).
            Transport::Process => {
                let source = entry.manifest_path.parent().unwrap_or(&manifest_dir);
                copy_tree(source, &target)?;
            }
        }
        installed += 1;
    }

    let mut instruments = 0;
    for dir in instrument_dirs().into_iter().filter(|d| d.is_dir()) {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let Some(id) = path.file_name() else { continue };
            let target = home.join("instruments").join(id);
            if path.join("instrument.toml").is_file() && !target.exists() {
                copy_tree(&path, &target)?;
                instruments += 1;
            }
        }
    }
    eprintln!(
        "installed ikd, {installed} plugin(s) and {instruments} instrument(s) into {}; \
         run {} (or set IKD_HOME={})",
        args.prefix.display(),
        bin.join("ikd").display(),
        home.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .map(|_| ())
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            copy(&entry.path(), &target)?;
        }
    }
    Ok(())
}
