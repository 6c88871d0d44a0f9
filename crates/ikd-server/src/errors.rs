//! gRPC statuses that mean what they say, without leaking internals: store and
//! plugin failures are logged in full and answered with a short message.

use ikd_core::pipeline::ScoreError;
use ikd_store::StoreError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// One invalid field of a request.
#[derive(Clone, Debug, PartialEq)]
pub struct Invalid {
    pub field: String,
    pub description: String,
}

impl Invalid {
    pub fn answer(item: &str, description: impl Into<String>) -> Self {
        Invalid {
            field: format!("answers[{item}]"),
            description: description.into(),
        }
    }
}

/// `INVALID_ARGUMENT` with a `google.rpc.BadRequest` listing every violation.
pub fn bad_request(message: &str, violations: &[Invalid]) -> Status {
    let details = ErrorDetails::with_bad_request(
        violations
            .iter()
            .map(|v| {
                let mut f = FieldViolation::new(v.field.clone(), v.description.clone());
                f.reason = "INVALID_VALUE".into();
                f
            })
            .collect::<Vec<_>>(),
    );
    let summary = match violations {
        [one] => format!("{message}: {}: {}", one.field, one.description),
        many => format!("{message}: {} invalid fields", many.len()),
    };
    Status::with_error_details(Code::InvalidArgument, summary, details)
}

/// A store failure as a status.
pub fn store(err: StoreError) -> Status {
    match err {
        StoreError::NotFound { .. } => Status::not_found(err.to_string()),
        StoreError::Submitted { .. } => Status::failed_precondition(err.to_string()),
        StoreError::Conflict(_) => Status::aborted(err.to_string()),
        StoreError::Invalid(_) => Status::invalid_argument(err.to_string()),
        other => {
            tracing::error!("store: {other}");
            Status::unavailable("the result store is unavailable; retry later")
        }
    }
}

/// A scoring failure as a status: invalid answers become field violations
/// (for respondent `0` of the batch).
pub fn score(err: ScoreError) -> Status {
    match err {
        ScoreError::InvalidAnswers(list) => {
            let violations: Vec<Invalid> = list
                .iter()
                .map(|v| Invalid::answer(&v.item, v.message.clone()))
                .collect();
            bad_request("invalid answers", &violations)
        }
        ScoreError::Plugin(e) => plugin(e),
    }
}

/// A plugin fault. The server stays up; the request fails with `INTERNAL`,
/// `UNAVAILABLE` (a disabled plugin, a process plugin that died) or
/// `DEADLINE_EXCEEDED` (a process plugin past its call timeout), naming the plugin only.
pub fn plugin(err: ikd_core::host::PluginCallError) -> Status {
    use ikd_core::host::PluginCallError as E;
    tracing::error!("plugin call failed: {err}");
    match &err {
        E::Refused { plugin, error } => Status::invalid_argument(format!(
            "plugin '{plugin}' refused the request: {}",
            error.message
        )),
        E::Poisoned { plugin } => {
            Status::unavailable(format!("plugin '{plugin}' is disabled after a fault"))
        }
        E::TimedOut { plugin, after } => {
            Status::deadline_exceeded(format!("plugin '{plugin}' did not answer within {after:?}"))
        }
        E::Crashed { plugin, .. } => Status::unavailable(format!(
            "plugin '{plugin}' stopped during the call; it is restarted for the next one"
        )),
        other => Status::internal(format!("plugin '{}' failed", other.plugin())),
    }
}
