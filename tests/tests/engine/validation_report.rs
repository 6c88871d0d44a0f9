//! `ikd validation-report` end to end: the real `ikd` binary on simulated
//! answers of the bundled instrument (3000 respondents in three regions,
//! with DIF planted in two items for one region), its JSON checked against
//! facts computed here independently (group counts from the file, the CFA's
//! degrees of freedom from the instrument's structure, every p in [0, 1],
//! the planted items flagged and few others), a small sample whose parts
//! say why they are withheld, and the page in headless Chromium at a phone's
//! and a desktop's width in both languages, checked by axe-core.
//!
//! Chromium (Debian's `chromium`) and axe-core (npm's `axe-core`, under
//! `target/test-node`, see [`axe_core`]) are required: without them these
//! tests fail, saying what to install.

use ikd_core::instrument::{Instrument, load};
use ikd_tests::{ikd_binary, workspace};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
/// The region whose answers to two items are changed.
const FOCAL: &str = "64.72";
/// A 0/1 item (keyed single choice) made harder for [`FOCAL`]: Mantel–Haenszel.
const DIF_BINARY: &str = "LD04";
/// A Likert item shifted down for [`FOCAL`]: ordinal logistic regression.
const DIF_LIKERT: &str = "BD01";
const RESPONDENTS: usize = 3000;

fn ikd(args: &[&str]) -> Output {
    Command::new(ikd_binary())
        .args(args)
        .env_remove("IKD_PLUGIN_PATH")
        .env_remove("IKD_PLUGIN_LOCK")
        .output()
        .expect("ikd runs")
}

fn ok(out: Output, what: &str) -> Output {
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn instrument() -> Instrument {
    load(&workspace().join("instruments/ikd-asn-2025/instrument.toml")).expect("bundled instrument")
}

/// axe-core's browser bundle: `$IKD_AXE_CORE`, or `target/test-node`
/// (`npm install --prefix target/test-node axe-core@4`, as `scripts/test` does).
fn axe_core() -> String {
    let path = std::env::var_os("IKD_AXE_CORE").map_or_else(
        || {
            Path::new(env!("CARGO_TARGET_TMPDIR"))
                .parent()
                .expect("target dir")
                .join("test-node/node_modules/axe-core/axe.min.js")
        },
        PathBuf::from,
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: the accessibility checks need axe-core \
             (npm install --prefix target/test-node axe-core@4; scripts/test installs it)",
            path.display()
        )
    })
}

