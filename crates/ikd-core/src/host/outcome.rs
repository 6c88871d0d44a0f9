//! What one raw call into a plugin gave, whatever the transport: the value,
//! or how it failed (refused, panicked, timed out, lost).

use ikd_plugin_sdk::abi;
use ikd_plugin_sdk::proto::PluginError;
use prost::Message;

/// What a raw call gave: the value, or a status code with the plugin's error.
pub(super) enum RawOutcome<T> {
    Ok(T),
    Failed(i32, String),
    Refused(PluginError),
    Panicked(String),
    /// A process plugin's child did not answer in time and was killed.
    TimedOut(std::time::Duration),
    /// A process plugin's child died, or broke the framing.
    Lost(String),
}

impl<T> RawOutcome<T> {
    pub(super) fn map<U>(self, f: impl FnOnce(T) -> U) -> RawOutcome<U> {
        match self {
            RawOutcome::Ok(v) => RawOutcome::Ok(f(v)),
            other => other.map_never(),
        }
    }

    /// The same failure for another value type; never called on `Ok`.
    pub(super) fn map_never<U>(self) -> RawOutcome<U> {
        match self {
            RawOutcome::Ok(_) => unreachable!("map_never on a success"),
            RawOutcome::Failed(c, m) => RawOutcome::Failed(c, m),
            RawOutcome::Refused(e) => RawOutcome::Refused(e),
            RawOutcome::Panicked(m) => RawOutcome::Panicked(m),
            RawOutcome::TimedOut(d) => RawOutcome::TimedOut(d),
            RawOutcome::Lost(m) => RawOutcome::Lost(m),
        }
    }

    /// The outcome of a status other than OK, from the encoded `PluginError`.
    pub(super) fn failure(code: i32, bytes: &[u8]) -> Self {
        let error = || {
            PluginError::decode(bytes)
                .unwrap_or_else(|e| PluginError::msg(format!("undecodable error ({e})")))
        };
        match code {
            abi::status::ERROR => RawOutcome::Refused(error()),
            abi::status::PANIC => RawOutcome::Panicked(error().message),
            other => RawOutcome::Failed(other, error().message),
        }
    }
}
