//! `ikd report` end to end, checked in a real browser: the reports are made
//! by the `ikd` binary from simulated answers, rendered by Debian's headless
//! Chromium, screenshotted, and their laid-out DOM measured by a script
//! appended to a copy of each page (radar axes and labels, the distance of
//! every plotted point from the radar's centre, suppressed units, no page
//! errors, no horizontal overflow on a phone, no network fetches).
//!
//! Chromium is required: without it these tests fail (never skip), saying
//! what to install.

use ikd_core::instrument::{Instrument, load};
use ikd_tests::{ikd_binary, workspace};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
/// A unit with fewer results than the minimum group size (5): never shown.
const SMALL_UNIT: &str = "36.72/kecil";
/// A second small unit: with two small siblings hidden (6 results together),
/// no larger sibling needs hiding for complementary suppression.
const SMALL_UNIT_2: &str = "36.72/kecil-dua";
/// A deeper unit: its results make the child `36.72.01` of `36.72`.
const DEEP_UNIT: &str = "36.72.01/kel-a";

fn chromium() -> &'static Path {
    let path = Path::new(CHROMIUM);
    assert!(
        path.is_file(),
        "{CHROMIUM} is missing: the report browser tests need Debian's `chromium` package \
         (apt-get install chromium; .ci/run installs it)"
    );
    path
}

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

/// The directory of this file's test data (`target/tmp/report_browser`).
struct Dir(PathBuf);

impl Dir {
    fn path(&self) -> &Path {
        &self.0
    }
}

/// Simulated answers and their results, shared by the tests of this file.
struct Data {
    dir: Dir,
    answers: PathBuf,
    json: PathBuf,
    csv: PathBuf,
    results: Vec<Value>,
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        // One fixed directory, emptied at the start of each run: a static is
        // never dropped, so a temporary directory would outlive the run.
        let dir = Dir(Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_browser"));
        let _ = std::fs::remove_dir_all(dir.path());
        std::fs::create_dir_all(dir.path()).expect("test directory");
        let simulated = dir.path().join("simulated.csv");
        ok(
            ikd(&[
                "simulate",
                "--instrument",
                "ikd-asn-2025",
                "-n",
                "400",
                "--seed",
                "11",
                "--out",
                p(&simulated),
            ]),
            "ikd simulate",
        );
        // Move a few respondents of 36.72/dinkes into a small unit and a deeper one.
        let text = std::fs::read_to_string(&simulated).expect("answers");
        let (mut small, mut small_2, mut deep) = (0, 0, 0);
        let lines: Vec<String> = text
            .lines()
            .map(|line| {
                let mut cells: Vec<&str> = line.splitn(3, ',').collect();
                if cells.get(1) == Some(&"36.72/dinkes") {
                    if small < 3 {
                        small += 1;
                        cells[1] = SMALL_UNIT;
                    } else if small_2 < 3 {
                        small_2 += 1;
                        cells[1] = SMALL_UNIT_2;
                    } else if deep < 6 {
                        deep += 1;
                        cells[1] = DEEP_UNIT;
                    }
                }
                cells.join(",")
            })
            .collect();
        assert_eq!(
            (small, small_2, deep),
            (3, 3, 6),
            "enough respondents in 36.72/dinkes"
        );
        let answers = dir.path().join("answers.csv");
        std::fs::write(&answers, lines.join("\n") + "\n").expect("write answers");
        let json = dir.path().join("results.json");
        let csv = dir.path().join("results.csv");
        for (format, out) in [("json", &json), ("csv", &csv)] {
            ok(
                ikd(&[
                    "score",
                    "--instrument",
                    "ikd-asn-2025",
                    "--format",
                    format,
                    "--out",
                    p(out),
                    p(&answers),
                ]),
                "ikd score",
            );
        }
        let results: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&json).expect("results")).expect("JSON");
        Data {
            dir,
            answers,
            json,
            csv,
            results,
        }
    })
}

/// Runs Chromium headless with a fresh profile; fails after a minute.
fn run_chromium(args: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().expect("profile dir");
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().expect("chromium status").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium {args:?} did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().expect("chromium output");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "chromium {args:?} failed: {stderr}");
    (stdout, stderr)
}

