//! What a campaign found: [`CampaignReport`] and [`FoundFailure`] (serde, for `--json`).

use super::StrategySpec;
use crate::Failure;
use serde::Serialize;

/// One failing run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FoundFailure {
    /// The seed (a JSON number).
    pub seed: u64,
    /// Strategy token that reproduces it with the seed.
    pub strategy: String,
    /// Number of workers.
    pub workers: usize,
    /// Failure kind (`panic`, `deadlock`, …).
    pub kind: String,
    /// The failure message.
    pub message: String,
    /// Kind + location, used to deduplicate.
    pub signature: String,
    /// Fingerprint of the failing run's trace, as 16 hex digits.
    pub fingerprint: String,
    /// For DFS failures: the schedule file that reproduces it (seeds alone do not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
}

impl FoundFailure {
    pub(crate) fn new(
        seed: u64,
        strategy: &StrategySpec,
        workers: usize,
        failure: &Failure,
        fingerprint: u64,
    ) -> Self {
        FoundFailure {
            seed,
            strategy: strategy.to_string(),
            workers,
            kind: failure.kind().to_string(),
            message: failure.to_string(),
            signature: failure.signature(),
            fingerprint: format!("{fingerprint:016x}"),
            schedule: None,
        }
    }

    /// A failure the harness saw from outside the run (`hang`, `crash`,
    /// `unreadable_schedule`): the kind is its own signature, and there is no trace.
    pub(crate) fn outside(
        seed: u64,
        strategy: &StrategySpec,
        workers: usize,
        kind: &str,
        message: String,
    ) -> Self {
        FoundFailure {
            seed,
            strategy: strategy.to_string(),
            workers,
            kind: kind.to_string(),
            message,
            signature: kind.to_string(),
            fingerprint: String::new(),
            schedule: None,
        }
    }
}

/// A case of the seeds file, replayed before the campaign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Regression {
    /// Seed of the case.
    pub seed: u64,
    /// Strategy of the case.
    pub strategy: String,
    /// Workers of the case.
    pub workers: usize,
    /// The failure it still produces, if any.
    pub failure: Option<FoundFailure>,
}

/// Why a campaign stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
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
}

/// The result of a campaign: deterministic for a given (scenario, config, seed range,
/// strategy, shard) whatever the number of jobs, unless stopped by time or interrupt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CampaignReport {
    /// Scenario name.
    pub scenario: String,
    /// Strategy token (with PCT's calibrated step estimate).
    pub strategy: String,
    /// Workers per run.
    pub workers: usize,
    /// First seed of the range.
    pub start: u64,
    /// Number of seeds in the range (before sharding).
    pub seeds: u64,
    /// `k/n`.
    pub shard: String,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complete: Option<bool>,
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
