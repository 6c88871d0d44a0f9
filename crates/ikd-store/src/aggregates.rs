//! Sums over the latest revision of each matching result, and result counts per unit.
//!
//! They are read from the statistics the writes keep (`crate::stats`): an aggregate of all
//! time reads its prefix's rows of `prefix_stats` (a few dozen, whatever is under it); a
//! window sums the per-unit rows of its days; per-unit sums and counts read `unit_stats`.
//! None of it grows with the number of results. A window that does not fall on whole UTC days — the server only
//! asks for whole days — is summed from the results themselves (`by_scan`), as the
//! statistics have no finer time. Either way a person counts once: the sessions they
//! re-took count nowhere.

use std::collections::HashMap;
use std::marker::PhantomData;

use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::backend::Backend;
use crate::error::{corrupt, db_err};
use crate::filter::{Latest, push_latest_from, push_prefix};
use crate::packed::unescape;
use crate::result_row::domain_cells_sql;
use crate::stats::{DAY_MS, Kind, Table};
use crate::{Aggregate, DomainAggregate, IndicatorAggregate, ResultFilter, StoreError};

#[derive(sqlx::FromRow)]
struct TotalsRow {
    n: i64,
    index_n: i64,
    index_sum: f64,
    index_sum_sq: f64,
    flagged: i64,
}

/// A statistics row summed over units (and days), with its unit when asked per unit.
#[derive(Debug, sqlx::FromRow)]
struct SummedRow {
    org_unit: String,
    kind: String,
    domain: String,
    indicator: String,
    level: String,
    n: i64,
    missing: i64,
    sum: f64,
    sum_sq: f64,
}

#[derive(sqlx::FromRow)]
struct LevelRow {
    level: String,
    n: i64,
}

#[derive(sqlx::FromRow)]
struct DomainTotalsRow {
    code: String,
    n: i64,
    missing: i64,
    sum: f64,
    sum_sq: f64,
}

#[derive(sqlx::FromRow)]
struct DomainLevelRow {
    code: String,
    level: String,
    n: i64,
}

/// The aggregate operations of [`crate::Store`]. A type only so that the sqlx bounds (see
/// [`crate::backend`]) are written once for all of them.
pub(crate) struct Aggregates<B>(PhantomData<B>);

