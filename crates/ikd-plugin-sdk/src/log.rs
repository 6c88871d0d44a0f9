//! Logging from inside a plugin, forwarded to the host's `tracing` subscriber.
//!
//! Plugins do not share the host's logger (a `cdylib` has its own copy of every
//! static), so the host passes a callback when it creates an instance.

use crate::abi::{ByteView, LogFn, level};
use std::sync::OnceLock;

static HOST_LOG: OnceLock<LogFn> = OnceLock::new();

#[doc(hidden)]
pub fn set_host_logger(f: LogFn) {
    let _ = HOST_LOG.set(f);
}

fn emit(level: u32, target: &str, message: &str) {
    if let Some(f) = HOST_LOG.get() {
        f(
            level,
            ByteView::new(target.as_bytes()),
            ByteView::new(message.as_bytes()),
        );
    }
}

/// Logs an error through the host.
pub fn error(target: &str, message: &str) {
    emit(level::ERROR, target, message);
}
/// Logs a warning through the host.
pub fn warn(target: &str, message: &str) {
    emit(level::WARN, target, message);
}
/// Logs information through the host.
pub fn info(target: &str, message: &str) {
    emit(level::INFO, target, message);
}
/// Logs a debugging detail through the host.
pub fn debug(target: &str, message: &str) {
    emit(level::DEBUG, target, message);
}
