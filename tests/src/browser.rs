//! A real browser that tests can drive as a person would: Debian's headless
//! Chromium, steered through WebDriver by Debian's `chromedriver` (package
//! `chromium-driver`, always the same version as `chromium`) with the
//! [`fantoccini`] client.
//!
//! [`Browser::start`] runs a private `chromedriver` on a loopback port of its
//! choosing and opens one browser session at a [`Viewport`] ([`DESKTOP`] or
//! [`PHONE`]); dropping the [`Browser`] ends the session and kills the
//! driver. The methods on [`Browser`] are the small vocabulary of page
//! tests (go to, find, click, type, press keys on whatever has focus, read
//! text and attributes, submit, go back, resize); each panics with the
//! selector and the page's URL, so a failing step says where it failed.
//! Everything else of [`fantoccini::Client`] is reachable through `Deref`
//! (e.g. `browser.current_url()`, `browser.source()`, `browser.back()`).
//!
//! Checks that work on any page: [`axe`] (axe-core's serious and critical
//! violations), [`no_horizontal_scroll`] and [`screenshot`].
//!
//! # Keyboard-only use
//!
//! [`Browser::press`] and [`Browser::type_text`] send key strokes through
//! WebDriver's action API to the focused element, without clicking or
//! focusing anything first, so a flow written with them proves the page
//! can be used without a pointer. Element-targeted [`Browser::type_into`]
//! focuses the field first, like a click would.
//!
//! # HTTP status codes
//!
//! WebDriver does not expose the status code or headers of a navigation: a
//! 404 or 500 page renders like any other. Tests check statuses and headers
//! with a plain HTTP request to the same URL: [`http_get`] (no cookies), or
//! [`fantoccini::Client::raw_client_for`], which sends the browser
//! session's cookies along (useful past a login or a consent step). Use the
//! browser for what a person sees, the HTTP request for the status.
//!
//! # Content-Security-Policy
//!
//! The pages under test forbid inline scripts. Scripts sent through
//! WebDriver's Execute Script (what [`axe`] and [`no_horizontal_scroll`]
//! use) are evaluated by Chromium through the DevTools protocol, which a
//! page's CSP does not govern: they run even under `default-src 'none'`,
//! while the page's own inline scripts stay blocked. The harness's self
//! test (`tests/tests/engine/browser_harness.rs`) checks both halves.
//!
//! Missing tools fail the tests (never skip them), naming what to install;
//! `scripts/test` installs all of them.

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's Chromium (package `chromium`).
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's ChromeDriver (package `chromium-driver`).
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long a step may wait for the page: the driver to listen, an element
/// to appear, a navigation to land.
const PATIENCE: Duration = Duration::from_secs(20);

/// The size of the page's layout viewport, in CSS pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Viewport {
    pub width: u32,
    pub height: u32,
}

/// A desktop window.
pub const DESKTOP: Viewport = Viewport {
    width: 1280,
    height: 900,
};
/// A phone held upright (the width of common current phones).
pub const PHONE: Viewport = Viewport {
    width: 390,
    height: 844,
};

/// A path that must exist, or a panic naming the Debian package that brings it.
fn installed(path: &str, package: &str) -> PathBuf {
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "{} is missing: the browser tests need Debian's `{package}` package \
         (apt-get install {package}; scripts/test installs it)",
        path.display()
    );
    path
}

/// A running `chromedriver`, in a process group of its own so that nothing
/// it started outlives it.
struct Driver {
    child: Child,
    /// The loopback port it chose (`--port=0`: no race for a free port
    /// with the other tests' servers).
    port: u16,
    /// Its stdout and stderr: where it says its port, and what it said
    /// when it fails to start.
    log: tempfile::NamedTempFile,
}

