//! End-to-end tests of the engine, its plugins and the `ikd` command line:
//! one test binary (one link instead of fourteen), one module per topic.
//! Run one topic with `scripts/test -p ikd-tests --test engine scoring::`.

mod browser_harness;
mod cat_cli;
mod cli;
mod digcomp;
mod engine_invariants;
mod fuzz_regressions;
mod ikd_asn;
mod install;
mod irt_model;
mod plugin_faults;
mod plugin_host;
mod plugin_new;
mod presentation;
mod process_plugins;
mod properties;
mod proto_compat;
mod report_browser;
mod scoring;
mod selector_plugins;
mod validation_report;
