//! Per-unit sufficient statistics (`unit_stats`, `unit_day_stats`, `prefix_stats`, migration
//! 0008): what each counting result adds to its unit's counts, sums and sums of squares,
//! kept in the transaction that stores or supersedes the result, so that aggregates and
//! reports read a few rows per unit instead of every result.
//!
//! Each row is split over a few shards (migration 0009): batches written at once add to
//! different shards, so that they do not wait for each other's row locks until commit (every
//! batch adds to the national `""` prefix); readers sum over the shards.
//!
//! Two independent computations of the same numbers exist on purpose: the incremental one
//! here ([`StatsDelta`], from the values being written, in Rust), and the one from the rows
//! ([`recompute_queries`], in SQL over every counting result), which rebuilds the tables
//! (`Store::rebuild_stats`) and checks them (`Store::check_stats`).

use std::collections::{BTreeMap, HashMap};

use sqlx::{Database, QueryBuilder};

use crate::backend::{Backend, Connection, INSERT_CHUNK};
use crate::error::db_err;
use crate::result_row::{domain_cells_sql, indicator_cells_sql, parse_domains, parse_indicators};
use crate::{DomainScore, IndicatorScore, NewResult, StatsCheck, StoreError};

/// A day of submission: `submitted_at / DAY_MS` (UTC; disclosure control cuts windows at
/// UTC midnights).
pub(crate) const DAY_MS: i64 = 86_400_000;

/// Shards each statistics row may be split over: at most this many rows per key to sum when
/// reading, and this many batches writing at once without waiting for each other.
pub(crate) const SHARDS: usize = 8;

/// The shard where rows without a batch of their own go: those kept before migration 0009,
/// a rebuild's, a rescore's (rare: waiting for a batch's lock on them costs little).
pub(crate) const BASE_SHARD: i64 = 0;

/// What a statistics row is about (the `kind` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    Index,
    Domain,
    Indicator,
    Flagged,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Index => "index",
            Kind::Domain => "domain",
            Kind::Indicator => "indicator",
            Kind::Flagged => "flagged",
        }
    }

    /// Whether `table` keeps rows of this kind. Indicator scores serve organisation reports,
    /// which read per-unit sums of all time: only `unit_stats` keeps them, which halves
    /// what a submit writes.
    pub(crate) fn kept_in(self, table: Table) -> bool {
        self != Kind::Indicator || table == Table::Total
    }

    pub(crate) fn parse(code: &str) -> Option<Kind> {
        Some(match code {
            "index" => Kind::Index,
            "domain" => Kind::Domain,
            "indicator" => Kind::Indicator,
            "flagged" => Kind::Flagged,
            _ => return None,
        })
    }
}

/// One statistics row's key (the day is dropped for `unit_stats`), its names borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key<'a> {
    pub instrument_id: &'a str,
    pub org_unit: &'a str,
    pub day: i64,
    pub instrument_version: &'a str,
    pub kind: Kind,
    pub domain: &'a str,
    pub indicator: &'a str,
    pub level: &'a str,
}

/// The numbers of one statistics row (see the migration for what each means per kind).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Sums {
    pub n: i64,
    pub missing: i64,
    pub sum: f64,
    pub sum_sq: f64,
}

impl Sums {
    fn add(&mut self, other: Sums) {
        self.n += other.n;
        self.missing += other.missing;
        self.sum += other.sum;
        self.sum_sq += other.sum_sq;
    }

    /// One value (or none) counted `sign` times (+1 added, −1 taken away).
    fn value(value: Option<f64>, sign: i64) -> Sums {
        match value {
            Some(x) => Sums {
                n: sign,
                missing: 0,
                sum: sign as f64 * x,
                sum_sq: sign as f64 * x * x,
            },
            None => Sums {
                missing: sign,
                ..Sums::default()
            },
        }
    }

    fn count(sign: i64) -> Sums {
        Sums {
            n: sign,
            ..Sums::default()
        }
    }
}

/// Where a result counts: its session's instrument, unit and time of submission.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Place<'a> {
    pub instrument_id: &'a str,
    pub instrument_version: &'a str,
    pub org_unit: &'a str,
    pub submitted_at: i64,
}

/// The values of a result the statistics keep, borrowed from a [`NewResult`] being written
/// or a [`StoredCounts`] read back.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Counted<'a> {
    pub index: Option<f64>,
    pub level: Option<&'a str>,
    pub flagged: bool,
    pub domains: &'a [DomainScore],
    pub indicators: &'a [IndicatorScore],
}

impl<'a> Counted<'a> {
    pub(crate) fn of(result: &'a NewResult) -> Counted<'a> {
        Counted {
            index: result.index,
            level: result.level.as_deref(),
            flagged: !result.flags.is_empty(),
            domains: &result.domains,
            indicators: &result.indicators,
        }
    }
}

/// A stored revision's place and counted values, read back to be taken away again
/// ([`counted_revision`]).
#[derive(Debug)]
pub(crate) struct StoredCounts {
    instrument_id: String,
    instrument_version: String,
    org_unit: String,
    submitted_at: i64,
    index: Option<f64>,
    level: Option<String>,
    flagged: bool,
    domains: Vec<DomainScore>,
    indicators: Vec<IndicatorScore>,
}

impl StoredCounts {
    pub(crate) fn place(&self) -> Place<'_> {
        Place {
            instrument_id: &self.instrument_id,
            instrument_version: &self.instrument_version,
            org_unit: &self.org_unit,
            submitted_at: self.submitted_at,
        }
    }

