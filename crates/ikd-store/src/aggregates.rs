//! Sums over the latest revision of each matching result, and result counts per unit:
//! computed by the database, never by loading rows. A person counts once: the sessions
//! they re-took are left out by the shared filter (`filter::push_latest_from`).

use std::collections::HashMap;
use std::marker::PhantomData;

use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::backend::Backend;
use crate::error::db_err;
use crate::filter::push_latest_from;
use crate::{Aggregate, DomainAggregate, ResultFilter, StoreError};

#[derive(sqlx::FromRow)]
struct TotalsRow {
    n: i64,
    index_n: i64,
    index_sum: f64,
    index_sum_sq: f64,
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
    /// [`crate::Store::aggregate`]: four queries in one snapshot.
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
        let [totals, levels, domains, domain_levels] = aggregate_queries(filter);
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
        let mut tx = store.read_tx().await.map_err(err())?;
        let rows: Vec<(String, i64)> = B::fetch_all(&mut *tx, unit_counts_query(filter), true)
            .await
            .map_err(err())?;
        tx.commit().await.map_err(err())?;
        Ok(rows.into_iter().map(|(u, n)| (u, to_u64(n))).collect())
    }
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
    }
}

/// The four queries of [`crate::Store::aggregate`]: totals, index levels, domain totals,
/// domain levels.
fn aggregate_queries<'a, DB>(filter: &ResultFilter) -> [QueryBuilder<'a, DB>; 4]
where
    DB: Database,
    String: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut totals = QueryBuilder::new(
        "SELECT COUNT(*) AS n, COUNT(r.index_value) AS index_n, \
         COALESCE(SUM(r.index_value), 0.0) AS index_sum, \
         COALESCE(SUM(r.index_value * r.index_value), 0.0) AS index_sum_sq",
    );
    push_latest_from(&mut totals, false, filter);

    let mut levels = QueryBuilder::new("SELECT r.level AS level, COUNT(*) AS n");
    push_latest_from(&mut levels, false, filter);
    levels.push(" AND r.level IS NOT NULL GROUP BY r.level ORDER BY r.level");

    let mut domains = QueryBuilder::new(
        "SELECT d.code AS code, COUNT(d.score) AS n, COUNT(*) - COUNT(d.score) AS missing, \
         COALESCE(SUM(d.score), 0.0) AS sum, COALESCE(SUM(d.score * d.score), 0.0) AS sum_sq",
    );
    push_latest_from(&mut domains, true, filter);
    domains.push(" GROUP BY d.code ORDER BY MIN(d.position), d.code");

    let mut domain_levels =
        QueryBuilder::new("SELECT d.code AS code, d.level AS level, COUNT(*) AS n");
    push_latest_from(&mut domain_levels, true, filter);
    domain_levels
        .push(" AND d.level IS NOT NULL GROUP BY d.code, d.level ORDER BY d.code, d.level");

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
    push_latest_from(&mut qb, false, filter);
    qb.push(" GROUP BY s.org_unit ORDER BY s.org_unit");
    qb
}
