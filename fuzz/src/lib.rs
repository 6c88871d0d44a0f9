//! What each fuzz target does with its input, in one place.
//!
//! The libFuzzer binaries (`fuzz_targets/*.rs`) call these functions, and so
//! does `tests/tests/engine/fuzz_regressions.rs`, which includes this very file: a
//! normal `cargo test` replays every committed corpus and regression input
//! through exactly the code that was fuzzed, without nightly or libFuzzer.
//!
//! Every function must return normally for any input: errors are fine, a
//! panic (including an arithmetic overflow under debug assertions) is a bug.
//! Beyond "no panic", the checks hold a few oracles that need no second
//! implementation (a written answers batch reads back the same; the one-pass
//! decoders of plugin responses agree with prost).

use ikd_core::answers::{AnswerRows, AnswersReader, AnswersWriter};
use ikd_core::instrument::{self, Instrument, PluginFacts, PluginRole};
use ikd_plugin_sdk::domain::ScoredItems;
use ikd_plugin_sdk::proto::{
    AnswerBatch, DomainDescription, InterpretResponse, ItemScores, PluginError, PluginInfo,
    PluginMessage, ScoreResponse,
};
use ikd_plugin_sdk::{ScoreInput, ScoreOutput};
use prost::Message;
use std::path::Path;
use std::sync::OnceLock;

/// The fixed instrument the answers CSV reader is fuzzed against: the
/// hand-computed fixture (five items: three Likert, two single choice).
pub const ANSWERS_INSTRUMENT: &str =
    include_str!("../../tests/fixtures/instruments/hand-computed.toml");

fn answers_instrument() -> &'static Instrument {
    static INSTRUMENT: OnceLock<Instrument> = OnceLock::new();
    INSTRUMENT.get_or_init(|| {
        instrument::load_str(ANSWERS_INSTRUMENT, Path::new("hand-computed.toml"))
            .expect("the hand-computed fixture instrument loads")
    })
}

/// Arbitrary bytes (as UTF-8, invalid sequences replaced) through the
/// instrument loader and validator; what loads goes on through the plugin
/// checks, and every error is rendered (spans → line and column).
pub fn instrument_loader(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match instrument::load_str(&text, Path::new("fuzz/instrument.toml")) {
        Ok(instrument) => {
            // Plugins that own the SDK's kinds under the names the fixtures use.
            let mut version = instrument.version.clone();
            version = "0.1.0".parse().unwrap_or(version);
            let facts = [
                PluginFacts {
                    name: "minimal-domain".into(),
                    role: PluginRole::Domain,
                    version: version.clone(),
                    item_kinds: vec!["likert".into(), "single-choice".into()],
                },
                PluginFacts {
                    name: "weighted-index".into(),
                    role: PluginRole::ScoringModel,
                    version,
                    item_kinds: Vec::new(),
                },
            ];
            for diagnostic in instrument::check_plugins(&instrument, &facts) {
                std::hint::black_box(diagnostic.to_string());
            }
            std::hint::black_box(&instrument.sha256);
        }
        Err(error) => {
            std::hint::black_box(error.to_string());
        }
    }
}

/// Arbitrary bytes through the answers CSV reader (header checked against the
/// fixed instrument, rows read in small batches). Every batch read is written
/// back with the answers writer and must read back identically.
pub fn answers_csv(data: &[u8]) {
    let instrument = answers_instrument();
    let items = instrument.items.len();
    let mut reader = match AnswersReader::new(data, Path::new("answers.csv"), instrument) {
        Ok(reader) => reader,
        Err(error) => {
            std::hint::black_box(error.to_string());
            return;
        }
    };
    let mut rows = AnswerRows::new(items);
    loop {
        match reader.read_batch(&mut rows, 3) {
            Ok(0) => break,
            Ok(n) => {
                assert_eq!(n, rows.len());
                std::hint::black_box(reader.byte_position());
                round_trip(instrument, &rows);
            }
            Err(error) => {
                std::hint::black_box(error.to_string());
                break;
            }
        }
    }
}

