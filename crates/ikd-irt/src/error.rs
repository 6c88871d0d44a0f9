//! The one error type of the crate.

/// What can go wrong: invalid parameters, data that cannot be read or fitted.
///
/// Messages name the item, and for CSV input the line and column, so that a
/// researcher can find the cell at fault.
#[derive(Debug, thiserror::Error)]
pub enum IrtError {
    /// Item parameters that do not define a valid model.
    #[error("item '{item}': {reason}")]
    InvalidItem { item: String, reason: String },
    /// A quadrature grid that cannot be built.
    #[error("quadrature grid: {0}")]
    InvalidGrid(String),
    /// One cell of a CSV file.
    #[error("line {line}, column {column} ({what} '{name}'): {reason}")]
    Cell {
        line: u64,
        column: usize,
        /// `item` or `field`.
        what: &'static str,
        name: String,
        reason: String,
    },
    /// A CSV file whose layout is wrong (header, column set).
    #[error("{0}")]
    Layout(String),
    /// A response outside the categories of its item.
    #[error("person {person}, item '{item}': response {value} is not a category (0..={max})")]
    Category {
        /// 0-based row of the person in the batch.
        person: usize,
        item: String,
        value: u8,
        max: usize,
    },
    /// Data that cannot be calibrated as given (e.g. an unused category).
    #[error("{0}")]
    Data(String),
    /// Options out of range.
    #[error("{0}")]
    Options(String),
    #[error(transparent)]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
