//! Field checks shared by every section, so the same rule always reads the
//! same way in a message.

use super::findings::Findings;
use super::raw::RawText;
use super::{Location, Text};
use semver::{Version, VersionReq};
use std::collections::HashMap;
use std::ops::RangeInclusive;
use toml::Spanned;

/// A bilingual label: both languages must be filled in, because every label a
/// person reads exists in Bahasa Indonesia and English.
pub(super) fn bilingual(
    findings: &mut Findings,
    text: &Spanned<RawText>,
    subject: &str,
    field: &str,
) -> Text {
    let raw = text.get_ref();
    let empty: Vec<&str> = [
        (&raw.id, "Bahasa Indonesia (id)"),
        (&raw.en, "English (en)"),
    ]
    .into_iter()
    .filter(|(value, _)| value.trim().is_empty())
    .map(|(_, language)| language)
    .collect();
    if !empty.is_empty() {
        findings.report_at(
            &text.span(),
            subject,
            field,
            format!(
                "the text in {} is empty: every label needs Bahasa Indonesia (id) and English (en)",
                empty.join(" and ")
            ),
        );
    }
    Text {
        id: raw.id.clone(),
        en: raw.en.clone(),
    }
}

/// A non-empty name; reports and returns false when empty.
pub(super) fn non_empty(
    findings: &mut Findings,
    value: &Spanned<String>,
    subject: &str,
    field: &str,
) -> bool {
    let filled = !value.get_ref().trim().is_empty();
    if !filled {
        findings.report_at(&value.span(), subject, field, format!("{field} is empty"));
    }
    filled
}

/// A code of lowercase letters and digits, plus the `separators` given,
/// starting with a letter or digit: codes appear in file names, URLs and CSV headers.
pub(super) fn code(
    findings: &mut Findings,
    value: &Spanned<String>,
    separators: &str,
    subject: &str,
    field: &str,
) {
    let code = value.get_ref();
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let valid = code.chars().next().is_some_and(allowed)
        && code.chars().all(|c| allowed(c) || separators.contains(c));
    if !valid {
        let separators = separators
            .chars()
            .map(|c| format!("'{c}'"))
            .collect::<Vec<_>>();
        findings.report_at(
            &value.span(),
            subject,
            field,
            format!(
                "'{code}' is not a valid {field}: use lowercase letters, digits and {}, \
                 starting with a letter or digit",
                separators.join(", ")
            ),
        );
    }
}

/// An item id: ASCII letters, digits, `_`, `.` and `-`, starting with a letter
/// or digit, at most [`MAX_ITEM_ID`](super::MAX_ITEM_ID) bytes. Item ids are CSV column names and gRPC field names: an invisible
/// or look-alike character (a zero-width space, a combining accent, a
/// right-to-left override) would make a column that no one can type or see.
pub(super) fn item_id(findings: &mut Findings, value: &Spanned<String>, subject: &str) {
    let id = value.get_ref();
    let allowed = |c: char| c.is_ascii_alphanumeric();
    let valid = id.chars().next().is_some_and(allowed)
        && id.chars().all(|c| allowed(c) || "_.-".contains(c));
    if id.len() > super::MAX_ITEM_ID {
        findings.report_at(
            &value.span(),
            subject,
            "id",
            format!(
                "item id of {} bytes is longer than {} bytes",
                id.len(),
                super::MAX_ITEM_ID
            ),
        );
    } else if !valid {
        findings.report_at(
            &value.span(),
            subject,
            "id",
            format!(
                "{:?} is not a valid item id: use ASCII letters, digits, '_', '.' and '-', \
                 starting with a letter or digit",
                id
            ),
        );
    }
}

/// A weight: finite and above zero. Absent, it is `default`.
pub(super) fn weight(
    findings: &mut Findings,
    value: Option<&Spanned<f64>>,
    default: f64,
    subject: &str,
    field: &str,
) -> f64 {
    let Some(value) = value else {
        return default;
    };
    let weight = *value.get_ref();
    if !(weight.is_finite() && weight > 0.0) {
        findings.report_at(
            &value.span(),
            subject,
            field,
            format!("{field} must be a finite number above 0 (found {weight})"),
        );
    }
    weight
}

