//! Process plugins: the plugin runs as a child process and speaks the plugin
//! messages as length-prefixed protobuf on its stdin and stdout
//! (`proto/ikd/plugin/v1/process.proto`).
//!
//! Why: a native plugin shares the engine's address space, so its segfault is
//! the engine's; and researchers write models in Python or R. A child that
//! crashes or hangs costs one failed call: it is killed (a hang, after the
//! manifest's call timeout), started again on the next call, and the
//! instances it held are created again from their configurations, which the
//! host keeps. After [`MAX_CONSECUTIVE_FAILURES`] failed calls in a row the
//! plugin is disabled.
//!
//! Calls to one child are serialised (one request in flight); each waits at
//! most the call timeout, on the calling thread — the server calls plugins
//! from tokio's blocking pool, so a slow child never stalls the runtime.

use super::manifest::PluginManifest;
use super::outcome::RawOutcome;
use ikd_plugin_sdk::abi;
use ikd_plugin_sdk::proto::host_message::Body;
use ikd_plugin_sdk::proto::{
    CreateInstance, DestroyInstance, Hello, HostMessage, InvokeInstance, PluginInfo, PluginMessage,
};
use prost::Message;
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Failed calls in a row (crash, timeout, panic) after which the plugin is disabled.
pub const MAX_CONSECUTIVE_FAILURES: u32 = 5;

/// Largest frame accepted from a child (a corrupt length must not allocate gigabytes).
const MAX_FRAME: usize = 1 << 30;

/// How long a child may take to exit after its stdin is closed before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// Lines of a child's stderr kept to explain its death.
const STDERR_TAIL: usize = 8;

#[derive(Debug)]
pub(super) struct ProcessPlugin {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    dir: PathBuf,
    timeout: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    child: Option<Child>,
    /// Configurations of the live instances by host key, to create them again in a new child.
    configs: HashMap<u64, Vec<u8>>,
    next_key: u64,
    failures_in_a_row: u32,
    restarts: u64,
    /// Children started so far (the first one included).
    started: u64,
}

#[derive(Debug)]
struct Child {
    process: std::process::Child,
    stdin: Option<ChildStdin>,
    answers: Receiver<std::io::Result<Vec<u8>>>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    next_call: u64,
    /// The child's own id for each host instance key it has created.
    remote: HashMap<u64, u64>,
}

/// Why an exchange with a child failed; the child is gone in every case.
enum Lost {
    TimedOut(Duration),
    Died(String),
}

impl<T> From<Lost> for RawOutcome<T> {
    fn from(lost: Lost) -> Self {
        match lost {
            Lost::TimedOut(after) => RawOutcome::TimedOut(after),
            Lost::Died(why) => RawOutcome::Lost(why),
        }
    }
}

impl ProcessPlugin {
    /// Starts the child and asks for its info (the `Hello` exchange).
    pub(super) fn start(
        manifest: &PluginManifest,
        dir: &Path,
    ) -> Result<(Self, PluginInfo), String> {
        let (program, args) = manifest
            .command
            .split_first()
            .expect("the manifest check requires a command");
        let plugin = ProcessPlugin {
            name: manifest.name.clone(),
            program: resolve_program(program, dir),
            args: args.to_vec(),
            dir: dir.to_owned(),
            timeout: manifest.call_timeout(),
            state: Mutex::default(),
        };
        let info = {
            let mut state = plugin.lock();
            let child = plugin.child(&mut state)?;
            let answer = plugin
                .exchange(child, Body::Hello(hello()))
                .map_err(|lost| match lost {
                    Lost::TimedOut(d) => format!("no answer to hello within {d:?}"),
                    Lost::Died(why) => why,
                });
            let answer = answer.inspect_err(|_| state.child = None)?;
            if answer.status != abi::status::OK {
                return Err(format!(
                    "the child answered hello with status {}",
                    answer.status
                ));
            }
            PluginInfo::decode(answer.body.as_ref())
                .map_err(|e| format!("cannot decode the plugin info from the child: {e}"))?
        };
        Ok((plugin, info))
    }

    pub(super) fn restarts(&self) -> u64 {
        self.lock().restarts
    }

    /// Counts a failed call; true when the plugin should now be disabled.
    pub(super) fn record_failure(&self) -> bool {
        let mut state = self.lock();
        state.failures_in_a_row += 1;
        state.failures_in_a_row >= MAX_CONSECUTIVE_FAILURES
    }

    pub(super) fn record_success(&self) {
        self.lock().failures_in_a_row = 0;
    }