impl Driver {
    async fn start() -> Driver {
        let program = installed(CHROMEDRIVER, "chromium-driver");
        let log = tempfile::NamedTempFile::new().expect("a driver log file");
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(&program)
                .arg("--port=0")
                .stdin(Stdio::null())
                .stdout(log.reopen().expect("driver log"))
                .stderr(log.reopen().expect("driver log"))
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("{}: {e}", program.display()))
        };
        let mut driver = Driver {
            child,
            port: 0,
            log,
        };
        driver.port = driver.wait_for_port().await;
        driver
    }

    /// Waits for the line "ChromeDriver was started successfully on port
    /// N.", which it prints once it listens.
    async fn wait_for_port(&mut self) -> u16 {
        const READY: &str = "started successfully on port ";
        let deadline = Instant::now() + PATIENCE;
        loop {
            let log = self.log_text();
            if let Some(port) = log
                .split_once(READY)
                .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|digits| digits.parse().ok())
            {
                return port;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chromedriver exited ({status}):\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start within {PATIENCE:?}:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // SAFETY: killpg only sends a signal; the group is the driver's own
        // (process_group(0) made the child its leader).
        unsafe { libc::killpg(self.child.id() as libc::pid_t, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// The options Chromium runs with: headless, and able to start as root in
/// a container (no sandbox, no reliance on a small `/dev/shm`).
fn capabilities(viewport: Viewport) -> fantoccini::wd::Capabilities {
    let options = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": installed(CHROMIUM, "chromium"),
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--disable-gpu",
                "--no-first-run",
                "--lang=en-US",
                format!("--window-size={},{}", viewport.width, viewport.height),
            ],
        },
    });
    match options {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object"),
    }
}

/// One headless Chromium session with its own `chromedriver`; both end when
/// this is dropped.
pub struct Browser {
    client: Client,
    session: String,
    driver: Driver,
}

