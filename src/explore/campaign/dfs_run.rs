//! Campaigns with the DFS strategy: one systematic search from the first seed instead
//! of many seeds, so failures are saved with their schedule (the seed alone does not
//! reproduce them). The search runs on its own thread under the watchdog. With
//! `--shard K/N` it searches the K-th part of the tree ([`Dfs::with_shard`]): the shards
//! together run every schedule of the unsharded search once.

use super::{hang_failure, Campaign, CampaignError};
use crate::explore::report::{CampaignReport, StopReason};
use crate::explore::watchdog::{Hung, Running, Slot, Threads};
use crate::explore::FoundFailure;
use crate::explore::{Dfs, StrategySpec};
use crate::harness::schedule_file::{program_fingerprint, ScheduleFile, ScheduleHeader};
use crate::harness::seeds::{self, SeedCase};
use crate::{Failure, Outcome, TraceMode};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// What a DFS search that returned found.
struct Search {
    runs: u64,
    failures: Vec<FoundFailure>,
    stopped: StopReason,
    complete: bool,
    nondeterminism: Option<String>,
}

impl Campaign {
    /// The search runs on its own thread, watched like a pool thread (its strategy
    /// state is not `Send`, so the whole search moves, not each run): a run past the
    /// watchdog ends the search with a `hang` failure naming the run.
    pub(super) fn run_dfs(&self, bound: u32) -> Result<CampaignReport, CampaignError> {
        let spec = StrategySpec::Dfs {
            preemption_bound: bound,
        };
        let threads = Arc::new(Threads::default());
        let slot = threads.add();
        let result = Arc::new(Mutex::new(None));
        let (this, t, r) = (self.clone(), threads.clone(), result.clone());
        std::thread::Builder::new()
            .name("detsim-dfs".into())
            .spawn(move || {
                let search = this.dfs_search(bound, &slot);
                *r.lock().unwrap_or_else(PoisonError::into_inner) = Some(search);
                t.exit(&slot);
            })
            .map_err(|e| CampaignError::Invalid(format!("cannot start the dfs thread: {e}")))?;
        let mut hung = None;
        threads.watch(self.watchdog, |h| hung = h.into_iter().next());
        let search = result.lock().unwrap_or_else(PoisonError::into_inner).take();
        let search = match (search, hung) {
            (Some(search), _) => search,
            (None, Some((run, elapsed))) => self.dfs_hung(&spec, run, elapsed),
            (None, None) => return Err(CampaignError::Invalid("the dfs search panicked".into())),
        };
        Ok(self.dfs_report(&spec, search))
    }

    /// The search itself, on the thread `run_dfs` watches through `slot`.
    fn dfs_search(&self, bound: u32, slot: &Slot) -> Search {
        let spec = StrategySpec::Dfs {
            preemption_bound: bound,
        };
        let mut dfs = Dfs::new(bound)
            .with_max_runs(self.seeds)
            .with_shard(self.shard.index, self.shard.count);
        let config = self
            .config
            .clone()
            .seed(self.start)
            .trace(TraceMode::Schedule);
        let mut failures = Vec::new();
        let mut made = 0;
        while let Some(strategy) = dfs.next_run() {
            slot.start(made, self.start);
            let outcome = self.scenario.run_with(config.clone(), strategy);
            if !slot.finish() {
                break; // reported as hung by the watcher
            }
            made += 1;
            dfs.finish_run();
            if !dfs.counts_last_run() {
                continue; // another shard's run (or one the search disowned)
            }
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
        let stopped = self.dfs_stop_reason(!failures.is_empty(), &dfs);
        Search {
            runs: dfs.counted_runs(),
            failures,
            stopped,
            complete: dfs.is_complete(),
            nondeterminism: dfs.nondeterminism(),
        }
    }

    /// A DFS run that hung: the search cannot go on (its state is on the stuck thread).
    /// Not saved to the seeds file: a dfs case replays from a schedule, and a hung run
    /// has none; the message says how to reach it again.
    fn dfs_hung(&self, spec: &StrategySpec, run: Running, elapsed: Duration) -> Search {
        let limit = self.watchdog.unwrap_or(elapsed);
        let mut found = hang_failure(
            self.start,
            spec,
            self.config.workers,
            Hung { limit, elapsed },
        );
        found.message = format!(
            "dfs run {} of seed {}: {}; `fuzz --strategy {spec} --start {} --seeds {}` reaches it again",
            run.index + 1,
            self.start,
            found.message,
            self.start,
            run.index + 1
        );
        Search {
            runs: run.index + 1,
            failures: vec![found],
            stopped: StopReason::Failures,
            complete: false,
            nondeterminism: None,
        }
    }

    /// Why the search ended: a failure, the whole space covered, the program behaving
    /// differently under the same picks, Ctrl-C, or the run cap.
    fn dfs_stop_reason(&self, failed: bool, dfs: &Dfs) -> StopReason {
        if failed {
            StopReason::Failures
        } else if dfs.nondeterminism().is_some() {
            StopReason::Nondeterministic
        } else if dfs.is_complete() {
            StopReason::Exhausted
        } else if self.interrupt.load(Ordering::Relaxed) {
            StopReason::Interrupted
        } else {
            StopReason::RunCap
        }
    }

    /// The report of a DFS search.
    fn dfs_report(&self, spec: &StrategySpec, search: Search) -> CampaignReport {
        let Search {
            runs,
            failures,
            stopped,
            complete,
            nondeterminism,
        } = search;
        CampaignReport {
            scenario: self.scenario.name().to_string(),
            strategy: *spec,
            workers: self.config.workers,
            start: self.start,
            seeds: self.seeds,
            shard: self.shard,
            keep_going: self.keep_going,
            runs,
            passes: runs - failures.len() as u64,
            failing_seeds: failures.iter().map(|f| f.seed).collect(),
            failures,
            regressions: Vec::new(),
            stopped,
            complete: Some(complete),
            nondeterminism,
            resumed_in_flight: Vec::new(),
            resumed_failures: Vec::new(),
        }
    }

    /// DFS failures are not reproducible from the seed alone: save the schedule.
    fn save_dfs_schedule(&self, outcome: &Outcome<()>, spec: &StrategySpec) -> Option<String> {
        let dir = self.seeds_dir.as_ref()?;
        let path = dir.join(format!(
            "{}-{:016x}.schedule",
            self.scenario.name(),
            outcome.fingerprint
        ));
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
