//! Invitations: one link per respondent, kept as the SHA-256 of its token,
//! bound to a session at the first visit, revocable, and ending at expiry.

use std::marker::PhantomData;

use sqlx::{Database, QueryBuilder};

use crate::backend::{Backend, INSERT_CHUNK};
use crate::error::db_err;
use crate::sessions::INSERT_SESSION;
use crate::{Invitation, NewInvitation, NewSession, Revocation, StoreError, now_ms};

const INVITATION_COLUMNS: &str = "id, token_sha256, instrument_id, instrument_version, \
     respondent_key, org_unit, created_at, expires_at, revoked_at, session_id";

/// Binds the session of a first visit; a second visit (or a concurrent one)
/// finds `session_id` set and changes nothing.
const BIND_SESSION: &str = "UPDATE invitations SET session_id = $1 \
     WHERE token_sha256 = $2 AND session_id IS NULL RETURNING id";

#[derive(sqlx::FromRow)]
struct InvitationRow {
    id: String,
    token_sha256: String,
    instrument_id: String,
    instrument_version: String,
    respondent_key: String,
    org_unit: String,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
    session_id: Option<String>,
}

impl From<InvitationRow> for Invitation {
    fn from(r: InvitationRow) -> Invitation {
        Invitation {
            id: r.id,
            token_sha256: r.token_sha256,
            instrument_id: r.instrument_id,
            instrument_version: r.instrument_version,
            respondent_key: r.respondent_key,
            org_unit: r.org_unit,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            session_id: r.session_id,
        }
    }
}

/// The invitation operations of [`crate::Store`]. A type only so that the sqlx
/// bounds (see [`crate::backend`]) are written once for all of them.
pub(crate) struct Invitations<B>(PhantomData<B>);

