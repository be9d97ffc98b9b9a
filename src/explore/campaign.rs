//! [`Campaign`]: run a scenario over a seed range on many threads.
//!
//! Rules that make a campaign's answer independent of the number of threads:
//! 1. The outcome of a seed depends only on (scenario, config, seed, strategy token);
//!    PCT's step estimate is calibrated once, from the first seed, and becomes part of
//!    the token before any thread starts.
//! 2. Seeds are handed out in increasing order. When the K-th distinct failure is found
//!    at seed index `i`, later indices are skipped, and the report is computed from the
//!    failures at indices ≤ `i` only — whatever ran beyond it on other threads is ignored
//!    for the report (but still saved to the seeds file: a failing seed is never lost).
//! 3. Runs use the trace-off mode; the full trace is rebuilt only for failing seeds.

use super::inflight::InFlight;
use super::isolate::{run_isolated, Isolate};
use super::report::{CampaignReport, FoundFailure, Regression, StopReason};
use super::watchdog::Watchdog;
use super::{Dfs, StrategySpec};
use crate::harness::seeds::{self, SeedCase, SeedsFile};
use crate::{Config, Failure, Outcome, Scenario, TraceMode};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `k/n`: run every n-th seed of the range, starting with the k-th (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based shard index.
    pub index: u64,
    /// Number of shards.
    pub count: u64,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 1, count: 1 }
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid shard '{s}': expected K/N with 1 <= K <= N (e.g. 2/4)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            k.trim().parse::<u64>().map_err(|_| bad())?,
            n.trim().parse::<u64>().map_err(|_| bad())?,
        );
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Why a campaign could not run.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    /// The seeds file is unreadable or malformed.
    #[error(transparent)]
    Seeds(#[from] seeds::SeedsError),
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
    strategy: StrategySpec,
    start: u64,
    seeds: u64,
    jobs: usize,
    shard: Shard,
    keep_going: usize,
    time_limit: Option<Duration>,
    seeds_dir: Option<PathBuf>,
    watchdog: Option<Duration>,
    interrupt: Arc<AtomicBool>,
    progress: Arc<Progress>,
    isolate: Option<Isolate>,
}

impl Campaign {
    /// A campaign of 1,000 random seeds from 0 on all cores, stopping at the first failure.
    pub fn new(scenario: Scenario, config: Config) -> Self {
        Campaign {
            scenario,
            config,
            strategy: StrategySpec::Random,
            start: 0,
            seeds: 1000,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            shard: Shard::default(),
            keep_going: 1,
            time_limit: None,
            seeds_dir: None,
            watchdog: None,
            interrupt: Arc::new(AtomicBool::new(false)),
            progress: Arc::new(Progress::default()),
            isolate: None,
        }
    }

    /// Runs every seed in a child process (see [`Isolate`]); the watchdog then kills
    /// children that overstay instead of abandoning threads.
    pub fn isolate(mut self, isolate: Option<Isolate>) -> Self {
        self.isolate = isolate;
        self
    }

    /// Scheduling strategy.
    pub fn strategy(mut self, s: StrategySpec) -> Self {
        self.strategy = s;
        self
    }

    /// First seed.
    pub fn start(mut self, start: u64) -> Self {
        self.start = start;
        self
    }

    /// Number of seeds in the range.
    pub fn seeds(mut self, n: u64) -> Self {
        self.seeds = n;
        self
    }