impl<B: Backend> Aggregates<B>
where
    for<'c> &'c mut <B::Db as Database>::Connection: sqlx::Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: sqlx::IntoArguments<'q, B::Db>,
    for<'q> String: sqlx::Encode<'q, B::Db> + sqlx::Decode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> i64: sqlx::Encode<'q, B::Db> + sqlx::Decode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> Option<i64>: sqlx::Encode<'q, B::Db>,
    for<'q> f64: sqlx::Decode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> &'q str: sqlx::ColumnIndex<<B::Db as Database>::Row>,
    usize: sqlx::ColumnIndex<<B::Db as Database>::Row>,
{
    /// [`crate::Store::aggregate`].
    pub(crate) async fn sums(store: &B, filter: &ResultFilter) -> Result<Aggregate, StoreError> {
        let err = || {
            db_err(
                B::NAME,
                format!(
                    "aggregating results under org prefix '{}'",
                    filter.org_prefix
                ),
            )
        };
        let Some(days) = whole_days(filter) else {
            return Self::by_scan(store, filter).await;
        };
        let rows: Vec<SummedRow> = B::fetch_all(
            &mut *store.read_pool().acquire().await.map_err(err())?,
            stats_query(filter, days, false),
            true,
        )
        .await
        .map_err(err())?;
        Ok(by_unit(rows)
            .pop()
            .map(|(_, sums)| sums)
            .unwrap_or_default())
    }

    /// [`crate::Store::unit_aggregates`].
    pub(crate) async fn sums_by_unit(
        store: &B,
        filter: &ResultFilter,
    ) -> Result<Vec<(String, Aggregate)>, StoreError> {
        let err = || {
            db_err(
                B::NAME,
                format!("aggregating results per unit under '{}'", filter.org_prefix),
            )
        };
        let days = whole_days(filter).ok_or_else(|| not_whole_days(filter))?;
        let mut conn = store.read_pool().acquire().await.map_err(err())?;
        let rows: Vec<SummedRow> = if B::COSTLY_ROWS {
            // Thousands of units of dozens of rows each: one row per unit instead.
            let units: Vec<PackedUnitRow> =
                B::fetch_all(&mut conn, packed_units_query::<B>(filter, days), true)
                    .await
                    .map_err(err())?;
            unpack_units(units)?
        } else {
            B::fetch_all(&mut conn, stats_query(filter, days, true), true)
                .await
                .map_err(err())?
        };
        Ok(by_unit(rows))
    }

    /// [`crate::Store::aggregate`] over a window that is not whole days: five queries over
    /// the results, in one snapshot.
    async fn by_scan(store: &B, filter: &ResultFilter) -> Result<Aggregate, StoreError> {
        let err = || {
            db_err(
                B::NAME,
                format!(
                    "aggregating results under org prefix '{}'",
                    filter.org_prefix
                ),
            )
        };
        let [totals, levels, domains, domain_levels] = aggregate_queries(filter, B::json_elements);
        let mut tx = store.read_tx().await.map_err(err())?;
        let totals: TotalsRow = B::fetch_one(&mut *tx, totals).await.map_err(err())?;
        let levels: Vec<LevelRow> = B::fetch_all(&mut *tx, levels, true).await.map_err(err())?;
        let domains: Vec<DomainTotalsRow> =
            B::fetch_all(&mut *tx, domains, true).await.map_err(err())?;
        let domain_levels: Vec<DomainLevelRow> = B::fetch_all(&mut *tx, domain_levels, true)
            .await
            .map_err(err())?;
        tx.commit().await.map_err(err())?;
        Ok(assemble_aggregate(totals, levels, domains, domain_levels))
    }

    /// [`crate::Store::unit_counts`].
    pub(crate) async fn unit_counts(
        store: &B,
        filter: &ResultFilter,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let err = || {
            db_err(
                B::NAME,
                format!("counting results per unit under '{}'", filter.org_prefix),
            )
        };
        let query = match whole_days(filter) {
            Some(days) => unit_counts_from_stats(filter, days, false),
            None => unit_counts_query(filter),
        };
        let rows: Vec<(String, i64)> = B::fetch_all(
            &mut *store.read_pool().acquire().await.map_err(err())?,
            query,
            true,
        )
        .await
        .map_err(err())?;
        Ok(rows.into_iter().map(|(u, n)| (u, to_u64(n))).collect())
    }

    /// [`crate::Store::unit_day_counts`].
    pub(crate) async fn unit_day_counts(
        store: &B,
        filter: &ResultFilter,
    ) -> Result<Vec<(String, i64, u64)>, StoreError> {
        let err = || {
            db_err(
                B::NAME,
                format!(
                    "counting results per unit and day under '{}'",
                    filter.org_prefix
                ),
            )
        };
        let days = whole_days(filter).ok_or_else(|| not_whole_days(filter))?;
        let rows: Vec<(String, i64, i64)> = B::fetch_all(
            &mut *store.read_pool().acquire().await.map_err(err())?,
            unit_counts_from_stats(filter, days, true),
            true,
        )
        .await
        .map_err(err())?;
        Ok(rows
            .into_iter()
            .map(|(u, day, n)| (u, day, to_u64(n)))
            .collect())
    }
}

/// A window in days: `None` when `filter`'s window does not fall on whole UTC days; else
/// the first day and the day after the last (each `None` when unbounded).
type Days = (Option<i64>, Option<i64>);

fn whole_days(filter: &ResultFilter) -> Option<Days> {
    let day = |ms: Option<i64>| match ms {
        None => Some(None),
        Some(ms) if ms.rem_euclid(DAY_MS) == 0 => Some(Some(ms.div_euclid(DAY_MS))),
        Some(_) => None,
    };
    Some((day(filter.from)?, day(filter.to)?))
}

fn not_whole_days(filter: &ResultFilter) -> StoreError {
    StoreError::Invalid(format!(
        "per-unit sums have whole UTC days as their finest time: the window [{:?}, {:?}) \
         (Unix milliseconds) does not start and end at midnight UTC",
        filter.from, filter.to
    ))
}

/// The statistics table that answers a window: the totals unless it has a bound.
fn table_for(days: Days) -> Table {
    if days == (None, None) {
        Table::Total
    } else {
        Table::Daily
    }
}

