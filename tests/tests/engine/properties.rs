//! Scoring invariants as property tests (proptest), through the real pipeline:
//! built plugin libraries, loaded by the host, scoring batches of generated
//! answers.
//!
//! Three scorers are checked: the hand-computed fixture instrument with the
//! `minimal-domain` fixture plugin and the weighted index, and the bundled
//! IKD-ASN 2025 instrument with its five domain plugins under both the
//! weighted index and the IRT model. Answers are generated per item from the
//! valid answers of its kind (every scale point of a Likert item, every option
//! of a single-choice item, and for the domains' own kinds the answers their
//! plugins simulate and the committed example answers), plus skipped (empty)
//! and not-applicable cells.
//!
//! Invariants:
//! * every domain score and index is within the reporting range 0–100 or
//!   missing, and its level is the band it falls in (missing with it);
//! * reverse keying is an involution: flipping `reverse` on every Likert item
//!   (by editing the TOML text) and answering `min + max − v` instead of `v`
//!   gives the same item scores and results; flipping twice gives back the
//!   original instrument's item scores and results;
//! * adding respondents anywhere in a batch never changes another's result;
//! * scoring a batch equals scoring each respondent alone.

use ikd_core::answers::{AnswerRows, AnswersReader, Respondent};
use ikd_core::host::{PluginCallError, PluginHost, PluginSearch};
use ikd_core::instrument::{self, Instrument};
use ikd_core::pipeline::{ItemScores, Scorer, ScorerOptions};
use ikd_core::results::RespondentResult;
use ikd_core::simulate::Simulation;
use ikd_tests::{built_plugin, fixture_dir, install_plugin, workspace};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// Cases per property: enough to cover every item kind, answer and missing
/// pattern many times over, few enough for well under a minute in debug.
const CASES: u32 = 96;

fn config() -> Config {
    Config {
        cases: CASES,
        // Failures are shown shrunk in the test output; nothing is written to the tree.
        failure_persistence: None,
        ..Config::default()
    }
}

// --- fixtures -----------------------------------------------------------------

/// The bundled domain plugins of IKD-ASN 2025 and both scoring models,
/// as (package, directory under `plugins/`).
const ASN_PLUGINS: [(&str, &str); 7] = [
    ("ikd-domain-literasi-digital", "domain-literasi-digital"),
    ("ikd-domain-budaya-data", "domain-budaya-data"),
    ("ikd-domain-pelayanan-publik", "domain-pelayanan-publik"),
    ("ikd-domain-etika-keamanan", "domain-etika-keamanan"),
    (
        "ikd-domain-kepemimpinan-digital",
        "domain-kepemimpinan-digital",
    ),
    ("ikd-scoring-weighted-index", "scoring-weighted-index"),
    ("ikd-scoring-irt", "scoring-irt"),
];

fn hand_host() -> &'static PluginHost {
    static HOST: OnceLock<PluginHost> = OnceLock::new();
    HOST.get_or_init(|| {
        let root = tempfile::tempdir().unwrap().keep();
        install_plugin(
            &root,
            &fixture_dir("minimal-domain"),
            &built_plugin("ikd-fixture-minimal-domain"),
        );
        install_plugin(
            &root,
            &workspace().join("plugins/scoring-weighted-index"),
            &built_plugin("ikd-scoring-weighted-index"),
        );
        PluginHost::discover(&PluginSearch {
            dirs: vec![root],
            ..Default::default()
        })
    })
}

fn asn_host() -> &'static PluginHost {
    static HOST: OnceLock<PluginHost> = OnceLock::new();
    HOST.get_or_init(|| {
        let root = tempfile::tempdir().unwrap().keep();
        for (package, dir) in ASN_PLUGINS {
            install_plugin(
                &root,
                &workspace().join("plugins").join(dir),
                &built_plugin(package),
            );
        }
        PluginHost::discover(&PluginSearch {
            dirs: vec![root],
            ..Default::default()
        })
    })
}

fn asn_dir() -> PathBuf {
    workspace().join("instruments/ikd-asn-2025")
}

