//! The multi-threaded seed runner: worker threads take chunks of seed indices in
//! increasing order, record failures in the [`Ledger`] (which saves them in index order),
//! and the report is computed from the failures up to the bound only, so neither the
//! report nor the seeds file depends on the thread count.
//!
//! Hangs: the watchdog ([`Threads::watch`]) hands every run past the limit to
//! [`Shared::hung`], lowest index first. A hang is a failure at its index; its thread is
//! abandoned and replaced, and the rest of its chunk is requeued, so the campaign goes on
//! exactly as a one-thread campaign would have — up to [`MAX_HUNG`] abandoned threads.

// `--time` is a wall-clock budget of the campaign, checked between runs.
#![allow(clippy::disallowed_methods)]

use super::ledger::{Ledger, Saver};
use super::shard::Plan;
use super::{hang_failure, run_one, Campaign, CampaignError, Progress};
use crate::explore::isolate::{run_isolated, Isolate};
use crate::explore::report::{CampaignReport, StopReason};
use crate::explore::watchdog::{Hung, Running, Slot, Threads};
use crate::explore::FoundFailure;
use crate::explore::StrategySpec;
use crate::store::inflight::{Claim, InFlight};
use crate::{Config, Scenario, TraceMode};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

const CHUNK: u64 = 32;

/// Hung runs a campaign abandons a thread to before it gives up: each keeps a core busy
/// until the process exits.
pub(super) const MAX_HUNG: usize = 8;

impl Campaign {
    pub(super) fn run_seeds(
        &self,
        strategy: &StrategySpec,
    ) -> Result<CampaignReport, CampaignError> {
        let plan = Plan::new(self.start, self.seeds, self.shard);
        self.progress.planned.store(plan.len, Ordering::Relaxed);
        let (inflight, leftovers) = self.open_inflight(strategy, plan)?;
        let saver = Saver::new(self.sink(), *strategy, inflight);
        let shared = Arc::new(Shared::new(self, *strategy, plan, saver));
        let resumed = shared.resume(&leftovers);
        let stopped = self.drive(&shared);
        let mut report = shared.report(self, stopped);
        report.resumed_in_flight = leftovers.iter().flat_map(|c| c.seeds()).collect();
        report.resumed_failures = resumed;
        if let Some(log) = shared.ledger().saver.inflight.take() {
            log.finish();
        }
        Ok(report)
    }

    /// This campaign's in-flight log and the claims earlier campaigns left open.
    fn open_inflight(
        &self,
        strategy: &StrategySpec,
        plan: Plan,
    ) -> Result<(Option<InFlight>, Vec<Claim>), CampaignError> {
        let Some(dir) = &self.seeds_dir else {
            return Ok((None, Vec::new()));
        };
        let defaults = Claim {
            first: 0,
            count: 0,
            stride: plan.stride(),
            strategy: *strategy,
            workers: self.config.workers,
        };
        let (log, leftovers) =
            InFlight::open(dir, self.scenario.name(), defaults).map_err(|source| {
                CampaignError::InFlight {
                    path: crate::store::inflight::log_path(dir, self.scenario.name(), 1),
                    source,
                }
            })?;
        Ok((Some(log), leftovers))
    }

    /// Starts the worker threads and waits for them, replacing the ones the watchdog
    /// gives up on.
    fn drive(&self, shared: &Arc<Shared>) -> StopReason {
        // `--time` is a wall-clock budget of the campaign runner, outside every run.
        let deadline = self.time_limit.map(|t| Instant::now() + t);
        for _ in 0..self.options.threads() {
            spawn_worker(shared, deadline);
        }
        shared.threads.watch(shared.thread_limit, |hung| {
            for (run, elapsed) in hung {
                if shared.hung(run, elapsed) {
                    spawn_worker(shared, deadline);
                }
            }
        });
        let bound = shared.bound.load(Ordering::Relaxed);
        shared.ledger().commit(bound, true);
        shared.stop_reason(deadline)
    }
}

/// Starts one worker thread of `shared`'s pool.
fn spawn_worker(shared: &Arc<Shared>, deadline: Option<Instant>) {
    let slot = shared.threads.add();
    let s = shared.clone();
    let spawned = std::thread::Builder::new()
        .name("detsim-campaign".into())
        .spawn(move || {
            s.worker(&slot, deadline);
            s.threads.exit(&slot);
        });
    if let Err(e) = spawned {
        panic!("detsim: cannot start a campaign thread: {e}");
    }
}