/// A finite number (any sign).
pub(super) fn finite(
    findings: &mut Findings,
    value: &Spanned<f64>,
    subject: &str,
    field: &str,
) -> bool {
    let finite = value.get_ref().is_finite();
    if !finite {
        findings.report_at(
            &value.span(),
            subject,
            field,
            format!(
                "{field} must be a finite number (found {})",
                value.get_ref()
            ),
        );
    }
    finite
}

/// A fraction within [0, 1], when given.
pub(super) fn fraction(
    findings: &mut Findings,
    value: Option<&Spanned<f64>>,
    subject: &str,
    field: &str,
) -> Option<f64> {
    let value = value?;
    let fraction = *value.get_ref();
    if !(0.0..=1.0).contains(&fraction) {
        findings.report_at(
            &value.span(),
            subject,
            field,
            format!("{field} must be between 0 and 1 (found {fraction})"),
        );
    }
    Some(fraction)
}

/// A whole number within `range`, when given; `None` when absent or out of range.
pub(super) fn count(
    findings: &mut Findings,
    value: Option<&Spanned<i64>>,
    range: RangeInclusive<i64>,
    subject: &str,
    field: &str,
) -> Option<u32> {
    let value = value?;
    let number = *value.get_ref();
    let in_range = range
        .contains(&number)
        .then(|| u32::try_from(number).ok())
        .flatten();
    if in_range.is_none() {
        let expected = if *range.end() >= i64::from(u32::MAX) {
            format!("at least {}", range.start())
        } else {
            format!("between {} and {}", range.start(), range.end())
        };
        findings.report_at(
            &value.span(),
            subject,
            field,
            format!("{field} must be {expected} (found {number})"),
        );
    }
    in_range
}

/// The whole numbers a count may take: `minimum` up to what a `u32` holds.
pub(super) fn at_least(minimum: i64) -> RangeInclusive<i64> {
    minimum..=i64::from(u32::MAX)
}

/// A semantic version such as `1.0.0`; `0.0.0` stands in when it is not one.
pub(super) fn version(
    findings: &mut Findings,
    value: &Spanned<String>,
    subject: &str,
    field: &str,
) -> Version {
    Version::parse(value.get_ref().trim()).unwrap_or_else(|error| {
        findings.report_at(
            &value.span(),
            subject,
            field,
            format!(
                "'{}' is not a semantic version such as 1.0.0: {error}",
                value.get_ref()
            ),
        );
        Version::new(0, 0, 0)
    })
}

/// A version requirement such as `^0.1`; any version (`*`) when absent or wrong.
pub(super) fn requirement(
    findings: &mut Findings,
    value: Option<&Spanned<String>>,
    subject: &str,
    field: &str,
) -> VersionReq {
    let Some(value) = value else {
        return VersionReq::STAR;
    };
    VersionReq::parse(value.get_ref().trim()).unwrap_or_else(|error| {
        findings.report_at(
            &value.span(),
            subject,
            field,
            format!(
                "'{}' is not a version requirement such as ^0.1, >=1.2 or *: {error}",
                value.get_ref()
            ),
        );
        VersionReq::STAR
    })
}

/// Remembers where each name was first declared, so that a duplicate is
/// reported with the place of the original.
pub(super) struct FirstSeen {
    /// What the names are, for messages: `item id`, `level code`.
    what: &'static str,
    seen: HashMap<String, Location>,
}

impl FirstSeen {
    pub(super) fn new(what: &'static str) -> Self {
        Self {
            what,
            seen: HashMap::new(),
        }
    }

    /// Records `name`; reports it when it was declared before. Empty names are
    /// left to [`non_empty`].
    pub(super) fn record(
        &mut self,
        findings: &mut Findings,
        name: &Spanned<String>,
        subject: &str,
        field: &str,
    ) {
        if name.get_ref().trim().is_empty() {
            return;
        }
        let here = findings.locate(&name.span());
        match self.seen.get(name.get_ref()) {
            Some(first) => findings.report(
                Some(here),
                subject,
                field,
                format!(
                    "duplicate {} '{}': first declared at line {}, column {}",
                    self.what,
                    name.get_ref(),
                    first.line,
                    first.column
                ),
            ),
            None => {
                self.seen.insert(name.get_ref().clone(), here);
            }
        }
    }
}