    pub(crate) fn counted(&self) -> Counted<'_> {
        Counted {
            index: self.index,
            level: self.level.as_deref(),
            flagged: self.flagged,
            domains: &self.domains,
            indicators: &self.indicators,
        }
    }
}

/// Hash maps of the delta: keyed by small numbers and short names, hashed millions of times
/// in a bulk load, where SipHash's resistance to chosen keys buys nothing.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// What the writes of one transaction add to and take from the statistics, summed per row;
/// [`StatsDelta::apply`] writes it before the commit.
///
/// A result adds to some thirty rows: keyed by their names, each addition cloned seven
/// strings and compared them in a tree, half of a bulk load's time. Names are kept once
/// ([`Names`]) and rows keyed by their numbers; [`StatsDelta::sorted`] sorts them by the
/// names' ranks, and names them only when they are written.
#[derive(Debug, Default)]
pub(crate) struct StatsDelta {
    names: Names,
    rows: FastMap<RowId, Sums>,
}

/// A statistics row's key by the numbers of its names in [`Names`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct RowId {
    instrument_id: u32,
    org_unit: u32,
    day: i64,
    instrument_version: u32,
    kind: Kind,
    domain: u32,
    indicator: u32,
    level: u32,
}

/// Every name a delta uses (instrument ids, units, prefixes, codes), each kept once, by
/// number.
#[derive(Debug, Default)]
struct Names {
    numbers: FastMap<String, u32>,
    names: Vec<String>,
}

impl Names {
    fn number(&mut self, name: &str) -> u32 {
        if let Some(&number) = self.numbers.get(name) {
            return number;
        }
        let number = u32::try_from(self.names.len()).expect("fewer than 2^32 names");
        self.names.push(name.to_owned());
        self.numbers.insert(name.to_owned(), number);
        number
    }

    fn name(&self, number: u32) -> &str {
        &self.names[number as usize]
    }

    /// Each number's rank among the names in byte order: numbers compared by rank compare
    /// as their names do.
    fn ranks(&self) -> Vec<u32> {
        let mut by_name: Vec<u32> = (0..self.names.len() as u32).collect();
        by_name.sort_unstable_by_key(|&n| self.name(n));
        let mut ranks = vec![0; by_name.len()];
        for (rank, number) in by_name.into_iter().enumerate() {
            ranks[number as usize] = rank as u32;
        }
        ranks
    }
}

impl StatsDelta {
    /// Counts `result` at `place` `sign` times: +1 when it starts counting, −1 when it stops
    /// (superseded by a re-take, or replaced by a rescore's revision).
    pub(crate) fn add(&mut self, place: &Place<'_>, result: &Counted<'_>, sign: i64) {
        let none = self.names.number("");
        let base = RowId {
            instrument_id: self.names.number(place.instrument_id),
            org_unit: self.names.number(place.org_unit),
            day: place.submitted_at.div_euclid(DAY_MS),
            instrument_version: self.names.number(place.instrument_version),
            kind: Kind::Index,
            domain: none,
            indicator: none,
            level: none,
        };
        let (names, rows) = (&mut self.names, &mut self.rows);
        let mut put = |kind: Kind, domain: u32, indicator: u32, level: u32, sums: Sums| {
            let key = RowId {
                kind,
                domain,
                indicator,
                level,
                ..base
            };
            rows.entry(key).or_default().add(sums);
        };
        put(
            Kind::Index,
            none,
            none,
            none,
            Sums::value(result.index, sign),
        );
        if let Some(level) = result.level {
            put(
                Kind::Index,
                none,
                none,
                names.number(level),
                Sums::count(sign),
            );
        }
        if result.flagged {
            put(Kind::Flagged, none, none, none, Sums::count(sign));
        }
        for domain in result.domains {
            let code = names.number(&domain.code);
            put(
                Kind::Domain,
                code,
                none,
                none,
                Sums::value(domain.score, sign),
            );
            if let Some(level) = &domain.level {
                put(
                    Kind::Domain,
                    code,
                    none,
                    names.number(level),
                    Sums::count(sign),
                );
            }
        }
        // Indicators come grouped by domain: its code is looked up once per group.
        let mut domain = (None, none);
        for indicator in result.indicators {
            if domain.0 != Some(indicator.domain.as_str()) {
                domain = (
                    Some(indicator.domain.as_str()),
                    names.number(&indicator.domain),
                );
            }
            let code = names.number(&indicator.code);
            let sums = Sums::value(indicator.score, sign);
            put(Kind::Indicator, domain.1, code, none, sums);
        }
    }

