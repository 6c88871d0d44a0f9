//! `ikd bench web`: respondents taking the instrument in the web app, as
//! browsers would, against a real `ikd serve` in a separate process.
//!
//! It starts `ikd serve` (this executable) on loopback ports with a
//! throw-away token and data directory (or `--database-url`), makes one
//! invitation per respondent, and runs every respondent at once: open the
//! link, each page (read it, post it), the review, the submit, the report.
//! With `--kill-after-pages K` the server is killed with SIGKILL once K page
//! saves were acknowledged and started again on the same store; respondents
//! retry what failed, and before anyone submits, every acknowledged page is
//! read back and compared with what was posted. Figures go to stdout as JSON.

use crate::commands::bench::simulated_requests;
use crate::common::{PluginArgs, instrument_path, load_instrument};
use anyhow::{Context, Result, bail};
use ikd_core::pipeline::{Scorer, ScorerOptions};
use ikd_proto::v1 as api;
use ikd_proto::v1::admin_service_client::AdminServiceClient;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Mutex, RwLock};

#[derive(clap::Args)]
pub struct Args {
    /// Instrument file or bundled instrument id.
    #[arg(long, default_value = "ikd-asn-2025", value_name = "PATH|ID")]
    instrument: String,
    /// Store of the server (default: SQLite in a temporary directory).
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Respondents, all at once.
    #[arg(long, default_value_t = 1000)]
    respondents: usize,
    /// Kill the server (SIGKILL) after this many acknowledged page saves, and restart it.
    #[arg(long, value_name = "K")]
    kill_after_pages: Option<usize>,
}