/// Installed first in `<head>`: collects page errors and console errors.
const HOOK: &str = r#"<script>
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push('error: ' + e.message); });
window.addEventListener('unhandledrejection', function (e) { window.__errors.push('rejection: ' + e.reason); });
var __consoleError = console.error;
console.error = function () { window.__errors.push('console.error: ' + Array.prototype.join.call(arguments, ' ')); __consoleError.apply(console, arguments); };
</script>"#;

/// Appended to `<body>`: measures the laid-out page and writes the findings
/// as JSON into `<pre id="checks">`.
const CHECK: &str = r#"<script>
(function () {
  function centre(el) { var r = el.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; }
  var out = { radars: [], errors: window.__errors };
  document.querySelectorAll('svg.radar').forEach(function (svg) {
    var ctm = svg.getScreenCTM();
    var c = centre(svg.querySelector('circle.centre'));
    var R = parseFloat(svg.dataset.r), min = parseFloat(svg.dataset.min), max = parseFloat(svg.dataset.max);
    var axes = Array.prototype.map.call(svg.querySelectorAll('g.axis'), function (g) {
      var line = g.querySelector('line');
      var box = line.getBoundingClientRect();
      var end = [line.x2.baseVal.value * ctm.a + ctm.e, line.y2.baseVal.value * ctm.d + ctm.f];
      return { domain: g.dataset.domain, label: g.querySelector('text').textContent,
               length: Math.hypot(end[0] - c[0], end[1] - c[1]), visible: box.width + box.height > 0 };
    });
    var points = Array.prototype.map.call(svg.querySelectorAll('circle.point'), function (p) {
      var q = centre(p);
      var score = parseFloat(p.dataset.score);
      return { series: p.dataset.series, domain: p.dataset.domain, score: score,
               distance: Math.hypot(q[0] - c[0], q[1] - c[1]),
               expected: (score - min) / (max - min) * R * ctm.a,
               angle: Math.atan2(q[1] - c[1], q[0] - c[0]) * 180 / Math.PI };
    });
    out.radars.push({ scale: ctm.a, skew: [ctm.b, ctm.c], width: svg.getBoundingClientRect().width,
                      r: R * ctm.a, axes: axes, points: points });
  });
  out.scrollWidth = document.documentElement.scrollWidth;
  out.innerWidth = window.innerWidth;
  out.resources = performance.getEntriesByType('resource').map(function (e) { return e.name; });
  var pre = document.createElement('pre');
  pre.id = 'checks';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"#;

/// What the check script found in a page.
struct Checked {
    dom: String,
    checks: Value,
}

/// Renders a copy of `page` with the hook and check scripts at a window
/// width and returns the DOM and the findings; asserts that the console
/// shows no error.
fn check_in_browser(page: &Path, width: u32) -> Checked {
    let html = std::fs::read_to_string(page).expect("report");
    assert_eq!(html.matches("<head>").count(), 1);
    assert!(!html.contains("<script"), "reports need no scripts");
    let copy = page.with_extension(format!("check-{width}.html"));
    let instrumented = html
        .replacen("<head>", &format!("<head>{HOOK}"), 1)
        .replacen("</body>", &format!("{CHECK}</body>"), 1);
    std::fs::write(&copy, instrumented).expect("write the copy");
    let (dom, log) = run_chromium(&[
        &format!("--window-size={width},1200"),
        "--dump-dom",
        &format!("file://{}", copy.display()),
    ]);
    for line in log.lines() {
        let lower = line.to_lowercase();
        assert!(
            !(line.contains("Uncaught") || (line.contains("CONSOLE") && lower.contains("error"))),
            "console error in {}: {line}",
            page.display()
        );
    }
    let start = dom
        .find("<pre id=\"checks\">")
        .expect("the check script ran")
        + 17;
    let end = start + dom[start..].find("</pre>").expect("end of checks");
    let json = dom[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let checks: Value = serde_json::from_str(&json).expect("checks are JSON");
    assert_eq!(checks["errors"], Value::Array(Vec::new()), "page errors");
    assert_eq!(
        checks["resources"],
        Value::Array(Vec::new()),
        "network fetches"
    );
    assert!(
        checks["scrollWidth"].as_f64() <= checks["innerWidth"].as_f64(),
        "the page overflows a {width}px window: {}",
        checks["scrollWidth"]
    );
    Checked { dom, checks }
}

/// A screenshot of the page: a PNG of the window's size, not blank.
fn screenshot(page: &Path, width: u32, height: u32) {
    let png = page.with_extension("png");
    run_chromium(&[
        &format!("--window-size={width},{height}"),
        &format!("--screenshot={}", png.display()),
        &format!("file://{}", page.display()),
    ]);
    let bytes = std::fs::read(&png).expect("a screenshot");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let be =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    assert_eq!(&bytes[12..16], b"IHDR");
    assert_eq!((be(16), be(20)), (width, height), "image size");
    // A blank page compresses to a few kilobytes; charts and text do not.
    assert!(bytes.len() > 40_000, "screenshot of {} bytes", bytes.len());
}

/// The radar's axes are the instrument's domains in order, labelled in
/// `lang`, with the radius the SVG declares; every point sits at its
/// score's radius and on its axis' angle.
fn check_radar(
    radar: &Value,
    instrument: &Instrument,
    lang: &str,
) -> BTreeMap<(String, String), f64> {
    let axes = radar["axes"].as_array().expect("axes");
    assert_eq!(axes.len(), 5, "five radar axes");
    let r = radar["r"].as_f64().expect("radius");
    assert!(r > 50.0, "a radar of radius {r}px");
    let skew: Vec<f64> = radar["skew"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    assert_eq!(
        skew,
        [0.0, 0.0],
        "the radar is drawn unrotated and unskewed"
    );
    for (axis, domain) in axes.iter().zip(&instrument.domains) {
        assert_eq!(axis["domain"], domain.code.as_str());
        assert_eq!(
            axis["label"],
            domain.name.get(lang.parse().unwrap()),
            "axis label in {lang}"
        );
        let length = axis["length"].as_f64().unwrap();
        assert!(
            (length - r).abs() < 1.0,
            "axis {} is {length}px, radius {r}px",
            domain.code
        );
    }
    let mut scores = BTreeMap::new();
    for point in radar["points"].as_array().expect("points") {
        let (distance, expected) = (
            point["distance"].as_f64().unwrap(),
            point["expected"].as_f64().unwrap(),
        );
        assert!(
            (distance - expected).abs() <= 1.5,
            "point {point} is {distance}px from the centre, expected {expected}px"
        );
        let domain = point["domain"].as_str().unwrap();
        let k = instrument
            .domains
            .iter()
            .position(|d| d.code == domain)
            .expect("a domain") as f64;
        if distance > 3.0 {
            let angle = -90.0 + k * 72.0;
            let measured = point["angle"].as_f64().unwrap();
            let diff = (measured - angle).rem_euclid(360.0);
            assert!(
                diff.min(360.0 - diff) < 1.0,
                "point {point} at {measured}°, axis at {angle}°"
            );
        }
        scores.insert(
            (
                point["series"].as_str().unwrap().to_owned(),
                domain.to_owned(),
            ),
            point["score"].as_f64().unwrap(),
        );
    }
    scores
}

/// Mean score of each domain over the results whose unit `keep` accepts.
fn domain_means(results: &[Value], keep: impl Fn(&str) -> bool) -> BTreeMap<String, f64> {
    let mut sums: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for r in results
        .iter()
        .filter(|r| keep(r["org_unit"].as_str().unwrap()))
    {
        for d in r["domains"].as_array().unwrap() {
            if let Some(score) = d["score"].as_f64() {
                let slot = sums
                    .entry(d["code"].as_str().unwrap().to_owned())
                    .or_default();
                slot.0 += score;
                slot.1 += 1.0;
            }
        }
    }
    sums.into_iter()
        .map(|(code, (sum, n))| (code, sum / n))
        .collect()
}

#[test]
fn person_report_in_the_browser() {
    chromium();
    let data = data();
    let instrument = instrument();
    // A respondent of 36.72/diskominfo with all five domains scored.
    let person = data
        .results
        .iter()
        .find(|r| {
            r["org_unit"] == "36.72/diskominfo"
                && r["domains"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|d| d["score"].is_f64())
        })
        .expect("a fully scored respondent");
    let id = person["respondent_id"].as_str().unwrap();
    let page = data.dir.path().join("person.html");
    ok(
        ikd(&[
            "report",
            "person",
            "--instrument",
            "ikd-asn-2025",
            "--results",
            p(&data.json),
            "--respondent",
            id,
            "--lang",
            "en",
            "--out",
            p(&page),
        ]),
        "ikd report person",
    );
    let checked = check_in_browser(&page, 1000);
    let radars = checked.checks["radars"].as_array().unwrap();
    assert_eq!(radars.len(), 1);
    let plotted = check_radar(&radars[0], &instrument, "en");
    // The person's points are their scores; the unit's, the unit mean.
    let unit_means = domain_means(&data.results, |u| u == "36.72/diskominfo");
    for d in person["domains"].as_array().unwrap() {
        let code = d["code"].as_str().unwrap().to_owned();
        assert_eq!(
            plotted[&("person".into(), code.clone())],
            d["score"].as_f64().unwrap()
        );
        let mean = plotted[&("unit".into(), code.clone())];
        assert!(
            (mean - unit_means[&code]).abs() < 1e-9,
            "{code}: {mean} vs {}",
            unit_means[&code]
        );
    }
    assert_eq!(plotted.len(), 10);
    // Feedback and actions in English, the note on what the index is not.
    assert!(checked.dom.contains("Development actions"));
    assert!(checked.dom.contains("not a test for selection"));
    assert!(checked.dom.contains(&format!(">{id}<")));
    check_in_browser(&page, 390);
    screenshot(&page, 1000, 2400);
}

#[test]
fn person_report_shows_the_interval_of_a_model_with_standard_errors() {
    let data = data();
    let irt = data.dir.path().join("irt.json");
    ok(
        ikd(&[
            "score",
            "--instrument",
            "ikd-asn-2025",
            "--model",
            "irt",
            "--format",
            "json",
            "--out",
            p(&irt),
            p(&data.answers),
        ]),
        "ikd score --model irt",
    );
    let results: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&irt).unwrap()).unwrap();
    let person = results
        .iter()
        .find(|r| r["index_se"].is_f64())
        .expect("an IRT result with an SE");
    let (index, se) = (
        person["index"].as_f64().unwrap(),
        person["index_se"].as_f64().unwrap(),
    );
    let page = data.dir.path().join("irt.html");
    ok(
        ikd(&[
            "report",
            "person",
            "--instrument",
            "ikd-asn-2025",
            "--results",
            p(&irt),
            "--respondent",
            person["respondent_id"].as_str().unwrap(),
            "--out",
            p(&page),
        ]),
        "ikd report person (irt)",
    );
    let html = std::fs::read_to_string(&page).unwrap();
    let attr = |name: &str| -> f64 {
        let at = html.find(&format!("{name}=\"")).expect(name) + name.len() + 2;
        html[at..at + html[at..].find('"').unwrap()]
            .parse()
            .unwrap()
    };
    let (low, high) = (attr("data-low"), attr("data-high"));
    assert!((low - (index - 1.96 * se).max(0.0)).abs() < 1e-9, "{low}");
    assert!(
        (high - (index + 1.96 * se).min(100.0)).abs() < 1e-9,
        "{high}"
    );
    assert!(html.contains("Interval kepercayaan 95%"));
}

#[test]
fn org_report_in_the_browser() {
    chromium();
    let data = data();
    let instrument = instrument();
    let page = data.dir.path().join("org.html");
    ok(
        ikd(&[
            "report",
            "org",
            "--instrument",
            "ikd-asn-2025",
            "--results",
            p(&data.csv),
            "--org",
            "36.72",
            "--answers",
            p(&data.answers),
            "--lang",
            "id",
            "--out",
            p(&page),
        ]),
        "ikd report org",
    );
    let checked = check_in_browser(&page, 1000);
    let radars = checked.checks["radars"].as_array().unwrap();
    assert_eq!(radars.len(), 1);
    let plotted = check_radar(&radars[0], &instrument, "id");
    // The unit's points are the means under 36.72 (never 36.721), the
    // parent's under 36, the whole data set's over every result.
    let within = |prefix: &'static str| {
        move |u: &str| {
            u == prefix
                || u.strip_prefix(prefix)
                    .is_some_and(|r| r.starts_with(['.', '/']))
        }
    };
    for (series, means) in [
        ("unit", domain_means(&data.results, within("36.72"))),
        ("parent", domain_means(&data.results, within("36"))),
        ("all", domain_means(&data.results, |_| true)),
    ] {
        for (code, mean) in means {
            let shown = plotted[&(series.to_owned(), code.clone())];
            assert!(
                (shown - mean).abs() < 1e-3,
                "{series} {code}: {shown} vs {mean}"
            );
        }
    }
    // Sub-units: the three agencies and 36.72.01; the small unit is absent
    // everywhere (page and CSV), only counted.
    let mut children = BTreeSet::new();
    for part in checked
        .dom
        .split("<tr class=\"child\" data-unit=\"")
        .skip(1)
    {
        children.insert(part[..part.find('"').unwrap()].to_owned());
    }
    let expected: BTreeSet<String> = [
        "36.72.01",
        "36.72/bkpsdm",
        "36.72/dinkes",
        "36.72/diskominfo",
    ]
    .map(String::from)
    .into();
    assert_eq!(children, expected);
    assert!(
        !checked.dom.contains("kecil"),
        "a suppressed unit is named in the page"
    );
    assert!(
        checked
            .dom
            .contains("2 subunit tidak dilaporkan: yang hasilnya kurang dari 5")
    );
    let csv = std::fs::read_to_string(page.with_extension("csv")).expect("the CSV beside the page");
    assert!(!csv.contains("kecil"));
    assert!(csv.contains("unit,36.72,,,,suppressed_children,2"));
    let n_unit = data
        .results
        .iter()
        .filter(|r| within("36.72")(r["org_unit"].as_str().unwrap()))
        .count();
    assert!(
        csv.contains(&format!("unit,36.72,,,,n,{n_unit}")),
        "n of the unit"
    );
    // Weakest indicators from the answers, the level bars of the five domains and the index.
    assert_eq!(checked.dom.matches("<tr class=\"indicator\"").count(), 5);
    assert_eq!(checked.dom.matches("<g class=\"bar-row\"").count(), 6);
    check_in_browser(&page, 390);
    screenshot(&page, 1000, 2600);
}

#[test]
fn report_errors_name_what_is_at_fault() {
    let data = data();
    let out = data.dir.path().join("x.html");
    let run = |args: &[&str]| {
        let mut all = vec!["report"];
        all.extend_from_slice(args);
        let o = ikd(&all);
        assert!(!o.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let common = [
        "--instrument",
        "ikd-asn-2025",
        "--results",
        p(&data.json),
        "--out",
        p(&out),
    ];
    let err = run(&[&["person"][..], &common, &["--respondent", "nobody"]].concat());
    assert!(
        err.contains("'nobody'") && err.contains("results.json"),
        "{err}"
    );
    let err = run(&[&["org"][..], &common, &["--org", SMALL_UNIT]].concat());
    assert!(
        err.contains("suppressed") && err.contains(SMALL_UNIT),
        "{err}"
    );
    let err = run(&[&["org"][..], &common, &["--org", "36.7"]].concat());
    assert!(
        err.contains("no results") && err.contains("'36.7'"),
        "{err}"
    );
    let err = run(&[&["org"][..], &common, &["--org", "36.72", "--lang", "fr"]].concat());
    assert!(err.contains("'fr'"), "{err}");
    assert!(!out.exists(), "no page is left behind by a failed report");
}
