//! Typed, safe handles on plugin instances: encode the request, call through
//! the ABI, decode the response, and turn every failure into a
//! [`PluginCallError`] that names the plugin.

use super::loaded::{LoadedPlugin, RawInstance};
use super::outcome::RawOutcome;
use ikd_plugin_sdk::abi::{self, method};
use ikd_plugin_sdk::domain::ScoredItems;
use ikd_plugin_sdk::proto::{
    AnswerBatch, DomainConfig, DomainDescription, DomainPresentation, InterpretRequest,
    InterpretResponse, ModelConfig, PluginError, SimulateRequest,
};
use ikd_plugin_sdk::{ScoreInput, ScoreOutput};
use prost::Message;
use std::sync::{Arc, Mutex};

/// A call into a plugin that did not give a result.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PluginCallError {
    /// The plugin refused the input; its violations say what is wrong.
    #[error("plugin '{plugin}': {error}")]
    Refused { plugin: String, error: PluginError },
    /// The plugin panicked: a native plugin is now poisoned (disabled until restart).
    #[error("plugin '{plugin}' panicked: {message}")]
    Panicked { plugin: String, message: String },
    /// An earlier fault disabled the plugin: a native plugin's panic, a
    /// selector's missed deadline, or a process plugin's failures in a row.
    #[error(
        "plugin '{plugin}' is disabled after an earlier fault (a panic, a missed deadline or repeated failures)"
    )]
    Poisoned { plugin: String },
    /// The plugin broke the protocol (bad status, undecodable response).
    #[error("plugin '{plugin}' broke the plugin protocol: {detail}")]
    Protocol { plugin: String, detail: String },
    /// A process plugin did not answer within its call timeout; its child was killed.
    #[error("plugin '{plugin}' did not answer within {after:?} and was stopped")]
    TimedOut {
        plugin: String,
        after: std::time::Duration,
    },
    /// A process plugin's child died during the call; the next call starts a new one.
    #[error("plugin '{plugin}' failed: {detail}")]
    Crashed { plugin: String, detail: String },
    /// The plugin predates the method (an older ABI minor, or a process
    /// plugin that does not implement it).
    #[error("plugin '{plugin}' does not implement the method (it predates it)")]
    Unsupported { plugin: String },
}

impl PluginCallError {
    pub fn plugin(&self) -> &str {
        match self {
            PluginCallError::Refused { plugin, .. }
            | PluginCallError::Panicked { plugin, .. }
            | PluginCallError::Poisoned { plugin }
            | PluginCallError::Protocol { plugin, .. }
            | PluginCallError::TimedOut { plugin, .. }
            | PluginCallError::Crashed { plugin, .. }
            | PluginCallError::Unsupported { plugin, .. } => plugin,
        }
    }
}

/// An instance owned by the host, destroyed when dropped.
#[derive(Debug)]
pub(super) struct Instance {
    plugin: Arc<LoadedPlugin>,
    raw: RawInstance,
}

// SAFETY: plugin types are `Send + Sync` (required by the SDK traits), and the
// pointer is only used through the plugin's own thread-safe entry points.
unsafe impl Send for Instance {}
unsafe impl Sync for Instance {}

impl Drop for Instance {
    fn drop(&mut self) {
        if !self.plugin.is_poisoned() {
            self.plugin.raw_destroy(self.raw);
        }
    }
}

impl Instance {
    pub(super) fn create(
        plugin: Arc<LoadedPlugin>,
        config: &impl Message,
    ) -> Result<Self, PluginCallError> {
        ensure_healthy(&plugin)?;
        let outcome = plugin.raw_create(&config.encode_to_vec());
        let raw = settle(&plugin, outcome)?;
        Ok(Instance { plugin, raw })
    }

    fn call<R: Message + Default>(
        &self,
        method: u32,
        request: &impl Message,
    ) -> Result<R, PluginCallError> {
        self.call_encoded(method, &request.encode_to_vec())
    }

    /// Calls with a request already encoded.
    pub(super) fn call_encoded<R: Message + Default>(
        &self,
        method: u32,
        request: &[u8],
    ) -> Result<R, PluginCallError> {
        self.call_with(method, request, |bytes| {
            R::decode(bytes).map_err(|e| format!("undecodable response to method {method}: {e}"))
        })
    }

    /// Calls with an encoded request; `read` decodes the response in place.
    fn call_with<T>(
        &self,
        method: u32,
        request: &[u8],
        read: impl FnOnce(&[u8]) -> Result<T, String>,
    ) -> Result<T, PluginCallError> {
        ensure_healthy(&self.plugin)?;
        let outcome = self.plugin.raw_invoke(self.raw, method, request, read);
        settle(&self.plugin, outcome)?.map_err(|detail| PluginCallError::Protocol {
            plugin: self.plugin.name().to_owned(),
            detail,
        })
    }
}

fn ensure_healthy(plugin: &LoadedPlugin) -> Result<(), PluginCallError> {
    if plugin.is_poisoned() {
        Err(PluginCallError::Poisoned {
            plugin: plugin.name().to_owned(),
        })
    } else {
        Ok(())
    }
}

