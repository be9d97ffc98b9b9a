//! PCT (stub, to be replaced).

use super::strategy::{Candidates, Strategy};
use crate::choice::Chooser;

/// Probabilistic Concurrency Testing.
#[derive(Debug)]
pub struct Pct {
    #[allow(dead_code)]
    depth: u32,
    #[allow(dead_code)]
    steps: u64,
}

impl Pct {
    /// PCT with bug depth `depth` over an estimated `steps` steps (0: unknown).
    pub fn new(depth: u32, steps: u64) -> Self {
        Pct { depth, steps }
    }
}

impl Strategy for Pct {
    fn pick(&mut self, candidates: &Candidates<'_>, chooser: &mut Chooser) -> usize {
        chooser.draw_below(candidates.len())
    }
}
