//! A result revision's parts kept in its own row (migration 0011): the domains and the
//! indicator scores as JSON arrays, the provenance as a key into `provenances`.
//!
//! One row per result, not six plus one per indicator: at millions of results the rows and
//! their index entries were most of the store's size and of a submit's writes. JSON because
//! both databases can unnest it in SQL, which `check_stats` and rebuilds need
//! ([`Backend::DOMAIN_ROWS`](crate::backend::Backend::DOMAIN_ROWS)); `serde_json` writes and
//! reads every `f64` bit for bit (`float_roundtrip`).

use sha2::{Digest, Sha256};

use crate::error::{corrupt, to_u32};
use crate::{DomainScore, IndicatorScore, StoreError};

/// `[code, score, se, level, answered, needed]`.
type DomainCells<'a> = (
    &'a str,
    Option<f64>,
    Option<f64>,
    Option<&'a str>,
    u32,
    Option<u32>,
);

/// The `domains` column: the domains in result order.
pub(crate) fn domains_json(domains: &[DomainScore]) -> String {
    let cells: Vec<DomainCells> = domains
        .iter()
        .map(|d| {
            (
                d.code.as_str(),
                d.score,
                d.se,
                d.level.as_deref(),
                d.answered,
                d.needed,
            )
        })
        .collect();
    serde_json::to_string(&cells).expect("a tuple of strings and numbers serialises")
}

/// The `indicators` column: `[domain, code, score]` per indicator.
pub(crate) fn indicators_json(indicators: &[IndicatorScore]) -> String {
    let cells: Vec<(&str, &str, Option<f64>)> = indicators
        .iter()
        .map(|i| (i.domain.as_str(), i.code.as_str(), i.score))
        .collect();
    serde_json::to_string(&cells).expect("a tuple of strings and numbers serialises")
}

/// Reads a `domains` column back; a corrupt value names the result.
pub(crate) fn parse_domains(
    json: &str,
    session_id: &str,
    revision: i64,
) -> Result<Vec<DomainScore>, StoreError> {
    type Cells = (
        String,
        Option<f64>,
        Option<f64>,
        Option<String>,
        i64,
        Option<i64>,
    );
    let cells: Vec<Cells> = serde_json::from_str(json).map_err(|e| {
        corrupt(format!(
            "domains of session '{session_id}' revision {revision}: {e}"
        ))
    })?;
    cells
        .into_iter()
        .map(|(code, score, se, level, answered, needed)| {
            let what =
                |field: &str| format!("{field} of domain '{code}' of session '{session_id}'");
            Ok(DomainScore {
                answered: to_u32(answered, || what("answered"))?,
                needed: needed.map(|n| to_u32(n, || what("needed"))).transpose()?,
                code,
                score,
                se,
                level,
            })
        })
        .collect()
}

/// Reads an `indicators` column (`[domain, code, score]` each) back; a corrupt value names
/// the result.
pub(crate) fn parse_indicators(
    json: &str,
    session_id: &str,
    revision: i64,
) -> Result<Vec<IndicatorScore>, StoreError> {
    let cells: Vec<(String, String, Option<f64>)> = serde_json::from_str(json).map_err(|e| {
        corrupt(format!(
            "indicator scores of session '{session_id}' revision {revision}: {e}"
        ))
    })?;
    Ok(cells
        .into_iter()
        .map(|(domain, code, score)| IndicatorScore {
            domain,
            code,
            score,
        })
        .collect())
}

/// SQL reading a domain's code, score and level from `{alias}.value`, an element of a
/// `domains` column unnested by `Backend::json_elements`.
pub(crate) fn domain_cells_sql(alias: &str) -> [String; 3] {
    [
        format!("{alias}.value ->> 0"),
        format!("CAST({alias}.value ->> 1 AS DOUBLE PRECISION)"),
        format!("{alias}.value ->> 3"),
    ]
}

/// SQL reading an indicator's domain, code and score from `{alias}.value`, an element of an
/// `indicators` column unnested by `Backend::json_elements`.
pub(crate) fn indicator_cells_sql(alias: &str) -> [String; 3] {
    [
        format!("{alias}.value ->> 0"),
        format!("{alias}.value ->> 1"),
        format!("CAST({alias}.value ->> 2 AS DOUBLE PRECISION)"),
    ]
}

/// The key of a provenance in `provenances`: the hex SHA-256 of its JSON, so that every
/// result of one scoring run shares one row, whichever server or batch wrote it first.
pub(crate) fn provenance_id(json: &str) -> String {
    hex::encode(Sha256::digest(json.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(code: &str, score: Option<f64>, needed: Option<u32>) -> DomainScore {
        DomainScore {
            code: code.into(),
            score,
            se: score.map(|s| s / 7.0),
            level: score.map(|_| "tinggi".into()),
            answered: 3,
            needed,
        }
    }

    #[test]
    fn domains_read_back_bit_for_bit_in_order() {
        let domains = vec![
            domain("literasi", Some(72.541_666_666_666_67), Some(3)),
            domain("budaya \"data\"\t/é", None, Some(4)),
            domain("etika", Some(0.1 + 0.2), None),
        ];
        let json = domains_json(&domains);
        assert_eq!(parse_domains(&json, "s", 1).unwrap(), domains);
        assert_eq!(parse_domains("[]", "s", 1).unwrap(), Vec::new());
    }

    #[test]
    fn indicators_read_back_bit_for_bit() {
        let indicators = vec![
            IndicatorScore {
                domain: "literasi".into(),
                code: "informasi".into(),
                score: Some(1.0 / 3.0),
            },
            IndicatorScore {
                domain: "literasi".into(),
                code: "komunikasi".into(),
                score: None,
            },
        ];
        let read = parse_indicators(&indicators_json(&indicators), "s", 2).unwrap();
        assert_eq!(read, indicators);
    }

    #[test]
    fn a_corrupt_column_names_its_result() {
        let err = parse_domains("[[\"x\", 1.0]]", "abc", 3)
            .unwrap_err()
            .to_string();
        assert!(err.contains("domains of session 'abc' revision 3"), "{err}");
        let err = parse_domains("[[\"x\", 1.0, null, null, -1, null]]", "abc", 3)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("answered of domain 'x' of session 'abc'"),
            "{err}"
        );
        let err = parse_indicators("{", "abc", 4).unwrap_err().to_string();
        assert!(
            err.contains("indicator scores of session 'abc' revision 4"),
            "{err}"
        );
    }

    #[test]
    fn a_provenance_is_keyed_by_the_sha256_of_its_json() {
        // sha256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            provenance_id("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
