//! A strict parser of the OpenMetrics text format (what `ikd serve` serves on
//! its metrics listener), so tests read numbers from a parsed exposition, not
//! from substrings — and a malformed exposition fails them.
//!
//! Checked besides the syntax (metric and label names, quoted and escaped
//! label values, numbers including `+Inf`/`NaN`): families are not
//! interleaved; each sample's name is its family's name with a suffix its type
//! allows (`_total` for counters, `_bucket`/`_count`/`_sum` for histograms, …);
//! a family with a unit has a name ending in it; no sample is given twice;
//! counters are not negative; every histogram series has buckets in
//! increasing `le` order ending at `+Inf` with cumulative counts, and a
//! `_count` equal to its `+Inf` bucket; the text ends with `# EOF`.

use std::collections::{BTreeMap, BTreeSet};

/// A sample's labels, by name.
pub type Labels = BTreeMap<String, String>;

/// A parsed exposition.
#[derive(Debug, Default)]
pub struct Exposition {
    pub families: Vec<Family>,
}

/// One metric family: its metadata and samples.
#[derive(Debug, Default)]
pub struct Family {
    pub name: String,
    /// `counter`, `gauge`, `histogram`, `info`, … (`unknown` when not declared).
    pub kind: String,
    pub help: Option<String>,
    pub unit: Option<String>,
    pub samples: Vec<Sample>,
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The full name, suffix included (`ikd_grpc_requests_total`).
    pub name: String,
    pub labels: Labels,
    pub value: f64,
}

impl Exposition {
    /// The family named `name` (without a sample suffix).
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.name == name)
    }

    /// The value of the sample `name` whose labels are exactly `labels`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: Labels = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.families
            .iter()
            .flat_map(|f| &f.samples)
            .find(|s| s.name == name && s.labels == wanted)
            .map(|s| s.value)
    }

    /// Every sample named `name`.
    pub fn samples(&self, name: &str) -> Vec<&Sample> {
        self.families
            .iter()
            .flat_map(|f| &f.samples)
            .filter(|s| s.name == name)
            .collect()
    }
}

/// Parses `text`, or says which line is wrong and why.
pub fn parse(text: &str) -> Result<Exposition, String> {
    let mut exposition = Exposition::default();
    let mut seen_families = BTreeSet::new();
    let mut seen_samples = BTreeSet::new();
    let mut eof = false;
    let body = text
        .strip_suffix('\n')
        .ok_or("the exposition does not end with a newline")?;
    for (n, line) in body.split('\n').enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", n + 1);
        if eof {
            return Err(at("text after # EOF".into()));
        }
        if line == "# EOF" {
            eof = true;
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let (keyword, rest) = rest
                .split_once(' ')
                .ok_or_else(|| at("bad comment".into()))?;
            let (name, value) = rest.split_once(' ').unwrap_or((rest, ""));
            check_name(name).map_err(at)?;
            let family = match exposition.families.last_mut() {
                Some(f) if f.name == name => f,
                _ => {
                    if !seen_families.insert(name.to_owned()) {
                        return Err(at(format!("family {name} is interleaved")));
                    }
                    exposition.families.push(Family {
                        name: name.to_owned(),
                        kind: "unknown".into(),
                        ..Family::default()
                    });
                    exposition.families.last_mut().expect("pushed")
                }
            };
            if !family.samples.is_empty() {
                return Err(at("metadata after the family's samples".into()));
            }
            match keyword {
                "TYPE" => {
                    const TYPES: [&str; 8] = [
                        "counter",
                        "gauge",
                        "histogram",
                        "gaugehistogram",
                        "stateset",
                        "info",
                        "summary",
                        "unknown",
                    ];
                    if !TYPES.contains(&value) {
                        return Err(at(format!("unknown type {value:?}")));
                    }
                    family.kind = value.to_owned();
                }
                "HELP" => family.help = Some(unescape(value, false).map_err(at)?),
                "UNIT" => {
                    if !name.ends_with(&format!("_{value}")) {
                        return Err(at(format!("{name} does not end with its unit {value}")));
                    }
                    family.unit = Some(value.to_owned());
                }
                other => return Err(at(format!("unknown descriptor {other:?}"))),
            }
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            return Err(at("not a descriptor, a sample or # EOF".into()));
        }
        let sample = parse_sample(line).map_err(at)?;
        let family = exposition
            .families
            .last_mut()
            .ok_or_else(|| at("a sample before any # TYPE".into()))?;
        let suffixes: &[&str] = match family.kind.as_str() {
            "counter" => &["_total", "_created"],
            "histogram" | "gaugehistogram" => &["_bucket", "_count", "_sum", "_created"],
            "summary" => &["", "_count", "_sum", "_created"],
            "info" => &["_info"],
            _ => &[""],
        };
        let suffix = sample
            .name
            .strip_prefix(family.name.as_str())
            .filter(|s| suffixes.contains(s))
            .ok_or_else(|| {
                at(format!(
                    "{} is not a sample of {} family {}",
                    sample.name, family.kind, family.name
                ))
            })?;
        if family.kind == "counter"
            && suffix == "_total"
            && (sample.value.is_nan() || sample.value < 0.0)
        {
            return Err(at("a negative counter".into()));
        }
        if !seen_samples.insert(format!("{}{:?}", sample.name, sample.labels)) {
            return Err(at("the same sample twice".into()));
        }
        family.samples.push(sample);
    }
    if !eof {
        return Err("no # EOF at the end".into());
    }
    for family in &exposition.families {
        if family.kind == "histogram" {
            check_histogram(family)?;
        }
    }
    Ok(exposition)
}

