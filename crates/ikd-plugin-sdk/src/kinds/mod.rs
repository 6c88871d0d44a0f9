//! Item kinds every domain can reuse.

pub mod answers;
pub mod checks;
mod likert;
mod single_choice;

pub use likert::Likert;
pub use single_choice::SingleChoice;

use crate::proto::{ItemSpec, Violation};
use std::collections::HashSet;

/// Checks that option codes are present and unique; reports each problem.
pub fn check_option_codes(item: &ItemSpec, violations: &mut Vec<Violation>) {
    if item.options.is_empty() {
        violations.push(Violation::item(
            &item.id,
            "options",
            "needs at least one option",
        ));
    }
    let mut seen = HashSet::new();
    for (i, opt) in item.options.iter().enumerate() {
        if opt.code.trim().is_empty() {
            violations.push(Violation::item(
                &item.id,
                &format!("options[{i}].code"),
                "is empty",
            ));
        } else if opt.code == crate::NOT_APPLICABLE {
            violations.push(Violation::item(
                &item.id,
                &format!("options[{i}].code"),
                format!(
                    "'{}' is reserved for \"not applicable\"",
                    crate::NOT_APPLICABLE
                ),
            ));
        } else if !seen.insert(opt.code.as_str()) {
            violations.push(Violation::item(
                &item.id,
                &format!("options[{i}].code"),
                format!("duplicate option code '{}'", opt.code),
            ));
        }
    }
}