    /// Creates an instance in the child; returns the host's key for it.
    pub(super) fn create(&self, config: &[u8]) -> RawOutcome<u64> {
        let mut state = self.lock();
        let key = state.next_key;
        state.next_key += 1;
        match self.remote_instance(&mut state, key, config) {
            RawOutcome::Ok(_) => {
                state.configs.insert(key, config.to_owned());
                RawOutcome::Ok(key)
            }
            failure => failure.map(|_| key),
        }
    }

    /// Calls `method` of the instance `key`, re-creating it in a new child if needed.
    pub(super) fn invoke(&self, key: u64, method: u32, request: &[u8]) -> RawOutcome<Vec<u8>> {
        let mut state = self.lock();
        let Some(config) = state.configs.get(&key).cloned() else {
            return RawOutcome::Failed(abi::status::ERROR, format!("no instance {key}"));
        };
        let remote = match self.remote_instance(&mut state, key, &config) {
            RawOutcome::Ok(id) => id,
            failure => return failure.map(|_| Vec::new()),
        };
        let child = state
            .child
            .as_mut()
            .expect("remote_instance leaves a child");
        let body = Body::Invoke(InvokeInstance {
            instance: remote,
            method,
            request: request.to_vec().into(),
        });
        match self.exchange(child, body) {
            Ok(answer) if answer.status == abi::status::OK => RawOutcome::Ok(answer.body.to_vec()),
            Ok(answer) => RawOutcome::failure(answer.status, &answer.body),
            Err(lost) => {
                state.child = None;
                lost.into()
            }
        }
    }

    /// Forgets the instance `key` and destroys it in the child, if the child has it.
    pub(super) fn destroy(&self, key: u64) {
        let mut state = self.lock();
        state.configs.remove(&key);
        let Some(child) = state.child.as_mut() else {
            return;
        };
        if let Some(remote) = child.remote.remove(&key)
            && self
                .exchange(child, Body::Destroy(DestroyInstance { instance: remote }))
                .is_err()
        {
            state.child = None;
        }
    }

    /// The child's id for instance `key`, creating the child and the instance as needed.
    fn remote_instance(&self, state: &mut State, key: u64, config: &[u8]) -> RawOutcome<u64> {
        let child = match self.child(state) {
            Ok(child) => child,
            Err(why) => return RawOutcome::Lost(why),
        };
        if let Some(&id) = child.remote.get(&key) {
            return RawOutcome::Ok(id);
        }
        let body = Body::Create(CreateInstance {
            config: config.to_vec().into(),
        });
        match self.exchange(child, body) {
            Ok(answer) if answer.status == abi::status::OK => {
                child.remote.insert(key, answer.instance);
                RawOutcome::Ok(answer.instance)
            }
            Ok(answer) => RawOutcome::failure(answer.status, &answer.body),
            Err(lost) => {
                state.child = None;
                lost.into()
            }
        }
    }

