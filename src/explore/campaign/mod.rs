//! [`Campaign`]: run a scenario over a seed range on many threads.
//!
//! Rules that make a campaign's answer independent of the number of threads:
//! 1. The outcome of a seed depends only on (scenario, config, seed, strategy token);
//!    PCT's step estimate is calibrated once, from the first seed, and becomes part of
//!    the token before any thread starts.
//! 2. Seeds are handed out in increasing order. When the K-th distinct failure is found
//!    at seed index `i`, later indices are skipped, and the report is computed from the
//!    failures at indices ≤ `i` only — whatever ran beyond it on other threads is ignored.
//!    The seeds file gets exactly the reported failing seeds (saved in index order as
//!    the ledger commits them), so it does not depend on the thread count either.
//! 3. Runs use the trace-off mode; the full trace is rebuilt only for failing seeds.
//! 4. Every run a campaign starts is under the watchdog (when one is set): the pool's
//!    runs, seeds-file regressions, resumed in-flight seeds, PCT's calibration run, DFS
//!    runs and full-trace re-runs. A run past it is a `hang` failure at its index.
//!
//! - `shard.rs` — [`Shard`] (`k/n`) and the plan of the seeds one shard runs.
//! - `regression.rs` — replaying the seeds file first, as regressions.
//! - `resume.rs` — re-running seeds an earlier campaign left in flight.
//! - `sweep.rs` — the seed sweep as an explorer (seed indices out, failures in) and its
//!   runner (a seed on a thread, or in a child with `isolate`).
//! - `ledger.rs` — the sweep's claims, failures, and the index-ordered commit to the
//!   seeds file.
//! - `dfs_run.rs` — the DFS search as an explorer, saving failing schedules.
//!
//! Both explorers run on the same executor (`explore/executor.rs`: J threads, the
//! watchdog, Ctrl-C and `--time`); see `explore/explorer.rs` for the model.

mod dfs_run;
mod ledger;
mod regression;
mod resume;
mod shard;
mod sweep;

pub use shard::Shard;

use super::isolate::Isolate;
use super::report::{CampaignReport, StopReason};
use super::watchdog::{run_guarded, Hung};
use super::StrategySpec;
use super::{CampaignOptions, FailureKind, FoundFailure};
use crate::store::{self, FailureSink, SeedsDir};
use crate::{Config, Outcome, Scenario, TraceMode};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::time::Duration;