/// Buckets in increasing `le` order ending at `+Inf`, cumulative, and
/// `_count` equal to the `+Inf` bucket, for every series of the family.
fn check_histogram(family: &Family) -> Result<(), String> {
    let name = &family.name;
    let mut series: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
    for s in family
        .samples
        .iter()
        .filter(|s| s.name.ends_with("_bucket"))
    {
        let mut labels = s.labels.clone();
        let le = labels
            .remove("le")
            .ok_or_else(|| format!("{name}: a bucket without le"))?;
        let le = parse_number(&le)?;
        series.entry(labels).or_default().push((le, s.value));
    }
    for (labels, buckets) in &series {
        let inf = buckets.last().map(|b| b.0);
        if inf != Some(f64::INFINITY) {
            return Err(format!("{name}{labels:?}: the last bucket is not +Inf"));
        }
        for pair in buckets.windows(2) {
            if pair[1].0 <= pair[0].0 || pair[1].1 < pair[0].1 {
                return Err(format!("{name}{labels:?}: buckets out of order: {pair:?}"));
            }
        }
        let count = family
            .samples
            .iter()
            .find(|s| s.name == format!("{name}_count") && &s.labels == labels)
            .ok_or_else(|| format!("{name}{labels:?}: no _count"))?;
        if count.value != buckets.last().expect("checked").1 {
            return Err(format!("{name}{labels:?}: _count is not the +Inf bucket"));
        }
        if !family
            .samples
            .iter()
            .any(|s| s.name == format!("{name}_sum") && &s.labels == labels)
        {
            return Err(format!("{name}{labels:?}: no _sum"));
        }
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
        Ok(())
    } else {
        Err(format!("bad metric name {name:?}"))
    }
}