    /// The rows of each table, each table's in key order: every transaction updates rows in
    /// the same order, so two cannot deadlock on them. Sorted by the ranks of the names'
    /// numbers: sorting the keys by their names cost seconds per million rows.
    pub(crate) fn sorted(self) -> SortedDelta {
        let StatsDelta { mut names, rows } = self;
        let mut totals: FastMap<RowId, Sums> = FastMap::default();
        for (id, sums) in &rows {
            totals
                .entry(RowId { day: 0, ..*id })
                .or_default()
                .add(*sums);
        }
        // Units are few (thousands): each one's prefixes are numbered once.
        let mut unit_prefixes: FastMap<u32, Vec<u32>> = FastMap::default();
        let mut prefixes: FastMap<RowId, Sums> = FastMap::default();
        for (id, sums) in totals
            .iter()
            .filter(|(id, _)| id.kind.kept_in(Table::Prefix))
        {
            let numbers = unit_prefixes.entry(id.org_unit).or_insert_with(|| {
                let unit = names.name(id.org_unit).to_owned();
                prefixes_of(&unit).map(|p| names.number(p)).collect()
            });
            for &prefix in numbers.iter() {
                let key = RowId {
                    org_unit: prefix,
                    ..*id
                };
                prefixes.entry(key).or_default().add(*sums);
            }
        }
        let ranks = names.ranks();
        let in_order = |rows: FastMap<RowId, Sums>, table: Table| {
            let mut rows: Vec<(RowId, Sums)> = rows
                .into_iter()
                .filter(|(id, _)| id.kind.kept_in(table))
                .collect();
            rows.sort_unstable_by_key(|(id, _)| {
                let rank = |number: u32| ranks[number as usize];
                (
                    rank(id.instrument_id),
                    rank(id.org_unit),
                    id.day,
                    rank(id.instrument_version),
                    id.kind,
                    rank(id.domain),
                    rank(id.indicator),
                    rank(id.level),
                )
            });
            rows
        };
        SortedDelta {
            totals: in_order(totals, Table::Total),
            prefixes: in_order(prefixes, Table::Prefix),
            daily: in_order(rows, Table::Daily),
            names,
        }
    }

    /// Adds the delta to `unit_day_stats`, (summed over days) to `unit_stats`, and (summed
    /// over the units under each prefix) to `prefix_stats`, in their rows of `shard`.
    pub(crate) async fn apply<B: Backend>(
        self,
        conn: &mut Connection<B>,
        shard: i64,
    ) -> Result<(), sqlx::Error> {
        let sorted = self.sorted();
        for table in [Table::Total, Table::Prefix, Table::Daily] {
            B::add_stats(conn, table, shard, &sorted.rows(table)).await?;
        }
        Ok(())
    }
}

/// A [`StatsDelta`]'s rows of each table, in key order ([`StatsDelta::sorted`]).
#[derive(Debug)]
pub(crate) struct SortedDelta {
    names: Names,
    totals: Vec<(RowId, Sums)>,
    prefixes: Vec<(RowId, Sums)>,
    daily: Vec<(RowId, Sums)>,
}

impl SortedDelta {
    /// The rows to add to `table` (a prefix row's `org_unit` is its prefix).
    pub(crate) fn rows(&self, table: Table) -> Vec<(Key<'_>, Sums)> {
        let rows = match table {
            Table::Total => &self.totals,
            Table::Prefix => &self.prefixes,
            Table::Daily => &self.daily,
        };
        let name = |number: u32| self.names.name(number);
        rows.iter()
            .map(|(id, sums)| {
                let key = Key {
                    instrument_id: name(id.instrument_id),
                    org_unit: name(id.org_unit),
                    day: id.day,
                    instrument_version: name(id.instrument_version),
                    kind: id.kind,
                    domain: name(id.domain),
                    indicator: name(id.indicator),
                    level: name(id.level),
                };
                (key, *sums)
            })
            .collect()
    }
}

/// The statistics tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Table {
    /// `unit_stats`: per exact unit, all days.
    Total,
    /// `unit_day_stats`: per exact unit and day of submission.
    Daily,
    /// `prefix_stats`: per prefix (every unit is counted under each prefix that matches it,
    /// itself included), all days: an aggregate reads one prefix's rows.
    Prefix,
}

impl Table {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Table::Total => "unit_stats",
            Table::Daily => "unit_day_stats",
            Table::Prefix => "prefix_stats",
        }
    }

    /// The key columns but the shard, comma-separated.
    pub(crate) fn key_columns(self) -> &'static str {
        match self {
            Table::Total => {
                "instrument_id, org_unit, instrument_version, kind, domain, indicator, level"
            }
            Table::Daily => {
                "instrument_id, org_unit, day, instrument_version, kind, domain, indicator, level"
            }
            Table::Prefix => {
                "instrument_id, org_prefix, instrument_version, kind, domain, indicator, level"
            }
        }
    }
}

/// The prefixes that match `unit` (see the crate docs): `""`, each leading part ending
/// before a `.` or `/`, and the unit itself.
pub(crate) fn prefixes_of(unit: &str) -> impl Iterator<Item = &str> {
    let inner = unit
        .char_indices()
        .filter(|&(i, c)| i > 0 && matches!(c, '.' | '/'))
        .map(|(i, _)| &unit[..i]);
    std::iter::once("")
        .chain(inner)
        .chain((!unit.is_empty()).then_some(unit))
}

/// Unit rows (day ignored) summed under every prefix of their unit: `prefix_stats` rows
/// (the key's `org_unit` holds the prefix).
fn roll_up<'a>(units: &BTreeMap<Key<'a>, Sums>) -> BTreeMap<Key<'a>, Sums> {
    let mut out: BTreeMap<Key, Sums> = BTreeMap::new();
    for (key, sums) in units.iter().filter(|(k, _)| k.kind.kept_in(Table::Prefix)) {
        for prefix in prefixes_of(key.org_unit) {
            let key = Key {
                org_unit: prefix,
                day: 0,
                ..*key
            };
            out.entry(key).or_default().add(*sums);
        }
    }
    out
}