fn settle<T>(plugin: &LoadedPlugin, outcome: RawOutcome<T>) -> Result<T, PluginCallError> {
    let name = plugin.name().to_owned();
    // A method the plugin does not know is an answer, not a fault.
    if matches!(
        outcome,
        RawOutcome::Ok(_)
            | RawOutcome::Refused(_)
            | RawOutcome::Failed(abi::status::UNKNOWN_METHOD, _)
    ) {
        plugin.after_success();
    } else {
        plugin.after_fault(matches!(outcome, RawOutcome::Panicked(_)));
    }
    match outcome {
        RawOutcome::Ok(v) => Ok(v),
        RawOutcome::Refused(error) => Err(PluginCallError::Refused {
            plugin: name,
            error,
        }),
        RawOutcome::Panicked(message) => {
            if plugin.is_poisoned() {
                tracing::error!(plugin = %name, "plugin panicked and is disabled: {message}");
            } else {
                tracing::error!(plugin = %name, "plugin panicked: {message}");
            }
            Err(PluginCallError::Panicked {
                plugin: name,
                message,
            })
        }
        RawOutcome::TimedOut(after) => Err(PluginCallError::TimedOut {
            plugin: name,
            after,
        }),
        RawOutcome::Lost(detail) => Err(PluginCallError::Crashed {
            plugin: name,
            detail,
        }),
        RawOutcome::Failed(abi::status::UNKNOWN_METHOD, _) => {
            Err(PluginCallError::Unsupported { plugin: name })
        }
        RawOutcome::Failed(code, detail) => Err(PluginCallError::Protocol {
            plugin: name,
            detail: format!("status {code}: {detail}"),
        }),
    }
}

/// One domain of one instrument, configured in its domain plugin.
#[derive(Debug)]
pub struct DomainHandle {
    instance: Instance,
}

impl DomainHandle {
    pub fn create(
        plugin: Arc<LoadedPlugin>,
        config: &DomainConfig,
    ) -> Result<Self, PluginCallError> {
        Ok(DomainHandle {
            instance: Instance::create(plugin, config)?,
        })
    }

    pub fn plugin(&self) -> &Arc<LoadedPlugin> {
        &self.instance.plugin
    }

    pub fn describe(&self) -> Result<DomainDescription, PluginCallError> {
        self.instance.call(method::DOMAIN_DESCRIBE, &())
    }

    pub fn score_items(&self, batch: &AnswerBatch) -> Result<ScoredItems, PluginCallError> {
        self.instance.call_with(
            method::DOMAIN_SCORE_ITEMS,
            &batch.encode_to_vec(),
            |bytes| ScoredItems::decode_from(bytes).map_err(|e| e.message),
        )
    }

    pub fn interpret(
        &self,
        request: &InterpretRequest,
    ) -> Result<InterpretResponse, PluginCallError> {
        self.instance.call(method::DOMAIN_INTERPRET, request)
    }

    pub fn simulate(&self, request: &SimulateRequest) -> Result<AnswerBatch, PluginCallError> {
        self.instance.call(method::DOMAIN_SIMULATE, request)
    }

    /// How each configured item is shown to a respondent; `Ok(None)` when
    /// the plugin predates presentations (its items cannot be delivered).
    pub fn present(&self) -> Result<Option<DomainPresentation>, PluginCallError> {
        match self.instance.call(method::DOMAIN_PRESENT, &()) {
            Ok(presentation) => Ok(Some(presentation)),
            Err(PluginCallError::Unsupported { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A scoring model configured for one instrument.
#[derive(Debug)]
pub struct ModelHandle {
    instance: Instance,
    /// The last request's buffer, reused (see [`ModelHandle::score`]).
    request: Mutex<Vec<u8>>,
}

impl ModelHandle {
    pub fn create(
        plugin: Arc<LoadedPlugin>,
        config: &ModelConfig,
    ) -> Result<Self, PluginCallError> {
        Ok(ModelHandle {
            instance: Instance::create(plugin, config)?,
            request: Mutex::default(),
        })
    }

    pub fn plugin(&self) -> &Arc<LoadedPlugin> {
        &self.instance.plugin
    }

    /// Scores a batch. The request is encoded in one pass into a buffer kept
    /// from the previous call: batches are the same size every time, and a
    /// fresh multi-megabyte buffer per call costs more in page faults than
    /// the encoding itself. A concurrent call uses a buffer of its own.
    pub fn score(&self, input: &ScoreInput) -> Result<ScoreOutput, PluginCallError> {
        let mut own = Vec::new();
        let mut guard = self.request.try_lock();
        let buffer = match guard.as_deref_mut() {
            Ok(kept) => kept,
            Err(_) => &mut own,
        };
        input.encode_into(buffer);
        self.instance
            .call_with(method::MODEL_SCORE, buffer, |bytes| {
                ScoreOutput::decode_from(bytes).map_err(|e| e.message)
            })
    }
}