/// `name{labels} value [timestamp] [# exemplar]`.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(['{', ' ']).ok_or("a sample without a value")?;
    let name = &line[..name_end];
    check_name(name)?;
    let mut rest = &line[name_end..];
    let mut labels = Labels::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let (parsed, after) = parse_labels(inner)?;
        labels = parsed;
        rest = after;
    }
    let rest = rest.strip_prefix(' ').ok_or("no space before the value")?;
    let rest = rest.split_once(" # ").map_or(rest, |(v, _exemplar)| v);
    let mut parts = rest.split(' ');
    let value = parse_number(parts.next().ok_or("no value")?)?;
    if let Some(timestamp) = parts.next() {
        parse_number(timestamp)?;
    }
    if parts.next().is_some() {
        return Err("text after the timestamp".into());
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// Labels up to the closing `}`; returns them and what follows.
fn parse_labels(mut s: &str) -> Result<(Labels, &str), String> {
    let mut labels = Labels::new();
    loop {
        if let Some(after) = s.strip_prefix('}') {
            return Ok((labels, after));
        }
        let (name, rest) = s.split_once("=\"").ok_or("a label without =\"")?;
        check_name(name).map_err(|_| format!("bad label name {name:?}"))?;
        // The value ends at the first quote not escaped.
        let mut end = None;
        let mut escaped = false;
        for (i, c) in rest.char_indices() {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '"') => {
                    end = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        let end = end.ok_or("an unterminated label value")?;
        let value = unescape(&rest[..end], true)?;
        if labels.insert(name.to_owned(), value).is_some() {
            return Err(format!("label {name} given twice"));
        }
        s = &rest[end + 1..];
        if let Some(after) = s.strip_prefix(',') {
            s = after;
        } else if !s.starts_with('}') {
            return Err("labels not separated by commas".into());
        }
    }
}

/// Undoes `\\`, `\n` and, in label values, `\"`.
fn unescape(s: &str, quotes: bool) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if quotes => out.push('"'),
            other => return Err(format!("bad escape \\{other:?}")),
        }
    }
    Ok(out)
}

fn parse_number(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => s.parse().map_err(|_| format!("not a number: {s:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "# HELP x_requests Requests.\n# TYPE x_requests counter\n\
        x_requests_total{rpc=\"a/B\",code=\"OK\"} 3\n\
        # TYPE x_seconds histogram\n# UNIT x_seconds seconds\n\
        x_seconds_sum{rpc=\"a\"} 0.5\nx_seconds_count{rpc=\"a\"} 2\n\
        x_seconds_bucket{le=\"0.1\",rpc=\"a\"} 1\nx_seconds_bucket{le=\"+Inf\",rpc=\"a\"} 2\n\
        # TYPE x_build info\nx_build_info{version=\"1 \\\"q\\\"\"} 1\n# EOF\n";

    #[test]
    fn a_good_exposition_reads_back() {
        let e = parse(GOOD).unwrap();
        assert_eq!(
            e.value("x_requests_total", &[("rpc", "a/B"), ("code", "OK")]),
            Some(3.0)
        );
        assert_eq!(
            e.family("x_seconds").unwrap().unit.as_deref(),
            Some("seconds")
        );
        assert_eq!(e.samples("x_build_info")[0].labels["version"], "1 \"q\"");
    }

    #[test]
    fn malformed_expositions_are_refused() {
        for (broken, why) in [
            (GOOD.replace("# EOF\n", ""), "EOF"),
            (
                GOOD.replace("x_requests_total", "x_requests"),
                "not a sample",
            ),
            (GOOD.replace("} 3", "} three"), "number"),
            (
                GOOD.replace("le=\"+Inf\",rpc=\"a\"} 2", "le=\"+Inf\",rpc=\"a\"} 0"),
                "order",
            ),
            (
                GOOD.replace(
                    "x_seconds_count{rpc=\"a\"} 2",
                    "x_seconds_count{rpc=\"a\"} 5",
                ),
                "_count",
            ),
            (GOOD.replace("code=\"OK\"", "code=\"OK"), "label"),
            (
                GOOD.replace("# UNIT x_seconds seconds", "# UNIT x_seconds bytes"),
                "unit",
            ),
            (format!("{GOOD}x 1\n"), "after # EOF"),
        ] {
            let err = parse(&broken).expect_err(why);
            assert!(err.contains(why), "{why}: {err}");
        }
    }
}