    /// The running child, started (again) when there is none.
    fn child<'s>(&self, state: &'s mut State) -> Result<&'s mut Child, String> {
        if state.child.is_none() {
            let child = self.spawn()?;
            if state.started > 0 {
                state.restarts += 1;
                tracing::warn!(plugin = %self.name, restarts = state.restarts, "process plugin started again");
            }
            state.started += 1;
            state.child = Some(child);
        }
        Ok(state.child.as_mut().expect("just set"))
    }

    fn spawn(&self) -> Result<Child, String> {
        let mut process = Command::new(&self.program)
            .args(&self.args)
            .current_dir(&self.dir)
            .env("IKD_PLUGIN_NAME", &self.name)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start '{}': {e}", self.program.display()))?;
        let stdout = process.stdout.take().expect("piped");
        let stderr = process.stderr.take().expect("piped");
        let (send, answers) = mpsc::channel();
        std::thread::Builder::new()
            .name(format!("ikd-plugin-{}-out", self.name))
            .spawn(move || read_frames(stdout, send))
            .map_err(|e| format!("cannot start a reader thread: {e}"))?;
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let tail = Arc::clone(&stderr_tail);
        let name = self.name.clone();
        std::thread::Builder::new()
            .name(format!("ikd-plugin-{}-err", self.name))
            .spawn(move || forward_log(&name, stderr, &tail))
            .map_err(|e| format!("cannot start a log thread: {e}"))?;
        Ok(Child {
            stdin: process.stdin.take(),
            process,
            answers,
            stderr_tail,
            next_call: 1,
            remote: HashMap::new(),
        })
    }

    /// Sends one message and waits for its answer, at most the call timeout.
    /// On any failure the child is killed; the caller drops it.
    fn exchange(&self, child: &mut Child, body: Body) -> Result<PluginMessage, Lost> {
        let call = child.next_call;
        child.next_call += 1;
        let message = HostMessage {
            call,
            body: Some(body),
        }
        .encode_to_vec();
        let sent = child.stdin.as_mut().map_or(Ok(()), |stdin| {
            stdin
                .write_all(&(message.len() as u32).to_le_bytes())
                .and_then(|()| stdin.write_all(&message))
                .and_then(|()| stdin.flush())
        });
        if let Err(e) = sent {
            return Err(child.died(&format!("writing to it failed ({e})")));
        }
        match child.answers.recv_timeout(self.timeout) {
            Ok(Ok(frame)) => match PluginMessage::decode(frame.as_slice()) {
                Ok(answer) if answer.call == call => Ok(answer),
                Ok(answer) => Err(child.died(&format!(
                    "it answered call {} when call {call} was due",
                    answer.call
                ))),
                Err(e) => Err(child.died(&format!("its answer is not a PluginMessage ({e})"))),
            },
            Ok(Err(e)) => Err(child.died(&format!("reading its answer failed ({e})"))),
            Err(RecvTimeoutError::Disconnected) => Err(child.died("it closed its stdout")),
            Err(RecvTimeoutError::Timeout) => {
                child.kill();
                tracing::error!(plugin = %self.name, "process plugin did not answer within {:?}; killed", self.timeout);
                Err(Lost::TimedOut(self.timeout))
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock can only come from the host's own code
        // here; the state stays consistent (every field is updated in one step).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for ProcessPlugin {
    /// Closes the child's stdin (its signal to exit), waits briefly, then kills it.
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(mut child) = state.child.take() {
            child.stdin = None;
            let deadline = std::time::Instant::now() + EXIT_GRACE;
            while std::time::Instant::now() < deadline {
                if let Ok(Some(_)) = child.process.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            child.kill();
        }
    }
}

impl Child {
    fn kill(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }

    /// Kills what is left of the child and explains its end: exit status and last log lines.
    fn died(&mut self, what: &str) -> Lost {
        self.stdin = None;
        // The child may still be exiting; give it a moment before reading its status.
        let mut status = None;
        for _ in 0..50 {
            if let Ok(Some(s)) = self.process.try_wait() {
                status = Some(s);
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if status.is_none() {
            self.kill();
        }
        let tail = self
            .stderr_tail
            .lock()
            .map(|t| t.iter().cloned().collect::<Vec<_>>().join(" | "))
            .unwrap_or_default();
        let mut why = format!("the plugin process stopped answering: {what}");
        if let Some(status) = status {
            why.push_str(&format!("; it exited with {status}"));
        }
        if !tail.is_empty() {
            why.push_str(&format!("; its last log lines: {tail}"));
        }
        Lost::Died(why)
    }
}

fn hello() -> Hello {
    Hello {
        abi_major: u32::from(abi::ABI_MAJOR),
        abi_minor: u32::from(abi::ABI_MINOR),
    }
}

/// A program path with a `/` is relative to the plugin's directory; a bare
/// name is looked up on `PATH` (`python3`).
fn resolve_program(program: &str, dir: &Path) -> PathBuf {
    let path = Path::new(program);
    if path.is_relative() && program.contains('/') {
        dir.join(path)
    } else {
        path.to_owned()
    }
}

/// Reads frames from the child's stdout until it closes or breaks the framing.
fn read_frames(mut stdout: impl Read, send: mpsc::Sender<std::io::Result<Vec<u8>>>) {
    loop {
        let mut len = [0u8; 4];
        if stdout.read_exact(&mut len).is_err() {
            return; // closed: the receiver sees the channel disconnect
        }
        let len = u32::from_le_bytes(len) as usize;
        if len > MAX_FRAME {
            let _ = send.send(Err(std::io::Error::other(format!(
                "a frame of {len} bytes (more than {MAX_FRAME})"
            ))));
            return;
        }
        let mut frame = vec![0u8; len];
        let read = stdout.read_exact(&mut frame).map(|()| frame);
        let failed = read.is_err();
        if send.send(read).is_err() || failed {
            return;
        }
    }
}

/// Forwards the child's stderr to `tracing`, one record per line, keeping the last few.
fn forward_log(plugin: &str, stderr: impl Read, tail: &Mutex<VecDeque<String>>) {
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { return };
        tracing::info!(plugin = %plugin, "{line}");
        if let Ok(mut tail) = tail.lock() {
            if tail.len() == STDERR_TAIL {
                tail.pop_front();
            }
            tail.push_back(line);
        }
    }
}
