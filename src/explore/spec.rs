//! The strategies a [`StrategySpec`] stands for. The token itself (parse, print, serde)
//! is a leaf, `src/spec.rs`, because the saved formats below exploration carry it.

use super::{Pct, Random, Strategy, Swarm};
pub use crate::spec::{SpecError, StrategySpec};

impl StrategySpec {
    /// The per-run strategy for seed-based exploration (`None` for DFS, which is driven
    /// by [`super::Dfs`] across runs instead).
    pub fn per_run(&self) -> Option<Box<dyn Strategy>> {
        match *self {
            StrategySpec::Swarm => Some(Box::new(Swarm::default())),
            StrategySpec::Random => Some(Box::new(Random)),
            StrategySpec::Pct { depth, steps } => {
                Some(Box::new(Pct::new(depth, steps.unwrap_or(0))))
            }
            StrategySpec::Dfs { .. } => None,
        }
    }
}
