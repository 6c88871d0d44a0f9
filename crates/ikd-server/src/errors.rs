//! gRPC statuses that mean what they say, without leaking internals: store and
//! plugin failures are logged in full and answered with a short message.

use ikd_core::instrument::MAX_ITEM_ID;
use ikd_core::pipeline::ScoreError;
use ikd_core::quote::{cut, grouped};
use ikd_store::StoreError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// At most this many violations are listed in a status; the rest are counted.
/// grpc C-core clients (Python, C++) refuse response metadata over 16 KiB and
/// report `RESOURCE_EXHAUSTED` instead of the status: 200 listed duplicates
/// were already too many.
pub const MAX_VIOLATIONS: usize = 20;
/// Longest field path of a listed violation (`answers[<item id>]`).
const MAX_FIELD: usize = 96;
/// Longest description of a listed violation (plugins' messages are cut at
/// 300 bytes before they get here).
const MAX_DESCRIPTION: usize = 200;
/// Bytes the listed violations may take together: base64 makes 4/3 of it,
/// so with the summary (sent twice: in `grpc-message` and in the details)
/// the status stays under 8 KiB on the wire whatever the violations are.
const VIOLATIONS_BUDGET: usize = 4096;
/// Longest `grpc-message` of a bad request.
const MAX_SUMMARY: usize = 300;

/// One invalid field of a request.
#[derive(Clone, Debug, PartialEq)]
pub struct Invalid {
    pub field: String,
    pub description: String,
}

impl Invalid {
    /// A violation of `answers[<item>]`; an item id is cut to the longest an
    /// instrument allows, so an unknown megabyte id does not come back whole.
    pub fn answer(item: &str, description: impl Into<String>) -> Self {
        Invalid {
            field: format!("answers[{}]", cut(item, MAX_ITEM_ID)),
            description: description.into(),
        }
    }
}

/// The violations of one request: the first [`MAX_VIOLATIONS`] kept, every
/// one counted. A 100,000-answer request builds 20 messages, not 100,000.
#[derive(Clone, Debug, Default)]
pub struct Violations {
    listed: Vec<Invalid>,
    total: usize,
}