/// Answers, reports and their JSON, shared by the tests of this file.
struct Data {
    dir: PathBuf,
    answers: PathBuf,
    /// Respondents per region, counted from the answers file.
    regions: BTreeMap<String, usize>,
    json: Value,
    pages: BTreeMap<&'static str, PathBuf>,
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("validation_report");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("test directory");
        let simulated = dir.join("simulated.csv");
        ok(
            ikd(&[
                "simulate",
                "--instrument",
                "ikd-asn-2025",
                "-n",
                &RESPONDENTS.to_string(),
                "--seed",
                "7",
                "--out",
                p(&simulated),
            ]),
            "ikd simulate",
        );
        let instrument = instrument();
        let key = &instrument
            .items
            .iter()
            .find(|i| i.id == DIF_BINARY)
            .expect("the binary DIF item")
            .key;
        assert_eq!(key.len(), 1, "{DIF_BINARY} has one keyed option");
        let likert = instrument
            .items
            .iter()
            .find(|i| i.id == DIF_LIKERT)
            .expect("the Likert DIF item");
        assert!(likert.kind == "likert" && !likert.reverse);
        let wrong = instrument
            .items
            .iter()
            .find(|i| i.id == DIF_BINARY)
            .unwrap()
            .options
            .iter()
            .find(|o| !key.contains(&o.code) && !o.dont_know)
            .expect("a wrong option")
            .code
            .clone();
        // Plant DIF in the focal region: two of three right answers to the
        // binary item become wrong, and the Likert item loses one point.
        let mut reader = csv::Reader::from_path(&simulated).expect("answers");
        let headers = reader.headers().expect("header").clone();
        let column = |id: &str| headers.iter().position(|h| h == id).expect("a column");
        let (binary, likert) = (column(DIF_BINARY), column(DIF_LIKERT));
        let answers = dir.join("answers.csv");
        let mut writer = csv::Writer::from_path(&answers).expect("write answers");
        writer.write_record(&headers).unwrap();
        let mut regions: BTreeMap<String, usize> = BTreeMap::new();
        for (r, record) in reader.records().enumerate() {
            let mut cells: Vec<String> = record.unwrap().iter().map(str::to_owned).collect();
            let region = cells[1].split('/').next().unwrap().to_owned();
            if region == FOCAL {
                if key.contains(&cells[binary]) && r % 3 != 0 {
                    cells[binary].clone_from(&wrong);
                }
                if let Ok(v) = cells[likert].parse::<u32>() {
                    cells[likert] = v.saturating_sub(1).max(1).to_string();
                }
            }
            *regions.entry(region).or_default() += 1;
            writer.write_record(&cells).unwrap();
        }
        writer.flush().unwrap();
        let mut pages = BTreeMap::new();
        let json = dir.join("report.json");
        for lang in ["en", "id"] {
            let page = dir.join(format!("report-{lang}.html"));
            let mut args = vec![
                "validation-report",
                "--instrument",
                "ikd-asn-2025",
                p(&answers),
                "--groups",
                "prefix:2",
                "--reference",
                "36.72",
                "--lang",
                lang,
                "--out",
                p(&page),
            ];
            if lang == "en" {
                args.extend(["--json", p(&json)]);
            }
            ok(ikd(&args), "ikd validation-report");
            pages.insert(lang, page);
        }
        let json: Value =
            serde_json::from_str(&std::fs::read_to_string(&json).expect("JSON")).expect("JSON");
        Data {
            dir,
            answers,
            regions,
            json,
            pages,
        }
    })
}

/// Every number under a key `p_value` or `p_adjusted` (or `p`), with its path.
fn p_values(v: &Value, path: &str, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                let at = format!("{path}.{k}");
                if matches!(k.as_str(), "p_value" | "p_adjusted" | "p") && !x.is_object() {
                    out.push((at.clone(), x.clone()));
                }
                p_values(x, &at, out);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                p_values(x, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn reasons_of<'a>(json: &'a Value, item: &str) -> Vec<&'a Value> {
    json["review"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["item"] == item)
        .flat_map(|r| r["reasons"].as_array().unwrap())
        .collect()
}

