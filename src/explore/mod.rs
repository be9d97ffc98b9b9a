//! Exploring interleavings: scheduling strategies, campaigns, shrinking.
//!
//! - `strategy.rs` — re-exports the [`Strategy`] trait, the [`Candidates`] it picks from,
//!   the [`StrategyRng`] it draws from and [`Random`] (uniform choice), which live below
//!   the runtime (`src/strategy.rs`, `src/choice.rs`).
//! - `spec.rs` — what a [`StrategySpec`] builds (`per_run`); the token itself (`random`,
//!   `pct:3`, `dfs:2`) is the leaf `src/spec.rs`, carried by the saved formats.
//! - `pct.rs` — [`Pct`], probabilistic concurrency testing.
//! - `swarm.rs` — [`Swarm`], the default: a per-seed portfolio of Random and PCT depths.
//! - `dfs.rs` — [`Dfs`], systematic preemption-bounded depth-first search (CHESS).
//! - `campaign/` — [`Campaign`], many seeds on many threads (shards, pool, regressions, DFS runs).
//! - `options.rs` — [`CampaignOptions`], what a campaign runs: held by `Campaign`, built
//!   by `Check`, parsed by `detsim fuzz` (one definition).
//! - `found.rs` — [`FoundFailure`] (one failing run: [`FailureKind`], [`Fingerprint`]) and
//!   [`Regression`] (a seeds-file case replayed).
//! - `report.rs` — [`CampaignReport`], what a campaign found, and its [`StopReason`].
//! - `merge.rs` — [`merge_reports`]: the reports of N shards as the unsharded campaign's.
//! - `watchdog.rs` — [`Hung`]: the wall-clock limit on every run a campaign starts.
//! - `isolate.rs` — [`Isolate`], each seed in a child process.
//! - `shrink.rs` — [`shrink`], minimal failing schedules; `shrink_moves.rs` — its
//!   task-level pass (move one task's poll past another's).
//! - `determinism.rs` — [`check_determinism`], catching leaks of nondeterminism.

mod campaign;
mod determinism;
mod dfs;
mod executor;
mod explorer;
mod found;
mod isolate;
mod merge;
pub(crate) mod options;
mod pct;
mod report;
mod shrink;
mod shrink_moves;
mod spec;
mod strategy;
mod swarm;
pub(crate) mod watchdog;

pub(crate) use campaign::run_one;
pub use campaign::{Campaign, CampaignError, Progress, Shard};
pub use determinism::{
    check_determinism, check_determinism_isolated, IsolatedCheckError, Nondeterminism,
    TraceDifference,
};
pub use dfs::Dfs;
pub use found::{FailureKind, Fingerprint, FoundFailure, Regression};
pub use isolate::{Isolate, RunFailure, RunSummary};
pub use merge::{merge_reports, MergeError};
pub use options::CampaignOptions;
pub use pct::Pct;
pub use report::{CampaignReport, StopReason};
pub use shrink::{measure, shrink, shrink_with_watchdog, Measure, NotFailing, ShrinkError, Shrunk};
pub use spec::{SpecError, StrategySpec};
pub use strategy::{Candidates, Random, Strategy, StrategyRng};
pub use swarm::{Member as SwarmMember, Swarm};
pub use watchdog::Hung;