/// A running `ikd serve` and its two addresses.
struct Served {
    child: Child,
    grpc: SocketAddr,
    web: SocketAddr,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(args: &Args, data: &std::path::Path, token: &str) -> Result<Served> {
    let mut command = Command::new(std::env::current_exe()?);
    command
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--web-addr",
            "127.0.0.1:0",
            "--metrics-addr",
            "off",
        ])
        .arg("--data-dir")
        .arg(data)
        .arg("--instrument")
        .arg(instrument_path(&args.instrument)?)
        .env(
            "IKD_TOKENS",
            serde_json::json!([{ "name": "bench", "roles": ["admin"], "token": token }])
                .to_string(),
        )
        .env("IKD_MAX_CONCURRENT_REQUESTS", "8192")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(url) = &args.database_url {
        command.arg("--database-url").arg(url);
    }
    let mut child = command.spawn().context("starting ikd serve")?;
    let stdout = child.stdout.take().expect("piped");
    let (mut grpc, mut web) = (None, None);
    let mut lines = BufReader::new(stdout).lines();
    while web.is_none() {
        let Some(Ok(line)) = lines.next() else {
            bail!("ikd serve stopped before it listened");
        };
        if let Some(a) = line.strip_prefix("ikd serve: listening on ") {
            grpc = Some(a.trim().parse()?);
        } else if let Some(a) = line.strip_prefix("ikd serve: web app on http://") {
            web = Some(a.trim().trim_end_matches('/').parse()?);
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    Ok(Served {
        child,
        grpc: grpc.context("no gRPC address printed")?,
        web: web.expect("set above"),
    })
}

pub fn run(plugins: &PluginArgs, args: Args) -> Result<ExitCode> {
    let host = plugins.host()?;
    let instrument = load_instrument(&args.instrument)?;
    let scorer = Arc::new(Scorer::new(instrument, &host, &ScorerOptions::default())?);
    let answers = simulated_requests(&scorer, args.respondents as u64)?;
    let data = tempfile::tempdir()?;
    let token = format!("bench-web-{}", std::process::id()).repeat(2);
    let served = start_server(&args, data.path(), &token)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let links = invite(&served, &token, &scorer, answers.len()).await?;
        let web = Arc::new(RwLock::new(served));
        let bench = Arc::new(Bench {
            scorer,
            steps: Mutex::new(BTreeMap::new()),
            errors: AtomicUsize::new(0),
            acknowledged_pages: AtomicUsize::new(0),
        });
        let posted: Arc<Mutex<Vec<Posted>>> = Arc::default();
        let started = Instant::now();
        let killer = args.kill_after_pages.map(|k| {
            let (web, bench) = (web.clone(), bench.clone());
            let (args_db, data_dir, token) = (
                args.database_url.clone(),
                data.path().to_owned(),
                token.clone(),
            );
            let instrument = args.instrument.clone();
            tokio::spawn(async move {
                while bench.acknowledged_pages.load(Ordering::SeqCst) < k {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                let mut served = web.write().await;
                served.child.kill().ok();
                served.child.wait().ok();
                let again = Args {
                    instrument,
                    database_url: args_db,
                    respondents: 0,
                    kill_after_pages: None,
                };
                *served = start_server(&again, &data_dir, &token).expect("restart");
                eprintln!("bench web: killed the server after {k} acknowledged pages; restarted");
            })
        });
        let mut tasks = Vec::new();
        for (link, request) in links.into_iter().zip(answers) {
            let (web, bench, posted) = (web.clone(), bench.clone(), posted.clone());
            tasks.push(tokio::spawn(async move {
                bench.respondent(&web, &link, &request, &posted).await
            }));
        }
        let mut links_done = Vec::new();
        for t in tasks {
            links_done.push(t.await?);
        }
        if let Some(k) = killer {
            k.await?;
        }
        let answering = started.elapsed();
        // Every acknowledged page is stored: read each back before submitting.
        let mut lost = 0usize;
        for (link, part, fields) in posted.lock().await.iter() {
            let page = bench
                .get(&web, &format!("{link}/page/{part}"), "check")
                .await;
            if !fields.iter().all(|(n, v)| shows(&page, n, v)) {
                lost += 1;
            }
        }
        let mut submits = Vec::new();
        for link in links_done.into_iter().flatten() {
            let (web, bench) = (web.clone(), bench.clone());
            submits.push(tokio::spawn(async move { bench.finish(&web, &link).await }));
        }
        for s in submits {
            s.await?;
        }
        let total = started.elapsed();
        let steps = bench.steps.lock().await;
        let mut report = serde_json::Map::new();
        let mut pages = 0usize;
        for (name, latencies) in steps.iter() {
            pages += latencies.len();
            report.insert(name.to_string(), summary(latencies));
        }
        report.insert("respondents".into(), serde_json::json!(args.respondents));
        report.insert("requests".into(), serde_json::json!(pages));
        report.insert(
            "requests_per_second".into(),
            serde_json::json!(pages as f64 / total.as_secs_f64()),
        );
        report.insert(
            "answering_seconds".into(),
            serde_json::json!(answering.as_secs_f64()),
        );
        report.insert(
            "total_seconds".into(),
            serde_json::json!(total.as_secs_f64()),
        );
        report.insert(
            "errors_retried".into(),
            serde_json::json!(bench.errors.load(Ordering::SeqCst)),
        );
        report.insert("acknowledged_pages_lost".into(), serde_json::json!(lost));
        report.insert(
            "killed_after_pages".into(),
            serde_json::json!(args.kill_after_pages),
        );
        report.insert(
            "database".into(),
            serde_json::json!(
                args.database_url
                    .as_deref()
                    .map_or("sqlite", |u| u.split(':').next().unwrap_or(""))
            ),
        );
        println!("{}", serde_json::to_string_pretty(&report)?);
        Ok(if lost == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    })
}

/// Whether `page` shows the posted field again: a checked radio button or
/// checkbox, a text field holding the value, or a position menu with the
/// position selected.
fn shows(page: &str, name: &str, value: &str) -> bool {
    let (name, value) = (html_escape(name), html_escape(value));
    if name.starts_with("o:") {
        let Some(at) = page.find(&format!("name=\"{name}\"")) else {
            return false;
        };
        let menu = &page[at..];
        let menu = &menu[..menu.find("</select>").unwrap_or(menu.len())];
        return menu.contains(&format!("value=\"{value}\" selected"));
    }
    page.contains(&format!("name=\"{name}\" value=\"{value}\" checked"))
        || page.contains(&format!("name=\"{name}\" value=\"{value}\" size="))
}

/// minijinja's escaping of what the bench compares (`/` included).
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('/', "&#x2f;")
        .replace('\'', "&#x27;")
}

async fn invite(served: &Served, token: &str, scorer: &Scorer, n: usize) -> Result<Vec<String>> {
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", served.grpc))?
        .connect()
        .await?;
    let mut admin = AdminServiceClient::new(channel);
    let instrument = scorer.instrument();
    let mut links = Vec::with_capacity(n);
    let ids: Vec<String> = (0..n).map(|k| format!("bench-{k:07}")).collect();
    for chunk in ids.chunks(5000) {
        let mut request = tonic::Request::new(api::CreateInvitationsRequest {
            instrument: Some(api::InstrumentRef {
                id: instrument.id.clone(),
                version: instrument.version.to_string(),
            }),
            org_unit: "99.99/bench".into(),
            respondent_ids: chunk.to_vec(),
            expires_at: None,
        });
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse()?);
        links.extend(
            admin
                .create_invitations(request)
                .await?
                .into_inner()
                .invitations
                .into_iter()
                .map(|i| i.path),
        );
    }
    Ok(links)
}

/// An acknowledged page save: the link, the page and the answer fields posted.
type Posted = (String, usize, Vec<(String, String)>);