/// ` FROM <table> WHERE …` for `filter` and `days`.
fn push_stats_from<'a, DB>(
    qb: &mut QueryBuilder<'a, DB>,
    table: Table,
    filter: &ResultFilter,
    days: Days,
) where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    qb.push(format!(" FROM {} WHERE 1 = 1", table.name()));
    if let Some(instrument) = &filter.instrument_id {
        qb.push(" AND instrument_id = ")
            .push_bind(instrument.clone());
    }
    if table == Table::Prefix {
        // The prefix's own rows already hold every unit under it.
        qb.push(" AND org_prefix = ")
            .push_bind(filter.org_prefix.clone());
    } else {
        push_prefix(qb, "org_unit", &filter.org_prefix);
    }
    if let Some(from) = days.0 {
        qb.push(" AND day >= ").push_bind(from);
    }
    if let Some(to) = days.1 {
        qb.push(" AND day < ").push_bind(to);
    }
}

/// The statistics under `filter` summed per row kind, and per unit when `per_unit`.
fn stats_query<'a, DB>(filter: &ResultFilter, days: Days, per_unit: bool) -> QueryBuilder<'a, DB>
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new("");
    push_stats_query(&mut qb, filter, days, per_unit);
    qb
}

/// A unit's rows of [`stats_query`] (per unit) as one text: a line per row, its fields
/// (kind, domain, indicator, level, n, missing, sum, sum_sq) separated by TAB, the texts
/// escaped as [`crate::packed`] escapes them, the reals printed exactly.
#[derive(sqlx::FromRow)]
struct PackedUnitRow {
    org_unit: String,
    lines: String,
}

/// [`stats_query`] per unit, a [`PackedUnitRow`] per unit, in unit order.
fn packed_units_query<'a, B>(filter: &ResultFilter, days: Days) -> QueryBuilder<'a, B::Db>
where
    B: Backend,
    String: Encode<'a, B::Db> + Type<B::Db>,
    i64: Encode<'a, B::Db> + Type<B::Db>,
{
    // SQL literals holding a raw TAB and a raw LF read the same in both dialects.
    let (tab, lf) = ("'\t'", "'\n'");
    let escaped = |column: &str| {
        format!("replace(replace(replace({column}, '\\', '\\\\'), {tab}, '\\t'), {lf}, '\\n')")
    };
    let line = [
        escaped("kind"),
        escaped("domain"),
        escaped("indicator"),
        escaped("level"),
        "CAST(n AS TEXT)".to_owned(),
        "CAST(missing AS TEXT)".to_owned(),
        B::exact_text("sum"),
        B::exact_text("sum_sq"),
    ]
    .join(&format!(" || {tab} || "));
    let mut qb = QueryBuilder::new(format!(
        "SELECT org_unit, {} AS lines FROM (",
        B::group_lines(&line, lf)
    ));
    push_stats_query(&mut qb, filter, days, true);
    qb.push(") AS per_unit GROUP BY org_unit ORDER BY org_unit");
    qb
}

/// The rows of [`PackedUnitRow`]s, as [`stats_query`] gives them (in unit order, then
/// sorted by kind, domain, indicator and level within a unit).
fn unpack_units(units: Vec<PackedUnitRow>) -> Result<Vec<SummedRow>, StoreError> {
    let mut rows = Vec::new();
    for unit in units {
        let first = rows.len();
        for line in unit.lines.split('\n') {
            rows.push(unpack_line(&unit.org_unit, line).map_err(|why| {
                corrupt(format!(
                    "the statistics of unit '{}' read back unreadable: {why} in {line:?}",
                    unit.org_unit
                ))
            })?);
        }
        rows[first..].sort_by(|a, b| {
            (&a.kind, &a.domain, &a.indicator, &a.level).cmp(&(
                &b.kind,
                &b.domain,
                &b.indicator,
                &b.level,
            ))
        });
    }
    Ok(rows)
}

/// One line of a [`PackedUnitRow`].
fn unpack_line(org_unit: &str, line: &str) -> Result<SummedRow, String> {
    let fields: Vec<&str> = line.split('\t').collect();
    let [kind, domain, indicator, level, n, missing, sum, sum_sq] = fields[..] else {
        return Err(format!("{} fields, not 8", fields.len()));
    };
    let text = |field: &str| unescape(field).map_err(|e| e.to_string());
    let count = |field: &str| field.parse::<i64>().map_err(|e| format!("{field:?}: {e}"));
    let real = |field: &str| field.parse::<f64>().map_err(|e| format!("{field:?}: {e}"));
    Ok(SummedRow {
        org_unit: org_unit.to_owned(),
        kind: text(kind)?,
        domain: text(domain)?,
        indicator: text(indicator)?,
        level: text(level)?,
        n: count(n)?,
        missing: count(missing)?,
        sum: real(sum)?,
        sum_sq: real(sum_sq)?,
    })
}