/// [`Backend::add_stats`] in multi-row `VALUES`, a statement per chunk of rows.
pub(crate) async fn upsert_values<B: Backend>(
    conn: &mut Connection<B>,
    table: Table,
    shard: i64,
    rows: &[(Key<'_>, Sums)],
) -> Result<(), sqlx::Error>
where
    for<'q> <B::Db as Database>::Arguments<'q>: sqlx::IntoArguments<'q, B::Db>,
    for<'q> String: sqlx::Encode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> &'q str: sqlx::Encode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> i64: sqlx::Encode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> f64: sqlx::Encode<'q, B::Db> + sqlx::Type<B::Db>,
{
    let name = table.name();
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<B::Db>::new(format!(
            "INSERT INTO {name} ({}, shard, n, missing, sum, sum_sq) ",
            table.key_columns()
        ));
        qb.push_values(chunk, |mut row, (key, sums)| {
            row.push_bind(key.instrument_id).push_bind(key.org_unit);
            if table == Table::Daily {
                row.push_bind(key.day);
            }
            row.push_bind(key.instrument_version)
                .push_bind(key.kind.as_str())
                .push_bind(key.domain)
                .push_bind(key.indicator)
                .push_bind(key.level)
                .push_bind(shard)
                .push_bind(sums.n)
                .push_bind(sums.missing)
                .push_bind(sums.sum)
                .push_bind(sums.sum_sq);
        });
        qb.push(on_conflict_add(table));
        B::execute(conn, qb).await?;
    }
    Ok(())
}

/// [`Backend::add_stats`] on PostgreSQL: the rows in one array per column, unnested in
/// their order (key order).
pub(crate) async fn upsert_arrays(
    conn: &mut sqlx::PgConnection,
    table: Table,
    shard: i64,
    rows: &[(Key<'_>, Sums)],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let text = |f: fn(Key) -> &str| rows.iter().map(|(k, _)| f(*k)).collect::<Vec<&str>>();
    let unit = if table == Table::Prefix {
        "org_prefix"
    } else {
        "org_unit"
    };
    let (day, day_array) = if table == Table::Daily {
        (", day", ", $13::bigint[]")
    } else {
        ("", "")
    };
    let columns = table.key_columns();
    let sql = format!(
        "INSERT INTO {name} ({columns}, shard, n, missing, sum, sum_sq) \
         SELECT {columns}, $1, n, missing, sum, sum_sq FROM UNNEST($2::text[], $3::text[], \
         $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], \
         $10::bigint[], $11::float8[], $12::float8[]{day_array}) AS r(instrument_id, {unit}, \
         instrument_version, kind, domain, indicator, level, n, missing, sum, sum_sq{day}){}",
        on_conflict_add(table),
        name = table.name(),
    );
    let mut query = sqlx::query(&sql)
        .bind(shard)
        .bind(text(|k| k.instrument_id))
        .bind(text(|k| k.org_unit))
        .bind(text(|k| k.instrument_version))
        .bind(text(|k| k.kind.as_str()))
        .bind(text(|k| k.domain))
        .bind(text(|k| k.indicator))
        .bind(text(|k| k.level))
        .bind(rows.iter().map(|(_, s)| s.n).collect::<Vec<i64>>())
        .bind(rows.iter().map(|(_, s)| s.missing).collect::<Vec<i64>>())
        .bind(rows.iter().map(|(_, s)| s.sum).collect::<Vec<f64>>())
        .bind(rows.iter().map(|(_, s)| s.sum_sq).collect::<Vec<f64>>());
    if table == Table::Daily {
        query = query.bind(rows.iter().map(|(k, _)| k.day).collect::<Vec<i64>>());
    }
    query.execute(conn).await?;
    Ok(())
}

/// ` ON CONFLICT …`: a row whose key is already in `table` adds to it.
fn on_conflict_add(table: Table) -> String {
    let name = table.name();
    format!(
        " ON CONFLICT ({}, shard) DO UPDATE SET n = {name}.n + excluded.n, \
         missing = {name}.missing + excluded.missing, sum = {name}.sum + excluded.sum, \
         sum_sq = {name}.sum_sq + excluded.sum_sq",
        table.key_columns()
    )
}

/// The rows of `table` (`unit_stats` or `unit_day_stats`; `day` is 0 in the former)
/// recomputed from the rows of every counting result, only of the kinds `table` keeps:
/// `SELECT`s whose columns are [`StatRow`]'s, to be `UNION ALL`ed. Counted by SQL from the
/// stored rows, independently of [`StatsDelta`]; `elements` unnests a JSON array column
/// ([`Backend::json_elements`]).
fn recompute_queries(table: Table, elements: fn(&str, &str) -> String) -> Vec<String> {
    let (day, day_group) = if table == Table::Daily {
        ("s.submitted_at / 86400000", ", s.submitted_at / 86400000")
    } else {
        ("CAST(0 AS BIGINT)", "")
    };
    let unit = format!(
        "s.instrument_id AS instrument_id, s.org_unit AS org_unit, {day} AS day, \
         s.instrument_version AS instrument_version"
    );
    let group = format!("s.instrument_id, s.org_unit{day_group}, s.instrument_version");
    let from = "FROM sessions s JOIN results r \
         ON r.session_id = s.id AND r.revision = s.latest_revision";
    let counting = "WHERE s.state = 'submitted' AND s.superseded_by IS NULL";
    let of_domains = format!(", {}", elements("r.domains", "d"));
    let of_indicators = format!(", {}", elements("r.indicators", "i"));
    let [d_code, d_score, d_level] = domain_cells_sql("d");
    let [i_domain, i_code, i_score] = indicator_cells_sql("i");
    let moments = |value: &str| {
        format!(
            "CAST(COUNT({value}) AS BIGINT) AS n, \
             CAST(COUNT(*) - COUNT({value}) AS BIGINT) AS missing, \
             CAST(COALESCE(SUM({value}), 0) AS DOUBLE PRECISION) AS sum, \
             CAST(COALESCE(SUM({value} * {value}), 0) AS DOUBLE PRECISION) AS sum_sq"
        )
    };
    let count = "CAST(COUNT(*) AS BIGINT) AS n, CAST(0 AS BIGINT) AS missing, \
         CAST(0 AS DOUBLE PRECISION) AS sum, CAST(0 AS DOUBLE PRECISION) AS sum_sq";
    let key = |kind: &str, domain: &str, indicator: &str, level: &str| {
        format!("'{kind}' AS kind, {domain} AS domain, {indicator} AS indicator, {level} AS level")
    };
    let mut queries = vec![
        format!(
            "SELECT {unit}, {}, {} {from} {counting} GROUP BY {group}",
            key("index", "''", "''", "''"),
            moments("r.index_value")
        ),
        format!(
            "SELECT {unit}, {}, {count} {from} {counting} AND r.level IS NOT NULL \
             GROUP BY {group}, r.level",
            key("index", "''", "''", "r.level"),
        ),
        format!(
            "SELECT {unit}, {}, {count} {from} {counting} AND r.flags <> '[]' GROUP BY {group}",
            key("flagged", "''", "''", "''"),
        ),
        format!(
            "SELECT {unit}, {}, {} {from} {of_domains} {counting} GROUP BY {group}, {d_code}",
            key("domain", &d_code, "''", "''"),
            moments(&d_score)
        ),
        format!(
            "SELECT {unit}, {}, {count} {from} {of_domains} {counting} \
             AND {d_level} IS NOT NULL GROUP BY {group}, {d_code}, {d_level}",
            key("domain", &d_code, "''", &d_level),
        ),
    ];
    if Kind::Indicator.kept_in(table) {
        queries.push(format!(
            "SELECT {unit}, {}, {} {from} {of_indicators} {counting} \
             GROUP BY {group}, {i_domain}, {i_code}",
            key("indicator", &i_domain, &i_code, "''"),
            moments(&i_score)
        ));
    }
    queries
}

/// Every row of `table`, recomputed from the results, as one query.
fn recomputed<B: Backend>(table: Table) -> String {
    recompute_queries(table, B::json_elements).join(" UNION ALL ")
}

/// Every row `table` keeps, summed over its shards, in [`StatRow`]'s columns.
fn kept(table: Table) -> String {
    let (unit, day) = match table {
        Table::Total => ("org_unit", "CAST(0 AS BIGINT) AS day"),
        Table::Daily => ("org_unit", "day"),
        Table::Prefix => ("org_prefix AS org_unit", "CAST(0 AS BIGINT) AS day"),
    };
    format!(
        "SELECT instrument_id, {unit}, {day}, instrument_version, kind, domain, indicator, \
         level, CAST(SUM(n) AS BIGINT) AS n, CAST(SUM(missing) AS BIGINT) AS missing, \
         SUM(sum) AS sum, SUM(sum_sq) AS sum_sq FROM {} GROUP BY {}",
        table.name(),
        table.key_columns()
    )
}

/// `unit_stats` rows rolled up into the `prefix_stats` rows they give.
fn rolled_up(units: &[StatRow]) -> Vec<StatRow> {
    roll_up_rows(units)
        .into_iter()
        .map(|(k, s)| StatRow {
            instrument_id: k.instrument_id.to_owned(),
            org_unit: k.org_unit.to_owned(),
            day: 0,
            instrument_version: k.instrument_version.to_owned(),
            kind: k.kind.as_str().to_owned(),
            domain: k.domain.to_owned(),
            indicator: k.indicator.to_owned(),
            level: k.level.to_owned(),
            n: s.n,
            missing: s.missing,
            sum: s.sum,
            sum_sq: s.sum_sq,
        })
        .collect()
}

/// [`roll_up`] of rows as read back.
fn roll_up_rows(units: &[StatRow]) -> BTreeMap<Key<'_>, Sums> {
    let keyed: BTreeMap<Key, Sums> = units
        .iter()
        .filter_map(|r| {
            let key = Key {
                instrument_id: &r.instrument_id,
                org_unit: &r.org_unit,
                day: 0,
                instrument_version: &r.instrument_version,
                kind: Kind::parse(&r.kind)?,
                domain: &r.domain,
                indicator: &r.indicator,
                level: &r.level,
            };
            let sums = Sums {
                n: r.n,
                missing: r.missing,
                sum: r.sum,
                sum_sq: r.sum_sq,
            };
            Some((key, sums))
        })
        .collect();
    roll_up(&keyed)
}

/// [`crate::Store::check_stats`]: both tables against the results, in one snapshot.
pub(crate) async fn check<B: Backend>(store: &B) -> Result<StatsCheck, StoreError>
where
    for<'c> &'c mut <B::Db as Database>::Connection: sqlx::Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: sqlx::IntoArguments<'q, B::Db>,
    StatRow: for<'r> sqlx::FromRow<'r, <B::Db as Database>::Row>,
{
    let err = || {
        db_err(
            B::NAME,
            "checking the per-unit statistics against the results",
        )
    };
    let mut tx = store.read_tx().await.map_err(err())?;
    let mut check = StatsCheck::default();
    let mut units = Vec::new();
    for table in [Table::Total, Table::Daily, Table::Prefix] {
        let kept: Vec<StatRow> = sqlx::query_as(&kept(table))
            .fetch_all(&mut *tx)
            .await
            .map_err(err())?;
        // The prefixes' rows are the units' rows (checked just before) rolled up.
        let recomputed: Vec<StatRow> = match table {
            Table::Prefix => rolled_up(&units),
            _ => sqlx::query_as(&recomputed::<B>(table))
                .fetch_all(&mut *tx)
                .await
                .map_err(err())?,
        };
        check.rows_compared += recomputed.len() as u64;
        check.problems.extend(compare(table, &kept, &recomputed));
        if table == Table::Total {
            units = recomputed;
        }
    }
    tx.commit().await.map_err(err())?;
    Ok(check)
}

/// Rebuilds the statistics when there are none but results count: a database upgraded by
/// migration 0008, whose results were stored before statistics were kept. Two cheap
/// lookups otherwise.
pub(crate) async fn rebuild_if_missing<B: Backend>(store: &B) -> Result<(), StoreError>
where
    for<'c> &'c mut <B::Db as Database>::Connection: sqlx::Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: sqlx::IntoArguments<'q, B::Db>,
    for<'q> String: sqlx::Encode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> &'q str: sqlx::Encode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> i64: sqlx::Encode<'q, B::Db> + sqlx::Decode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> f64: sqlx::Encode<'q, B::Db> + sqlx::Type<B::Db>,
    StatRow: for<'r> sqlx::FromRow<'r, <B::Db as Database>::Row>,
    usize: sqlx::ColumnIndex<<B::Db as Database>::Row>,
{
    let err = || db_err(B::NAME, "looking for per-unit statistics to rebuild");
    let missing: i64 = sqlx::query_scalar(
        "SELECT CAST(CASE WHEN NOT EXISTS (SELECT 1 FROM unit_stats) AND EXISTS (SELECT 1 \
         FROM sessions WHERE state = 'submitted' AND superseded_by IS NULL) THEN 1 ELSE 0 END \
         AS BIGINT)",
    )
    .fetch_one(store.read_pool())
    .await
    .map_err(err())?;
    if missing == 1 {
        let rows = rebuild(store).await?;
        tracing::info!(rows, "per-unit statistics rebuilt from the stored results");
    }
    Ok(())
}

/// [`crate::Store::rebuild_stats`]: both tables recomputed from the results, in one
/// transaction (on PostgreSQL submits wait for it: they would otherwise add to rows being
/// replaced). Returns the rows written.
pub(crate) async fn rebuild<B: Backend>(store: &B) -> Result<u64, StoreError>
where
    for<'c> &'c mut <B::Db as Database>::Connection: sqlx::Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: sqlx::IntoArguments<'q, B::Db>,
    for<'q> String: sqlx::Encode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> &'q str: sqlx::Encode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> i64: sqlx::Encode<'q, B::Db> + sqlx::Decode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> f64: sqlx::Encode<'q, B::Db> + sqlx::Type<B::Db>,
    StatRow: for<'r> sqlx::FromRow<'r, <B::Db as Database>::Row>,
    usize: sqlx::ColumnIndex<<B::Db as Database>::Row>,
{
    let err = || {
        db_err(
            B::NAME,
            "rebuilding the per-unit statistics from the results",
        )
    };
    let mut tx = store.write_tx().await.map_err(err())?;
    if let Some(lock) = B::LOCK_STATS {
        sqlx::query(lock).execute(&mut *tx).await.map_err(err())?;
    }
    let mut rows = 0;
    for table in [Table::Total, Table::Daily] {
        let name = table.name();
        sqlx::query(&format!("DELETE FROM {name}"))
            .execute(&mut *tx)
            .await
            .map_err(err())?;
        let day = if table == Table::Daily { "day, " } else { "" };
        let insert = format!(
            "INSERT INTO {name} ({}, shard, n, missing, sum, sum_sq) \
             SELECT instrument_id, org_unit, {day}instrument_version, kind, domain, indicator, \
             level, {BASE_SHARD}, n, missing, sum, sum_sq FROM ({}) AS q",
            table.key_columns(),
            recomputed::<B>(table)
        );
        sqlx::query(&insert)
            .execute(&mut *tx)
            .await
            .map_err(err())?;
        let written: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {name}"))
            .fetch_one(&mut *tx)
            .await
            .map_err(err())?;
        rows += u64::try_from(written).unwrap_or(0);
    }
    let units: Vec<StatRow> = sqlx::query_as(&kept(Table::Total))
        .fetch_all(&mut *tx)
        .await
        .map_err(err())?;
    let prefixes: Vec<(Key, Sums)> = roll_up_rows(&units).into_iter().collect();
    sqlx::query("DELETE FROM prefix_stats")
        .execute(&mut *tx)
        .await
        .map_err(err())?;
    B::add_stats(&mut tx, Table::Prefix, BASE_SHARD, &prefixes)
        .await
        .map_err(err())?;
    rows += prefixes.len() as u64;
    tx.commit().await.map_err(err())?;
    Ok(rows)
}

/// A statistics row as read back (the day is 0 in `unit_stats`).
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub(crate) struct StatRow {
    pub instrument_id: String,
    pub org_unit: String,
    pub day: i64,
    pub instrument_version: String,
    pub kind: String,
    pub domain: String,
    pub indicator: String,
    pub level: String,
    pub n: i64,
    pub missing: i64,
    pub sum: f64,
    pub sum_sq: f64,
}

impl StatRow {
    /// Every number is zero: the results it counted were all taken away again.
    pub(crate) fn is_empty(&self) -> bool {
        self.n == 0 && self.missing == 0
    }
}

/// Differences between the statistics kept and those recomputed from the rows, one line
/// each naming the row; sums compared to a relative 1e-9 (they were added in another order).
pub(crate) fn compare(table: Table, kept: &[StatRow], recomputed: &[StatRow]) -> Vec<String> {
    let kept: BTreeMap<RowKey, &StatRow> = kept
        .iter()
        .filter(|r| !r.is_empty())
        .map(|r| (row_key(r), r))
        .collect();
    let recomputed: BTreeMap<RowKey, &StatRow> = recomputed
        .iter()
        .filter(|r| !r.is_empty())
        .map(|r| (row_key(r), r))
        .collect();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    let mut problems = Vec::new();
    let name = table.name();
    for (k, row) in &recomputed {
        match kept.get(k) {
            None => problems.push(format!("{name}: missing row {}", describe(row))),
            Some(got)
                if got.n != row.n
                    || got.missing != row.missing
                    || !close(got.sum, row.sum)
                    || !close(got.sum_sq, row.sum_sq) =>
            {
                problems.push(format!(
                    "{name}: {} has n={} missing={} sum={} sum_sq={}, the rows give n={} \
                     missing={} sum={} sum_sq={}",
                    describe(row),
                    got.n,
                    got.missing,
                    got.sum,
                    got.sum_sq,
                    row.n,
                    row.missing,
                    row.sum,
                    row.sum_sq
                ));
            }
            Some(_) => {}
        }
    }
    for (k, row) in &kept {
        if !recomputed.contains_key(k) {
            problems.push(format!(
                "{name}: {} counts n={} missing={} but no result gives it",
                describe(row),
                row.n,
                row.missing
            ));
        }
    }
    problems
}

/// A row's key columns, borrowed.
type RowKey<'a> = (
    &'a str,
    &'a str,
    i64,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
);

fn row_key(r: &StatRow) -> RowKey<'_> {
    (
        &r.instrument_id,
        &r.org_unit,
        r.day,
        &r.instrument_version,
        &r.kind,
        &r.domain,
        &r.indicator,
        &r.level,
    )
}

