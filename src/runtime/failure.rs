//! How a run ends: [`Outcome`], [`Failure`], [`Stats`].

use crate::choice::{Divergence, RecordedSchedule};
use crate::trace::Trace;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// A task named in a failure report: id, name and where it was spawned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRef {
    /// Task id.
    pub id: u32,
    /// Task name.
    pub name: String,
    /// `file:line:column` of the spawn.
    pub spawned_at: String,
}

impl fmt::Display for TaskRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "t{} \"{}\" (spawned at {})",
            self.id, self.name, self.spawned_at
        )
    }
}

/// Why a run failed. Failures are data: the harness never panics on any of these.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Failure {
    /// A task panicked; the panic was caught.
    #[error("task {task} panicked at {location}: {message}")]
    Panic {
        /// The task.
        task: TaskRef,
        /// The panic message.
        message: String,
        /// Where it panicked.
        location: String,
    },
    /// No task can run, no timer is pending, and the main task has not finished.
    #[error("deadlock: no task can run and no timer is pending; blocked: {}", list(.blocked))]
    Deadlock {
        /// Every task still alive, by id.
        blocked: Vec<TaskRef>,
    },
    /// The run took more scheduling steps than [`crate::Config::steps_max`].
    #[error("step limit: {steps} steps taken without the main task finishing (livelock or runaway loop?); last polled: {last}")]
    StepLimit {
        /// Steps taken.
        steps: u64,
        /// The task polled last.
        last: String,
    },
    /// The virtual clock passed [`crate::Config::time_max`].
    #[error("virtual time limit: the clock would pass {limit:?} (next event at {next:?}) without the main task finishing")]
    TimeLimit {
        /// The limit.
        limit: Duration,
        /// The time of the event that would have passed it.
        next: Duration,
    },
    /// A waker was invoked from another OS thread: the program leaks nondeterminism.
    #[error("determinism leak: task {task} was woken from a foreign OS thread ({thread})")]
    ForeignWake {
        /// The task whose waker was used.
        task: TaskRef,
        /// Name of the foreign thread.
        thread: String,
    },
    /// Dropping a task's future at the end of the run panicked.
    #[error("panic while dropping task {task} at the end of the run, at {location}: {message}")]
    TeardownPanic {
        /// The task.
        task: TaskRef,
        /// The panic message.
        message: String,
        /// Where it panicked.
        location: String,
    },
    /// The run's [`crate::Config`] is unusable (see [`crate::Config::validate`]); the
    /// program did not run.
    #[error("invalid config: {message}")]
    InvalidConfig {
        /// What is wrong with it.
        message: String,
    },
    /// A replayed schedule no longer matches the program.
    #[error("replay diverged from the schedule at step {step}: {divergence}")]
    Divergence {
        /// The scheduling step at which the program asked for something else.
        step: u64,
        /// What it asked for, against what was recorded.
        divergence: Divergence,
    },
    /// After the fault plan's liveness phase began (faults stopped, partitions healed,
    /// crashed nodes restarted), the main task did not finish within the deadline.
    #[error(
        "liveness: the system did not converge within {within:?} after faults stopped at {since:?}"
    )]
    Liveness {
        /// When the liveness phase began (virtual time).
        since: Duration,
        /// The deadline it had.
        within: Duration,
    },
}

fn list(tasks: &[TaskRef]) -> String {
    tasks
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Failure {
    /// A short name of the failure kind (`panic`, `deadlock`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Panic { .. } => "panic",
            Failure::Deadlock { .. } => "deadlock",
            Failure::StepLimit { .. } => "step_limit",
            Failure::TimeLimit { .. } => "time_limit",
            Failure::ForeignWake { .. } => "foreign_wake",
            Failure::TeardownPanic { .. } => "teardown_panic",
            Failure::InvalidConfig { .. } => "invalid_config",
            Failure::Divergence { .. } => "divergence",
            Failure::Liveness { .. } => "liveness",
        }
    }

    /// Kind plus location: two failures with the same signature are "the same bug" for
    /// deduplication and for checking that a shrunk schedule still fails the same way.
    pub fn signature(&self) -> String {
        match self {
            Failure::Panic { location, .. } | Failure::TeardownPanic { location, .. } => {
                format!("{} at {location}", self.kind())
            }
            Failure::Deadlock { blocked } => {
                let mut at: Vec<&str> = blocked.iter().map(|t| t.spawned_at.as_str()).collect();
                at.sort_unstable();
                at.dedup();
                format!("deadlock of tasks spawned at {}", at.join(", "))
            }
            Failure::ForeignWake { task, .. } => format!("foreign_wake of {}", task.spawned_at),
            other => other.kind().to_string(),
        }
    }
}

/// Counters of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Scheduling steps (= task polls).
    pub steps: u64,
    /// Virtual time elapsed.
    pub elapsed: Duration,
    /// Tasks spawned, including main.
    pub tasks_spawned: u64,
    /// Timers that fired.
    pub timers_fired: u64,
    /// Recorded choices.
    pub choices: u64,
    /// Context switches: polls of a different task than the one polled just before.
    pub switches: u64,
    /// Preemptions: switches away from a task that was still runnable (it yielded or was
    /// woken during its poll), as in CHESS's preemption bounding.
    pub preemptions: u64,
    /// Faults injected by the simulated world: lost, duplicated or delayed messages,
    /// crashes, partitions, clock jumps, `buggify!` firings.
    #[serde(default)]
    pub faults: u64,
}

/// Everything a run produced.
#[derive(Debug)]
#[must_use = "an Outcome holds the run's failure: ignoring it turns a failed run into a silent pass"]
pub struct Outcome<T> {
    /// The seed the run used.
    pub seed: u64,
    /// The main task's output, or why the run failed.
    pub result: Result<T, Failure>,
    /// What happened (events only with [`crate::TraceMode::Full`]).
    pub trace: Trace,
    /// Fingerprint of the whole trace; equal fingerprints mean equal runs.
    pub fingerprint: u64,
    /// Counters.
    pub stats: Stats,
    /// Every choice made; replaying it reproduces the run.
    pub schedule: RecordedSchedule,
}

impl<T> Outcome<T> {
    /// The failure, if the run failed.
    pub fn failure(&self) -> Option<&Failure> {
        self.result.as_ref().err()
    }

    /// True if the run passed.
    pub fn is_ok(&self) -> bool {
        self.result.is_ok()
    }

    /// The same outcome with `f` applied to the main task's output (if it has one).
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Outcome<U> {
        Outcome {
            seed: self.seed,
            result: self.result.map(f),
            trace: self.trace,
            fingerprint: self.fingerprint,
            stats: self.stats,
            schedule: self.schedule,
        }
    }
}
