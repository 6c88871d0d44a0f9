//! Invitations: one link per respondent to take an instrument in the web app.
//!
//! A link's token is 128 random bits in hex, returned once and kept only as
//! its SHA-256, like API tokens. The respondent is kept as the same pseudonym sessions use.
//! A link opens until its session is submitted (then it shows the report),
//! it expires, or it is revoked.

use crate::State;
use crate::answers::{check_id, check_org_unit};
use crate::auth::Caller;
use crate::catalog::Entry;
use crate::errors::{self, Invalid, bad_request};
use crate::render::{millis, now_millis, timestamp};
use ikd_proto::v1 as api;
use ikd_store::{Invitation, NewInvitation, Revocation};
use sha2::{Digest, Sha256};
use tonic::Status;

/// Links per request: a unit's staff at a time, not a ministry.
pub(crate) const MAX_PER_REQUEST: usize = 10_000;
/// When a request gives no expiry.
pub(crate) const DEFAULT_VALIDITY_MS: i64 = 30 * 24 * 3600 * 1000;

/// The SHA-256 (hex) a link token is kept as.
pub(crate) fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new link token: 128 random bits in hex.
fn new_token() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

pub(crate) async fn create(
    state: &State,
    caller: &Caller,
    req: api::CreateInvitationsRequest,
) -> Result<api::CreateInvitationsResponse, Status> {
    let entry = state.catalog.resolve(req.instrument.as_ref())?;
    let mut problems = Vec::new();
    if let Err(v) = check_org_unit(&req.org_unit, "org_unit") {
        problems.push(v);
    }
    if req.respondent_ids.is_empty() || req.respondent_ids.len() > MAX_PER_REQUEST {
        problems.push(Invalid {
            field: "respondent_ids".into(),
            description: format!(
                "give 1 to {MAX_PER_REQUEST} identifiers, got {}",
                req.respondent_ids.len()
            ),
        });
    }
    for (k, id) in req.respondent_ids.iter().enumerate() {
        if let Err(v) = check_id(id, &format!("respondent_ids[{k}]")) {
            problems.push(v);
        }
    }
    let now = now_millis();
    let expires_at = match &req.expires_at {
        None => now + DEFAULT_VALIDITY_MS,
        Some(t) => millis(t, "expires_at")?,
    };
    if expires_at <= now {
        problems.push(Invalid {
            field: "expires_at".into(),
            description: "is not in the future".into(),
        });
    }
    if !problems.is_empty() {
        return Err(bad_request("cannot create invitations", &problems));
    }
    caller.check_unit(&req.org_unit)?;
    let links = issue(
        state,
        entry,
        &req.org_unit,
        &req.respondent_ids,
        expires_at,
        &caller.name,
    )
    .await?;
    Ok(api::CreateInvitationsResponse { invitations: links })
}

/// Makes and stores one link per respondent (the audit entry first: no
/// record, no links).
pub(crate) async fn issue(
    state: &State,
    entry: &Entry,
    org_unit: &str,
    respondent_ids: &[String],
    expires_at: i64,
    actor: &str,
) -> Result<Vec<api::Invitation>, Status> {
    let instrument = &entry.instrument;
    if !entry.scorer.deliverable() {
        return Err(Status::failed_precondition(format!(
            "instrument '{}' {} cannot be delivered: a domain plugin does not present its items",
            instrument.id, instrument.version
        )));
    }
    let mut links = Vec::with_capacity(respondent_ids.len());
    let mut rows = Vec::with_capacity(respondent_ids.len());
    for respondent_id in respondent_ids {
        let token = new_token();
        let id = invitation_id();
        rows.push(NewInvitation {
            id: id.clone(),
            token_sha256: token_sha256(&token),
            instrument_id: instrument.id.clone(),
            instrument_version: instrument.version.to_string(),
            respondent_key: state.pseudonyms.pseudonym(respondent_id),
            org_unit: org_unit.to_owned(),
            expires_at,
        });
        links.push(api::Invitation {
            respondent_id: respondent_id.clone(),
            invitation_id: id,
            path: format!("/take/{token}"),
            token,
            expires_at: Some(timestamp(expires_at)),
        });
    }
    let target = format!("{}@{}", instrument.id, instrument.version);
    state
        .audit(
            actor,
            "invitations.created",
            &target,
            serde_json::json!({ "org_unit": org_unit, "count": links.len() }),
        )
        .await
        .map_err(errors::store)?;
    state
        .store
        .create_invitations(&rows)
        .await
        .map_err(errors::store)?;
    Ok(links)
}

pub(crate) async fn revoke(
    state: &State,
    caller: &Caller,
    req: api::RevokeInvitationsRequest,
) -> Result<api::RevokeInvitationsResponse, Status> {
    let instrument_id = match &req.instrument {
        Some(r) if !r.id.is_empty() => state.catalog.resolve(Some(r))?.instrument.id.clone(),
        _ => String::new(),
    };
    let which = Revocation {
        ids: req.invitation_ids.clone(),
        respondent_keys: req
            .respondent_ids
            .iter()
            .map(|id| state.pseudonyms.pseudonym(id))
            .collect(),
        instrument_id,
        // A service token revokes only inside its own scope.
        org_prefix: caller.org_prefix.clone(),
    };
    let revoked = state
        .store
        .revoke_invitations(&which)
        .await
        .map_err(errors::store)?;
    state
        .audit(
            &caller.name,
            "invitations.revoked",
            &which.instrument_id,
            serde_json::json!({ "revoked": revoked }),
        )
        .await
        .map_err(errors::store)?;
    Ok(api::RevokeInvitationsResponse { revoked })
}

/// Why a link does not open (the page says so; the status is 404 or 410).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Closed {
    Unknown,
    Expired,
    Revoked,
}

/// The invitation of a link token, if it still opens.
pub(crate) async fn open(state: &State, token: &str) -> Result<Result<Invitation, Closed>, Status> {
    // Not a token we could have made: no database round trip.
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(Err(Closed::Unknown));
    }
    let Some(invitation) = state
        .store
        .invitation(&token_sha256(token))
        .await
        .map_err(errors::store)?
    else {
        return Ok(Err(Closed::Unknown));
    };
    if invitation.revoked_at.is_some() {
        return Ok(Err(Closed::Revoked));
    }
    // Expiry ends the link whatever happened, as the invitation said.
    if invitation.expires_at <= now_millis() {
        return Ok(Err(Closed::Expired));
    }
    Ok(Ok(invitation))
}

/// A non-secret invitation id: 64 random bits in hex, `inv-` first so it is
/// never mistaken for a token.
fn invitation_id() -> String {
    format!("inv-{}", hex::encode(rand::random::<[u8; 8]>()))
}
