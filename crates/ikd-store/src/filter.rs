//! Which results a [`ResultFilter`] selects: the latest revision of each submitted session
//! that counts (the latest of its person, see [`crate::Store::submit`]), by organisation
//! prefix, instrument and submission time. Shared by result pages, aggregates and unit
//! counts, so that all three apply the re-taking rule alike.

use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::{MAX_PAGE, ResultFilter};

/// Which rows of the latest revision [`push_latest_from`] joins to the sessions.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Latest {
    /// `results r`.
    Results,
    /// `results r`, joined by the submission time too (migration 0012), for reading in
    /// submission order: the sessions' `(submitted_at, id)` index and the results'
    /// `(submitted_at, session_id, revision)` one can then be read side by side (a merge
    /// join) instead of looking each result up by its key.
    InSubmissionOrder,
    /// `results r` and each of its domains as `d` (`d.value`: see
    /// `crate::result_row::domain_cells_sql`), unnested by the backend's `json_elements`.
    Domains(fn(&str, &str) -> String),
}

/// `FROM` clause of the latest revision of each submitted session that counts, with the
/// filter; the caller appends more conditions with `AND`.
pub(crate) fn push_latest_from<'a, DB>(
    qb: &mut QueryBuilder<'a, DB>,
    rows: Latest,
    filter: &ResultFilter,
) where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    qb.push(
        " FROM sessions s JOIN results r \
         ON r.session_id = s.id AND r.revision = s.latest_revision",
    );
    if let Latest::InSubmissionOrder = rows {
        qb.push(" AND r.submitted_at = s.submitted_at");
    }
    if let Latest::Domains(elements) = rows {
        qb.push(format!(", {}", elements("r.domains", "d")));
    }
    // A literal, not a bind: the partial indexes are declared `WHERE state = 'submitted'`.
    qb.push(" WHERE s.state = 'submitted'");
    // One person, one weight: a session the same person re-took later does not count.
    qb.push(" AND s.superseded_by IS NULL");
    push_prefix(qb, "s.org_unit", &filter.org_prefix);
    if let Some(instrument) = &filter.instrument_id {
        qb.push(" AND s.instrument_id = ")
            .push_bind(instrument.clone());
    }
    if let Some(from) = filter.from {
        qb.push(" AND s.submitted_at >= ").push_bind(from);
    }
    if let Some(to) = filter.to {
        qb.push(" AND s.submitted_at < ").push_bind(to);
    }
}

/// ` AND <column> is <prefix> or a unit below it` (nothing for the empty prefix).
pub(crate) fn push_prefix<'a, DB>(qb: &mut QueryBuilder<'a, DB>, column: &str, prefix: &str)
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
{
    if prefix.is_empty() {
        return;
    }
    // One range both planners turn into an index range scan ([p, p0)), then the units
    // in it that are not p itself nor below it (p-1, p%, …: bytes between p and p.).
    let (lower, upper) = prefix_range(prefix);
    qb.push(format!(" AND {column} >= "))
        .push_bind(prefix.to_owned())
        .push(format!(" AND {column} < "))
        .push_bind(upper)
        .push(format!(" AND ({column} = "))
        .push_bind(prefix.to_owned())
        .push(format!(" OR {column} >= "))
        .push_bind(lower)
        .push(")");
}

/// Units strictly below `prefix` are exactly the strings in `[prefix + ".", prefix + "0")`
/// in byte order: `.` (0x2E), `/` (0x2F) and `0` (0x30) are consecutive.
fn prefix_range(prefix: &str) -> (String, String) {
    (format!("{prefix}."), format!("{prefix}0"))
}

/// A page size as bound: at most [`MAX_PAGE`].
pub(crate) fn page_limit(limit: u32) -> i64 {
    i64::from(limit.min(MAX_PAGE))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-range rule equals the textual rule on tricky units.
    #[test]
    fn prefix_range_is_the_prefix_rule() {
        let units = [
            "36",
            "36.7",
            "36.72",
            "36.72.01",
            "36.72/diskominfo",
            "36.7/x",
            "36.7.1",
            "36.70",
            "36.7-1",
            "36.7_1",
            "36.7%",
            "36.7.",
            "36.7/",
            "36.70.1",
            "36.7\u{e9}",
            "36.6.9",
        ];
        for prefix in ["36.7", "36", "36.7_", "36.7%", "36.72"] {
            let (lower, upper) = prefix_range(prefix);
            for unit in units {
                let textual = unit == prefix
                    || unit
                        .strip_prefix(prefix)
                        .is_some_and(|rest| rest.starts_with(['.', '/']));
                let ranged = unit == prefix || (unit >= lower.as_str() && unit < upper.as_str());
                assert_eq!(textual, ranged, "prefix {prefix:?}, unit {unit:?}");
                // The form the SQL uses: one index range, then a filter.
                let sql = unit >= prefix
                    && unit < upper.as_str()
                    && (unit == prefix || unit >= lower.as_str());
                assert_eq!(textual, sql, "SQL form, prefix {prefix:?}, unit {unit:?}");
            }
        }
    }
}
