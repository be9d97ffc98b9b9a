//! The seed sweep (random, PCT, swarm — any per-run strategy) as an [`Explorer`]: plans
//! are seed indices handed out in increasing order, outcomes go to the [`Ledger`], which
//! saves failures in index order; the report is computed from the failures up to the
//! bound only, so neither the report nor the seeds file depends on the thread count.
//!
//! The runner ([`SeedRunner`]) makes a seed's run on the executor's thread, or in a child
//! process with `--isolate` (then the child is what the watchdog limits, and the
//! executor's threads are not watched).

// `--time` is a wall-clock budget of the campaign, checked between runs.
#![allow(clippy::disallowed_methods)]

use super::ledger::{Ledger, Saver};
use super::shard::Plan;
use super::{hang_failure, run_one, Campaign, CampaignError, Progress};
use crate::explore::executor::MAX_HUNG;
use crate::explore::explorer::{run_threads, Explorer, Halt, Next, Runner, Stops};
use crate::explore::isolate::{run_isolated, Isolate};
use crate::explore::report::{CampaignReport, StopReason};
use crate::explore::watchdog::{run_guarded, Hung};
use crate::explore::FoundFailure;
use crate::explore::StrategySpec;
use crate::store::inflight::{Claim, InFlight};
use crate::{Config, Scenario, TraceMode};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One seed to run: its index in the plan, and the seed.
#[derive(Clone, Copy, Debug)]
pub(super) struct SeedPlan {
    index: u64,
    seed: u64,
}

/// Runs seeds: `(scenario, config, seed, strategy)` → the failure, if any.
#[derive(Debug)]
pub(super) struct SeedRunner {
    scenario: Scenario,
    config: Config,
    strategy: StrategySpec,
    isolate: Option<Isolate>,
    /// The watchdog's limit per run (with `isolate`: after which a child is killed).
    limit: Option<Duration>,
}

impl Runner for SeedRunner {
    type Plan = SeedPlan;
    type Outcome = Option<FoundFailure>;

    fn run(&self, plan: SeedPlan) -> Option<FoundFailure> {
        let (strategy, workers) = (&self.strategy, self.config.workers);
        if let Some(iso) = &self.isolate {
            return run_isolated(iso, plan.seed, strategy, workers, self.limit);
        }
        let config = self.config.clone().seed(plan.seed);
        let outcome = run_one(&self.scenario, config, strategy);
        outcome
            .failure()
            .map(|f| FoundFailure::new(plan.seed, strategy, workers, f, outcome.fingerprint))
    }
}

impl SeedRunner {
    /// Runs `seed` as `claim` says, under the watchdog (a resumed in-flight seed).
    pub(super) fn run_claimed(&self, seed: u64, claim: &Claim) -> Option<FoundFailure> {
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
        match run_guarded(self.limit, run) {
            Ok((failure, fp)) => {
                failure.map(|f| FoundFailure::new(seed, &strategy, workers, &f, fp))
            }
            Err(hung) => Some(hang_failure(seed, &strategy, workers, hung)),
        }
    }
}

/// The seed sweep's search state: the ledger, and the live counters.
#[derive(Debug)]
pub(super) struct SeedSweep {
    pub(super) ledger: Ledger,
    plan: Plan,
    strategy: StrategySpec,
    workers: usize,
    progress: Arc<Progress>,
}

impl Explorer for SeedSweep {
    type Plan = SeedPlan;
    type Outcome = Option<FoundFailure>;

    fn next(&mut self) -> Next<SeedPlan> {
        // Outcomes never add work: a thread with nothing to take can end.
        match self.ledger.hand_out() {
            Some(index) => Next::Run(SeedPlan {
                index,
                seed: self.plan.seed(index),
            }),
            None => Next::Done,
        }
    }

    fn ident(plan: &SeedPlan) -> u64 {
        plan.index
    }

    fn outcome(&mut self, index: u64, found: Option<FoundFailure>) {
        self.progress.runs.fetch_add(1, Ordering::Relaxed);
        if found.is_some() {
            self.progress.failures.fetch_add(1, Ordering::Relaxed);
        }
        self.ledger.returned(index, found);
    }

    fn hung(&mut self, index: u64, hung: Hung) {
        let seed = self.plan.seed(index);
        let found = hang_failure(seed, &self.strategy, self.workers, hung);
        self.ledger.hangs += 1;
        self.outcome(index, Some(found));
    }
}

