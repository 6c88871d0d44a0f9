//! Why a report could not be made. Every message names what is at fault (the
//! file and line, the respondent, the organisation prefix, the field).

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The results cannot be read: `origin` is the file (and line, when known).
    #[error("{origin}: {message}")]
    Results { origin: String, message: String },
    /// The results do not belong to the instrument (a domain or level code it lacks).
    #[error("results do not match instrument '{instrument}': {message}")]
    Mismatch { instrument: String, message: String },
    #[error("respondent '{respondent}' is not in the results")]
    RespondentNotFound { respondent: String },
    #[error("respondent '{respondent}' appears {count} times in the results; ids must be unique")]
    DuplicateRespondent { respondent: String, count: usize },
    #[error("organisation prefix '{prefix}': {message}")]
    InvalidPrefix { prefix: String, message: String },
    #[error("no results under organisation prefix '{prefix}'")]
    NoResults { prefix: String },
    /// The unit has fewer results than the minimum group size: nothing about
    /// it is reported (not even its n), as the server does.
    #[error(
        "organisation prefix '{prefix}' is suppressed: it has fewer than {min_group_size} results (the minimum group size)"
    )]
    Suppressed { prefix: String, min_group_size: u32 },
    #[error("minimum group size must be at least 1")]
    MinGroupSize,
    /// The CSV could not be written (in memory: a bug, not an input problem).
    #[error("writing the CSV: {0}")]
    Csv(String),
    /// A template failed to render: a bug in this crate, not in the input.
    #[error("report template: {0:#}")]
    Template(#[from] minijinja::Error),
}
