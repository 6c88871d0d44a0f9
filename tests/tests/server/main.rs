//! End-to-end tests of `ikd serve` and its store, each test against a real
//! server process (and a PostgreSQL server for the PostgreSQL cases): one
//! test binary, one module per topic. Run one topic with
//! `scripts/test -p ikd-tests --test server grpc::`.

mod access;
mod audit;
mod bench;
mod durability;
mod grpc;
mod load;
mod metrics;
mod operators;
mod report_grpc;
mod robustness;
mod scale;
mod security_disclosure;
mod security_integrity;
mod security_limits;
mod security_transport;
mod store;
mod web;
mod web_browser;
