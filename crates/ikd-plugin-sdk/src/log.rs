//! Logging from inside a plugin, forwarded to the host's `tracing` subscriber.
//!
//! Plugins do not share the host's logger (a `cdylib` has its own copy of every
//! static), so the host passes a callback when it creates an instance.

use crate::abi::{ByteView, LogFn, level};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

static HOST_LOG: OnceLock<LogFn> = OnceLock::new();

/// The most verbose level the host records (ABI 1.1 `set_log_level`); a host
/// of ABI 1.0 never sets it, so everything is passed on.
static MAX_LEVEL: AtomicU32 = AtomicU32::new(level::TRACE);

#[doc(hidden)]
pub extern "C" fn set_max_level(max_level: u32) {
    MAX_LEVEL.store(max_level, Ordering::Relaxed);
}

/// True when the host records messages of `level` (an [`abi::level`](crate::abi::level)
/// value): check it before formatting an expensive message.
pub fn enabled(level: u32) -> bool {
    level <= MAX_LEVEL.load(Ordering::Relaxed)
}

#[doc(hidden)]
pub fn set_host_logger(f: LogFn) {
    let _ = HOST_LOG.set(f);
}

fn emit(level: u32, target: &str, message: &str) {
    if !enabled(level) {
        return;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_level_filters_what_plugins_format() {
        assert!(
            enabled(level::TRACE),
            "everything until the host says otherwise"
        );
        set_max_level(level::WARN);
        assert!(enabled(level::ERROR) && enabled(level::WARN));
        assert!(!enabled(level::INFO) && !enabled(level::TRACE));
        set_max_level(level::TRACE);
    }
}
