//! The multi-threaded seed runner: worker threads take seeds in increasing order in
//! chunks, record failures (seeds file first), and the report is computed from the
//! failures up to the bound only, so its answer does not depend on the thread count.

// `--time` is a wall-clock budget of the campaign, checked between runs.
#![allow(clippy::disallowed_methods)]

use super::regression::summary_of;
use super::shard::Plan;
use super::{run_one, Campaign, CampaignError, Progress};
use crate::explore::inflight::InFlight;
use crate::explore::isolate::{run_isolated, Isolate};
use crate::explore::report::{CampaignReport, FoundFailure, StopReason};
use crate::explore::watchdog::{SlotHandle, Watchdog};
use crate::explore::StrategySpec;
use crate::harness::seeds::{self, SeedCase};
use crate::{Config, Scenario, TraceMode};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

impl Campaign {
    pub(super) fn run_seeds(
        &self,
        strategy: &StrategySpec,
    ) -> Result<CampaignReport, CampaignError> {
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

    /// The first `keep_going` distinct failures in index order, among those at indices
    /// up to `bound` (all of them after a hang).
    fn distinct(&self, bound: u64, keep_going: usize) -> Vec<FoundFailure> {
        let mut failures: Vec<&(u64, FoundFailure)> = self
            .failures
            .iter()
            .filter(|(i, _)| *i <= bound || self.hung.is_some())
            .collect();
        failures.sort_by_key(|(i, _)| *i);
        let mut distinct: Vec<FoundFailure> = Vec::new();
        for (_, found) in failures {
            if !distinct.iter().any(|d| d.signature == found.signature)
                && distinct.len() < keep_going
            {
                distinct.push(found.clone());
            }
        }
        distinct
    }

    /// The seeds of the failures at indices up to `bound`, sorted.
    fn failing_seeds(&self, bound: u64) -> Vec<u64> {
        let mut failing_seeds: Vec<u64> = self
            .failures
            .iter()
            .filter(|(i, _)| *i <= bound)
            .map(|(_, x)| x.seed)
            .collect();
        failing_seeds.sort_unstable();
        failing_seeds
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

    fn worker(&self, slot: usize, deadline: Option<Instant>, wd: Option<SlotHandle>) {
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
        let message = format!(
            "run of seed {seed} exceeded the watchdog ({elapsed:?} of wall time) without returning: a synchronous loop with no await?"
        );
        let found =
            FoundFailure::outside(seed, &self.strategy, self.config.workers, "hang", message);
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
        let distinct = f.distinct(bound, self.keep_going);
        let runs = match stopped {
            StopReason::Failures => bound + 1,
            StopReason::Exhausted => self.plan.len,
            _ => self.progress.runs.load(Ordering::Relaxed),
        };
        let failing_seeds = f.failing_seeds(bound);
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
