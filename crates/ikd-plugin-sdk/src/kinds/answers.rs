//! Parsing helpers for answers richer than one code or number, shared by the
//! domain plugins so that every kind reads answers the same way.

use crate::proto::ItemOption;

/// The answer that means "selected nothing" in a selection item (an empty
/// cell would mean "skipped").
pub const EMPTY_SELECTION: &str = "-";

/// Parses `a|c|d` (separator `sep`) into option indices, refusing unknown and
/// repeated codes. `EMPTY_SELECTION` gives an empty list.
pub fn parse_codes(answer: &str, sep: char, options: &[ItemOption]) -> Result<Vec<usize>, String> {
    if answer.trim() == EMPTY_SELECTION {
        return Ok(Vec::new());
    }
    let mut picked = Vec::new();
    for code in answer.split(sep).map(str::trim) {
        let Some(i) = options.iter().position(|o| o.code == code) else {
            let known: Vec<&str> = options.iter().map(|o| o.code.as_str()).collect();
            return Err(format!(
                "'{code}' is not one of the options ({})",
                known.join(", ")
            ));
        };
        if picked.contains(&i) {
            return Err(format!("option '{code}' is given twice"));
        }
        picked.push(i);
    }
    Ok(picked)
}

/// Parses a selection `a|c` like [`parse_codes`], first refusing empty codes
/// (`a||c`, `a|`) that would otherwise read as an unknown option.
pub fn parse_selection(
    answer: &str,
    sep: char,
    options: &[ItemOption],
) -> Result<Vec<usize>, String> {
    if answer != EMPTY_SELECTION && answer.split(sep).any(|c| c.trim().is_empty()) {
        return Err(format!(
            "'{answer}' has an empty code: join codes with one '{sep}', or answer '{EMPTY_SELECTION}' for none"
        ));
    }
    parse_codes(answer, sep, options)
}

/// Parses a decimal number, accepting a comma as the decimal separator
/// (`12,5` as written in Indonesia) as well as a point.
pub fn parse_decimal(answer: &str) -> Result<f64, String> {
    let text = answer.trim();
    let normalised = if text.contains(',') && !text.contains('.') {
        text.replace(',', ".")
    } else {
        text.to_owned()
    };
    match normalised.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(format!("'{text}' is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(codes: &[&str]) -> Vec<ItemOption> {
        codes
            .iter()
            .map(|c| ItemOption {
                code: c.to_string(),
                ..Default::default()
            })
            .collect()
    }

    #[test]
    fn codes_parse_in_order_and_refuse_unknown_or_repeated() {
        let o = options(&["a", "b", "c"]);
        assert_eq!(parse_codes("c|a", '|', &o), Ok(vec![2, 0]));
        assert_eq!(parse_codes(" b > a ", '>', &o), Ok(vec![1, 0]));
        assert_eq!(parse_codes("-", '|', &o), Ok(vec![]));
        assert!(
            parse_codes("a|z", '|', &o)
                .unwrap_err()
                .contains("'z' is not one of the options (a, b, c)")
        );
        assert!(parse_codes("a|a", '|', &o).unwrap_err().contains("twice"));
    }

    #[test]
    fn selections_refuse_empty_codes() {
        let o = options(&["a", "b", "c"]);
        assert_eq!(parse_selection("c|a", '|', &o), Ok(vec![2, 0]));
        assert_eq!(parse_selection("-", '|', &o), Ok(vec![]));
        for bad in ["a||c", "a|", "|", ""] {
            assert_eq!(
                parse_selection(bad, '|', &o),
                Err(format!(
                    "'{bad}' has an empty code: join codes with one '|', or answer '-' for none"
                ))
            );
        }
        assert!(parse_selection("a|z", '|', &o).unwrap_err().contains("'z'"));
    }

    #[test]
    fn decimals_accept_a_comma() {
        assert_eq!(parse_decimal("12,5"), Ok(12.5));
        assert_eq!(parse_decimal(" 7.25 "), Ok(7.25));
        assert!(parse_decimal("tujuh").is_err());
        assert!(parse_decimal("inf").is_err());
    }
}