impl Campaign {
    pub(super) fn run_seeds(
        &self,
        strategy: &StrategySpec,
    ) -> Result<CampaignReport, CampaignError> {
        let plan = Plan::new(self.options.start, self.options.seeds, self.options.shard);
        self.progress.planned.store(plan.len, Ordering::Relaxed);
        let (inflight, leftovers) = self.open_inflight(strategy, plan)?;
        let saver = Saver::new(self.sink(), *strategy, inflight);
        let runner = SeedRunner {
            scenario: self.scenario.clone(),
            config: self.config.clone().trace(TraceMode::Off),
            strategy: *strategy,
            isolate: self.isolate.clone(),
            limit: self.options.watchdog,
        };
        let mut sweep = SeedSweep {
            ledger: Ledger::new(plan, self.config.workers, self.options.keep_going, saver),
            plan,
            strategy: *strategy,
            workers: self.config.workers,
            progress: self.progress.clone(),
        };
        let resumed = sweep.resume(&runner, &leftovers);
        let (mut sweep, halt) = if sweep.ledger.hangs >= MAX_HUNG {
            (sweep, Halt::GaveUp)
        } else {
            let stops = Stops {
                interrupt: self.interrupt.clone(),
                deadline: self.options.time_limit.map(|t| Instant::now() + t),
                hangs_left: MAX_HUNG - sweep.ledger.hangs,
            };
            // With `isolate` the children are watched, not the threads.
            let watch = self.options.watchdog.filter(|_| self.isolate.is_none());
            run_threads(sweep, runner, self.options.jobs, watch, stops)
        };
        sweep.ledger.commit(true);
        let mut report = self.sweep_report(&sweep, halt);
        report.resumed_in_flight = leftovers.iter().flat_map(|c| c.seeds()).collect();
        report.resumed_failures = resumed;
        if let Some(log) = sweep.ledger.saver.inflight.take() {
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
        let Some(dir) = &self.options.seeds_dir else {
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

    fn sweep_report(&self, sweep: &SeedSweep, halt: Halt) -> CampaignReport {
        let ledger = &sweep.ledger;
        let bound = ledger.bound();
        let stopped = match halt {
            Halt::GaveUp => StopReason::Hung,
            _ if bound != u64::MAX => StopReason::Failures,
            Halt::Done if ledger.handed_out_all() => StopReason::Exhausted,
            Halt::TimeLimit => StopReason::TimeLimit,
            _ => StopReason::Interrupted,
        };
        let runs = match stopped {
            StopReason::Failures => bound + 1,
            StopReason::Exhausted => sweep.plan.len,
            _ => self.progress.runs.load(Ordering::Relaxed),
        };
        let failures = ledger.distinct();
        self.report(
            sweep.strategy,
            runs,
            failures,
            ledger.failing_seeds(),
            stopped,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::explorer::run_serial;
    use crate::explore::{FailureKind, Shard};

    /// A runner that fails seeds by a rule, with no scenario at all: the sweep's logic
    /// alone, on one thread or many.
    struct Rule {
        fails: fn(u64) -> Option<&'static str>,
        // Spin a seed-dependent while, so threads return out of order.
        jitter: bool,
    }

    impl Runner for Rule {
        type Plan = SeedPlan;
        type Outcome = Option<FoundFailure>;

        fn run(&self, plan: SeedPlan) -> Option<FoundFailure> {
            if self.jitter {
                let spins = plan.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54;
                for _ in 0..spins {
                    std::hint::spin_loop();
                }
            }
            (self.fails)(plan.seed).map(|signature| FoundFailure {
                seed: plan.seed,
                strategy: StrategySpec::Random,
                workers: 1,
                kind: FailureKind::Panic,
                message: format!("seed {} fails: {signature}", plan.seed),
                signature: signature.to_string(),
                fingerprint: None,
                schedule: None,
            })
        }
    }

    fn sweep(seeds: u64, shard: Shard, keep_going: usize) -> SeedSweep {
        let plan = Plan::new(1000, seeds, shard);
        let saver = Saver::new(None, StrategySpec::Random, None);
        SeedSweep {
            ledger: Ledger::new(plan, 1, keep_going, saver),
            plan,
            strategy: StrategySpec::Random,
            workers: 1,
            progress: Arc::new(Progress::default()),
        }
    }

    /// What a report is made of: bound, distinct failures, failing seeds.
    fn answer(s: &SeedSweep) -> (u64, Vec<(u64, String)>, Vec<u64>) {
        let distinct = s
            .ledger
            .distinct()
            .into_iter()
            .map(|f| (f.seed, f.signature))
            .collect();
        (s.ledger.bound(), distinct, s.ledger.failing_seeds())
    }

    #[test]
    fn the_sweep_answers_the_same_on_one_thread_and_many() {
        let rules: [fn(u64) -> Option<&'static str>; 3] = [
            |s| (s % 97 == 13).then_some("a"),
            |s| match s % 50 {
                7 => Some("a"),
                31 => Some("b"),
                44 if s > 1300 => Some("c"),
                _ => None,
            },
            |_| None,
        ];
        for fails in rules {
            for keep_going in [1, 2, 3] {
                for shard in [Shard::default(), Shard { index: 2, count: 3 }] {
                    let mut one = sweep(2_000, shard, keep_going);
                    run_serial(
                        &mut one,
                        &Rule {
                            fails,
                            jitter: false,
                        },
                    );
                    let expected = answer(&one);
                    for jobs in [2, 4] {
                        let stops = Stops {
                            interrupt: Arc::default(),
                            deadline: None,
                            hangs_left: MAX_HUNG,
                        };
                        let runner = Rule {
                            fails,
                            jitter: true,
                        };
                        let many = sweep(2_000, shard, keep_going);
                        let (many, halt) = run_threads(many, runner, jobs, None, stops);
                        assert_eq!(halt, Halt::Done);
                        assert_eq!(
                            answer(&many),
                            expected,
                            "keep_going {keep_going}, {jobs} jobs"
                        );
                    }
                }
            }
        }
    }
}