    /// Threads (0 = all cores).
    pub fn jobs(mut self, j: usize) -> Self {
        self.jobs = if j == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            j
        };
        self
    }

    /// Shard of the seed range.
    pub fn shard(mut self, shard: Shard) -> Self {
        self.shard = shard;
        self
    }

    /// Stop after this many distinct failures (1 = at the first).
    pub fn keep_going(mut self, k: usize) -> Self {
        self.keep_going = k.max(1);
        self
    }

    /// Wall-clock budget.
    pub fn time_limit(mut self, t: Option<Duration>) -> Self {
        self.time_limit = t;
        self
    }

    /// Directory of seeds files: replay `<dir>/<scenario>.seeds` first, append new failures.
    pub fn seeds_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.seeds_dir = dir;
        self
    }

    /// Real-time limit per run; a run past it is reported as hung.
    pub fn watchdog(mut self, limit: Option<Duration>) -> Self {
        self.watchdog = limit;
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

    /// Runs one seed with the full trace (to report a failure found trace-off).
    pub fn rerun_full(&self, seed: u64, strategy: &StrategySpec, workers: usize) -> Outcome<()> {
        let config = self
            .config
            .clone()
            .seed(seed)
            .workers(workers)
            .trace(TraceMode::Full);
        run_one(&self.scenario, config, strategy)
    }

    /// Runs the campaign.
    pub fn run(&self) -> Result<CampaignReport, CampaignError> {
        if self.seeds == 0 {
            return Err(CampaignError::Invalid(
                "the seed range is empty (--seeds 0): nothing to run".into(),
            ));
        }
        let strategy = self.calibrated_strategy();
        let regressions = self.replay_seeds_file()?;
        let mut report = match strategy {
            StrategySpec::Dfs { preemption_bound } => self.run_dfs(preemption_bound)?,
            _ => self.run_seeds(&strategy)?,
        };
        report.regressions = regressions;
        Ok(report)
    }

    /// PCT needs the length of a run; a calibration run of the first seed gives it
    /// (rule 1).
    fn calibrated_strategy(&self) -> StrategySpec {
        match self.strategy {
            StrategySpec::Pct { depth, steps: None } => {
                let config = self.config.clone().seed(self.start).trace(TraceMode::Off);
                let steps = self.scenario.run(config).stats.steps.max(1);
                StrategySpec::Pct {
                    depth,
                    steps: Some(steps),
                }
            }
            s => s,
        }
    }

    fn seeds_path(&self) -> Option<PathBuf> {
        self.seeds_dir
            .as_ref()
            .map(|d| seeds::scenario_seeds_path(d, self.scenario.name()))
    }

    fn replay_seeds_file(&self) -> Result<Vec<Regression>, CampaignError> {
        let Some(path) = self.seeds_path() else {
            return Ok(Vec::new());
        };
        let file = SeedsFile::load(&path)?;
        Ok(file
            .cases
            .iter()
            .map(|case| self.replay_case(case))
            .collect())
    }

    fn replay_case(&self, case: &SeedCase) -> Regression {
        let config = self
            .config
            .clone()
            .seed(case.seed)
            .workers(case.workers)
            .trace(TraceMode::Off);
        let outcome = match case_schedule(case) {
            // DFS failures (and hand-added cases) carry a schedule file: replay it.
            Some(Ok(file)) => self
                .scenario
                .replay(file.header.config.trace(TraceMode::Off), file.schedule),
            Some(Err(e)) => return unreadable_case(case, e.to_string()),
            None => run_one(&self.scenario, config, &case.strategy),
        };
        Regression {
            seed: case.seed,
            strategy: case.strategy.to_string(),
            workers: case.workers,
            failure: outcome.failure().map(|f| {
                FoundFailure::new(
                    case.seed,
                    &case.strategy,
                    case.workers,
                    f,
                    outcome.fingerprint,
                )
            }),
        }
    }

    fn run_seeds(&self, strategy: &StrategySpec) -> Result<CampaignReport, CampaignError> {
        let plan = Plan::new(self.start, self.seeds, self.shard);
        self.progress.planned.store(plan.len, Ordering::Relaxed);
        let inflight_path = self
            .seeds_dir
            .as_ref()
            .map(|d| d.join(format!("{}.inflight", self.scenario.name())));
        let resumed = inflight_path
            .as_ref()
            .map_or(Vec::new(), |p| InFlight::leftovers(p, self.shard.count));
        let inflight = match &inflight_path {
            Some(p) => Some(
                InFlight::create(p).map_err(|source| CampaignError::InFlight {
                    path: p.clone(),
                    source,
                })?,
            ),
            None => None,
        };
        let shared = Arc::new(Shared::new(self, *strategy, plan, inflight));
        for &seed in &resumed {
            shared.run_seed(u64::MAX, seed);
        }
        let stopped = self.drive(&shared);
        let mut report = shared.report(self, stopped);
        report.resumed_in_flight = resumed;
        if stopped != StopReason::Hung {
            if let Ok(s) = Arc::try_unwrap(shared) {
                if let Some(f) = s.inflight {
                    f.finish();
                }
            }
        }
        Ok(report)
    }

    /// Starts the worker threads and waits for them (or for the watchdog to give up).
    fn drive(&self, shared: &Arc<Shared>) -> StopReason {
        let deadline = self.time_limit.map(|t| Instant::now() + t);
        // Isolated runs are bounded by killing the child; threads need the watchdog.
        let watchdog = match self.isolate {
            Some(_) => None,
            None => self.watchdog.map(|limit| Watchdog::new(limit, self.jobs)),
        };
        let handles: Vec<_> = (0..self.jobs.max(1))
            .map(|slot| {
                let shared = shared.clone();
                let wd = watchdog.as_ref().map(Watchdog::slot_handle);
                std::thread::Builder::new()
                    .name(format!("detsim-campaign-{slot}"))
                    .spawn(move || shared.worker(slot, deadline, wd))
                    .expect("spawning a campaign thread")
            })
            .collect();
        if let Some(wd) = &watchdog {
            if let Some((seed, elapsed)) = wd.watch(&handles) {
                shared.hung(seed, elapsed);
                return StopReason::Hung;
            }
        }
        for h in handles {
            let _ = h.join();
        }
        shared.stop_reason(deadline)
    }

    fn run_dfs(&self, bound: u32) -> Result<CampaignReport, CampaignError> {
        let spec = StrategySpec::Dfs {
            preemption_bound: bound,
        };
        let mut dfs = Dfs::new(bound).with_max_runs(self.seeds);
        let config = self
            .config
            .clone()
            .seed(self.start)
            .trace(TraceMode::Schedule);
        let mut failures = Vec::new();
        let mut runs = 0;
        while let Some(strategy) = dfs.next_run() {
            let outcome = self.scenario.run_with(config.clone(), strategy);
            dfs.finish_run();
            runs += 1;
            self.progress.runs.fetch_add(1, Ordering::Relaxed);
            if let Some(f) = outcome.failure() {
                let mut found = FoundFailure::new(
                    self.start,
                    &spec,
                    self.config.workers,
                    f,
                    outcome.fingerprint,
                );
                found.schedule = self.save_dfs_schedule(&outcome, &spec);
                failures.push(found);
                break;
            }
            if self.interrupt.load(Ordering::Relaxed) {
                break;
            }
        }
        let stopped = if !failures.is_empty() {
            StopReason::Failures
        } else if dfs.is_complete() {
            StopReason::Exhausted
        } else if self.interrupt.load(Ordering::Relaxed) {
            StopReason::Interrupted
        } else {
            StopReason::RunCap
        };
        Ok(CampaignReport {
            scenario: self.scenario.name().to_string(),
            strategy: spec.to_string(),
            workers: self.config.workers,
            start: self.start,
            seeds: self.seeds,
            shard: self.shard.to_string(),
            runs,
            passes: runs - failures.len() as u64,
            failing_seeds: failures.iter().map(|f| f.seed).collect(),
            failures,
            regressions: Vec::new(),
            stopped,
            complete: Some(dfs.is_complete()),
            resumed_in_flight: Vec::new(),
        })
    }

    /// DFS failures are not reproducible from the seed alone: save the schedule.
    fn save_dfs_schedule(&self, outcome: &Outcome<()>, spec: &StrategySpec) -> Option<String> {
        let dir = self.seeds_dir.as_ref()?;
        let path = dir.join(format!(
            "{}-{:016x}.schedule",
            self.scenario.name(),
            outcome.fingerprint
        ));
        use crate::harness::schedule_file::{program_fingerprint, ScheduleFile, ScheduleHeader};
        let file = ScheduleFile {
            header: ScheduleHeader {
                scenario: self.scenario.name().to_string(),
                strategy: *spec,
                config: self.config.clone().seed(self.start),
                program: program_fingerprint(),
            },
            schedule: outcome.schedule.clone(),
        };
        file.save(&path).ok()?;
        let case = SeedCase {
            seed: self.start,
            strategy: *spec,
            workers: self.config.workers,
            summary: outcome.failure().map(Failure::to_string),
            extra: vec![("schedule".to_string(), path.display().to_string())],
        };
        let _ = seeds::append_case(&self.seeds_path()?, &case);
        Some(path.display().to_string())
    }
}

