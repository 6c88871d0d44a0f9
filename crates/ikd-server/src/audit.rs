//! The audit trail: actions on people's data (rescores, exports) appended to
//! the store's `audit_log` and logged under the `tracing` target `audit`.
//! Entries hold structured fields only — names, counts, codes — never a token,
//! free-form error text or file content, since the log cannot be edited.

use crate::State;
use ikd_store::{NewAuditEntry, StoreError};

impl State {
    /// Appends an entry and logs it. `actor` is a token's configured name.
    pub(crate) async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: serde_json::Value,
    ) -> Result<(), StoreError> {
        let entry = NewAuditEntry {
            actor: actor.to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            detail_json: detail.to_string(),
        };
        let stored = self.store.record_audit(&entry).await?;
        tracing::info!(
            target: "audit",
            id = stored.id,
            at = stored.at,
            actor = %stored.actor,
            action = %stored.action,
            audit_target = %stored.target,
            detail = %stored.detail_json,
            "audit"
        );
        Ok(())
    }
}
