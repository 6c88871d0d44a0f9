//! Tokens a server generates for itself (the first-run admin token), kept as hashes so that
//! every server on the database accepts the same one.

use std::marker::PhantomData;

use sqlx::Database;

use crate::backend::Backend;
use crate::error::db_err;
use crate::{ClaimedToken, StoreError, now_ms};

/// Does nothing when the name is taken: the first claim wins, whoever commits first.
const INSERT_TOKEN: &str = "INSERT INTO server_tokens (name, sha256, created_at) \
     VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING RETURNING sha256";

const SELECT_TOKEN: &str = "SELECT sha256 FROM server_tokens WHERE name = $1";

/// The token operations of [`crate::Store`]. A type only so that the sqlx bounds (see
/// [`crate::backend`]) are written once for all of them.
pub(crate) struct Tokens<B>(PhantomData<B>);

impl<B: Backend> Tokens<B>
where
    for<'c> &'c mut <B::Db as Database>::Connection: sqlx::Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: sqlx::IntoArguments<'q, B::Db>,
    for<'q> &'q str: sqlx::Encode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> String: sqlx::Encode<'q, B::Db> + sqlx::Decode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> i64: sqlx::Encode<'q, B::Db> + sqlx::Type<B::Db>,
    usize: sqlx::ColumnIndex<<B::Db as Database>::Row>,
{
    /// Two statements, each in its own transaction: the INSERT waits for a concurrent claim
    /// of the same name to commit (then does nothing), and the SELECT after it, a new
    /// statement, sees what that claim committed — one statement could not (its snapshot
    /// predates the other commit on PostgreSQL).
    pub(crate) async fn claim(
        store: &B,
        name: &str,
        sha256: &str,
    ) -> Result<ClaimedToken, StoreError> {
        if name.is_empty() || sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::Invalid(format!(
                "server token '{name}': a name and 64 hexadecimal digits are needed"
            )));
        }
        let err = || db_err(B::NAME, format!("claiming server token '{name}'"));
        // A row back: this claim inserted it (sqlx has no backend-neutral rows_affected).
        let inserted: Option<String> = sqlx::query_scalar(INSERT_TOKEN)
            .bind(name)
            .bind(sha256)
            .bind(now_ms())
            .fetch_optional(store.write_pool())
            .await
            .map_err(err())?;
        if let Some(sha256) = inserted {
            return Ok(ClaimedToken {
                sha256,
                created: true,
            });
        }
        let kept: String = sqlx::query_scalar(SELECT_TOKEN)
            .bind(name)
            .fetch_one(store.write_pool())
            .await
            .map_err(err())?;
        Ok(ClaimedToken {
            sha256: kept,
            created: false,
        })
    }
}
