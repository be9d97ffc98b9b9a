//! Campaigns with the DFS strategy: one systematic search from the first seed instead
//! of many seeds, so failures are saved with their schedule (the seed alone does not
//! reproduce them). The search is an [`Explorer`] ([`DfsExplorer`]) over the plans of
//! `dfs/search.rs`, run on the campaign's J threads under the watchdog; its report is the
//! one-thread search's whatever J (plans commit in depth-first order). With
//! `--shard K/N` it searches the K-th part of the tree ([`crate::explore::Dfs::with_shard`]):
//! the shards together run every schedule of the unsharded search once.

use super::{hang_failure, Campaign, CampaignError};
use crate::explore::dfs::{self, Committed, Ended, Next, Plan, RunRecord, RunShape, Search};
use crate::explore::executor::MAX_HUNG;
use crate::explore::explorer::{run_threads, Explorer, Halt, Runner, Stops};
use crate::explore::report::{CampaignReport, StopReason};
use crate::explore::watchdog::Hung;
use crate::explore::{FoundFailure, StrategySpec};
use crate::store::{FailureSink, ScheduleFile, ScheduleHeader};
use crate::{Config, Scenario, Schedule, TraceMode};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// A failing DFS run: the failure, and the schedule that reproduces it.
#[derive(Debug)]
pub(crate) struct DfsFailure {
    found: FoundFailure,
    schedule: Schedule,
    summary: Option<String>,
}

/// Makes DFS runs: replays a plan from the campaign's first seed, schedule recorded.
struct DfsRunner {
    scenario: Scenario,
    config: Config,
    spec: StrategySpec,
    shape: RunShape,
}

impl Runner for DfsRunner {
    type Plan = Plan;
    type Outcome = (RunRecord, Option<(DfsFailure, String)>);

    fn run(&self, plan: Plan) -> Self::Outcome {
        let (record, outcome) = dfs::make_run(self.shape, plan, |strategy| {
            self.scenario.run_with(self.config.clone(), strategy)
        });
        let failure = outcome.failure().map(|f| {
            let found = FoundFailure::new(
                self.config.seed,
                &self.spec,
                self.config.workers,
                f,
                outcome.fingerprint,
            );
            let failure = DfsFailure {
                found,
                schedule: outcome.schedule.clone().into(),
                summary: Some(f.to_string()),
            };
            (failure, f.signature())
        });
        (record, failure)
    }
}

/// Where failing schedules go, and how a hang is named.
#[derive(Debug)]
struct Saving {
    scenario: String,
    spec: StrategySpec,
    config: Config,
    sink: Option<Box<dyn FailureSink>>,
}

/// The DFS search as an explorer: saves each failure as it commits.
struct DfsExplorer {
    search: Search<DfsFailure>,
    saving: Saving,
    found: Vec<FoundFailure>,
    progress: Arc<super::Progress>,
}

impl Explorer for DfsExplorer {
    type Plan = Plan;
    type Outcome = (RunRecord, Option<(DfsFailure, String)>);

    fn next(&mut self) -> Next<Plan> {
        self.search.next()
    }

    fn ident(plan: &Plan) -> u64 {
        plan.id
    }

    fn outcome(&mut self, id: u64, (record, failure): Self::Outcome) {
        self.search.outcome(id, record, failure);
        self.collect();
    }

    fn hung(&mut self, id: u64, hung: Hung) {
        self.search.hung(id, hung);
        self.collect();
    }
}

impl DfsExplorer {
    /// Saves and keeps the failures committed since the last look.
    fn collect(&mut self) {
        let runs = self.search.counted_runs();
        self.progress.runs.store(runs, Ordering::Relaxed);
        for committed in self.search.take_failures() {
            let found = match committed {
                Committed::Failed { failure, .. } => self.saving.save(failure),
                Committed::Hung { run, hung } => self.saving.hang(run, hung),
            };
            self.progress.failures.fetch_add(1, Ordering::Relaxed);
            self.found.push(found);
        }
    }
}

