//! The server's network edge: how connections are accepted and kept
//! ([`incoming`]), and what a request passes before any service sees it
//! ([`gate`]). Both exist so that one client — above all one without a token —
//! cannot take the server away from the others (`docs/server.md`, "Limits").

mod activity;
mod coalesce;
pub mod cors;
pub mod gate;
pub mod incoming;