/// The first line of a failure message, cut to a readable length, for seeds files.
fn summary_of(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default();
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

/// The schedule file a seeds-file case names with `schedule=PATH`, if any.
fn case_schedule(
    case: &SeedCase,
) -> Option<Result<crate::harness::ScheduleFile, crate::harness::ScheduleFileError>> {
    let (_, path) = case.extra.iter().find(|(k, _)| k == "schedule")?;
    Some(crate::harness::ScheduleFile::load(path))
}

/// A case whose schedule file cannot be read: reported as still failing, with the reason,
/// so it is looked at rather than silently dropped.
fn unreadable_case(case: &SeedCase, why: String) -> Regression {
    Regression {
        seed: case.seed,
        strategy: case.strategy.to_string(),
        workers: case.workers,
        failure: Some(FoundFailure {
            seed: case.seed,
            strategy: case.strategy.to_string(),
            workers: case.workers,
            kind: "unreadable_schedule".into(),
            message: why,
            signature: "unreadable_schedule".into(),
            fingerprint: String::new(),
            schedule: None,
        }),
    }
}

/// Runs one seed with the strategy of `spec` (not DFS).
pub(crate) fn run_one(scenario: &Scenario, config: Config, spec: &StrategySpec) -> Outcome<()> {
    match spec.per_run() {
        Some(strategy) => scenario.run_with(config, strategy),
        None => scenario.run(config),
    }
}

/// The seeds of one shard: index `i` is seed `first + i * stride`.
#[derive(Clone, Copy, Debug)]
struct Plan {
    first: u64,
    stride: u64,
    len: u64,
}

impl Plan {
    fn new(start: u64, seeds: u64, shard: Shard) -> Self {
        let offset = shard.index - 1;
        let len = if offset >= seeds {
            0
        } else {
            (seeds - offset).div_ceil(shard.count)
        };
        Plan {
            first: start.wrapping_add(offset),
            stride: shard.count,
            len,
        }
    }

    fn seed(&self, index: u64) -> u64 {
        self.first.wrapping_add(index.wrapping_mul(self.stride))
    }
}

/// State shared by the campaign's threads.
#[derive(Debug)]
struct Shared {
    scenario: Scenario,
    config: Config,
    strategy: StrategySpec,
    plan: Plan,
    keep_going: usize,
    seeds_path: Option<PathBuf>,
    interrupt: Arc<AtomicBool>,
    progress: Arc<Progress>,
    inflight: Option<InFlight>,
    isolate: Option<Isolate>,
    /// With `isolate`, the per-run limit after which a child is killed.
    child_limit: Option<Duration>,
    next: AtomicU64,
    // invariant: indices above `bound` need not run (rule 2).
    bound: AtomicU64,
    found: Mutex<Found>,
}

#[derive(Debug, Default)]
struct Found {
    /// (index, failure), any order.
    failures: Vec<(u64, FoundFailure)>,
    /// Per signature, how many of its seeds were appended to the seeds file.
    saved: Vec<(String, usize)>,
    hung: Option<(u64, Duration)>,
}

const CHUNK: u64 = 32;

/// Seeds saved per failure signature and campaign: every failing seed is kept, up to
/// this many of one kind (a bug that fails half the seeds must not flood the corpus).
const SAVED_PER_SIGNATURE: usize = 10;

impl Found {
    /// Counts a failure of `signature`; true if it should still be saved.
    fn note_saved(&mut self, signature: &str) -> bool {
        match self.saved.iter_mut().find(|(s, _)| s == signature) {
            Some((_, n)) if *n >= SAVED_PER_SIGNATURE => false,
            Some((_, n)) => {
                *n += 1;
                true
            }
            None => {
                self.saved.push((signature.to_string(), 1));
                true
            }
        }
    }
}

impl Shared {
    fn new(c: &Campaign, strategy: StrategySpec, plan: Plan, inflight: Option<InFlight>) -> Self {
        Shared {
            scenario: c.scenario.clone(),
            config: c.config.clone().trace(TraceMode::Off),
            strategy,
            plan,
            keep_going: c.keep_going,
            seeds_path: c.seeds_path(),
            interrupt: c.interrupt.clone(),
            progress: c.progress.clone(),
            inflight,
            isolate: c.isolate.clone(),
            child_limit: c.watchdog,
            next: AtomicU64::new(0),
            bound: AtomicU64::new(u64::MAX),
            found: Mutex::new(Found::default()),
        }
    }

    fn worker(
        &self,
        slot: usize,
        deadline: Option<Instant>,
        wd: Option<super::watchdog::SlotHandle>,
    ) {
        loop {
            let first = self.next.fetch_add(CHUNK, Ordering::Relaxed);
            let end = first.saturating_add(CHUNK).min(self.plan.len);
            if first >= end || first > self.bound.load(Ordering::Relaxed) {
                return;
            }
            if let Some(f) = &self.inflight {
                f.claim(self.plan.seed(first), end - first);
            }
            for index in first..end {
                if index > self.bound.load(Ordering::Relaxed) || self.should_stop(deadline) {
                    return;
                }
                let seed = self.plan.seed(index);
                if let Some(wd) = &wd {
                    wd.start(slot, seed);
                }
                self.run_seed(index, seed);
                if let Some(wd) = &wd {
                    wd.stop(slot);
                }
            }
            if let Some(f) = &self.inflight {
                f.done(self.plan.seed(first));
            }
        }
    }

    fn should_stop(&self, deadline: Option<Instant>) -> bool {
        self.interrupt.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d)
    }

    fn run_seed(&self, index: u64, seed: u64) {
        let found = match &self.isolate {
            Some(iso) => run_isolated(
                iso,
                seed,
                &self.strategy,
                self.config.workers,
                self.child_limit,
            ),
            None => {
                let outcome = run_one(
                    &self.scenario,
                    self.config.clone().seed(seed),
                    &self.strategy,
                );
                outcome.failure().map(|f| {
                    FoundFailure::new(
                        seed,
                        &self.strategy,
                        self.config.workers,
                        f,
                        outcome.fingerprint,
                    )
                })
            }
        };
        self.progress.runs.fetch_add(1, Ordering::Relaxed);
        if let Some(found) = found {
            self.progress.failures.fetch_add(1, Ordering::Relaxed);
            self.record(index, found);
        }
    }

    /// Saves a failure (seeds file first: never lose one) and tightens the bound.
    fn record(&self, index: u64, found: FoundFailure) {
        let mut f = self.found.lock().unwrap_or_else(|e| e.into_inner());
        if f.note_saved(&found.signature) {
            self.save(&found);
        }
        if index == u64::MAX {
            return; // a resumed in-flight seed: saved, but not part of this range
        }
        f.failures.push((index, found));
        if let Some(bound) = kth_distinct(&f.failures, self.keep_going) {
            self.bound.fetch_min(bound, Ordering::Relaxed);
        }
    }

    fn save(&self, found: &FoundFailure) {
        let Some(path) = &self.seeds_path else { return };
        let case = SeedCase {
            seed: found.seed,
            strategy: self.strategy,
            workers: found.workers,
            summary: Some(summary_of(&found.message)),
            extra: Vec::new(),
        };
        if let Err(e) = seeds::append_case(path, &case) {
            eprintln!(
                "detsim: could not save failing seed {} to {}: {e}",
                found.seed,
                path.display()
            );
        }
    }

    fn hung(&self, seed: u64, elapsed: Duration) {
        let found = FoundFailure {
            seed,
            strategy: self.strategy.to_string(),
            workers: self.config.workers,
            kind: "hang".into(),
            message: format!(
                "run of seed {seed} exceeded the watchdog ({elapsed:?} of wall time) without returning: a synchronous loop with no await?"
            ),
            signature: "hang".into(),
            fingerprint: String::new(),
            schedule: None,
        };
        self.interrupt.store(true, Ordering::Relaxed);
        self.save(&found);
        let mut f = self.found.lock().unwrap_or_else(|e| e.into_inner());
        f.hung = Some((seed, elapsed));
        f.failures.push((u64::MAX - 1, found));
    }

    fn stop_reason(&self, deadline: Option<Instant>) -> StopReason {
        if self.bound.load(Ordering::Relaxed) != u64::MAX {
            StopReason::Failures
        } else if self.next.load(Ordering::Relaxed) >= self.plan.len
            && !self.interrupt.load(Ordering::Relaxed)
        {
            StopReason::Exhausted
        } else if deadline.is_some_and(|d| Instant::now() >= d) {
            StopReason::TimeLimit
        } else {
            StopReason::Interrupted
        }
    }

    fn report(&self, c: &Campaign, stopped: StopReason) -> CampaignReport {
        let f = self.found.lock().unwrap_or_else(|e| e.into_inner());
        let bound = self.bound.load(Ordering::Relaxed);
        let mut failures: Vec<&(u64, FoundFailure)> = f
            .failures
            .iter()
            .filter(|(i, _)| *i <= bound || f.hung.is_some())
            .collect();
        failures.sort_by_key(|(i, _)| *i);
        let mut distinct: Vec<FoundFailure> = Vec::new();
        for (_, found) in failures {
            if !distinct.iter().any(|d| d.signature == found.signature)
                && distinct.len() < self.keep_going
            {
                distinct.push(found.clone());
            }
        }
        let runs = match stopped {
            StopReason::Failures => bound + 1,
            StopReason::Exhausted => self.plan.len,
            _ => self.progress.runs.load(Ordering::Relaxed),
        };
        let mut failing_seeds: Vec<u64> = f
            .failures
            .iter()
            .filter(|(i, _)| *i <= bound)
            .map(|(_, x)| x.seed)
            .collect();
        failing_seeds.sort_unstable();
        let failing_runs = failing_seeds.len() as u64;
        CampaignReport {
            scenario: c.scenario.name().to_string(),
            strategy: self.strategy.to_string(),
            workers: self.config.workers,
            start: c.start,
            seeds: c.seeds,
            shard: c.shard.to_string(),
            runs,
            passes: runs.saturating_sub(failing_runs),
            failures: distinct,
            failing_seeds,
            regressions: Vec::new(),
            stopped,
            complete: None,
            resumed_in_flight: Vec::new(),
        }
    }
}

/// Index of the failure that completes `k` distinct signatures, in index order.
fn kth_distinct(failures: &[(u64, FoundFailure)], k: usize) -> Option<u64> {
    let mut sorted: Vec<&(u64, FoundFailure)> = failures.iter().collect();
    sorted.sort_by_key(|(i, _)| *i);
    let mut seen: Vec<&str> = Vec::new();
    for (i, f) in sorted {
        if !seen.contains(&f.signature.as_str()) {
            seen.push(&f.signature);
            if seen.len() == k {
                return Some(*i);
            }
        }
    }
    None
}