/// Why a campaign could not run.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    /// The seeds file is unreadable or malformed.
    #[error(transparent)]
    Seeds(#[from] store::SeedsError),
    /// The in-flight log could not be created.
    #[error("cannot write the in-flight log {path}: {source}")]
    InFlight {
        /// Its path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A parameter is out of range.
    #[error("{0}")]
    Invalid(String),
}

/// Live counters, for a progress display.
#[derive(Debug, Default)]
pub struct Progress {
    /// Runs finished.
    pub runs: AtomicU64,
    /// Failing runs.
    pub failures: AtomicU64,
    /// Runs planned (after sharding).
    pub planned: AtomicU64,
}

/// Many runs of one scenario: seeds, strategy, threads, shard and stop rule.
///
/// ```
/// use detsim::{Config, Scenario};
/// use detsim::explore::Campaign;
/// let s = Scenario::new("ok", "always passes", || async { detsim::task::yield_now().await });
/// let report = Campaign::new(s, Config::default()).seeds(100).jobs(2).run().unwrap();
/// assert_eq!((report.runs, report.passes), (100, 100));
/// ```
#[derive(Clone, Debug)]
pub struct Campaign {
    scenario: Scenario,
    config: Config,
    options: CampaignOptions,
    interrupt: Arc<AtomicBool>,
    progress: Arc<Progress>,
    isolate: Option<Isolate>,
}

impl Campaign {
    /// The most OS threads a campaign runs on ([`Campaign::jobs`]).
    pub const JOBS_MAX: usize = 1024;

    /// The longest wall-clock limit ([`Campaign::time_limit`], [`Campaign::watchdog`]):
    /// 366 days.
    pub const WALL_MAX: Duration = Duration::from_secs(366 * 86_400);

    /// A campaign of 1,000 seeds from 0 of the default strategy (swarm) on all cores,
    /// stopping at the first failure ([`CampaignOptions::default`]).
    pub fn new(scenario: Scenario, config: Config) -> Self {
        Campaign {
            scenario,
            config,
            options: CampaignOptions::default().resolved(),
            interrupt: Arc::new(AtomicBool::new(false)),
            progress: Arc::new(Progress::default()),
            isolate: None,
        }
    }

    /// The options in effect (after the setters: `jobs 0` resolved to every core,
    /// `keep_going` at least 1).
    pub fn options_in_effect(&self) -> &CampaignOptions {
        &self.options
    }

    /// The report of a search that ran `runs` runs with `strategy` and found
    /// `failures` (distinct) at `failing_seeds` (one per failing run): the fields every
    /// explorer fills the same way. Explorers set the rest (`complete`, ...) on it.
    fn report(
        &self,
        strategy: StrategySpec,
        runs: u64,
        failures: Vec<FoundFailure>,
        failing_seeds: Vec<u64>,
        stopped: StopReason,
    ) -> CampaignReport {
        CampaignReport {
            scenario: self.scenario.name().to_string(),
            strategy,
            workers: self.config.workers,
            start: self.options.start,
            seeds: self.options.seeds,
            shard: self.options.shard,
            keep_going: self.options.keep_going,
            runs,
            passes: runs.saturating_sub(failing_seeds.len() as u64),
            failures,
            failing_seeds,
            regressions: Vec::new(),
            stopped,
            complete: None,
            nondeterminism: None,
            resumed_in_flight: Vec::new(),
            resumed_failures: Vec::new(),
        }
    }

    /// All options at once (the setters below change one each).
    pub fn options(mut self, options: CampaignOptions) -> Self {
        self.options = options.resolved();
        self
    }

    /// Runs every seed in a child process (see [`Isolate`]); the watchdog then kills
    /// children that overstay instead of abandoning threads.
    pub fn isolate(mut self, isolate: Option<Isolate>) -> Self {
        self.isolate = isolate;
        self
    }

    /// Scheduling strategy.
    pub fn strategy(mut self, s: StrategySpec) -> Self {
        self.options.strategy = s;
        self
    }

    /// First seed.
    pub fn start(mut self, start: u64) -> Self {
        self.options.start = start;
        self
    }

    /// Number of seeds in the range.
    pub fn seeds(mut self, n: u64) -> Self {
        self.options.seeds = n;
        self
    }

    /// Threads (0 = all cores).
    pub fn jobs(mut self, j: usize) -> Self {
        self.options.jobs = j;
        self.options.jobs = self.options.threads();
        self
    }

    /// Shard of the seed range.
    pub fn shard(mut self, shard: Shard) -> Self {
        self.options.shard = shard;
        self
    }

    /// Stop after this many distinct failures (1 = at the first).
    pub fn keep_going(mut self, k: usize) -> Self {
        self.options.keep_going = k.max(1);
        self
    }

    /// Wall-clock budget.
    pub fn time_limit(mut self, t: Option<Duration>) -> Self {
        self.options.time_limit = t;
        self
    }

    /// Directory of seeds files: replay `<dir>/<scenario>.seeds` first, append new failures.
    pub fn seeds_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.options.seeds_dir = dir;
        self
    }

    /// Real-time limit per run; a run past it is reported as hung.
    pub fn watchdog(mut self, limit: Option<Duration>) -> Self {
        self.options.watchdog = limit;
        self
    }

    /// A flag that stops the campaign cleanly when set (Ctrl-C).
    pub fn interrupt(mut self, flag: Arc<AtomicBool>) -> Self {
        self.interrupt = flag;
        self
    }

    /// Live counters.
    pub fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// The scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The config of the run of `seed`.
    pub fn run_config(&self, seed: u64) -> Config {
        self.config.clone().seed(seed)
    }

    /// Runs one seed with the full trace (to report a failure found trace-off), under
    /// the campaign's watchdog.
    pub fn rerun_full(
        &self,
        seed: u64,
        strategy: &StrategySpec,
        workers: usize,
    ) -> Result<Outcome<()>, Hung> {
        let config = self
            .config
            .clone()
            .seed(seed)
            .workers(workers)
            .trace(TraceMode::Full);
        let (scenario, strategy) = (self.scenario.clone(), *strategy);
        run_guarded(self.options.watchdog, move || {
            run_one(&scenario, config, &strategy)
        })
    }

    /// Runs the campaign.
    pub fn run(&self) -> Result<CampaignReport, CampaignError> {
        self.validate()?;
        let regressions = self.replay_seeds_file()?;
        let mut report = match self.calibrated_strategy() {
            Err(hung) => self.calibration_hung(hung),
            Ok(StrategySpec::Dfs { preemption_bound }) => self.run_dfs(preemption_bound)?,
            Ok(strategy) => self.run_seeds(&strategy)?,
        };
        report.regressions = regressions;
        Ok(report)
    }

    /// Rejects what no campaign can run: an empty seed range or one past `u64::MAX`, more
    /// than [`Campaign::JOBS_MAX`] threads, wall-clock limits past [`Campaign::WALL_MAX`],
    /// an unusable [`Config`].
    fn validate(&self) -> Result<(), CampaignError> {
        let invalid = |m: String| Err(CampaignError::Invalid(m));
        if self.options.seeds == 0 {
            return invalid("the seed range is empty (--seeds 0): nothing to run".into());
        }
        let dfs = matches!(self.options.strategy, StrategySpec::Dfs { .. });
        if dfs && self.isolate.is_some() {
            return invalid(
                "--isolate runs each seed in a child process, but a dfs search replays its \
                 schedules in this process: drop --isolate, or use a seed strategy \
                 (random, pct:D, swarm)"
                    .into(),
            );
        }
        if !dfs
            && self
                .options
                .start
                .checked_add(self.options.seeds - 1)
                .is_none()
        {
            return invalid(format!(
                "--start {} --seeds {} runs past the largest seed, 2^64-1 (from that start, --seeds is at most {})",
                self.options.start,
                self.options.seeds,
                u128::from(u64::MAX - self.options.start) + 1
            ));
        }
        if self.options.jobs > Self::JOBS_MAX {
            return invalid(format!(
                "{} jobs: a campaign runs on at most {} threads",
                self.options.jobs,
                Self::JOBS_MAX
            ));
        }
        for (what, limit) in [
            ("time limit", self.options.time_limit),
            ("watchdog", self.options.watchdog),
        ] {
            if limit.is_some_and(|l| l > Self::WALL_MAX) {
                return invalid(format!(
                    "{what} {:?} is longer than {} days",
                    limit.unwrap_or_default(),
                    Self::WALL_MAX.as_secs() / 86_400
                ));
            }
        }
        self.config
            .validate()
            .or_else(|e| invalid(format!("invalid config: {e}")))
    }

    /// PCT needs the length of a run; a calibration run of the first seed gives it
    /// (rule 1), under the watchdog (rule 4).
    fn calibrated_strategy(&self) -> Result<StrategySpec, Hung> {
        match self.options.strategy {
            StrategySpec::Pct { depth, steps: None } => {
                let config = self
                    .config
                    .clone()
                    .seed(self.options.start)
                    .trace(TraceMode::Off);
                let scenario = self.scenario.clone();
                let out = run_guarded(self.options.watchdog, move || {
                    scenario.run(config).stats.steps
                })?;
                Ok(StrategySpec::Pct {
                    depth,
                    steps: Some(out.max(1)),
                })
            }
            s => Ok(s),
        }
    }

    /// The report of a campaign whose first seed hung while calibrating PCT: that hang,
    /// saved, is its first failure.
    fn calibration_hung(&self, hung: Hung) -> CampaignReport {
        let found = hang_failure(
            self.options.start,
            &self.options.strategy,
            self.config.workers,
            hung,
        );
        if let Some(mut sink) = self.sink() {
            let case = store::SeedCase::new(
                self.options.start,
                self.options.strategy,
                self.config.workers,
            )
            .with_summary(ledger::summary_of(&found.message));
            if let Err(e) = sink.failing_case(&case) {
                eprintln!(
                    "detsim: could not save hung seed {}: {e}",
                    self.options.start
                );
            }
        }
        CampaignReport {
            scenario: self.scenario.name().to_string(),
            strategy: self.options.strategy,
            workers: self.config.workers,
            start: self.options.start,
            seeds: self.options.seeds,
            shard: self.options.shard,
            keep_going: self.options.keep_going,
            runs: 1,
            passes: 0,
            failing_seeds: vec![self.options.start],
            failures: vec![found],
            regressions: Vec::new(),
            stopped: StopReason::Failures,
            complete: None,
            nondeterminism: None,
            resumed_in_flight: Vec::new(),
            resumed_failures: Vec::new(),
        }
    }

    /// The store failures go to: the seeds directory, if any.
    fn store(&self) -> Option<SeedsDir> {
        let dir = self.options.seeds_dir.as_ref()?;
        Some(SeedsDir::new(dir, self.scenario.name()))
    }

    /// The sink failures are handed to ([`Campaign::store`]).
    fn sink(&self) -> Option<Box<dyn FailureSink>> {
        Some(Box::new(self.store()?))
    }

    fn seeds_path(&self) -> Option<PathBuf> {
        Some(self.store()?.seeds_path())
    }
}

/// The `hang` failure of `seed`: what the watchdog saw (there is no trace to show).
pub(crate) fn hang_failure(
    seed: u64,
    strategy: &StrategySpec,
    workers: usize,
    hung: Hung,
) -> FoundFailure {
    let message = format!("seed {seed} hangs: {hung}");
    FoundFailure::outside(seed, strategy, workers, FailureKind::Hang, message)
}

/// Runs one seed with the strategy of `spec` (not DFS).
pub(crate) fn run_one(scenario: &Scenario, config: Config, spec: &StrategySpec) -> Outcome<()> {
    match spec.per_run() {
        Some(strategy) => scenario.run_with(config, strategy),
        None => scenario.run(config),
    }
}