struct Bench {
    scorer: Arc<Scorer>,
    steps: Mutex<BTreeMap<&'static str, Vec<Duration>>>,
    errors: AtomicUsize,
    acknowledged_pages: AtomicUsize,
}

impl Bench {
    /// One respondent up to (not including) the submit; the link to finish.
    async fn respondent(
        &self,
        web: &RwLock<Served>,
        link: &str,
        request: &api::ScoreRequest,
        posted: &Mutex<Vec<Posted>>,
    ) -> Option<String> {
        self.get(web, link, "open").await;
        let instrument = self.scorer.instrument();
        for (part, domain) in instrument.domains.iter().enumerate() {
            let part = part + 1;
            let page = self
                .get(web, &format!("{link}/page/{part}"), "page_get")
                .await;
            let csrf = csrf(&page)?;
            let mut fields = vec![
                ("csrf".to_owned(), csrf),
                ("go".to_owned(), "next".to_owned()),
            ];
            let mut answer_fields = Vec::new();
            for (k, item) in instrument
                .items
                .iter()
                .enumerate()
                .filter(|(_, i)| i.domain == domain.code)
            {
                let cell = request
                    .answers
                    .iter()
                    .find(|a| a.item_id == item.id)
                    .map_or("", |a| a.value.as_str());
                if let Some(shown) = self.scorer.presentation(k) {
                    answer_fields.extend(ikd_server::web::form_fields(shown, cell));
                }
            }
            fields.extend(answer_fields.iter().cloned());
            let body = form_body(&fields);
            let path = format!("{link}/page/{part}");
            loop {
                let (status, _) = self
                    .request(web, "POST", &path, body.as_bytes(), "page_post")
                    .await;
                if status == 303 {
                    break;
                }
                if status != 0 && status != 503 {
                    // Refused for good (e.g. a kind's message): count and move on.
                    self.errors.fetch_add(1, Ordering::SeqCst);
                    break;
                }
            }
            self.acknowledged_pages.fetch_add(1, Ordering::SeqCst);
            posted
                .lock()
                .await
                .push((link.to_owned(), part, answer_fields));
        }
        self.get(web, &format!("{link}/review"), "review").await;
        Some(link.to_owned())
    }

    async fn finish(&self, web: &RwLock<Served>, link: &str) {
        let review = self.get(web, &format!("{link}/review"), "review").await;
        let Some(csrf) = csrf(&review) else { return };
        let body = form_body(&[("csrf".into(), csrf), ("confirm".into(), "yes".into())]);
        loop {
            let (status, _) = self
                .request(
                    web,
                    "POST",
                    &format!("{link}/submit"),
                    body.as_bytes(),
                    "submit",
                )
                .await;
            if status == 303 || status == 409 {
                break;
            }
        }
        self.get(web, link, "report").await;
    }

    /// GETs until the server answers (it may be restarting).
    async fn get(&self, web: &RwLock<Served>, path: &str, step: &'static str) -> String {
        loop {
            let (status, body) = self.request(web, "GET", path, b"", step).await;
            if status != 0 && status < 500 {
                return body;
            }
        }
    }

    /// One request on a fresh connection; status 0 when it failed on the
    /// way (the failure is counted, the caller retries).
    async fn request(
        &self,
        web: &RwLock<Served>,
        method: &str,
        path: &str,
        body: &[u8],
        step: &'static str,
    ) -> (u16, String) {
        let addr = web.read().await.web;
        let at = Instant::now();
        match http(addr, method, path, body).await {
            Ok((status, text)) if status < 500 => {
                self.steps
                    .lock()
                    .await
                    .entry(step)
                    .or_default()
                    .push(at.elapsed());
                (status, text)
            }
            Ok((status, text)) => {
                self.errors.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                (status, text)
            }
            Err(_) => {
                self.errors.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                (0, String::new())
            }
        }
    }
}

fn csrf(page: &str) -> Option<String> {
    let at = page.find("name=\"csrf\" value=\"")? + 19;
    page.get(at..at + 64).map(str::to_owned)
}

fn form_body(fields: &[(String, String)]) -> String {
    let encode = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// One HTTP/1.1 request, `Connection: close`, the whole answer read.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    let mut stream = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::net::TcpStream::connect(addr),
    )
    .await??;
    stream.set_nodelay(true)?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut raw)).await??;
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    Ok((status, body))
}

fn summary(latencies: &[Duration]) -> serde_json::Value {
    let mut sorted = latencies.to_vec();
    sorted.sort();
    let q = |q: f64| {
        sorted
            .get(((sorted.len() as f64 - 1.0) * q).round() as usize)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    serde_json::json!({ "count": sorted.len(), "p50_ms": q(0.5), "p99_ms": q(0.99) })
}