#[test]
fn the_json_agrees_with_independent_facts() {
    let data = data();
    let json = &data.json;
    let instrument = instrument();
    // The sample: respondents and groups counted from the file.
    assert_eq!(json["sample"]["respondents"], RESPONDENTS);
    let groups: BTreeMap<String, usize> = json["sample"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["name"].as_str().unwrap().to_owned(),
                g["respondents"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    assert_eq!(groups, data.regions, "groups by org unit prefix:2");
    assert_eq!(groups.len(), 3);
    assert_eq!(json["sample"]["ungrouped"], 0);
    let items = json["sample"]["items"].as_array().unwrap();
    assert_eq!(items.len(), instrument.items.len());
    for item in items {
        let rate = item["missing_rate"].as_f64().unwrap();
        let answered = item["answered"].as_f64().unwrap();
        assert!((rate - (1.0 - answered / RESPONDENTS as f64)).abs() < 1e-12);
    }

    // The CFA's degrees of freedom, by hand from the instrument's structure:
    // p(p+1)/2 moments less a loading and a residual variance per item and
    // a correlation per pair of domains.
    let p = instrument.items.len() as i64;
    let m = instrument.domains.len() as i64;
    let moments = p * (p + 1) / 2;
    let structure = &json["dimensionality"]["structure"]["computed"];
    let one = &json["dimensionality"]["one_factor"]["computed"];
    assert_eq!(structure["df"], moments - 2 * p - m * (m - 1) / 2);
    assert_eq!(one["df"], moments - 2 * p);
    assert_eq!(structure["df"], 1700, "60 items in 5 domains");
    assert_eq!(structure["factors"].as_array().unwrap().len(), 5);
    assert_eq!(
        structure["loadings"].as_array().unwrap().len(),
        instrument.items.len()
    );
    // Simulated domains are distinct traits: the structure fits better.
    assert!(structure["cfi"].as_f64() > one["cfi"].as_f64());
    assert!(structure["rmsea"].as_f64() < one["rmsea"].as_f64());
    let n_cfa = json["dimensionality"]["complete_cases"].as_u64().unwrap();
    assert_eq!(structure["n"].as_u64(), Some(n_cfa));
    assert_eq!(json["sample"]["complete_cases"].as_u64(), Some(n_cfa));
    for row in structure["factor_correlations"].as_array().unwrap() {
        for r in row.as_array().unwrap() {
            assert!(r.as_f64().unwrap().abs() <= 1.0 + 1e-9);
        }
    }

    // Reliability: α and ω of every domain and of the index in (0, 1).
    for d in json["reliability"]["domains"].as_array().unwrap() {
        for key in ["alpha", "omega"] {
            let x = d[key].as_f64().unwrap();
            assert!(x > 0.5 && x < 1.0, "{} {key} {x}", d["domain"]);
        }
        let ci = &d["alpha_interval"];
        assert!(ci["lower"].as_f64() < d["alpha"].as_f64());
        assert!(ci["upper"].as_f64() > d["alpha"].as_f64());
    }
    for key in ["stratified_alpha", "omega_total"] {
        let x = json["reliability"][key]["computed"].as_f64().unwrap();
        assert!(x > 0.8 && x < 1.0, "{key} {x}");
    }

    // Every p is a probability.
    let mut ps = Vec::new();
    p_values(json, "", &mut ps);
    assert!(ps.len() > 100, "{} p-values", ps.len());
    for (at, v) in &ps {
        if let Some(x) = v.as_f64() {
            assert!((0.0..=1.0).contains(&x), "{at} = {x}");
        } else {
            assert!(v.is_null(), "{at} = {v}");
        }
    }

    // DIF: reference = the largest region, the planted items flagged for the
    // focal region, by the method their scores call for, and few others.
    let dif = &json["dif"]["computed"];
    assert_eq!(dif["reference"], "36.72");
    assert_eq!(dif["focal"], serde_json::json!(["34.03", FOCAL]));
    let binary = reasons_of(json, DIF_BINARY);
    assert!(
        binary.iter().any(|r| r["code"] == "dif_mh"
            && r["group"] == FOCAL
            && r["class"] == "C"
            && r["value"].as_f64() < Some(0.0)),
        "{DIF_BINARY}: {binary:?}"
    );
    let likert = reasons_of(json, DIF_LIKERT);
    assert!(
        likert.iter().any(|r| r["code"] == "dif_logistic"),
        "{DIF_LIKERT}: {likert:?}"
    );
    let flagged: Vec<&str> = dif["domains"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["items"].as_array().unwrap())
        .filter(|i| i["flagged"] == true)
        .map(|i| i["item"].as_str().unwrap())
        .collect();
    assert!(flagged.contains(&DIF_BINARY) && flagged.contains(&DIF_LIKERT));
    assert!(
        flagged.len() <= 4,
        "DIF flags without planted DIF: {flagged:?}"
    );
    for d in dif["domains"].as_array().unwrap() {
        for i in d["items"].as_array().unwrap() {
            let binary =
                items.iter().find(|s| s["id"] == i["item"]).unwrap()["dichotomous"] == true;
            let method = if binary {
                "mantel_haenszel"
            } else {
                "logistic"
            };
            assert_eq!(i["method"], method, "{}", i["item"]);
        }
    }

    // Item fit: one calibration per domain, S-X² for each item; the SE
    // curve is 1/√I and the precise ranges lie where the SE is within the bound.
    let fit = &json["item_fit"]["computed"];
    let domains = fit["domains"].as_array().unwrap();
    assert_eq!(domains.len(), instrument.domains.len());
    let bound = json["se_bound"].as_f64().unwrap();
    assert_eq!(bound, 0.4);
    for d in domains {
        let sx2 = d["items"]["computed"].as_array().unwrap();
        let count = instrument
            .items
            .iter()
            .filter(|i| d["domain"] == i.domain.as_str())
            .count();
        assert_eq!(sx2.len(), count);
        assert!(d["m2"]["computed"]["df"].as_u64() > Some(0));
        let info = &d["information"];
        let theta: Vec<f64> = serde_json::from_value(info["theta"].clone()).unwrap();
        let test: Vec<f64> = serde_json::from_value(info["test"].clone()).unwrap();
        let se: Vec<f64> = serde_json::from_value(info["se"].clone()).unwrap();
        assert_eq!(theta.len(), 81);
        for ((t, i), s) in theta.iter().zip(&test).zip(&se) {
            assert!((s - 1.0 / i.sqrt()).abs() < 1e-12);
            let inside = info["precise"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r[0].as_f64().unwrap() <= *t && *t <= r[1].as_f64().unwrap());
            if (s - bound).abs() > 1e-6 {
                assert_eq!(inside, *s < bound, "θ {t}: SE {s}");
            }
        }
    }
}

#[test]
fn a_small_sample_says_why_parts_are_withheld() {
    let data = data();
    // The first 60 respondents: too few for the CFA, a calibration and DIF.
    let text = std::fs::read_to_string(&data.answers).unwrap();
    let small = data.dir.join("small.csv");
    std::fs::write(
        &small,
        text.lines().take(61).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    let (page, json) = (data.dir.join("small.html"), data.dir.join("small.json"));
    ok(
        ikd(&[
            "validation-report",
            "--instrument",
            "ikd-asn-2025",
            p(&small),
            "--groups",
            "prefix:2",
            "--out",
            p(&page),
            "--json",
            p(&json),
        ]),
        "ikd validation-report (small)",
    );
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(json["sample"]["respondents"], 60);
    // The default reference: the largest group (the first by name on a tie).
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for line in text.lines().skip(1).take(60) {
        let unit = line.split(',').nth(1).unwrap();
        *counts
            .entry(unit.split('/').next().unwrap().to_owned())
            .or_default() += 1;
    }
    let most = counts.values().max().unwrap();
    let largest = counts.iter().find(|(_, n)| *n == most).unwrap().0;
    assert_eq!(json["dif"]["computed"]["reference"], largest.as_str());
    let withheld = &json["dimensionality"]["structure"]["withheld"];
    assert_eq!(withheld["code"], "too_few_respondents", "{withheld}");
    assert_eq!(withheld["need"], 650, "5 per parameter: 5·(2·60 + 10)");
    assert_eq!(json["item_fit"]["withheld"]["code"], "too_few_respondents");
    assert_eq!(json["item_fit"]["withheld"]["need"], 200);
    // DIF runs, but every item says its groups are below the minimum.
    for d in json["dif"]["computed"]["domains"].as_array().unwrap() {
        for i in d["items"].as_array().unwrap() {
            let reason = if i["method"] == "logistic" {
                &i["logistic"]["withheld"]
            } else {
                &i["comparisons"][0]["result"]["withheld"]
            };
            assert_eq!(reason["code"], "group_too_small", "{i}");
            assert_eq!(reason["need"], 100);
        }
    }
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("Tidak dilaporkan"),
        "the reason is on the page"
    );
    assert!(html.contains("responden; diperlukan 200"));
    // Without groups, DIF says so.
    ok(
        ikd(&[
            "validation-report",
            "--instrument",
            "ikd-asn-2025",
            p(&small),
            "--lang",
            "en",
            "--out",
            p(&page),
            "--json",
            p(&data.dir.join("small-nogroups.json")),
        ]),
        "ikd validation-report (no groups)",
    );
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(data.dir.join("small-nogroups.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["dif"]["withheld"]["code"], "no_groups");
    assert!(
        std::fs::read_to_string(&page)
            .unwrap()
            .contains("Not reported: no groups (--groups)")
    );
    // A reference group nobody is in is refused, naming the groups.
    let out = ikd(&[
        "validation-report",
        "--instrument",
        "ikd-asn-2025",
        p(&small),
        "--groups",
        "prefix:2",
        "--reference",
        "99.99",
        "--out",
        p(&page),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("'99.99'") && err.contains("36.72"), "{err}");
}

/// Runs Chromium headless with a fresh profile; fails after 90 s. Returns
/// its stdout (kept in a file: a dumped DOM with axe-core inside is larger
/// than a pipe's buffer).
fn run_chromium(args: &[&str]) -> String {
    assert!(
        Path::new(CHROMIUM).is_file(),
        "{CHROMIUM} is missing: install Debian's `chromium` package (scripts/test does)"
    );
    let profile = tempfile::tempdir().expect("profile dir");
    let stdout = profile.path().join("stdout");
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--allow-file-access-from-files",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .stdout(std::fs::File::create(&stdout).expect("stdout file"))
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().expect("chromium status") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium {args:?} did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "chromium {args:?} failed");
    std::fs::read_to_string(&stdout).expect("chromium's output")
}

/// A page that shows `page` in a frame `width` px wide: headless Chromium
/// keeps its window at least 500 px wide, so a phone's width is a frame's.
fn frame(page: &Path, width: u32, height: u32) -> PathBuf {
    let harness = page.with_extension(format!("frame-{width}.html"));
    let name = page.file_name().unwrap().to_str().unwrap();
    std::fs::write(
        &harness,
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>frame</title>\
             <style>body {{ margin: 0; background: #fff; }} iframe {{ border: 0; display: block; }}</style></head>\
             <body><iframe title=\"report\" src=\"{name}\" width=\"{width}\" height=\"{height}\"></iframe>\
             <script>window.addEventListener('message', function (e) {{ var pre = document.createElement('pre'); \
             pre.id = 'checks'; pre.textContent = e.data; document.body.appendChild(pre); }});</script></body></html>"
        ),
    )
    .unwrap();
    harness
}

/// Appended to a copy of the page after axe-core: runs it and posts the
/// violations, the page's width and its network fetches to the frame's
/// parent, which writes them into `<pre id="checks">`.
const CHECK: &str = r#"<script>
axe.run(document, { resultTypes: ['violations'] }).then(function (r) {
  var out = {
    violations: r.violations.map(function (v) {
      return { id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 5).map(function (n) { return n.target.join(' ') + ': ' + n.failureSummary; }) };
    }),
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    resources: performance.getEntriesByType('resource').map(function (e) { return e.name; }),
    curves: document.querySelectorAll('svg.info').length,
    flaggedRows: Array.prototype.map.call(document.querySelectorAll('#review-table tr.flagged'), function (tr) { return tr.dataset.item; })
  };
  parent.postMessage(JSON.stringify(out), '*');
}, function (e) {
  parent.postMessage(JSON.stringify({ error: String(e) }), '*');
});
</script>"#;

/// The page at `width` px in Chromium: axe-core finds no violation, nothing
/// overflows, nothing is fetched; returns the findings.
fn check_in_browser(page: &Path, width: u32) -> Value {
    let html = std::fs::read_to_string(page).expect("page");
    assert!(!html.contains("<script"), "the page needs no script");
    let copy = page.with_extension(format!("axe-{width}.html"));
    std::fs::write(
        &copy,
        html.replacen(
            "</body>",
            &format!("<script>{}</script>{CHECK}</body>", axe_core()),
            1,
        ),
    )
    .unwrap();
    let dom = run_chromium(&[
        "--window-size=1400,1200",
        "--virtual-time-budget=60000",
        "--dump-dom",
        &format!("file://{}", frame(&copy, width, 1200).display()),
    ]);
    let start = dom.find("<pre id=\"checks\">").expect("the checks ran") + 17;
    let end = start + dom[start..].find("</pre>").expect("end of checks");
    let json = dom[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    let checks: Value = serde_json::from_str(&json).expect("checks are JSON");
    assert!(checks.get("error").is_none(), "axe failed: {checks}");
    assert_eq!(
        checks["violations"],
        Value::Array(Vec::new()),
        "axe-core violations in {} at {width}px",
        page.display()
    );
    assert_eq!(checks["resources"], Value::Array(Vec::new()), "fetches");
    assert!(
        checks["scrollWidth"].as_f64() <= checks["innerWidth"].as_f64(),
        "{} overflows a {width}px window: {}",
        page.display(),
        checks["scrollWidth"]
    );
    checks
}

/// A screenshot of the page's first `height` px at `width` (in a frame, so
/// the image is at least 500 px wide), kept under
/// `target/tmp/validation_report/` (docs/img holds copies).
fn screenshot(page: &Path, name: &str, width: u32, height: u32) {
    let png = page.with_file_name(name);
    run_chromium(&[
        &format!("--window-size={},{height}", width.max(500)),
        &format!("--screenshot={}", png.display()),
        &format!("file://{}", frame(page, width, height).display()),
    ]);
    let bytes = std::fs::read(&png).expect("a screenshot");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(bytes.len() > 40_000, "screenshot of {} bytes", bytes.len());
}

#[test]
fn the_page_in_the_browser_in_both_languages() {
    let data = data();
    let instrument = instrument();
    for (lang, page) in &data.pages {
        let html = std::fs::read_to_string(page).unwrap();
        assert!(html.contains(&format!("<html lang=\"{lang}\">")));
        assert!(html.contains(instrument.title.get(lang.parse().unwrap())));
        for section in [
            "summary",
            "sample",
            "reliability",
            "dimensionality",
            "dif",
            "item-fit",
            "information",
            "review",
        ] {
            assert!(
                html.contains(&format!("<section id=\"{section}\">")),
                "{section}"
            );
        }
        let heading = if *lang == "en" {
            "Items to review"
        } else {
            "Butir untuk ditinjau"
        };
        assert!(html.contains(heading));
        for width in [390, 1280] {
            let checks = check_in_browser(page, width);
            assert_eq!(checks["curves"], 5, "one information chart per domain");
            let rows: Vec<&str> = checks["flaggedRows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            let listed: Vec<&str> = data.json["review"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["item"].as_str().unwrap())
                .collect();
            assert_eq!(rows, listed, "the review table lists the model's items");
        }
    }
    screenshot(&data.pages["en"], "validation-report.png", 1280, 2600);
    screenshot(&data.pages["en"], "validation-report-phone.png", 390, 2400);
}

/// The page prints on A4, as the other reports do: Chromium's PDF of it has
/// only A4 pages (595.28 × 841.89 pt), several of them, in both languages.
#[test]
fn the_page_prints_on_a4() {
    for (lang, page) in &data().pages {
        let pdf = page.with_extension("pdf");
        run_chromium(&[
            &format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer",
            &format!("file://{}", page.display()),
        ]);
        let bytes = std::fs::read(&pdf).expect("the PDF Chromium printed");
        let text = String::from_utf8_lossy(&bytes);
        let sizes: Vec<(f64, f64)> = text
            .match_indices("/MediaBox [")
            .map(|(at, key)| {
                let numbers: Vec<f64> = text[at + key.len()..]
                    .split(']')
                    .next()
                    .unwrap_or_default()
                    .split_whitespace()
                    .filter_map(|n| n.parse().ok())
                    .collect();
                assert_eq!(numbers.len(), 4, "{lang}: a media box of four numbers");
                (numbers[2] - numbers[0], numbers[3] - numbers[1])
            })
            .collect();
        assert!(sizes.len() >= 2, "{lang}: {} page(s)", sizes.len());
        for (w, h) in &sizes {
            assert!(
                (w - 595.28).abs() < 2.0 && (h - 841.89).abs() < 2.0,
                "{lang}: a page of {w} × {h} pt, not A4"
            );
        }
    }
}
