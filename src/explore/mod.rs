//! Exploring interleavings: scheduling strategies, campaigns, shrinking.
//!
//! - `strategy.rs` — the [`Strategy`] trait and the [`Candidates`] it picks from.
//! - `spec.rs` — [`StrategySpec`], strategies as tokens (`random`, `pct:3`, `dfs:2`).
//! - `random.rs` — [`Random`], uniform choice.
//! - `pct.rs` — [`Pct`], probabilistic concurrency testing.

mod pct;
mod random;
mod spec;
mod strategy;

pub use pct::Pct;
pub use random::Random;
pub use spec::{SpecError, StrategySpec};
pub use strategy::{Candidates, Strategy};