/// Writes `rows` as an answers CSV and reads it back: same respondents, same cells.
fn round_trip(instrument: &Instrument, rows: &AnswerRows) {
    let mut writer = AnswersWriter::new(Vec::new(), instrument).expect("writing to memory");
    writer.write(rows).expect("writing to memory");
    let bytes = writer.finish().expect("writing to memory");
    let mut reader = AnswersReader::new(&bytes[..], Path::new("rewritten.csv"), instrument)
        .unwrap_or_else(|e| panic!("the writer's header is refused: {e}"));
    let mut back = AnswerRows::new(rows.items());
    let n = reader
        .read_batch(&mut back, rows.len() + 1)
        .unwrap_or_else(|e| panic!("written answers do not read back: {e}"));
    assert_eq!(n, rows.len(), "respondents lost or added by a round trip");
    assert_eq!(back.respondent_ids, rows.respondent_ids);
    assert_eq!(back.org_units, rows.org_units);
    assert_eq!(back.durations, rows.durations);
    for r in 0..rows.len() {
        for i in 0..rows.items() {
            assert_eq!(back.cell(r, i), rows.cell(r, i), "respondent {r}, item {i}");
        }
    }
}

/// Arbitrary bytes through every decoder the host applies to what a plugin
/// returns: item scores and model scores (the one-pass decoders), plugin info
/// and errors (native and process plugins), the process transport's
/// `PluginMessage`, and the prost-decoded responses (describe, interpret,
/// simulate). Where both prost and a one-pass decoder accept, they must agree,
/// and a one-pass decoder must accept nothing that prost refuses.
pub fn plugin_responses(data: &[u8]) {
    // Item scores (DOMAIN_SCORE_ITEMS).
    let one_pass = ScoredItems::decode_from(data);
    if let Ok(wire) = ItemScores::decode(data) {
        let reference = ScoredItems::from_wire(wire);
        match (&one_pass, &reference) {
            (Ok(a), Ok(b)) => assert_eq!(
                a.encode_to_vec(),
                b.encode_to_vec(),
                "ScoredItems::decode_from disagrees with prost"
            ),
            // Stricter is fine: prost truncates a count beyond u32, the
            // one-pass decoder refuses it.
            (Err(_), _) => {}
            (Ok(_), Err(e)) => panic!("ScoredItems::decode_from accepts what prost refuses: {e:?}"),
        }
    }
    if let Err(e) = &one_pass {
        std::hint::black_box(&e.message);
    }

    // Model scores (MODEL_SCORE).
    let one_pass = ScoreOutput::decode_from(data);
    if let Ok(wire) = ScoreResponse::decode(data) {
        let reference = ScoreOutput::from_wire(&wire);
        match (&one_pass, &reference) {
            (Ok(a), Ok(b)) => assert_eq!(
                a.encode_to_vec(),
                b.encode_to_vec(),
                "ScoreOutput::decode_from disagrees with prost"
            ),
            // Stricter is fine: prost truncates a count beyond u32, the
            // one-pass decoder refuses it.
            (Err(_), _) => {}
            (Ok(_), Err(e)) => panic!("ScoreOutput::decode_from accepts what prost refuses: {e:?}"),
        }
    }

    // The plugin side's decoding of a model request, with the item count from
    // the first byte (the host encodes it; a plugin in another process may not).
    if let Some((&items, rest)) = data.split_first() {
        let mut input = ScoreInput::default();
        let _ = std::hint::black_box(input.decode_from(rest, usize::from(items)));
    }

    // Messages prost decodes as they are.
    let _ = std::hint::black_box(PluginInfo::decode(data));
    let _ = std::hint::black_box(PluginError::decode(data));
    let _ = std::hint::black_box(PluginMessage::decode(data));
    let _ = std::hint::black_box(DomainDescription::decode(data));
    let _ = std::hint::black_box(InterpretResponse::decode(data));
    let _ = std::hint::black_box(AnswerBatch::decode(data));
}
