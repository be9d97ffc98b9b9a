//! Campaigns with the DFS strategy: one systematic search from the first seed instead
//! of many seeds, so failures are saved with their schedule (the seed alone does not
//! reproduce them).

use super::{Campaign, CampaignError};
use crate::explore::report::{CampaignReport, FoundFailure, StopReason};
use crate::explore::{Dfs, StrategySpec};
use crate::harness::schedule_file::{program_fingerprint, ScheduleFile, ScheduleHeader};
use crate::harness::seeds::{self, SeedCase};
use crate::{Failure, Outcome, TraceMode};
use std::sync::atomic::Ordering;

impl Campaign {
    pub(super) fn run_dfs(&self, bound: u32) -> Result<CampaignReport, CampaignError> {
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
        let stopped = self.dfs_stop_reason(!failures.is_empty(), &dfs);
        Ok(self.dfs_report(&spec, runs, failures, stopped, dfs.is_complete()))
    }

    /// Why the search ended: a failure, the whole space covered, Ctrl-C, or the run cap.
    fn dfs_stop_reason(&self, failed: bool, dfs: &Dfs) -> StopReason {
        if failed {
            StopReason::Failures
        } else if dfs.is_complete() {
            StopReason::Exhausted
        } else if self.interrupt.load(Ordering::Relaxed) {
            StopReason::Interrupted
        } else {
            StopReason::RunCap
        }
    }

    /// The report of a DFS search that made `runs` runs and found `failures`.
    fn dfs_report(
        &self,
        spec: &StrategySpec,
        runs: u64,
        failures: Vec<FoundFailure>,
        stopped: StopReason,
        complete: bool,
    ) -> CampaignReport {
        CampaignReport {
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
            complete: Some(complete),
            resumed_in_flight: Vec::new(),
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
