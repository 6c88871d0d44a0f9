//! Building [`StoreError`]s: database failures named by what was being done, and stored
//! rows that cannot be read back.

use crate::StoreError;

/// Maps a database error, naming what was being done.
pub(crate) fn db_err(
    backend: &'static str,
    context: impl Into<String>,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    let context = context.into();
    move |source| StoreError::Database {
        backend,
        context,
        source,
    }
}

/// Stored data the store cannot read back.
pub(crate) fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt(what)
}

/// A stored count or number that must fit a `u32`; `what` names it for the error.
pub(crate) fn to_u32(value: i64, what: impl FnOnce() -> String) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| corrupt(format!("{} = {value} is out of range", what())))
}
