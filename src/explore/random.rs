//! [`Random`]: uniform choice among the runnable tasks.

use super::strategy::{Candidates, Strategy};
use crate::choice::Chooser;

/// Picks uniformly at random among the runnable tasks at every step.
///
/// Simple and surprisingly effective for bugs of depth 1 (one bad ordering of two
/// events); PCT is better when the bug needs several specific orderings.
#[derive(Clone, Copy, Debug, Default)]
pub struct Random;

impl Strategy for Random {
    fn pick(&mut self, candidates: &Candidates<'_>, chooser: &mut Chooser) -> usize {
        chooser.draw_below(candidates.len())
    }
}
