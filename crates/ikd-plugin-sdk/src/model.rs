//! Scoring models: item scores → domain scores, standard errors, composite index, levels.

use crate::dense::{self, decode, encode};
use crate::proto::{ModelConfig, PluginError, ScoreRequest, ScoreResponse};

/// A scoring model plugin (e.g. the classical weighted index, or IRT).
///
/// One instance serves one instrument: [`ScoringModel::new`] receives the
/// instrument's layout (domains, indicators, items with their score ranges,
/// level bands) and the model's settings, checks them once, and then scores
/// any number of batches.
pub trait ScoringModel: Send + Sync + Sized + 'static {
    /// The model name instruments and `--model` refer to.
    const NAME: &'static str;
    /// One line describing the model.
    const DESCRIPTION: &'static str;

    /// Prepares the model for one instrument; report bad settings with the field at fault.
    fn new(config: &ModelConfig) -> Result<Self, PluginError>;

    /// Scores a batch of respondents.
    fn score(&self, input: &ScoreInput) -> Result<ScoreOutput, PluginError>;
}

/// The item scores of a batch: respondents × items, row-major.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScoreInput {
    pub respondents: u32,
    /// NaN where the cell is not scored.
    pub item_scores: Vec<f64>,
    /// `AnswerStatus` values.
    pub item_status: Vec<u8>,
}

/// What a model gives for a batch. Per-domain arrays are respondents × domains, row-major.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScoreOutput {
    pub respondents: u32,
    pub domains: u32,
    /// NaN where missing.
    pub domain_scores: Vec<f64>,
    /// NaN where the model gives no standard error.
    pub domain_se: Vec<f64>,
    pub domain_answered: Vec<u32>,
    /// Band index, −1 where missing.
    pub domain_levels: Vec<i32>,
    pub index: Vec<f64>,
    pub index_se: Vec<f64>,
    pub index_levels: Vec<i32>,
}

impl ScoreInput {
    pub fn to_wire(&self) -> ScoreRequest {
        ScoreRequest {
            respondents: self.respondents,
            item_scores: encode(&self.item_scores).into(),
            item_status: encode(&self.item_status).into(),
        }
    }

    /// Encodes as a `ScoreRequest` into `out` (cleared first) in one pass:
    /// the same bytes as `to_wire().encode_to_vec()`, without the copies.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.clear();
        out.reserve(16 + self.item_scores.len() * 8 + self.item_status.len());
        if self.respondents != 0 {
            prost::encoding::encode_key(1, prost::encoding::WireType::Varint, out);
            prost::encoding::encode_varint(u64::from(self.respondents), out);
        }
        dense::put_field(2, &self.item_scores, out);
        dense::put_field(3, &self.item_status, out);
    }

    /// Decodes a `ScoreRequest` straight from borrowed bytes into `self`,
    /// reusing its buffers; unknown fields are skipped.
    pub fn decode_from(&mut self, mut bytes: &[u8], items: usize) -> Result<(), PluginError> {
        use prost::encoding::{DecodeContext, WireType, decode_key, decode_varint, skip_field};
        let bad =
            |e: prost::DecodeError| PluginError::msg(format!("cannot decode the request: {e}"));
        let (mut respondents, mut scores, mut status): (u64, &[u8], &[u8]) = (0, &[], &[]);
        while !bytes.is_empty() {
            let (tag, wire_type) = decode_key(&mut bytes).map_err(bad)?;
            match (tag, wire_type) {
                (1, WireType::Varint) => respondents = decode_varint(&mut bytes).map_err(bad)?,
                (2 | 3, WireType::LengthDelimited) => {
                    let len = decode_varint(&mut bytes).map_err(bad)? as usize;
                    if len > bytes.len() {
                        return Err(PluginError::msg(
                            "cannot decode the request: truncated field",
                        ));
                    }
                    let (field, rest) = bytes.split_at(len);
                    if tag == 2 {
                        scores = field
                    } else {
                        status = field
                    }
                    bytes = rest;
                }
                _ => {
                    skip_field(wire_type, tag, &mut bytes, DecodeContext::default()).map_err(bad)?
                }
            }
        }
        self.respondents = u32::try_from(respondents)
            .map_err(|_| PluginError::msg(format!("{respondents} respondents in one batch")))?;
        let cells = self.respondents as usize * items;
        dense::decode_into(scores, cells, "item_scores", &mut self.item_scores)?;
        dense::decode_into(status, cells, "item_status", &mut self.item_status)
    }

    /// Reads a request; the number of items comes from the model's configuration.
    pub fn from_wire(wire: &ScoreRequest, items: usize) -> Result<Self, PluginError> {
        let cells = wire.respondents as usize * items;
        Ok(ScoreInput {
            respondents: wire.respondents,
            item_scores: decode(&wire.item_scores, cells, "item_scores")?,
            item_status: decode(&wire.item_status, cells, "item_status")?,
        })
    }
}