/// Appends [`stats_query`] to `qb`.
fn push_stats_query<'a, DB>(
    qb: &mut QueryBuilder<'a, DB>,
    filter: &ResultFilter,
    days: Days,
    per_unit: bool,
) where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let unit = if per_unit { "org_unit" } else { "''" };
    qb.push(format!(
        "SELECT {unit} AS org_unit, kind, domain, indicator, level, \
         CAST(SUM(n) AS BIGINT) AS n, CAST(SUM(missing) AS BIGINT) AS missing, \
         SUM(sum) AS sum, SUM(sum_sq) AS sum_sq"
    ));
    let table = match table_for(days) {
        Table::Total if !per_unit => Table::Prefix,
        table => table,
    };
    push_stats_from(qb, table, filter, days);
    let group = if per_unit { "org_unit, " } else { "" };
    qb.push(format!(
        " GROUP BY {group}kind, domain, indicator, level \
         HAVING SUM(n) <> 0 OR SUM(missing) <> 0 ORDER BY {group}kind, domain, indicator, level"
    ));
}

/// Results per unit (and per day when `per_day`) from the index rows of the statistics.
fn unit_counts_from_stats<'a, DB>(
    filter: &ResultFilter,
    days: Days,
    per_day: bool,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let (day, table) = if per_day {
        (", day", Table::Daily)
    } else {
        ("", table_for(days))
    };
    let mut qb = QueryBuilder::new(format!(
        "SELECT org_unit{day}, CAST(SUM(n + missing) AS BIGINT) AS n"
    ));
    push_stats_from(&mut qb, table, filter, days);
    qb.push(format!(
        " AND kind = 'index' AND level = '' GROUP BY org_unit{day} \
         HAVING SUM(n + missing) <> 0 ORDER BY org_unit{day}"
    ));
    qb
}

/// Summed statistics rows (sorted by unit) as one aggregate per unit.
fn by_unit(rows: Vec<SummedRow>) -> Vec<(String, Aggregate)> {
    let mut out: Vec<(String, Aggregate)> = Vec::new();
    for row in rows {
        if out.last().is_none_or(|(unit, _)| *unit != row.org_unit) {
            out.push((row.org_unit.clone(), Aggregate::default()));
        }
        let Some((_, sums)) = out.last_mut() else {
            continue;
        };
        let (n, missing) = (to_u64(row.n), to_u64(row.missing));
        match (Kind::parse(&row.kind), row.level.is_empty()) {
            (Some(Kind::Index), true) => {
                sums.n = n + missing;
                sums.index_n = n;
                sums.index_sum = row.sum;
                sums.index_sum_sq = row.sum_sq;
            }
            (Some(Kind::Index), false) => sums.levels.push((row.level, n)),
            (Some(Kind::Flagged), _) => sums.flagged = n,
            (Some(Kind::Domain), true) => sums.domains.push(DomainAggregate {
                code: row.domain,
                n,
                missing,
                sum: row.sum,
                sum_sq: row.sum_sq,
                levels: Vec::new(),
            }),
            (Some(Kind::Domain), false) => {
                // Rows come sorted: a domain's level rows follow its own.
                if let Some(d) = sums.domains.iter_mut().find(|d| d.code == row.domain) {
                    d.levels.push((row.level, n));
                }
            }
            (Some(Kind::Indicator), _) => sums.indicators.push(IndicatorAggregate {
                domain: row.domain,
                code: row.indicator,
                n,
                missing,
                sum: row.sum,
                sum_sq: row.sum_sq,
            }),
            (None, _) => {}
        }
    }
    out
}

/// A count as stored (never negative).
fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn assemble_aggregate(
    totals: TotalsRow,
    levels: Vec<LevelRow>,
    domains: Vec<DomainTotalsRow>,
    domain_levels: Vec<DomainLevelRow>,
) -> Aggregate {
    let mut by_domain: HashMap<String, Vec<(String, u64)>> = HashMap::new();
    for row in domain_levels {
        by_domain
            .entry(row.code)
            .or_default()
            .push((row.level, to_u64(row.n)));
    }
    Aggregate {
        n: to_u64(totals.n),
        index_n: to_u64(totals.index_n),
        index_sum: totals.index_sum,
        index_sum_sq: totals.index_sum_sq,
        levels: levels.into_iter().map(|l| (l.level, to_u64(l.n))).collect(),
        domains: domains
            .into_iter()
            .map(|d| DomainAggregate {
                levels: by_domain.remove(&d.code).unwrap_or_default(),
                code: d.code,
                n: to_u64(d.n),
                missing: to_u64(d.missing),
                sum: d.sum,
                sum_sq: d.sum_sq,
            })
            .collect(),
        flagged: to_u64(totals.flagged),
        indicators: Vec::new(),
    }
}

