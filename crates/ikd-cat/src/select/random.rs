//! Random selection within the content constraints: the baseline a selector
//! must beat, and the flattest item exposure there is.

use super::{SelectionContext, Selector, SelectorFault};
use rand::{Rng, RngCore};

/// Any candidate, uniformly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RandomItem;

impl Selector for RandomItem {
    fn name(&self) -> &str {
        "random"
    }

    fn select(
        &self,
        context: &SelectionContext<'_>,
        rng: &mut dyn RngCore,
    ) -> Result<usize, SelectorFault> {
        Ok(context.candidates[rng.random_range(0..context.candidates.len())])
    }
}
