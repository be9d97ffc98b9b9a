//! Exploring interleavings: scheduling strategies, campaigns, shrinking.
//!
//! - `strategy.rs` — re-exports the [`Strategy`] trait, the [`Candidates`] it picks from
//!   and [`Random`] (uniform choice), which live below the runtime (`src/strategy.rs`).
//! - `spec.rs` — [`StrategySpec`], strategies as tokens (`random`, `pct:3`, `dfs:2`).
//! - `pct.rs` — [`Pct`], probabilistic concurrency testing.
//! - `dfs.rs` — [`Dfs`], systematic preemption-bounded depth-first search (CHESS).
//! - `campaign/` — [`Campaign`], many seeds on many threads (shards, pool, regressions, DFS runs).
//! - `report.rs` — [`CampaignReport`], what a campaign found.
//! - `inflight.rs` — the log of seeds in flight (found again after a crash).
//! - `watchdog.rs` — [`Hung`]: the wall-clock limit on every run a campaign starts.
//! - `isolate.rs` — [`Isolate`], each seed in a child process.
//! - `shrink.rs` — [`shrink`], minimal failing schedules.
//! - `determinism.rs` — [`check_determinism`], catching leaks of nondeterminism.

mod campaign;
mod determinism;
mod dfs;
mod inflight;
mod isolate;
mod pct;
mod report;
mod shrink;
mod spec;
mod strategy;
pub(crate) mod watchdog;

pub(crate) use campaign::run_one;
pub use campaign::{Campaign, CampaignError, Progress, Shard};
pub use determinism::{check_determinism, Nondeterminism, TraceDifference};
pub use dfs::Dfs;
pub use isolate::{Isolate, RunSummary};
pub use pct::Pct;
pub use report::{CampaignReport, FoundFailure, Regression, StopReason};
pub use shrink::{measure, shrink, shrink_with_watchdog, Measure, NotFailing, ShrinkError, Shrunk};
pub use spec::{SpecError, StrategySpec};
pub use strategy::{Candidates, Random, Strategy};
pub use watchdog::Hung;