/// Writes instrument text into a fresh directory (with the IRT parameters the
/// bundled instrument refers to beside it) and builds a scorer over it.
fn scorer_from_text(text: &str, host: &PluginHost, model: Option<&str>) -> Scorer {
    let dir = tempfile::tempdir().unwrap().keep();
    std::fs::copy(asn_dir().join("irt-params.csv"), dir.join("irt-params.csv")).unwrap();
    let path = dir.join("instrument.toml");
    std::fs::write(&path, text).unwrap();
    let instrument = Arc::new(instrument::load(&path).unwrap_or_else(|e| panic!("{e}")));
    let options = ScorerOptions {
        model: model.map(str::to_owned),
        ..ScorerOptions::default()
    };
    Scorer::new(instrument, host, &options).unwrap_or_else(|e| panic!("{e}"))
}

/// An instrument in three versions: as written, with the reverse keying of
/// every Likert item flipped, and flipped twice.
struct Variants {
    original: Scorer,
    flipped: Scorer,
    flipped_twice: Scorer,
    /// Valid answers of each item, in instrument order.
    answers: Vec<Vec<String>>,
}

impl Variants {
    fn new(text: &str, host: &PluginHost, model: Option<&str>) -> Self {
        let flipped = flip_reverse_keying(text);
        let twice = flip_reverse_keying(&flipped);
        assert_ne!(flipped, text, "flipping changed nothing");
        let original = scorer_from_text(text, host, model);
        let answers = by_item_score(&original, valid_answers(&original));
        Variants {
            flipped: scorer_from_text(&flipped, host, model),
            flipped_twice: scorer_from_text(&twice, host, model),
            original,
            answers,
        }
    }

    fn instrument(&self) -> &Instrument {
        self.original.instrument()
    }
}

fn hand() -> &'static Variants {
    static V: OnceLock<Variants> = OnceLock::new();
    V.get_or_init(|| {
        let text =
            std::fs::read_to_string(ikd_tests::fixture_instrument("hand-computed.toml")).unwrap();
        Variants::new(&text, hand_host(), None)
    })
}

fn asn_text() -> String {
    std::fs::read_to_string(asn_dir().join("instrument.toml")).unwrap()
}

fn asn_weighted() -> &'static Variants {
    static V: OnceLock<Variants> = OnceLock::new();
    V.get_or_init(|| Variants::new(&asn_text(), asn_host(), None))
}

fn asn_irt() -> &'static Variants {
    static V: OnceLock<Variants> = OnceLock::new();
    V.get_or_init(|| Variants::new(&asn_text(), asn_host(), Some("irt")))
}

fn fixture(which: Which) -> &'static Variants {
    match which {
        Which::Hand => hand(),
        Which::AsnWeighted => asn_weighted(),
        Which::AsnIrt => asn_irt(),
    }
}

#[derive(Clone, Copy, Debug)]
enum Which {
    Hand,
    AsnWeighted,
    AsnIrt,
}

const ALL: [Which; 3] = [Which::Hand, Which::AsnWeighted, Which::AsnIrt];

/// Flips the reverse keying of every Likert item in the TOML text:
/// `reverse = true` ↔ `reverse = false`; an item without the field gets
/// `reverse = true` (the default being false).
fn flip_reverse_keying(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 256);
    for (n, block) in text.split("\n[[items]]\n").enumerate() {
        if n > 0 {
            out.push_str("\n[[items]]\n");
        }
        let head = block.split("\n[").next().unwrap_or(block);
        let is_likert = n > 0 && head.lines().any(|l| l.trim() == "kind = \"likert\"");
        if !is_likert {
            out.push_str(block);
            continue;
        }
        let (head, tail) = block.split_at(head.len());
        let flipped = if head.contains("\nreverse = true") {
            head.replacen("\nreverse = true", "\nreverse = false", 1)
        } else if head.contains("\nreverse = false") {
            head.replacen("\nreverse = false", "\nreverse = true", 1)
        } else {
            head.replacen(
                "kind = \"likert\"\n",
                "kind = \"likert\"\nreverse = true\n",
                1,
            )
        };
        out.push_str(&flipped);
        out.push_str(tail);
    }
    out
}