fn describe(row: &StatRow) -> String {
    let mut out = format!(
        "instrument '{}' {} unit '{}'",
        row.instrument_id, row.instrument_version, row.org_unit
    );
    if row.day != 0 {
        out.push_str(&format!(" day {}", row.day));
    }
    out.push_str(&format!(" {}", row.kind));
    for part in [&row.domain, &row.indicator] {
        if !part.is_empty() {
            out.push_str(&format!(" '{part}'"));
        }
    }
    if !row.level.is_empty() {
        out.push_str(&format!(" level '{}'", row.level));
    }
    out
}

/// Reads what a stored revision counts, to take it away again.
pub(crate) async fn counted_revision<B: Backend>(
    conn: &mut Connection<B>,
    session_id: &str,
    revision: i64,
) -> Result<Option<StoredCounts>, sqlx::Error>
where
    for<'c> &'c mut <B::Db as Database>::Connection: sqlx::Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: sqlx::IntoArguments<'q, B::Db>,
    for<'q> &'q str: sqlx::Encode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> String: sqlx::Decode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> i64: sqlx::Encode<'q, B::Db> + sqlx::Decode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> f64: sqlx::Decode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> &'q str: sqlx::ColumnIndex<<B::Db as Database>::Row>,
    usize: sqlx::ColumnIndex<<B::Db as Database>::Row>,
{
    type Head = (
        String,
        String,
        String,
        i64,
        Option<f64>,
        Option<String>,
        String,
        String,
        String,
    );
    let head: Option<Head> = sqlx::query_as(
        "SELECT s.instrument_id, s.instrument_version, s.org_unit, s.submitted_at, \
         r.index_value, r.level, r.flags, r.domains, r.indicators \
         FROM sessions s JOIN results r ON r.session_id = s.id \
         WHERE s.id = $1 AND r.revision = $2 AND s.submitted_at IS NOT NULL",
    )
    .bind(session_id)
    .bind(revision)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((
        instrument_id,
        instrument_version,
        org_unit,
        submitted_at,
        index,
        level,
        flags,
        domains,
        indicators,
    )) = head
    else {
        return Ok(None);
    };
    let decode = |e: StoreError| sqlx::Error::Decode(e.into());
    Ok(Some(StoredCounts {
        instrument_id,
        instrument_version,
        org_unit,
        submitted_at,
        index,
        level,
        flagged: flags != "[]",
        domains: parse_domains(&domains, session_id, revision).map_err(decode)?,
        indicators: parse_indicators(&indicators, session_id, revision).map_err(decode)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_added_and_taken_away_leaves_zeros() {
        let place = Place {
            instrument_id: "i",
            instrument_version: "1",
            org_unit: "36.72",
            submitted_at: 3 * DAY_MS + 5,
        };
        let (domains, indicators) = (
            [domain("lit", None), domain("data", Some(60.0))],
            [IndicatorScore {
                domain: "lit".into(),
                code: "l1".into(),
                score: Some(50.0),
            }],
        );
        let counted = Counted {
            index: Some(70.0),
            level: Some("3"),
            flagged: true,
            domains: &domains,
            indicators: &indicators,
        };
        let mut delta = StatsDelta::default();
        delta.add(&place, &counted, 1);
        let sorted = std::mem::take(&mut delta).sorted();
        // index, index level, flagged, two domains; the indicator is kept per unit only.
        let daily = sorted.rows(Table::Daily);
        assert_eq!(daily.len(), 5);
        let index = daily.iter().find(|(k, _)| k.kind == Kind::Index).unwrap().0;
        assert_eq!((index.day, index.org_unit), (3, "36.72"));
        let level = daily.iter().find(|(k, _)| k.level == "3").unwrap().0;
        assert_eq!((level.kind, level.domain), (Kind::Index, ""));
        let lit = daily
            .iter()
            .find(|(k, _)| k.kind == Kind::Domain && k.domain == "lit")
            .unwrap()
            .1;
        assert_eq!((lit.n, lit.missing), (0, 1), "missing is never 0");
        let totals = sorted.rows(Table::Total);
        assert_eq!(totals.len(), 6);
        assert!(totals.iter().all(|(k, _)| k.day == 0));
        let l1 = totals.iter().find(|(k, _)| k.indicator == "l1").unwrap();
        assert_eq!((l1.0.domain, l1.1.sum), ("lit", 50.0));
        delta.add(&place, &counted, 1);
        delta.add(&place, &counted, -1);
        let sorted = delta.sorted();
        for table in [Table::Total, Table::Daily, Table::Prefix] {
            assert!(
                sorted
                    .rows(table)
                    .iter()
                    .all(|(_, s)| *s == Sums::default())
            );
        }
    }

    fn domain(code: &str, score: Option<f64>) -> DomainScore {
        DomainScore {
            code: code.into(),
            score,
            ..DomainScore::default()
        }
    }

    /// Rows sorted by the ranks of their names' numbers are in the order of their names, and
    /// each unit's sums reach every prefix of it.
    #[test]
    fn sorted_rows_are_in_name_order_and_rolled_up_by_prefix() {
        // Names first seen in an order unlike their byte order.
        let units = [
            "64.72/dinkes",
            "11.73/bappeda",
            "64.72/bappeda",
            "64.7",
            "11",
        ];
        let domains = [domain("z", Some(1.0)), domain("a", Some(2.0))];
        let mut delta = StatsDelta::default();
        for (i, unit) in units.iter().enumerate() {
            let place = Place {
                instrument_id: if i % 2 == 0 { "ikd" } else { "demo" },
                instrument_version: "1",
                org_unit: unit,
                submitted_at: (5 - i as i64) * DAY_MS,
            };
            let counted = Counted {
                index: Some(10.0 * i as f64),
                level: Some(["b", "a"][i % 2]),
                flagged: false,
                domains: &domains,
                indicators: &[],
            };
            delta.add(&place, &counted, 1);
        }
        let sorted = delta.sorted();
        for table in [Table::Total, Table::Daily, Table::Prefix] {
            let rows = sorted.rows(table);
            let by_name: BTreeMap<Key, Sums> = rows.iter().copied().collect();
            assert_eq!(rows.len(), by_name.len(), "{table:?}: keys are unique");
            assert!(
                rows.iter().map(|(k, _)| k).eq(by_name.keys()),
                "{table:?} rows are in key order"
            );
        }
        let prefixes = sorted.rows(Table::Prefix);
        let index_of = |prefix: &str, instrument: &str| {
            prefixes
                .iter()
                .find(|(k, _)| {
                    k.org_unit == prefix
                        && k.instrument_id == instrument
                        && k.kind == Kind::Index
                        && k.level.is_empty()
                })
                .map(|(_, s)| (s.n, s.sum))
        };
        // ikd: units 0, 2 and 4 (indices 0, 20, 40); demo: units 1 and 3 (10, 30).
        assert_eq!(index_of("", "ikd"), Some((3, 60.0)));
        assert_eq!(index_of("64", "ikd"), Some((2, 20.0)));
        assert_eq!(index_of("64.72", "ikd"), Some((2, 20.0)));
        assert_eq!(index_of("64.72/bappeda", "ikd"), Some((1, 20.0)));
        assert_eq!(index_of("64.7", "demo"), Some((1, 30.0)));
        assert_eq!(index_of("64", "demo"), Some((1, 30.0)));
        assert_eq!(index_of("64.72", "demo"), None, "64.7 is not under 64.72");
        assert_eq!(index_of("11", "ikd"), Some((1, 40.0)));
        assert_eq!(index_of("11", "demo"), Some((1, 10.0)));
    }

    #[test]
    fn a_unit_counts_under_every_prefix_that_matches_it() {
        let all: Vec<&str> = prefixes_of("36.72/diskominfo").collect();
        assert_eq!(all, ["", "36", "36.72", "36.72/diskominfo"]);
        assert_eq!(prefixes_of("36").collect::<Vec<_>>(), ["", "36"]);
        assert_eq!(prefixes_of("").collect::<Vec<_>>(), [""]);
        // A prefix is only ever cut before a separator: "36.7" does not match "36.72".
        assert!(!prefixes_of("36.72.01").any(|p| p == "36.7"));
    }

    #[test]
    fn comparison_names_the_row_that_differs() {
        let row = |n: i64, sum: f64| StatRow {
            instrument_id: "i".into(),
            org_unit: "36.72".into(),
            day: 0,
            instrument_version: "1".into(),
            kind: "domain".into(),
            domain: "lit".into(),
            indicator: String::new(),
            level: String::new(),
            n,
            missing: 0,
            sum,
            sum_sq: sum * sum,
        };
        assert!(compare(Table::Total, &[row(2, 10.0)], &[row(2, 10.0 + 1e-12)]).is_empty());
        let problems = compare(Table::Total, &[row(2, 10.0)], &[row(3, 10.0)]);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("unit '36.72'") && problems[0].contains("'lit'"),
            "{problems:?}"
        );
        let zero = row(0, 0.0);
        assert!(compare(Table::Total, &[zero], &[]).is_empty());
    }
}
