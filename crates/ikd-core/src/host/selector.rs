//! Selector plugins: the next item of an adaptive test, through the ABI.
//!
//! [`SelectorHandle`] is one instance created with the item bank (sent
//! once); each call carries only the test's state and has a deadline, since
//! a selector runs inside an interactive session. [`PluginSelector`] makes a
//! handle an `ikd_cat::Selector`, so `AdaptiveTest::next` and
//! `ikd cat simulate` use a plugin as they use a built-in selector, and it
//! checks every reply before the test sees it.

use super::instance::{Instance, PluginCallError};
use super::loaded::LoadedPlugin;
use ikd_cat::{AdaptiveTest, SelectionContext, Selector, SelectorFault};
use ikd_plugin_sdk::abi::method;
use ikd_plugin_sdk::proto::{SelectRequest, SelectResponse, SelectorConfig};
use prost::Message;
use rand::RngCore;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// How long one selection may take when the caller sets no deadline: far
/// above any real selector (microseconds to a few milliseconds), far below
/// what a respondent waiting for the next item would accept.
pub const DEFAULT_SELECT_DEADLINE: Duration = Duration::from_secs(1);

/// One call for the worker: the encoded request and where to answer.
struct Job {
    request: Vec<u8>,
    reply: mpsc::SyncSender<Result<u32, PluginCallError>>,
}

/// A selector instance serving one item bank.
///
/// Calls run on the handle's own thread so that the caller can stop
/// waiting: a call past its deadline is a [`PluginCallError::TimedOut`] and
/// disables the plugin (its thread is stuck inside the plugin, whose state is
/// unknown), as a panic does. Concurrent calls are served one at a time,
/// and a call's deadline counts from the call, including any wait behind
/// another: a deadline far above a selection's cost keeps that wait moot.
#[derive(Debug)]
pub struct SelectorHandle {
    plugin: Arc<LoadedPlugin>,
    jobs: mpsc::Sender<Job>,
    deadline: Duration,
}

impl SelectorHandle {
    /// Creates an instance with the bank and settings of `config`.
    pub fn create(
        plugin: Arc<LoadedPlugin>,
        config: &SelectorConfig,
        deadline: Duration,
    ) -> Result<Self, PluginCallError> {
        let instance = Instance::create(plugin.clone(), config)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name(format!("selector-{}", plugin.name()))
            .spawn(move || serve(&instance, queue))
            .map_err(|e| PluginCallError::Crashed {
                plugin: plugin.name().to_owned(),
                detail: format!("cannot start the selector's thread: {e}"),
            })?;
        Ok(SelectorHandle {
            plugin,
            jobs,
            deadline,
        })
    }

    pub fn plugin(&self) -> &Arc<LoadedPlugin> {
        &self.plugin
    }

    /// The plugin's choice (a bank index, not yet checked).
    pub fn select(&self, request: &SelectRequest) -> Result<u32, PluginCallError> {
        let name = || self.plugin.name().to_owned();
        if self.plugin.is_poisoned() {
            return Err(PluginCallError::Poisoned { plugin: name() });
        }
        let (reply, answer) = mpsc::sync_channel(1);
        let job = Job {
            request: request.encode_to_vec(),
            reply,
        };
        let gone = || PluginCallError::Crashed {
            plugin: name(),
            detail: "the selector's thread has ended".into(),
        };
        self.jobs.send(job).map_err(|_| gone())?;
        match answer.recv_timeout(self.deadline) {
            Ok(result) => result,
            Err(RecvTimeoutError::Timeout) => {
                self.plugin.poison();
                tracing::error!(plugin = %name(), "selector did not answer within {:?} and is disabled", self.deadline);
                Err(PluginCallError::TimedOut {
                    plugin: name(),
                    after: self.deadline,
                })
            }
            Err(RecvTimeoutError::Disconnected) => Err(gone()),
        }
    }
}

/// The handle's thread: one call at a time until the handle is dropped.
fn serve(instance: &Instance, queue: mpsc::Receiver<Job>) {
    for job in queue {
        let result = instance
            .call_encoded::<SelectResponse>(method::SELECTOR_SELECT, &job.request)
            .map(|response| response.item);
        // The caller may have stopped waiting (deadline); nothing to do then.
        let _ = job.reply.send(result);
    }
}

/// A selector plugin as an `ikd_cat::Selector`.
///
/// Every reply is checked: an item outside the bank, one given already, or
/// one not among the candidates is a [`SelectorFault`] naming the plugin, as
/// are a refusal, a panic and a missed deadline. `AdaptiveTest::next` then
/// fails the step (`SelectionError::Fault`) and the test's state is
/// unchanged (docs/adaptive.md, "Selector plugins").
#[derive(Debug)]
pub struct PluginSelector {
    handle: SelectorHandle,
}

impl PluginSelector {
    /// Creates an instance of `plugin` for the bank and settings of `test`.
    pub fn create(
        plugin: Arc<LoadedPlugin>,
        test: &AdaptiveTest,
        deadline: Duration,
    ) -> Result<Self, PluginCallError> {
        let config = ikd_cat::plugin::selector_config(test.bank(), test.settings());
        Ok(PluginSelector {
            handle: SelectorHandle::create(plugin, &config, deadline)?,
        })
    }

    pub fn handle(&self) -> &SelectorHandle {
        &self.handle
    }
}

impl Selector for PluginSelector {
    fn name(&self) -> &str {
        self.handle.plugin.name()
    }

    fn select(
        &self,
        context: &SelectionContext<'_>,
        rng: &mut dyn RngCore,
    ) -> Result<usize, SelectorFault> {
        let request = select_request(context, rng.next_u64());
        let item = self
            .handle
            .select(&request)
            .map_err(|e| SelectorFault(e.to_string()))?;
        check_reply(item as usize, context)
            .map_err(|why| SelectorFault(format!("plugin '{}' {why}", self.name())))
    }
}

/// The state a selector is told about (see `SelectRequest`).
fn select_request(context: &SelectionContext<'_>, seed: u64) -> SelectRequest {
    let indices = |items: &[usize]| items.iter().map(|&i| i as u32).collect();
    SelectRequest {
        domain: context.domain as u32,
        candidates: indices(context.candidates),
        theta: context.estimate.theta,
        se: context.estimate.se,
        answered: context.answered as u32,
        administered: indices(context.administered),
        seed,
    }
}

/// Why a reply cannot be used, if it cannot.
fn check_reply(item: usize, context: &SelectionContext<'_>) -> Result<usize, String> {
    let bank = context.bank;
    if item >= bank.len() {
        return Err(format!(
            "chose item {item}, which is not in the bank of {} items",
            bank.len()
        ));
    }
    let id = &bank.item(item).id;
    if context.administered.contains(&item) {
        return Err(format!("chose item '{id}', which has been given already"));
    }
    if context.candidates.binary_search(&item).is_err() {
        return Err(format!(
            "chose item '{id}', which is not one of the {} candidates it was offered",
            context.candidates.len()
        ));
    }
    Ok(item)
}