impl<B: Backend> Invitations<B>
where
    for<'c> &'c mut <B::Db as Database>::Connection: sqlx::Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: sqlx::IntoArguments<'q, B::Db>,
    for<'q> &'q str: sqlx::Encode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> String: sqlx::Encode<'q, B::Db> + sqlx::Decode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> i64: sqlx::Encode<'q, B::Db> + sqlx::Decode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> Option<i64>: sqlx::Encode<'q, B::Db> + sqlx::Decode<'q, B::Db>,
    for<'q> Option<String>: sqlx::Decode<'q, B::Db>,
    for<'q> &'q str: sqlx::ColumnIndex<<B::Db as Database>::Row>,
    usize: sqlx::ColumnIndex<<B::Db as Database>::Row>,
{
    /// Stores every invitation in one transaction: all or none.
    pub(crate) async fn create(store: &B, new: &[NewInvitation]) -> Result<(), StoreError> {
        check_new(new)?;
        let err = || db_err(B::NAME, format!("storing {} invitation(s)", new.len()));
        let now = now_ms();
        let mut tx = store.write_tx().await.map_err(err())?;
        for chunk in new.chunks(INSERT_CHUNK / 8) {
            let mut insert: QueryBuilder<B::Db> = QueryBuilder::new(
                "INSERT INTO invitations (id, token_sha256, instrument_id, instrument_version, \
                 respondent_key, org_unit, created_at, expires_at) ",
            );
            insert.push_values(chunk, |mut row, i| {
                row.push_bind(i.id.clone())
                    .push_bind(i.token_sha256.clone())
                    .push_bind(i.instrument_id.clone())
                    .push_bind(i.instrument_version.clone())
                    .push_bind(i.respondent_key.clone())
                    .push_bind(i.org_unit.clone())
                    .push_bind(now)
                    .push_bind(i.expires_at);
            });
            B::execute(&mut tx, insert).await.map_err(err())?;
        }
        tx.commit().await.map_err(err())
    }

    pub(crate) async fn by_token(
        store: &B,
        token_sha256: &str,
    ) -> Result<Option<Invitation>, StoreError> {
        let err = || db_err(B::NAME, "reading an invitation");
        let row: Option<InvitationRow> = sqlx::query_as(&format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_sha256 = $1"
        ))
        .bind(token_sha256)
        .fetch_optional(store.write_pool())
        .await
        .map_err(err())?;
        Ok(row.map(Invitation::from))
    }

    /// The invitation's session: the one bound at an earlier visit, or a new
    /// one started and bound in the same transaction (so two first visits at
    /// once end with one session).
    pub(crate) async fn session(
        store: &B,
        token_sha256: &str,
        new: NewSession,
    ) -> Result<String, StoreError> {
        let err = || db_err(B::NAME, "starting the session of an invitation");
        let id = uuid::Uuid::new_v4().to_string();
        let mut tx = store.write_tx().await.map_err(err())?;
        sqlx::query(INSERT_SESSION)
            .bind(&id)
            .bind(&new.instrument_id)
            .bind(&new.instrument_version)
            .bind(&new.instrument_sha256)
            .bind(&new.respondent_key)
            .bind(&new.org_unit)
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .map_err(err())?;
        let bound: Option<String> = sqlx::query_scalar(BIND_SESSION)
            .bind(&id)
            .bind(token_sha256)
            .fetch_optional(&mut *tx)
            .await
            .map_err(err())?;
        if bound.is_some() {
            tx.commit().await.map_err(err())?;
            return Ok(id);
        }
        // Bound already (another visit won): keep its session, not ours.
        tx.rollback().await.map_err(err())?;
        Self::by_token(store, token_sha256)
            .await?
            .and_then(|i| i.session_id)
            .ok_or_else(|| StoreError::NotFound {
                what: "invitation",
                id: "(token)".to_owned(),
            })
    }

    /// Revokes the matching invitations not revoked yet; returns how many.
    pub(crate) async fn revoke(store: &B, which: &Revocation) -> Result<u64, StoreError> {
        if which.ids.is_empty() && which.respondent_keys.is_empty() {
            return Ok(0);
        }
        let err = || db_err(B::NAME, "revoking invitations");
        let mut update: QueryBuilder<B::Db> =
            QueryBuilder::new("UPDATE invitations SET revoked_at = ");
        update.push_bind(now_ms());
        update.push(" WHERE revoked_at IS NULL AND (id IN (");
        let mut ids = update.separated(", ");
        ids.push_bind("");
        for id in &which.ids {
            ids.push_bind(id.clone());
        }
        update.push(") OR respondent_key IN (");
        let mut keys = update.separated(", ");
        keys.push_bind("");
        for key in &which.respondent_keys {
            keys.push_bind(key.clone());
        }
        update.push("))");
        if !which.instrument_id.is_empty() {
            update.push(" AND instrument_id = ");
            update.push_bind(which.instrument_id.clone());
        }
        crate::filter::push_prefix(&mut update, "org_unit", &which.org_prefix);
        // Counted from RETURNING: sqlx has no backend-neutral rows_affected.
        update.push(" RETURNING id");
        let mut tx = store.write_tx().await.map_err(err())?;
        let revoked: Vec<(String,)> = B::fetch_all(&mut tx, update, false).await.map_err(err())?;
        tx.commit().await.map_err(err())?;
        Ok(revoked.len() as u64)
    }
}

/// Refuses an empty token hash, id, respondent or unit, and a duplicate id.
fn check_new(new: &[NewInvitation]) -> Result<(), StoreError> {
    let mut ids = std::collections::HashSet::new();
    for i in new {
        let blank = [&i.id, &i.token_sha256, &i.respondent_key, &i.org_unit]
            .iter()
            .any(|v| v.is_empty());
        if blank || i.instrument_id.is_empty() {
            return Err(StoreError::Invalid(format!(
                "invitation '{}': id, token hash, instrument, respondent and unit are required",
                i.id
            )));
        }
        if !ids.insert(&i.id) {
            return Err(StoreError::Invalid(format!(
                "invitation id '{}' given twice",
                i.id
            )));
        }
    }
    Ok(())
}
