//! The [`Strategy`] trait, the [`Candidates`] it picks from, the [`StrategyRng`] it draws
//! from and the default [`Random`] live next to the choice point (`src/strategy.rs`,
//! `src/choice.rs`), below the runtime that calls them;
//! exploration re-exports them here so strategies and users name them from one place.

pub use crate::choice::StrategyRng;
pub use crate::strategy::{Candidates, Random, Strategy};