impl ScoreOutput {
    pub fn to_wire(&self) -> ScoreResponse {
        ScoreResponse {
            respondents: self.respondents,
            domains: self.domains,
            domain_scores: encode(&self.domain_scores).into(),
            domain_se: encode(&self.domain_se).into(),
            domain_answered: encode(&self.domain_answered).into(),
            domain_levels: encode(&self.domain_levels).into(),
            index: encode(&self.index).into(),
            index_se: encode(&self.index_se).into(),
            index_levels: encode(&self.index_levels).into(),
        }
    }

    /// Encodes as a `ScoreResponse` in one pass (the bytes of
    /// `to_wire().encode_to_vec()`, without the intermediate copies).
    pub fn encode_to_vec(&self) -> Vec<u8> {
        use prost::encoding::{WireType, encode_key, encode_varint};
        let mut out =
            Vec::with_capacity(32 + self.domain_scores.len() * 24 + self.index.len() * 20);
        for (tag, value) in [(1, self.respondents), (2, self.domains)] {
            if value != 0 {
                encode_key(tag, WireType::Varint, &mut out);
                encode_varint(u64::from(value), &mut out);
            }
        }
        dense::put_field(3, &self.domain_scores, &mut out);
        dense::put_field(4, &self.domain_se, &mut out);
        dense::put_field(5, &self.domain_answered, &mut out);
        dense::put_field(6, &self.domain_levels, &mut out);
        dense::put_field(7, &self.index, &mut out);
        dense::put_field(8, &self.index_se, &mut out);
        dense::put_field(9, &self.index_levels, &mut out);
        out
    }

    /// Decodes a `ScoreResponse` straight from borrowed bytes, checking every
    /// array against `respondents` × `domains`; unknown fields are skipped.
    pub fn decode_from(mut bytes: &[u8]) -> Result<Self, PluginError> {
        use prost::encoding::{DecodeContext, WireType, decode_key, decode_varint, skip_field};
        let bad =
            |e: prost::DecodeError| PluginError::msg(format!("cannot decode the response: {e}"));
        let mut counts = [0u64; 2];
        let mut arrays: [&[u8]; 7] = [&[]; 7];
        while !bytes.is_empty() {
            let (tag, wire_type) = decode_key(&mut bytes).map_err(bad)?;
            match (tag, wire_type) {
                (1 | 2, WireType::Varint) => {
                    counts[tag as usize - 1] = decode_varint(&mut bytes).map_err(bad)?
                }
                (3..=9, WireType::LengthDelimited) => {
                    let len = decode_varint(&mut bytes).map_err(bad)? as usize;
                    if len > bytes.len() {
                        return Err(PluginError::msg(
                            "cannot decode the response: truncated field",
                        ));
                    }
                    let (field, rest) = bytes.split_at(len);
                    arrays[tag as usize - 3] = field;
                    bytes = rest;
                }
                _ => {
                    skip_field(wire_type, tag, &mut bytes, DecodeContext::default()).map_err(bad)?
                }
            }
        }
        let count = |c: u64, what: &str| {
            u32::try_from(c).map_err(|_| PluginError::msg(format!("{c} {what} in one response")))
        };
        let (respondents, domains) = (
            count(counts[0], "respondents")?,
            count(counts[1], "domains")?,
        );
        let n = respondents as usize;
        let cells = n * domains as usize;
        Ok(ScoreOutput {
            respondents,
            domains,
            domain_scores: decode(arrays[0], cells, "domain_scores")?,
            domain_se: decode(arrays[1], cells, "domain_se")?,
            domain_answered: decode(arrays[2], cells, "domain_answered")?,
            domain_levels: decode(arrays[3], cells, "domain_levels")?,
            index: decode(arrays[4], n, "index")?,
            index_se: decode(arrays[5], n, "index_se")?,
            index_levels: decode(arrays[6], n, "index_levels")?,
        })
    }