/// State shared by the campaign's threads.
#[derive(Debug)]
pub(super) struct Shared {
    scenario: Scenario,
    config: Config,
    strategy: StrategySpec,
    plan: Plan,
    interrupt: Arc<AtomicBool>,
    progress: Arc<Progress>,
    isolate: Option<Isolate>,
    /// The watchdog's limit per run (with `isolate`: after which a child is killed).
    limit: Option<Duration>,
    /// The limit the pool's threads are watched with (none with `isolate`).
    thread_limit: Option<Duration>,
    pub(super) threads: Threads,
    next: AtomicU64,
    // invariant: indices above `bound` need not run (rule 2 of the campaign).
    bound: AtomicU64,
    /// Set after [`MAX_HUNG`] hangs: no new runs start.
    gave_up: AtomicBool,
    ledger: Mutex<Ledger>,
}

impl Shared {
    fn new(c: &Campaign, strategy: StrategySpec, plan: Plan, saver: Saver) -> Self {
        Shared {
            scenario: c.scenario.clone(),
            config: c.config.clone().trace(TraceMode::Off),
            strategy,
            plan,
            interrupt: c.interrupt.clone(),
            progress: c.progress.clone(),
            isolate: c.isolate.clone(),
            limit: c.watchdog,
            thread_limit: c.watchdog.filter(|_| c.isolate.is_none()),
            threads: Threads::default(),
            next: AtomicU64::new(0),
            bound: AtomicU64::new(u64::MAX),
            gave_up: AtomicBool::new(false),
            ledger: Mutex::new(Ledger::new(plan, c.config.workers, c.keep_going, saver)),
        }
    }

    pub(super) fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn worker(&self, slot: &Slot, deadline: Option<Instant>) {
        while let Some((first, end)) = self.claim(deadline) {
            let mut ran_to = first;
            for index in first..end {
                if index > self.bound.load(Ordering::Relaxed) || self.should_stop(deadline) {
                    break;
                }
                let seed = self.plan.seed(index);
                let watched = self.thread_limit.is_some();
                if watched {
                    slot.start(index, seed);
                }
                let found = self.run_seed(seed);
                if watched && !slot.finish() {
                    return; // the watchdog recorded it as hung and took over the chunk
                }
                self.progress.runs.fetch_add(1, Ordering::Relaxed);
                if let Some(found) = found {
                    self.record(index, found);
                }
                ran_to = index + 1;
            }
            let bound = self.bound.load(Ordering::Relaxed);
            self.ledger().ran(first, ran_to, bound);
        }
    }

    /// The next chunk `(first, end)` to run: a requeued rest first, then fresh indices.
    fn claim(&self, deadline: Option<Instant>) -> Option<(u64, u64)> {
        if self.should_stop(deadline) {
            return None;
        }
        let bound = self.bound.load(Ordering::Relaxed);
        let mut ledger = self.ledger();
        if let Some(chunk) = ledger.take_requeued(bound) {
            return Some(chunk);
        }
        let first = self.next.fetch_add(CHUNK, Ordering::Relaxed);
        let end = first.saturating_add(CHUNK).min(self.plan.len);
        if first >= end || first > bound {
            return None;
        }
        ledger.register(first, end);
        Some((first, end))
    }