impl Deref for Browser {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Browser {
    /// Starts the driver and a browser whose page is `viewport` large.
    pub async fn start(viewport: Viewport) -> Browser {
        let driver = Driver::start().await;
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities(viewport))
            .connect(&driver.url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "no browser session: {e}\nchromedriver's output:\n{}",
                    driver.log_text()
                )
            });
        let session = client
            .session_id()
            .await
            .expect("session id")
            .expect("a W3C session");
        let browser = Browser {
            client,
            session,
            driver,
        };
        browser.resize(viewport).await;
        browser
    }

    /// Makes the page's viewport `viewport` large, so media queries and
    /// [`no_horizontal_scroll`] see exactly that width. Headless Chromium
    /// still reserves room for a window frame (some 140 px of height), so
    /// the window is made larger by what the page measures as its frame,
    /// and the page is given a moment to learn its new size.
    pub async fn resize(&self, viewport: Viewport) {
        let want = json!([viewport.width, viewport.height]);
        let deadline = Instant::now() + PATIENCE;
        loop {
            let frame = self
                .run("return [outerWidth - innerWidth, outerHeight - innerHeight];")
                .await;
            let extra = |i: usize| frame[i].as_u64().and_then(|v| u32::try_from(v).ok());
            let (Some(w), Some(h)) = (extra(0), extra(1)) else {
                panic!("unexpected window frame {frame}");
            };
            self.client
                .set_window_size(viewport.width + w, viewport.height + h)
                .await
                .expect("resize the window");
            let settled = Instant::now() + Duration::from_secs(2);
            while Instant::now() < settled {
                let inner = self.run("return [innerWidth, innerHeight];").await;
                if inner == want {
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "the viewport is {inner}, not {want}, after {PATIENCE:?}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    /// Runs `script` in the page (a function body: `return` gives the value).
    async fn run(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// The current URL, for failure messages.
    async fn here(&self) -> String {
        self.client
            .current_url()
            .await
            .map_or_else(|e| format!("<no URL: {e}>"), |u| u.to_string())
    }

    /// Opens `url` and waits until it has loaded.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The element matching the CSS selector `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!("no element `{css}` on {}: {e}", self.here().await),
        }
    }

    /// Every element matching `css` now (possibly none).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find `{css}`: {e}"))
    }

    /// Clicks the element matching `css` (scrolled into view first, as
    /// WebDriver does; an element covered by another fails the click).
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        if let Err(e) = element.click().await {
            panic!("click `{css}` on {}: {e}", self.here().await);
        }
    }

    /// Empties the field matching `css` and types `text` into it.
    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        let typed = async {
            element.clear().await?;
            element.send_keys(text).await
        };
        if let Err(e) = typed.await {
            panic!("type into `{css}` on {}: {e}", self.here().await);
        }
    }

    /// Presses and releases `key` on whatever has focus (keyboard-only use:
    /// `Key::Tab`, `Key::Space`, `Key::Up`, `Key::Down`, `Key::Enter`, ...).
    pub async fn press(&self, key: Key) {
        self.strokes(&key).await;
    }

    /// Types `text` into whatever has focus, one key stroke per character.
    pub async fn type_text(&self, text: &str) {
        self.strokes(text).await;
    }

    /// Key down and up for each character (WebDriver's key codes included).
    async fn strokes(&self, keys: &str) {
        let actions =
            keys.chars()
                .fold(KeyActions::new("keyboard".to_owned()), |actions, value| {
                    actions
                        .then(KeyAction::Down { value })
                        .then(KeyAction::Up { value })
                });
        if let Err(e) = self.client.perform_actions(actions).await {
            panic!("key strokes {keys:?} on {}: {e}", self.here().await);
        }
    }

    /// An attribute of the focused element (`None` if it has none), to
    /// follow the focus in keyboard-only flows.
    pub async fn focused_attr(&self, name: &str) -> Option<String> {
        let element = self
            .client
            .active_element()
            .await
            .expect("a focused element");
        element.attr(name).await.expect("read an attribute")
    }

    /// The rendered text of the element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("read text")
    }

    /// The attribute `name` of the element matching `css` as written in
    /// the markup (`None` if absent).
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.find(css)
            .await
            .attr(name)
            .await
            .expect("read attribute")
    }

    /// The current value of the form field matching `css` (what was typed
    /// or chosen, unlike the `value` attribute).
    pub async fn value(&self, css: &str) -> String {
        let element = self.find(css).await;
        element
            .prop("value")
            .await
            .expect("read value")
            .unwrap_or_default()
    }

    /// Whether the checkbox, radio button or option matching `css` is on.
    pub async fn is_checked(&self, css: &str) -> bool {
        self.find(css)
            .await
            .is_selected()
            .await
            .expect("read state")
    }

    /// Submits the form matching `css` by clicking its first submit button,
    /// as a person would (so the button's own name and value are sent too).
    pub async fn submit(&self, css: &str) {
        let button = format!(
            "{css} button:not([type]), {css} button[type=submit], {css} input[type=submit]"
        );
        self.click(&button).await;
    }

    /// Waits until the page's path is `path` and returns the whole URL:
    /// a submission or a link may still be navigating when the key stroke
    /// or click returns.
    pub async fn wait_for_path(&self, path: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(url) = self.client.current_url().await {
                if url.path() == path {
                    return url.to_string();
                }
                assert!(
                    Instant::now() < deadline,
                    "still on {url} after {PATIENCE:?}, waiting for {path}"
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Browser {
    /// Ends the session with a plain request to the driver (no runtime is
    /// needed, so this also works while a failed test unwinds), which
    /// closes Chromium; then the driver is killed.
    fn drop(&mut self) {
        let request = format!(
            "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\
             Connection: close\r\n\r\n",
            self.session
        );
        if let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, self.driver.port)) {
            let _ = stream.set_read_timeout(Some(PATIENCE));
            let _ = stream.write_all(request.as_bytes());
            // The driver answers once Chromium has quit, and may keep the
            // connection open after that: the status line is enough.
            let _ = BufReader::new(stream).read_line(&mut String::new());
        }
    }
}

/// An accessibility failure found by axe-core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The rule, e.g. `label` or `color-contrast`.
    pub id: String,
    /// `serious` or `critical` (the lesser impacts are not returned).
    pub impact: String,
    /// What the rule asks for, in a sentence.
    pub help: String,
    /// CSS selectors of the failing elements (` >> ` joins the steps into
    /// iframes and shadow roots).
    pub targets: Vec<String>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {} at {}",
            self.id,
            self.impact,
            self.help,
            self.targets.join(", ")
        )
    }
}

/// axe-core's browser bundle: `$IKD_AXE_CORE`, or `test-node/` in the
/// target directory that holds the running test binary (where
/// `scripts/test` installs it with npm).
pub fn axe_core_path() -> PathBuf {
    const BUNDLE: &str = "test-node/node_modules/axe-core/axe.min.js";
    if let Some(path) = std::env::var_os("IKD_AXE_CORE") {
        return path.into();
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors()
        .map(|dir| dir.join(BUNDLE))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{BUNDLE} not found above {}: the accessibility checks need npm's axe-core \
                 (npm install --prefix \"${{CARGO_TARGET_DIR:-target}}/test-node\" axe-core@4; \
                 scripts/test installs it), or set IKD_AXE_CORE to axe.min.js",
                exe.display()
            )
        })
}

