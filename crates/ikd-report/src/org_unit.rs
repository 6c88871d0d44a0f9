//! Organisation units and prefixes: the engine's rule (`ikd_core::org_unit`,
//! also the server's), so a report covers exactly the units an aggregate of
//! the server would; plus the check of a requested prefix.
//!
//! Units are segments joined by `.` or `/` (`36.72/diskominfo`). A prefix
//! covers the unit equal to it and every unit continuing it with a separator:
//! `36.72` covers `36.72.01` and `36.72/diskominfo`, never `36.721`.

use crate::error::ReportError;

pub use ikd_core::org_unit::{child, parent, unit_within};

/// Checks a prefix as the server checks an organisation unit: no empty
/// segment (leading, trailing or doubled separator). The empty prefix (every
/// unit) is allowed.
pub fn check_prefix(prefix: &str) -> Result<(), ReportError> {
    if !prefix.is_empty() && prefix.split(['.', '/']).any(str::is_empty) {
        return Err(ReportError::InvalidPrefix {
            prefix: prefix.to_owned(),
            message: "has an empty segment (a leading, trailing or doubled separator)".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_with_empty_segments_are_refused() {
        assert!(check_prefix("36.72").is_ok());
        assert!(check_prefix("").is_ok());
        for bad in ["36.", ".36", "36..72", "36./x"] {
            let err = check_prefix(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("'{bad}'")), "{err}");
        }
    }
}