/// The queries of [`Aggregates::by_scan`]: totals, index levels, domain totals, domain
/// levels; `elements` is the backend's `json_elements`.
fn aggregate_queries<'a, DB>(
    filter: &ResultFilter,
    elements: fn(&str, &str) -> String,
) -> [QueryBuilder<'a, DB>; 4]
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut totals = QueryBuilder::new(
        "SELECT COUNT(*) AS n, COUNT(r.index_value) AS index_n, \
         COALESCE(SUM(r.index_value), 0.0) AS index_sum, \
         COALESCE(SUM(r.index_value * r.index_value), 0.0) AS index_sum_sq, \
         COUNT(CASE WHEN r.flags <> '[]' THEN 1 END) AS flagged",
    );
    push_latest_from(&mut totals, Latest::Results, filter);

    let mut levels = QueryBuilder::new("SELECT r.level AS level, COUNT(*) AS n");
    push_latest_from(&mut levels, Latest::Results, filter);
    levels.push(" AND r.level IS NOT NULL GROUP BY r.level ORDER BY r.level");

    let [code, score, level] = domain_cells_sql("d");
    let mut domains = QueryBuilder::new(format!(
        "SELECT {code} AS code, COUNT({score}) AS n, COUNT(*) - COUNT({score}) AS missing, \
         COALESCE(SUM({score}), 0.0) AS sum, COALESCE(SUM({score} * {score}), 0.0) AS sum_sq"
    ));
    push_latest_from(&mut domains, Latest::Domains(elements), filter);
    domains.push(format!(" GROUP BY {code} ORDER BY {code}"));

    let mut domain_levels = QueryBuilder::new(format!(
        "SELECT {code} AS code, {level} AS level, COUNT(*) AS n"
    ));
    push_latest_from(&mut domain_levels, Latest::Domains(elements), filter);
    domain_levels.push(format!(
        " AND {level} IS NOT NULL GROUP BY {code}, {level} ORDER BY {code}, {level}"
    ));

    [totals, levels, domains, domain_levels]
}

/// Latest results per exact organisation unit under `filter`, for complementary
/// suppression (a parent's children and their sizes).
fn unit_counts_query<'a, DB>(filter: &ResultFilter) -> QueryBuilder<'a, DB>
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new("SELECT s.org_unit AS unit, COUNT(*) AS n");
    push_latest_from(&mut qb, Latest::Results, filter);
    qb.push(" GROUP BY s.org_unit ORDER BY s.org_unit");
    qb
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A packed line reads back its escaped texts and its reals bit for bit; a damaged one
    /// is refused, naming what is wrong.
    #[test]
    fn a_packed_line_reads_back_exactly() {
        let third = 1.0_f64 / 3.0;
        let line = format!(
            "domain\tlit\\tx\\\\y\tlit.1\\nz\t\t3\t1\t{third:?}\t{:?}",
            0.1 + 0.2
        );
        let row = unpack_line("50.01/a", &line).expect("readable");
        assert_eq!(
            (
                row.kind.as_str(),
                row.domain.as_str(),
                row.indicator.as_str()
            ),
            ("domain", "lit\tx\\y", "lit.1\nz")
        );
        assert_eq!((row.level.as_str(), row.n, row.missing), ("", 3, 1));
        assert_eq!(row.sum.to_bits(), third.to_bits());
        assert_eq!(row.sum_sq.to_bits(), (0.1 + 0.2_f64).to_bits());
        // SQLite's `printf('%!.17g')` of a whole number.
        assert_eq!(
            unpack_line("u", "index\t\t\t\t1\t0\t25.0\t625.0")
                .unwrap()
                .sum,
            25.0
        );

        let short = unpack_line("u", "index\t\t\t1\t0\t25.0\t625.0").unwrap_err();
        assert!(short.contains("7 fields"), "{short}");
        let bad = unpack_line("u", "index\t\t\t\tx\t0\t25.0\t625.0").unwrap_err();
        assert!(bad.contains("\"x\""), "{bad}");
    }
}