/// Runs axe-core on the current page and returns its serious and critical
/// violations (empty when the page passes). axe-core is injected through
/// WebDriver, so it runs under the page's CSP (see the module's notes) and
/// the page needs no script of its own; it is injected once per document.
pub async fn axe(client: &Client) -> Vec<Violation> {
    let loaded = client
        .execute("return typeof window.axe === 'object';", Vec::new())
        .await
        .expect("check for axe-core");
    if loaded != Value::Bool(true) {
        let bundle = std::fs::read_to_string(axe_core_path()).expect("read axe.min.js");
        client
            .execute(&bundle, Vec::new())
            .await
            .expect("inject axe-core");
    }
    const RUN: &str = "const done = arguments[arguments.length - 1];
        axe.run(document, { resultTypes: ['violations'] })
          .then(r => done({ violations: r.violations }), e => done({ error: String(e) }));";
    let result = client
        .execute_async(RUN, Vec::new())
        .await
        .expect("run axe-core");
    assert!(result.get("error").is_none(), "axe-core failed: {result}");
    result["violations"]
        .as_array()
        .expect("axe-core's violations")
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .map(violation)
        .collect()
}

fn violation(v: &Value) -> Violation {
    let text = |key: &str| v[key].as_str().unwrap_or_default().to_owned();
    let step = |s: &Value| match s {
        Value::Array(parts) => parts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" >> "),
        other => other.as_str().unwrap_or_default().to_owned(),
    };
    let targets = v["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|node| {
            node["target"]
                .as_array()
                .into_iter()
                .flatten()
                .map(step)
                .collect::<Vec<_>>()
                .join(" >> ")
        })
        .collect();
    Violation {
        id: text("id"),
        impact: text("impact"),
        help: text("help"),
        targets,
    }
}

/// `Ok` when the page is no wider than the viewport (nothing to scroll
/// sideways, the usual failure of a layout on a phone); otherwise both
/// widths, in CSS pixels. Desktop Chromium draws classic scrollbars, so on
/// a page taller than the window the usable width is about 15 px less than
/// the viewport's: a little stricter than a phone's overlay scrollbars.
pub async fn no_horizontal_scroll(client: &Client) -> Result<(), String> {
    let widths = client
        .execute(
            "const e = document.documentElement; return [e.scrollWidth, e.clientWidth];",
            Vec::new(),
        )
        .await
        .expect("measure the page");
    let (scroll, visible) = (widths[0].as_u64(), widths[1].as_u64());
    match (scroll, visible) {
        (Some(s), Some(c)) if s <= c => Ok(()),
        (Some(s), Some(c)) => Err(format!(
            "the page is {s} px wide in a {c} px viewport (scrolls sideways)"
        )),
        _ => panic!("unexpected page widths {widths}"),
    }
}

/// Saves what the viewport shows as a PNG at `path` (parent directories
/// are created). Only the visible part is taken: to see below the fold,
/// scroll or make the window taller first.
pub async fn screenshot(client: &Client, path: &Path) {
    let png = client.screenshot().await.expect("take a screenshot");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("screenshot directory");
    }
    std::fs::write(path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// A plain HTTP GET of an `http://host:port/path` URL, for what WebDriver
/// cannot see: the status code and the headers (see the module's notes).
pub fn http_get(url: &str) -> crate::http::Response {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("{url}: only http:// URLs"));
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let addr = host
        .parse()
        .unwrap_or_else(|e| panic!("{url}: the host must be an IP address and port: {e}"));
    crate::http::get(addr, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "apt-get install chromium-driver")]
    fn a_missing_driver_names_its_package() {
        installed("/nonexistent/chromedriver", "chromium-driver");
    }

    #[test]
    fn violations_keep_rule_impact_and_targets() {
        let v = violation(&json!({
            "id": "label", "impact": "critical", "help": "Form elements must have labels",
            "nodes": [{"target": ["#a"]}, {"target": [["#host", "input"]]}],
        }));
        assert_eq!(v.id, "label");
        assert_eq!(v.targets, ["#a", "#host >> input"]);
    }
}