    /// Reads a response, checking every array against `respondents` × `domains`.
    pub fn from_wire(wire: &ScoreResponse) -> Result<Self, PluginError> {
        let n = wire.respondents as usize;
        let cells = n * wire.domains as usize;
        Ok(ScoreOutput {
            respondents: wire.respondents,
            domains: wire.domains,
            domain_scores: decode(&wire.domain_scores, cells, "domain_scores")?,
            domain_se: decode(&wire.domain_se, cells, "domain_se")?,
            domain_answered: decode(&wire.domain_answered, cells, "domain_answered")?,
            domain_levels: decode(&wire.domain_levels, cells, "domain_levels")?,
            index: decode(&wire.index, n, "index")?,
            index_se: decode(&wire.index_se, n, "index_se")?,
            index_levels: decode(&wire.index_levels, n, "index_levels")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn input() -> ScoreInput {
        ScoreInput {
            respondents: 2,
            item_scores: vec![1.0, f64::NAN, 3.5, 0.0],
            item_status: vec![0, 1, 0, 4],
        }
    }

    #[test]
    fn one_pass_encoding_gives_the_protobuf_bytes() {
        let mut out = vec![9, 9];
        input().encode_into(&mut out);
        assert_eq!(out, input().to_wire().encode_to_vec());
    }

    #[test]
    fn responses_encode_and_decode_in_one_pass_like_protobuf() {
        let output = ScoreOutput {
            respondents: 2,
            domains: 1,
            domain_scores: vec![50.0, f64::NAN],
            domain_se: vec![f64::NAN, f64::NAN],
            domain_answered: vec![3, 0],
            domain_levels: vec![2, -1],
            index: vec![50.0, f64::NAN],
            index_se: vec![f64::NAN; 2],
            index_levels: vec![2, -1],
        };
        let bytes = output.encode_to_vec();
        assert_eq!(bytes, output.to_wire().encode_to_vec());
        let back = ScoreOutput::decode_from(&bytes).unwrap();
        assert_eq!(format!("{back:?}"), format!("{output:?}"));
        let err = ScoreOutput::decode_from(&bytes[..bytes.len() - 4]).unwrap_err();
        assert!(
            err.message.contains("index_levels") || err.message.contains("truncated"),
            "{err}"
        );
    }

    #[test]
    fn decoding_into_reused_buffers_matches_the_protobuf_decoder() {
        let bytes = input().to_wire().encode_to_vec();
        let mut reused = ScoreInput {
            respondents: 9,
            item_scores: vec![7.0; 10],
            item_status: vec![3; 10],
        };
        reused.decode_from(&bytes, 2).unwrap();
        let expected =
            ScoreInput::from_wire(&ScoreRequest::decode(&bytes[..]).unwrap(), 2).unwrap();
        assert_eq!(format!("{reused:?}"), format!("{expected:?}"));
        // An unknown field from a newer host is skipped.
        let mut newer = bytes.clone();
        prost::encoding::encode_key(9, prost::encoding::WireType::Varint, &mut newer);
        prost::encoding::encode_varint(5, &mut newer);
        reused.decode_from(&newer, 2).unwrap();
        assert_eq!(reused.item_status, [0, 1, 0, 4]);
        // A size that does not match the items is refused with the field named.
        let err = reused.decode_from(&bytes, 3).unwrap_err();
        assert!(err.message.contains("item_scores"), "{err}");
        assert!(reused.decode_from(&bytes[..bytes.len() - 1], 2).is_err());
    }
}
