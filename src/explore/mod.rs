//! Exploring interleavings: scheduling strategies.
//!
//! - `strategy.rs` — the [`Strategy`] trait and the [`Candidates`] it picks from.
//! - `random.rs` — [`Random`], uniform choice.

mod random;
mod strategy;

pub use random::Random;
pub use strategy::{Candidates, Strategy};