    fn should_stop(&self, deadline: Option<Instant>) -> bool {
        self.interrupt.load(Ordering::Relaxed)
            || self.gave_up.load(Ordering::Relaxed)
            || deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Runs `seed` on this thread (or in a child process with `isolate`).
    fn run_seed(&self, seed: u64) -> Option<FoundFailure> {
        let (strategy, workers) = (&self.strategy, self.config.workers);
        if let Some(iso) = &self.isolate {
            return run_isolated(iso, seed, strategy, workers, self.limit);
        }
        let outcome = run_one(&self.scenario, self.config.clone().seed(seed), strategy);
        outcome
            .failure()
            .map(|f| FoundFailure::new(seed, strategy, workers, f, outcome.fingerprint))
    }

    /// Runs `seed` as `claim` says, under the watchdog (a resumed in-flight seed).
    pub(super) fn run_guarded_seed(&self, seed: u64, claim: &Claim) -> Option<FoundFailure> {
        let (strategy, workers) = (claim.strategy, claim.workers);
        if let Some(iso) = &self.isolate {
            return run_isolated(iso, seed, &strategy, workers, self.limit);
        }
        let scenario = self.scenario.clone();
        let config = self.config.clone().seed(seed).workers(workers);
        let run = move || {
            let out = run_one(&scenario, config, &strategy);
            let failure = out.failure().cloned();
            (failure, out.fingerprint)
        };
        match crate::explore::watchdog::run_guarded(self.limit, run) {
            Ok((failure, fp)) => {
                failure.map(|f| FoundFailure::new(seed, &strategy, workers, &f, fp))
            }
            Err(hung) => Some(hang_failure(seed, &strategy, workers, hung)),
        }
    }

    /// Records a failure at `index` and tightens the bound.
    fn record(&self, index: u64, found: FoundFailure) {
        self.progress.failures.fetch_add(1, Ordering::Relaxed);
        if let Some(bound) = self.ledger().failure(index, found) {
            self.bound.fetch_min(bound, Ordering::Relaxed);
        }
    }

    /// Records the hang of `run`; true if a replacement thread should start.
    fn hung(&self, run: Running, elapsed: Duration) -> bool {
        let limit = self.thread_limit.unwrap_or(elapsed);
        let found = hang_failure(
            run.seed,
            &self.strategy,
            self.config.workers,
            Hung { limit, elapsed },
        );
        self.progress.runs.fetch_add(1, Ordering::Relaxed);
        self.progress.failures.fetch_add(1, Ordering::Relaxed);
        let mut ledger = self.ledger();
        if let Some(bound) = ledger.hang(run.index, found) {
            self.bound.fetch_min(bound, Ordering::Relaxed);
        }
        ledger.commit(self.bound.load(Ordering::Relaxed), false);
        if ledger.hangs >= MAX_HUNG {
            self.gave_up.store(true, Ordering::Relaxed);
        }
        !self.gave_up.load(Ordering::Relaxed)
    }

    fn stop_reason(&self, deadline: Option<Instant>) -> StopReason {
        if self.gave_up.load(Ordering::Relaxed) {
            StopReason::Hung
        } else if self.bound.load(Ordering::Relaxed) != u64::MAX {
            StopReason::Failures
        } else if self.next.load(Ordering::Relaxed) >= self.plan.len
            && !self.interrupt.load(Ordering::Relaxed)
            && !self.ledger().has_requeued()
            && deadline.is_none_or(|d| Instant::now() < d)
        {
            StopReason::Exhausted
        } else if deadline.is_some_and(|d| Instant::now() >= d) {
            StopReason::TimeLimit
        } else {
            StopReason::Interrupted
        }
    }

    fn report(&self, c: &Campaign, stopped: StopReason) -> CampaignReport {
        let ledger = self.ledger();
        let bound = self.bound.load(Ordering::Relaxed);
        let runs = match stopped {
            StopReason::Failures => bound + 1,
            StopReason::Exhausted => self.plan.len,
            _ => self.progress.runs.load(Ordering::Relaxed),
        };
        let failing_seeds = ledger.failing_seeds(bound);
        let failing_runs = failing_seeds.len() as u64;
        CampaignReport {
            scenario: c.scenario.name().to_string(),
            strategy: self.strategy,
            workers: self.config.workers,
            start: c.start,
            seeds: c.seeds,
            shard: c.shard,
            keep_going: c.keep_going,
            runs,
            passes: runs.saturating_sub(failing_runs),
            failures: ledger.distinct(bound),
            failing_seeds,
            regressions: Vec::new(),
            stopped,
            complete: None,
            nondeterminism: None,
            resumed_in_flight: Vec::new(),
            resumed_failures: Vec::new(),
        }
    }

    /// True once the campaign gave up after too many hangs.
    pub(super) fn gave_up(&self) -> bool {
        self.gave_up.load(Ordering::Relaxed)
    }

    /// Marks the campaign as given up (resumed seeds hung too often).
    pub(super) fn give_up(&self) {
        self.gave_up.store(true, Ordering::Relaxed);
    }
}
