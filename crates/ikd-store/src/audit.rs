//! The append-only audit log of administrative actions.

use std::marker::PhantomData;

use sqlx::Database;

use crate::backend::Backend;
use crate::error::db_err;
use crate::filter::page_limit;
use crate::{AuditEntry, AuditQuery, NewAuditEntry, StoreError, now_ms};

const INSERT_AUDIT: &str = "INSERT INTO audit_log (at, actor, action, target, detail) \
     VALUES ($1, $2, $3, $4, $5) RETURNING id";

/// Newest first; `$1`: the earliest `at` (or NULL: all), `$2`: the limit.
const SELECT_AUDIT: &str = "SELECT id, at, actor, action, target, detail \
     FROM audit_log WHERE ($1 IS NULL OR at >= $1) ORDER BY id DESC LIMIT $2";

/// The audit operations of [`crate::Store`]. A type only so that the sqlx bounds (see
/// [`crate::backend`]) are written once for all of them.
pub(crate) struct Audit<B>(PhantomData<B>);

impl<B: Backend> Audit<B>
where
    for<'c> &'c mut <B::Db as Database>::Connection: sqlx::Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: sqlx::IntoArguments<'q, B::Db>,
    for<'q> String: sqlx::Encode<'q, B::Db> + sqlx::Decode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> i64: sqlx::Encode<'q, B::Db> + sqlx::Decode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> Option<i64>: sqlx::Encode<'q, B::Db>,
    usize: sqlx::ColumnIndex<<B::Db as Database>::Row>,
{
    pub(crate) async fn record(store: &B, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
        check_audit(entry)?;
        let at = now_ms();
        let id: i64 = sqlx::query_scalar(INSERT_AUDIT)
            .bind(at)
            .bind(&entry.actor)
            .bind(&entry.action)
            .bind(&entry.target)
            .bind(&entry.detail_json)
            .fetch_one(store.write_pool())
            .await
            .map_err(db_err(
                B::NAME,
                format!("recording audit entry '{}'", entry.action),
            ))?;
        Ok(AuditEntry {
            id,
            at,
            actor: entry.actor.clone(),
            action: entry.action.clone(),
            target: entry.target.clone(),
            detail_json: entry.detail_json.clone(),
        })
    }

    pub(crate) async fn log(store: &B, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let err = || db_err(B::NAME, "reading the audit log");
        let limit = page_limit(query.limit);
        let mut tx = store.read_tx().await.map_err(err())?;
        let rows: Vec<(i64, i64, String, String, String, String)> = sqlx::query_as(SELECT_AUDIT)
            .bind(query.since)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await
            .map_err(err())?;
        tx.commit().await.map_err(err())?;
        Ok(rows
            .into_iter()
            .map(|(id, at, actor, action, target, detail_json)| AuditEntry {
                id,
                at,
                actor,
                action,
                target,
                detail_json,
            })
            .collect())
    }
}

/// Refuses an audit entry without an actor or action, or with a detail that is not JSON.
fn check_audit(entry: &NewAuditEntry) -> Result<(), StoreError> {
    if entry.actor.is_empty() || entry.action.is_empty() {
        return Err(StoreError::Invalid(
            "an audit entry needs an actor and an action".to_owned(),
        ));
    }
    if let Err(e) = serde_json::from_str::<serde_json::Value>(&entry.detail_json) {
        return Err(StoreError::Invalid(format!(
            "audit entry '{}': detail is not JSON: {e}",
            entry.action
        )));
    }
    Ok(())
}