impl Saving {
    /// DFS failures are not reproducible from the seed alone: save the schedule, and a
    /// seeds-file line naming it, through the store's sink.
    fn save(&mut self, failure: DfsFailure) -> FoundFailure {
        let DfsFailure {
            mut found,
            schedule,
            summary,
        } = failure;
        let Some(sink) = &mut self.sink else {
            return found;
        };
        let file = ScheduleFile {
            header: ScheduleHeader::new(&self.scenario, self.spec, self.config.clone()),
            schedule,
        };
        let fingerprint = found.fingerprint.map_or(0, |f| f.0);
        match sink.failing_schedule(&file, summary, fingerprint) {
            Ok(path) => found.schedule = Some(path.display().to_string()),
            // The error names the file.
            Err(e) => eprintln!("detsim: could not save a failing dfs schedule: {e}"),
        }
        found
    }

    /// A DFS run that hung, as run `run` of the search. Not saved to the seeds file: a
    /// dfs case replays from a schedule, and a hung run has none; the message says how
    /// to reach it again.
    fn hang(&self, run: u64, hung: Hung) -> FoundFailure {
        let (seed, spec) = (self.config.seed, self.spec);
        let mut found = hang_failure(seed, &spec, self.config.workers, hung);
        found.message = format!(
            "dfs run {run} of seed {seed}: {}; `fuzz --strategy {spec} --start {seed} --seeds {run}` reaches it again",
            found.message
        );
        found
    }
}

impl Campaign {
    /// The search on the campaign's threads, each run watched like a seed's.
    pub(super) fn run_dfs(&self, bound: u32) -> Result<CampaignReport, CampaignError> {
        let spec = StrategySpec::Dfs {
            preemption_bound: bound,
        };
        let shard = (self.options.shard.index - 1, self.options.shard.count);
        let search = Search::new(bound, self.options.seeds, shard, self.options.keep_going);
        let config = self
            .config
            .clone()
            .seed(self.options.start)
            .trace(TraceMode::Schedule);
        let runner = DfsRunner {
            scenario: self.scenario.clone(),
            config: config.clone(),
            spec,
            shape: search.run_shape(),
        };
        let explorer = DfsExplorer {
            search,
            saving: Saving {
                scenario: self.scenario.name().to_string(),
                spec,
                config,
                sink: self.sink(),
            },
            found: Vec::new(),
            progress: self.progress.clone(),
        };
        let stops = Stops {
            interrupt: self.interrupt.clone(),
            // `--time` is a wall-clock budget of the campaign runner, outside every run.
            #[allow(clippy::disallowed_methods)]
            deadline: self.options.time_limit.map(|t| Instant::now() + t),
            hangs_left: MAX_HUNG,
        };
        let (explorer, halt) = run_threads(
            explorer,
            runner,
            self.options.jobs,
            self.options.watchdog,
            stops,
        );
        Ok(self.dfs_report(&spec, explorer, halt))
    }

    /// The report of a DFS search.
    fn dfs_report(&self, spec: &StrategySpec, explorer: DfsExplorer, halt: Halt) -> CampaignReport {
        let DfsExplorer { search, found, .. } = explorer;
        let stopped = match (search.ended(), halt) {
            (Some(Ended::Failures), _) => StopReason::Failures,
            (Some(Ended::Nondeterministic), _) => StopReason::Nondeterministic,
            (Some(Ended::Complete), _) => StopReason::Exhausted,
            (Some(Ended::RunCap), _) | (None, Halt::Done) => StopReason::RunCap,
            (None, Halt::Interrupted) => StopReason::Interrupted,
            (None, Halt::TimeLimit) => StopReason::TimeLimit,
            (None, Halt::GaveUp) => StopReason::Hung,
        };
        let failing_seeds = found.iter().map(|f| f.seed).collect();
        CampaignReport {
            complete: Some(search.is_complete()),
            nondeterminism: search.nondeterminism().map(str::to_string),
            ..self.report(*spec, search.counted_runs(), found, failing_seeds, stopped)
        }
    }
}