/// Each item's valid answers ordered by their item score (lowest first),
/// each scored once on its own: this also proves every one of them valid.
fn by_item_score(scorer: &Scorer, answers: Vec<Vec<String>>) -> Vec<Vec<String>> {
    let items = answers.len();
    let mut rows = AnswerRows::new(items);
    let mut cells = vec![""; items];
    let mut at = Vec::new();
    for (i, valid) in answers.iter().enumerate() {
        for answer in valid {
            cells[i] = answer;
            rows.push(
                Respondent {
                    id: &format!("v{}", at.len()),
                    org_unit: "",
                    duration: None,
                    origin: at.len() as u64,
                },
                cells.iter().copied(),
            );
            cells[i] = "";
            at.push((i, answer.clone()));
        }
    }
    let scores = scorer
        .item_scores(&rows)
        .unwrap_or_else(|e| panic!("a collected answer is invalid: {e:?}"));
    let mut ordered: Vec<Vec<(f64, String)>> = vec![Vec::new(); items];
    for (r, (i, answer)) in at.into_iter().enumerate() {
        let score = scores.scores[r * items + i];
        // "Don't know" scores NaN here (no credit): it ranks lowest.
        ordered[i].push((
            if score.is_nan() {
                f64::NEG_INFINITY
            } else {
                score
            },
            answer,
        ));
    }
    ordered
        .into_iter()
        .map(|mut v| {
            v.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            v.into_iter().map(|(_, a)| a).collect()
        })
        .collect()
}

/// Valid answers of every item: every scale point of a Likert item, every
/// option of a single-choice item, and whatever the domain plugins simulate
/// and the bundled example answers hold (for the domains' own kinds).
fn valid_answers(scorer: &Scorer) -> Vec<Vec<String>> {
    let instrument = scorer.instrument();
    let mut answers: Vec<BTreeSet<String>> = vec![BTreeSet::new(); instrument.items.len()];
    for (i, item) in instrument.items.iter().enumerate() {
        if let Some((min, max)) = likert_range(instrument, i) {
            answers[i].extend((min..=max).map(|v| v.to_string()));
        }
        if item.kind == "single-choice" {
            answers[i].extend(item.options.iter().map(|o| o.code.clone()));
        }
    }
    let mut simulation = Simulation::new(300, 2025);
    simulation.skip_rate = 0.0;
    simulation
        .run(scorer, 300, |rows| {
            collect_cells(rows, &mut answers);
            Ok::<(), PluginCallError>(())
        })
        .unwrap();
    let examples = workspace().join("instruments/ikd-asn-2025/examples/answers.csv");
    if instrument.id == "ikd-asn-2025" {
        let mut reader = AnswersReader::open(&examples, instrument).unwrap();
        let mut rows = AnswerRows::new(instrument.items.len());
        while reader.read_batch(&mut rows, 1000).unwrap() > 0 {
            collect_cells(&rows, &mut answers);
        }
    }
    for (item, set) in instrument.items.iter().zip(&answers) {
        assert!(
            !set.is_empty(),
            "no valid answer known for item {}",
            item.id
        );
    }
    answers
        .into_iter()
        .map(|s| s.into_iter().collect())
        .collect()
}

fn collect_cells(rows: &AnswerRows, answers: &mut [BTreeSet<String>]) {
    for r in 0..rows.len() {
        for (i, set) in answers.iter_mut().enumerate() {
            let cell = rows.cell(r, i);
            if !cell.is_empty() && cell != ikd_plugin_sdk::NOT_APPLICABLE {
                set.insert(cell.to_owned());
            }
        }
    }
}

/// The scale of a Likert item.
fn likert_range(instrument: &Instrument, item: usize) -> Option<(i32, i32)> {
    let item = &instrument.items[item];
    if item.kind != "likert" {
        return None;
    }
    let scale = item.scale.as_deref()?;
    let scale = instrument.scales.iter().find(|s| s.id == scale)?;
    Some((scale.min, scale.max))
}

// --- generated answers ----------------------------------------------------------

/// One respondent: a completion time and one cell per item.
#[derive(Clone, Debug)]
struct Row {
    duration: Option<f64>,
    cells: Vec<String>,
}

/// A cell of an item: a valid answer, or skipped, or not applicable; `answered`
/// weighs the valid answers against the two ways of not answering.
fn cell(valid: &[String], answered: u32) -> BoxedStrategy<String> {
    prop_oneof![
        answered => prop::sample::select(valid.to_vec()),
        1 => Just(String::new()),
        1 => Just(ikd_plugin_sdk::NOT_APPLICABLE.to_owned()),
    ]
    .boxed()
}

