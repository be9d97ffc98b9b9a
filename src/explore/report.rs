//! What a campaign found: [`CampaignReport`] (serde: `detsim fuzz --json` writes it,
//! `detsim merge` reads it back) and why it stopped ([`StopReason`]).

use super::found::{FoundFailure, Regression};
use super::{Shard, StrategySpec};
use serde::{Deserialize, Serialize};

/// Why a campaign stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StopReason {
    /// Every seed of the range (or every DFS schedule) ran.
    Exhausted,
    /// Enough distinct failures were found (`keep_going`).
    Failures,
    /// The wall-clock budget ran out.
    TimeLimit,
    /// Interrupted (Ctrl-C).
    Interrupted,
    /// Too many runs hung (no await in a loop): each keeps a thread busy, so the
    /// campaign gave up. (A hang by itself is a failure like any other.)
    Hung,
    /// DFS hit its run cap before exhausting the space.
    RunCap,
    /// DFS stopped because the program behaved differently under the same seed and task
    /// picks ([`CampaignReport::nondeterminism`] says where): its tree cannot be searched.
    Nondeterministic,
}

/// The result of a campaign: deterministic for a given (scenario, config, seed range,
/// strategy, shard) whatever the number of jobs, unless stopped by time or interrupt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignReport {
    /// Scenario name.
    pub scenario: String,
    /// The strategy (a token in JSON, with PCT's calibrated step estimate).
    pub strategy: StrategySpec,
    /// Workers per run.
    pub workers: usize,
    /// First seed of the range.
    pub start: u64,
    /// Number of seeds in the range (before sharding).
    pub seeds: u64,
    /// The shard of the range this campaign ran (`"k/n"` in JSON).
    pub shard: Shard,
    /// The stop rule: stop after this many distinct failures (`--keep-going`).
    pub keep_going: usize,
    /// Runs counted (seeds up to the stopping point).
    pub runs: u64,
    /// Runs that passed.
    pub passes: u64,
    /// New failures, in seed order, one per signature.
    pub failures: Vec<FoundFailure>,
    /// Every failing seed of the range up to the stopping point, ascending.
    pub failing_seeds: Vec<u64>,
    /// Results of replaying the seeds file first.
    pub regressions: Vec<Regression>,
    /// Why the campaign stopped.
    pub stopped: StopReason,
    /// DFS only: true if the whole space within the bound was explored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete: Option<bool>,
    /// DFS only: where the program behaved differently under the same task picks, when
    /// that stopped the search ([`StopReason::Nondeterministic`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nondeterminism: Option<String>,
    /// Seeds that were in flight when an earlier campaign died, re-run first.
    pub resumed_in_flight: Vec<u64>,
    /// The failures among them (saved to the seeds file like any other).
    pub resumed_failures: Vec<FoundFailure>,
}

impl CampaignReport {
    /// True if anything failed (new failures or regressions that still fail).
    pub fn failed(&self) -> bool {
        !self.failures.is_empty()
            || !self.resumed_failures.is_empty()
            || self.regressions.iter().any(|r| r.failure.is_some())
    }
}