impl Violations {
    /// Counts a violation; `make` runs only while fewer than [`MAX_VIOLATIONS`] are kept.
    pub fn add(&mut self, make: impl FnOnce() -> Invalid) {
        if self.listed.len() < MAX_VIOLATIONS {
            self.listed.push(make());
        }
        self.total += 1;
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// How many violations there were, listed or not.
    pub fn len(&self) -> usize {
        self.total
    }

    /// `INVALID_ARGUMENT` with a `google.rpc.BadRequest` listing the kept
    /// violations (fields and descriptions cut short, within a byte budget)
    /// and, when some were left out, a last one saying how many.
    pub fn into_status(self, message: &str) -> Status {
        let mut listed = Vec::with_capacity(self.listed.len() + 1);
        let mut budget = VIOLATIONS_BUDGET;
        for v in &self.listed {
            let violation = field_violation(&v.field, &v.description, "INVALID_VALUE");
            let size = violation.field.len() + violation.description.len() + 32;
            if size > budget {
                break;
            }
            budget -= size;
            listed.push(violation);
        }
        let omitted = self.total - listed.len();
        if omitted > 0 {
            let more = format!(
                "… and {} more (the first {} are listed)",
                grouped(omitted),
                listed.len()
            );
            listed.push(field_violation("", &more, "MORE_VIOLATIONS"));
        }
        let summary = match (self.total, self.listed.first()) {
            (0, _) | (_, None) => message.to_owned(),
            (1, Some(one)) => format!("{message}: {}: {}", one.field, one.description),
            (n, Some(_)) => format!("{message}: {} invalid fields", grouped(n)),
        };
        let details = ErrorDetails::with_bad_request(listed);
        Status::with_error_details(Code::InvalidArgument, cut(&summary, MAX_SUMMARY), details)
    }
}

impl From<&[Invalid]> for Violations {
    fn from(all: &[Invalid]) -> Self {
        let mut violations = Violations::default();
        for v in all {
            violations.add(|| v.clone());
        }
        violations
    }
}

impl<const N: usize> From<&[Invalid; N]> for Violations {
    fn from(all: &[Invalid; N]) -> Self {
        Violations::from(&all[..])
    }
}

impl From<&Vec<Invalid>> for Violations {
    fn from(all: &Vec<Invalid>) -> Self {
        Violations::from(&all[..])
    }
}

impl From<&Violations> for Violations {
    fn from(all: &Violations) -> Self {
        all.clone()
    }
}

/// A violation for the wire, its field and description cut short.
fn field_violation(field: &str, description: &str, reason: &str) -> FieldViolation {
    let mut f = FieldViolation::new(cut(field, MAX_FIELD), cut(description, MAX_DESCRIPTION));
    f.reason = reason.into();
    f
}

/// `INVALID_ARGUMENT` with a `google.rpc.BadRequest` listing the violations
/// (at most [`MAX_VIOLATIONS`], see [`Violations::into_status`]).
pub fn bad_request(message: &str, violations: impl Into<Violations>) -> Status {
    violations.into().into_status(message)
}

/// A store failure as a status.
pub fn store(err: StoreError) -> Status {
    match err {
        StoreError::NotFound { .. } => Status::not_found(err.to_string()),
        StoreError::Submitted { .. } => Status::failed_precondition(err.to_string()),
        StoreError::Conflict(_) | StoreError::AnswersChanged { .. } => {
            Status::aborted(err.to_string())
        }
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
            let mut violations = Violations::default();
            for v in &list {
                violations.add(|| Invalid::answer(&v.item, v.message.clone()));
            }
            violations.into_status("invalid answers")
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
            cut(&error.message, MAX_DESCRIPTION)
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

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::StatusExt;

    /// Bytes the status takes on the wire: details in base64, the message
    /// percent-encoded (non-printable and non-ASCII bytes as three).
    fn wire_size(status: &Status) -> usize {
        let message: usize = status
            .message()
            .bytes()
            .map(|b| {
                if (b' '..=b'~').contains(&b) && b != b'%' {
                    1
                } else {
                    3
                }
            })
            .sum();
        status.details().len().div_ceil(3) * 4 + message
    }

    #[test]
    fn the_worst_case_stays_under_8_kib_on_the_wire() {
        // Many violations, every field and description as long as possible and
        // multi-byte (percent-encoding triples them in the message).
        let worst: Vec<Invalid> = (0..100_000)
            .map(|k| Invalid::answer(&format!("{k:é>5000}"), "é".repeat(10_000)))
            .collect();
        for n in [1, 2, 20, 21, 100_000] {
            let status = bad_request(&"é".repeat(1000), &worst[..n]);
            assert_eq!(status.code(), Code::InvalidArgument);
            assert!(wire_size(&status) < 8 * 1024, "{n}: {}", wire_size(&status));
            let listed = status.get_details_bad_request().unwrap().field_violations;
            assert!(listed.len() <= MAX_VIOLATIONS + 1, "{n}: {}", listed.len());
            for v in &listed {
                assert!(v.field.len() <= MAX_FIELD && v.description.len() <= MAX_DESCRIPTION);
            }
        }
    }

    #[test]
    fn the_rest_are_counted() {
        let many: Vec<Invalid> = (0..100_000)
            .map(|k| Invalid::answer(&format!("Z{k}"), "no such item in this instrument"))
            .collect();
        let status = bad_request("invalid answers", &many);
        assert_eq!(status.message(), "invalid answers: 100,000 invalid fields");
        let listed = status.get_details_bad_request().unwrap().field_violations;
        assert_eq!(listed.len(), MAX_VIOLATIONS + 1);
        assert_eq!(listed[0].field, "answers[Z0]");
        assert_eq!(
            listed[MAX_VIOLATIONS].description,
            "… and 99,980 more (the first 20 are listed)"
        );
        // One violation is spelled out in the message; none leaves the message alone.
        let one = bad_request("invalid answers", &many[..1]);
        assert_eq!(
            one.message(),
            "invalid answers: answers[Z0]: no such item in this instrument"
        );
        assert_eq!(bad_request("no report", &[]).message(), "no report");
    }
}