/// A respondent who answers most items, or one who skips most of them (so
/// that domains and the index go missing too).
fn row(answers: &[Vec<String>]) -> impl Strategy<Value = Row> + use<> {
    let dense: Vec<_> = answers.iter().map(|a| cell(a, 10)).collect();
    let sparse: Vec<_> = answers.iter().map(|a| cell(a, 1)).collect();
    // Near the top or the bottom of every item (answers are ordered by item
    // score): scores at the ends of the range, where a model must clamp.
    let ends: Vec<Vec<String>> = answers.to_vec();
    // Half of them answer every item at its very end.
    let extreme = (
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(0..2usize, answers.len()),
    )
        .prop_map(move |(top, pure, offsets)| {
            ends.iter()
                .zip(offsets)
                .map(|(valid, k)| {
                    let k = if pure { 0 } else { k.min(valid.len() - 1) };
                    valid[if top { valid.len() - 1 - k } else { k }].clone()
                })
                .collect::<Vec<String>>()
        });
    let duration = prop_oneof![Just(None), (0.0f64..3000.0).prop_map(Some)];
    let cells = prop_oneof![4 => dense.boxed(), 1 => sparse.boxed(), 1 => extreme.boxed()];
    (duration, cells).prop_map(|(duration, cells)| Row { duration, cells })
}

fn batch(
    answers: &[Vec<String>],
    size: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = Vec<Row>> + use<> {
    prop::collection::vec(row(answers), size)
}

/// A batch of one fixture: which one, and its rows.
fn fixture_batch(
    size: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = (Which, Vec<Row>)> {
    prop::sample::select(ALL.to_vec())
        .prop_flat_map(move |which| (Just(which), batch(&fixture(which).answers, size.clone())))
}

/// Rows as the pipeline takes them; respondent `k` is called `{prefix}{k}`.
fn answer_rows(rows: &[(String, &Row)], items: usize) -> AnswerRows {
    let mut out = AnswerRows::new(items);
    for (line, (id, row)) in rows.iter().enumerate() {
        out.push(
            Respondent {
                id,
                org_unit: "36.72/diskominfo",
                duration: row.duration,
                origin: line as u64 + 2,
            },
            row.cells.iter().map(String::as_str),
        );
    }
    out
}

fn named<'a>(rows: &'a [Row], prefix: &str) -> Vec<(String, &'a Row)> {
    rows.iter()
        .enumerate()
        .map(|(k, r)| (format!("{prefix}{k}"), r))
        .collect()
}

fn score(scorer: &Scorer, rows: &[(String, &Row)]) -> Vec<RespondentResult> {
    let answers = answer_rows(rows, scorer.instrument().items.len());
    scorer
        .score(&answers)
        .unwrap_or_else(|e| panic!("generated answers are valid, yet: {e:?}"))
}

fn item_scores(scorer: &Scorer, rows: &[(String, &Row)]) -> ItemScores {
    let answers = answer_rows(rows, scorer.instrument().items.len());
    scorer
        .item_scores(&answers)
        .unwrap_or_else(|e| panic!("generated answers are valid, yet: {e:?}"))
}

/// Every Likert answer `v` replaced by `min + max − v`.
fn mirrored(instrument: &Instrument, row: &Row) -> Row {
    let cells = row
        .cells
        .iter()
        .enumerate()
        .map(
            |(i, cell)| match (likert_range(instrument, i), cell.parse::<i32>()) {
                (Some((min, max)), Ok(v)) => (min + max - v).to_string(),
                _ => cell.clone(),
            },
        )
        .collect();
    Row {
        duration: row.duration,
        cells,
    }
}

// --- exact comparison -------------------------------------------------------------

fn bits(x: Option<f64>) -> Option<u64> {
    x.map(f64::to_bits)
}

/// Every number of a result, bit for bit, and every level.
fn numbers(r: &RespondentResult) -> impl PartialEq + std::fmt::Debug + use<> {
    (
        bits(r.index),
        bits(r.index_se),
        r.level,
        r.domains
            .iter()
            .map(|d| (bits(d.score), bits(d.se), d.level, d.answered))
            .collect::<Vec<_>>(),
    )
}

/// Two results are the same: same respondent, numbers, levels and flags.
fn same(a: &RespondentResult, b: &RespondentResult) -> Result<(), TestCaseError> {
    prop_assert_eq!(&a.respondent_id, &b.respondent_id);
    prop_assert_eq!(&a.org_unit, &b.org_unit);
    prop_assert_eq!(numbers(a), numbers(b), "respondent {}", a.respondent_id);
    prop_assert_eq!(&a.flags, &b.flags, "respondent {}", a.respondent_id);
    Ok(())
}

fn same_item_scores(a: &ItemScores, b: &ItemScores) -> Result<(), TestCaseError> {
    prop_assert_eq!(&a.status, &b.status);
    let a: Vec<u64> = a.scores.iter().map(|x| x.to_bits()).collect();
    let b: Vec<u64> = b.scores.iter().map(|x| x.to_bits()).collect();
    prop_assert_eq!(a, b);
    Ok(())
}

// --- properties -------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// Every domain score and index lies within the reporting range (0–100)
    /// or is missing; a level goes with a score, and it is the band the score
    /// falls in.
    #[test]
    fn scores_and_indices_are_within_0_to_100_or_missing((which, rows) in fixture_batch(1..=8)) {
        let v = fixture(which);
        let instrument = v.instrument();
        let (lo, hi) = (instrument.reporting.min, instrument.reporting.max);
        prop_assert_eq!((lo, hi), (0.0, 100.0));
        let results = score(&v.original, &named(&rows, "r"));
        prop_assert_eq!(results.len(), rows.len());
        let band = |score: f64, level: Option<u32>| -> Result<(), TestCaseError> {
            let l = level.ok_or_else(|| TestCaseError::fail(format!("{score} has no level")))?;
            let level = &instrument.levels[l as usize];
            prop_assert!(
                level.min <= score && score <= level.max,
                "{} is not in level {} [{}, {}]", score, level.code, level.min, level.max
            );
            Ok(())
        };
        for r in &results {
            for (d, outcome) in r.domains.iter().enumerate() {
                let items = instrument.items.iter()
                    .filter(|i| i.domain == instrument.domains[d].code)
                    .count();
                prop_assert!(outcome.answered as usize <= items);
                match outcome.score {
                    Some(s) => {
                        prop_assert!(s.is_finite() && (lo..=hi).contains(&s), "domain {} score {}", d, s);
                        band(s, outcome.level)?;
                    }
                    None => prop_assert_eq!(outcome.level, None),
                }
                if let Some(se) = outcome.se {
                    prop_assert!(se.is_finite() && se >= 0.0, "domain {} se {}", d, se);
                }
            }
            match r.index {
                Some(s) => {
                    prop_assert!(s.is_finite() && (lo..=hi).contains(&s), "index {}", s);
                    band(s, r.level)?;
                }
                None => prop_assert_eq!(r.level, None),
            }
        }
    }

    /// Reverse keying is an involution. With every Likert item's `reverse`
    /// flipped in the TOML, answering `min + max − v` gives exactly the item
    /// scores and results that `v` gives on the instrument as written (both
    /// ways: reverse-keyed items lose it, plain ones gain it); flipped twice,
    /// the instrument scores the original answers exactly as written.
    #[test]
    fn reverse_keying_is_an_involution((which, rows) in fixture_batch(1..=6)) {
        let v = fixture(which);
        let instrument = v.instrument();
        let mirror: Vec<Row> = rows.iter().map(|r| mirrored(instrument, r)).collect();
        let twice: Vec<Row> = mirror.iter().map(|r| mirrored(instrument, r)).collect();
        let (rows_n, mirror_n) = (named(&rows, "r"), named(&mirror, "r"));
        for (a, b) in rows.iter().zip(&twice) {
            prop_assert_eq!(&a.cells, &b.cells, "mirroring twice is the identity");
        }

        let original = item_scores(&v.original, &rows_n);
        same_item_scores(&item_scores(&v.flipped, &mirror_n), &original)?;
        same_item_scores(&item_scores(&v.flipped_twice, &rows_n), &original)?;

        let expected = score(&v.original, &rows_n);
        let flipped = score(&v.flipped, &mirror_n);
        let twice = score(&v.flipped_twice, &rows_n);
        for k in 0..rows.len() {
            // Raw answers differ, so careless-answering flags may too: numbers only.
            prop_assert_eq!(numbers(&flipped[k]), numbers(&expected[k]));
            same(&twice[k], &expected[k])?;
        }

        // Not vacuous: a Likert answer off the scale's midpoint scores
        // differently once its keying is flipped.
        let flipped_plain = item_scores(&v.flipped, &rows_n);
        for (r, row) in rows.iter().enumerate() {
            for (i, cell) in row.cells.iter().enumerate() {
                if let (Some((min, max)), Ok(x)) = (likert_range(instrument, i), cell.parse::<i32>())
                    && 2 * x != min + max
                {
                    let k = r * instrument.items.len() + i;
                    prop_assert_ne!(flipped_plain.scores[k], original.scores[k], "item {}", i);
                }
            }
        }
    }

    /// Adding respondents anywhere in a batch changes nobody else's result.
    #[test]
    fn adding_respondents_never_changes_another_result(
        (which, rows, extra, places) in prop::sample::select(ALL.to_vec()).prop_flat_map(|which| {
            let answers = &fixture(which).answers;
            (
                Just(which),
                batch(answers, 1..=6),
                batch(answers, 1..=4),
                prop::collection::vec(any::<prop::sample::Index>(), 4),
            )
        })
    ) {
        let v = fixture(which);
        let alone = named(&rows, "r");
        // Each extra respondent goes at its own place among the others.
        let mut combined = alone.clone();
        for (k, row) in extra.iter().enumerate() {
            let at = places[k].index(combined.len() + 1);
            combined.insert(at, (format!("x{k}"), row));
        }
        let before = score(&v.original, &alone);
        let after = score(&v.original, &combined);
        let after: Vec<&RespondentResult> =
            after.iter().filter(|r| r.respondent_id.starts_with('r')).collect();
        prop_assert_eq!(after.len(), before.len());
        for (a, b) in before.iter().zip(after) {
            same(a, b)?;
        }
    }

    /// A batch scores exactly as its respondents do one by one.
    #[test]
    fn a_batch_scores_as_each_respondent_alone((which, rows) in fixture_batch(1..=8)) {
        let v = fixture(which);
        let all = named(&rows, "r");
        let together = score(&v.original, &all);
        for (k, one) in all.iter().enumerate() {
            let alone = score(&v.original, std::slice::from_ref(one));
            same(&together[k], &alone[0])?;
        }
    }
}

/// The flipped instruments differ from the original where it matters and
/// nowhere else: every Likert item's keying flips, nothing else changes.
#[test]
fn flipping_touches_only_the_keying_of_likert_items() {
    for which in ALL {
        let v = fixture(which);
        let (a, b, c) = (
            v.original.instrument(),
            v.flipped.instrument(),
            v.flipped_twice.instrument(),
        );
        assert_ne!(a.sha256, b.sha256);
        assert_eq!(a.items.len(), b.items.len());
        let mut likert = 0;
        for ((x, y), z) in a.items.iter().zip(&b.items).zip(&c.items) {
            assert_eq!((&x.id, &x.kind, &x.scale), (&y.id, &y.kind, &y.scale));
            assert_eq!(x.reverse, z.reverse, "item {} flipped twice", x.id);
            if x.kind == "likert" {
                likert += 1;
                assert_ne!(x.reverse, y.reverse, "item {} not flipped", x.id);
            } else {
                assert_eq!(x.reverse, y.reverse, "item {}", x.id);
            }
        }
        assert!(likert >= 3, "{which:?}: {likert} Likert items");
        assert!(
            a.items.iter().any(|i| i.reverse)
                && a.items.iter().any(|i| i.kind == "likert" && !i.reverse),
            "{which:?} has reverse-keyed and plain Likert items"
        );
    }
}

/// The generated answers cover every kind of the bundled instrument.
#[test]
fn generated_answers_cover_every_item_kind() {
    let v = asn_weighted();
    let kinds: BTreeSet<&str> = v
        .instrument()
        .items
        .iter()
        .map(|i| i.kind.as_str())
        .collect();
    assert!(kinds.len() >= 7, "{kinds:?}");
    for (item, answers) in v.instrument().items.iter().zip(&v.answers) {
        assert!(!answers.is_empty(), "{}", item.id);
    }
}
