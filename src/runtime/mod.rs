//! One simulation run: [`Sim`] and the machinery behind it.
//!
//! - `context.rs` — the runtime's one interface for the layers above it (time, rand,
//!   the tracing layer, the world): now, timers, choices, events, spawning.
//! - `core.rs` — `Core`, the state of a run (tasks, ready list, workers, clock); its
//!   fields are private to this module.
//! - `step.rs` — the step loop: pick, poll, advance time, detect the end.
//! - `task.rs` — spawning, [`JoinHandle`], aborting.
//! - `cell.rs` — a task's one allocation (header, future, join state) and the two
//!   references to it: the run's `TaskBox`, the handle's `Joiner`.
//! - `pool.rs` — freed cells' blocks, kept per thread for the next spawns.
//! - `reuse.rs` — a run's per-task vectors, kept per thread for the next run.
//! - `coop.rs` — [`yield_now`] and [`burn`].
//! - `waker.rs` — task wakers and foreign-thread wake detection.
//! - `join_error.rs` — [`JoinError`] (cancelled, or panicked with its payload).
//! - `failure.rs` — [`Outcome`], [`Failure`], [`Stats`].
//! - `panic.rs` — capturing task panics quietly.
//! - `timers.rs` — the run's timers: deadline buckets over a slab of slots.
//! - `deadline_index.rs` — deadline → bucket id, the table behind arming a timer.

mod cell;
pub(crate) mod context;
mod coop;
mod core;
mod deadline_index;
mod failure;
mod join_error;
mod panic;
mod pool;
mod reuse;
mod step;
mod task;
mod timers;
mod waker;

pub use coop::{burn, yield_now, Burn, YieldNow};
pub use failure::{Failure, Outcome, Stats, TaskRef};
pub use join_error::JoinError;
pub use task::{current_id, spawn, spawn_named, AbortHandle, JoinHandle, TaskId};

use crate::choice::{Chooser, RecordedSchedule, ReplayMode, Schedule};
use crate::config::Config;
use crate::strategy::{Random, Strategy};
use crate::trace::TraceStream;
use std::borrow::Cow;
use std::future::Future;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Distinguishes runs for waker checks only; never part of a trace, so it does not
/// make runs depend on each other.
static NEXT_SIM_ID: AtomicU64 = AtomicU64::new(1);

/// One simulation run: configure it, then [`Sim::run`] a future on it.
///
/// ```
/// use detsim::{Config, Sim};
/// let program = || async {
///     let counter = std::rc::Rc::new(std::cell::Cell::new(0));
///     let tasks: Vec<_> = (0..4)
///         .map(|_| {
///             let c = counter.clone();
///             detsim::spawn(async move {
///                 let v = c.get();
///                 detsim::task::yield_now().await;
///                 c.set(v + 1); // lost update: another task may have written meanwhile
///             })
///         })
///         .collect();
///     for t in tasks { t.await.unwrap(); }
///     counter.get()
/// };
/// let a = Sim::new(Config::default().seed(3)).run(program());
/// let b = Sim::new(Config::default().seed(3)).run(program());
/// assert_eq!(a.fingerprint, b.fingerprint); // same seed, same run
/// assert_eq!(a.result.unwrap(), b.result.unwrap());
/// ```
#[derive(Debug)]
pub struct Sim {
    config: Config,
    strategy: Box<dyn Strategy>,
    replay: Option<(Schedule, ReplayMode)>,
    stream: Option<TraceStream>,
    nodes: Vec<crate::world::node::NodeSpec>,
}

impl Sim {
    /// Frees the memory this thread keeps for its next runs, and returns how many bytes
    /// that was: the spare chunks of dropped traces and choice logs (at most 8 MiB), the
    /// blocks of freed task cells (at most 16 MiB) and the last run's per-task vectors
    /// (at most 2^17 tasks' worth, ~10.6 MiB). A thread keeps what its runs used, up to
    /// those bounds, so that the next run allocates and page-faults none of it again;
    /// call this after a large run on a thread that will not run another soon. No run
    /// depends on what is kept: the runs after this are the same, only slower to start.
    ///
    /// ```
    /// use detsim::{Config, Sim};
    /// let out = Sim::new(Config::default()).run(async {
    ///     let tasks: Vec<_> = (0..1000).map(|i| detsim::spawn(async move { i })).collect();
    ///     tasks.len()
    /// });
    /// assert_eq!(*out.result.as_ref().unwrap(), 1000);
    /// drop(out); // its trace's chunks are kept too
    /// assert!(Sim::release_thread_memory() > 0);
    /// assert_eq!(Sim::release_thread_memory(), 0, "nothing is left to free");
    /// ```
    pub fn release_thread_memory() -> usize {
        crate::spare::release() + pool::release() + reuse::release()
    }

    /// A run with this configuration and the [`Random`] strategy.
    pub fn new(config: Config) -> Self {
        Sim {
            config,
            strategy: Box::new(Random),
            replay: None,
            stream: None,
            nodes: Vec::new(),
        }
    }

    /// Uses `plan` unless the config already has a fault plan.
    pub(crate) fn default_faults(mut self, plan: &crate::fault::FaultPlan) -> Self {
        if self.config.faults.is_none() {
            self.config.faults = Some(plan.clone());
        }
        self
    }

    /// Creates a node when the run starts (after the main task `t0`), running `init()`
    /// on it, and again on each restart. See [`crate::node`].
    #[track_caller]
    pub fn node<F, Fut>(mut self, builder: crate::node::Builder, init: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let location = Location::caller();
        self.nodes
            .push(crate::world::node::NodeSpec::new(builder, init, location));
        self
    }

    /// Streams the full trace to a file as the run goes instead of keeping it in memory
    /// (so a run of millions of events costs no more memory than one with the trace
    /// off); the trace mode becomes [`crate::TraceMode::Full`]. The file is exactly
    /// what the in-memory trace would print; [`crate::Trace::stream_error`] reports an
    /// I/O error after the run (the run itself goes on).
    pub fn stream_trace(mut self, stream: TraceStream) -> Self {
        self.config.trace = crate::config::TraceMode::Full;
        self.stream = Some(stream);
        self
    }

    /// Uses `strategy` to pick tasks.
    pub fn strategy(mut self, strategy: Box<dyn Strategy>) -> Self {
        self.strategy = strategy;
        self
    }

    /// Follows `schedule` exactly; a mismatch ends the run with [`Failure::Divergence`].
    pub fn replay(mut self, schedule: impl Into<Schedule>) -> Self {
        self.replay = Some((schedule.into(), ReplayMode::Strict));
        self
    }

    /// Follows `schedule` where it fits, clamping out-of-range choices and padding with
    /// zeros (used by the shrinker).
    pub fn replay_lenient(mut self, schedule: impl Into<Schedule>) -> Self {
        self.replay = Some((schedule.into(), ReplayMode::Lenient));
        self
    }

    /// Runs `future` as the main task (`t0`) until it finishes or the run fails.
    /// Tasks still alive at the end are dropped in id order.
    #[track_caller]
    pub fn run<F>(self, future: F) -> Outcome<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.run_located(future, Location::caller())
    }

    /// [`Sim::run`] for a main future that borrows from the caller (as tokio's
    /// `Runtime::block_on` allows): neither the future nor its output need be `'static`.
    /// Tasks it spawns still must be, so borrowed data never leaves the main task.
    ///
    /// ```
    /// use detsim::{Config, Sim};
    /// let mut log = vec!["before"];
    /// let out = Sim::new(Config::default()).run_scoped(async {
    ///     detsim::task::yield_now().await;
    ///     log.push("in the run");
    ///     log.len()
    /// });
    /// assert_eq!(out.result.unwrap(), 2);
    /// assert_eq!(log, ["before", "in the run"]);
    /// ```
    #[track_caller]
    pub fn run_scoped<'a, F>(self, future: F) -> Outcome<F::Output>
    where
        F: Future + 'a,
        F::Output: 'a,
    {
        let output = std::cell::Cell::new(None);
        let main: std::pin::Pin<Box<dyn Future<Output = ()> + '_>> = Box::pin(async {
            output.set(Some(future.await));
        });
        // SAFETY: only the lifetime changes (same fat-pointer layout). The run owns the
        // main future and drops it before `run_located` returns or unwinds: a finished
        // main task's future is dropped when it completes, and `teardown` and then the
        // drop of `Core` (a local of `run_located`) drop every task still alive. No one
        // polls it after that (polls come only from the step loop), and it cannot hand
        // its borrows to anything that outlives the run: spawned tasks, task-locals and
        // thread-locals take `'static` values only. So every borrow it holds (`output`
        // and whatever `future` borrows, all outliving this call) is valid while it exists.
        let main: std::pin::Pin<Box<dyn Future<Output = ()> + 'static>> =
            unsafe { std::mem::transmute(main) };
        self.run_located(main, Location::caller()).map(|()| {
            output
                .into_inner()
                .expect("run_scoped: a run that succeeded completed its main future")
        })
    }

    /// [`Sim::run`], naming `location` as the main task's spawn site (scenarios use
    /// where they were defined, so traces do not depend on who ran them).
    pub(crate) fn run_located<F>(
        self,
        future: F,
        location: &'static Location<'static>,
    ) -> Outcome<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let seed = self.config.seed;
        if let Err(e) = self.config.validate() {
            return rejected(&self.config, e);
        }
        let mut chooser = Chooser::new(seed);
        chooser.set_recording(self.config.trace != crate::config::TraceMode::Off);
        if let Some((schedule, mode)) = self.replay {
            chooser.set_replay(schedule, mode);
        }
        let id = NEXT_SIM_ID.fetch_add(1, Ordering::Relaxed);
        let core = core::Core::new(id, self.config, chooser, self.strategy);
        if let Some(stream) = self.stream {
            core.trace.borrow_mut().stream_to(stream);
        }
        let _live = waker::Registration::new(id, &core.shared);
        let _quiet = panic::QuietGuard::new();
        let result = context::enter(&core, || {
            let main = task::spawn_on(&core, Cow::Borrowed("main"), location, future);
            if !self.nodes.is_empty() || core.has_fault_plan() {
                crate::world::start(self.nodes);
            }
            let result = step::run(&core);
            let result = result.and_then(|()| main_output(main));
            teardown(&core, result)
        });
        finish(core, seed, result)
    }
}

/// The outcome of a run whose config is unusable: nothing ran.
fn rejected<T>(config: &Config, e: crate::config::ConfigError) -> Outcome<T> {
    let trace = crate::trace::Trace::new(config.seed, config.trace);
    Outcome {
        seed: config.seed,
        fingerprint: trace.fingerprint,
        result: Err(Failure::InvalidConfig {
            message: e.to_string(),
        }),
        trace,
        stats: Stats::default(),
        schedule: RecordedSchedule::default(),
    }
}

fn main_output<T>(main: JoinHandle<T>) -> Result<T, Failure> {
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    let mut main = main;
    match std::pin::Pin::new(&mut main).poll(&mut cx) {
        std::task::Poll::Ready(Ok(v)) => Ok(v),
        _ => unreachable!("main task finished, so its output is in its join slot"),
    }
}

/// Drops the remaining tasks in id order; a panic there fails a run that had passed.
fn teardown<T>(core: &core::Core, result: Result<T, Failure>) -> Result<T, Failure> {
    // A panic already put its failure on the trace, on its task and worker.
    let logged = matches!(result, Err(Failure::Panic { .. }));
    if let (Err(f), false) = (&result, logged) {
        let message = f.to_string();
        core.emit(crate::trace::EventKind::Failure { message });
    }
    core.closed.set(true);
    let count = core.slab.borrow().len();
    for id in 0..count as u32 {
        let task = core.slab.borrow_mut()[id as usize].take();
        if let Some(task) = task {
            core.sched.borrow_mut().status[id as usize] = core::Status::Done;
            task::drop_task(core, id, task);
        }
    }
    match (result, core.failure.borrow_mut().take()) {
        (Ok(_), Some(f)) => Err(f),
        (result, _) => result,
    }
}

fn finish<T>(core: core::Core, seed: u64, result: Result<T, Failure>) -> Outcome<T> {
    drop(core.trace_mut()); // hands over a held `Poll` (none: `Core::poll_over` wrote it)
    let fingerprint = core.fingerprint();
    let faults = core.world_if_made().map_or(0, |w| w.faults_injected());
    let mut chooser = core.chooser.into_inner();
    let result = match result {
        Ok(v) => {
            chooser.finish();
            match chooser.divergence() {
                Some(d) => Err(Failure::Divergence {
                    step: core.step.get(),
                    divergence: d.clone(),
                }),
                None => Ok(v),
            }
        }
        Err(f) => Err(f),
    };
    let mut trace = core.trace.into_inner();
    trace.set_fingerprint(fingerprint);
    trace.finish_stream();
    let stats = Stats {
        steps: core.step.get(),
        elapsed: Duration::from_nanos(core.now.get()),
        tasks_spawned: core.sched.borrow().status.len() as u64,
        timers_fired: core.timers_fired.get(),
        choices: chooser.recorded_len() as u64,
        switches: core.switches.get(),
        preemptions: core.preemptions.get(),
        faults,
    };
    reuse::Buffers::of(core.sched.into_inner(), core.slab.into_inner()).give();
    Outcome {
        seed,
        fingerprint: trace.fingerprint,
        result,
        trace,
        stats,
        schedule: chooser.take_schedule(),
    }
}

#[cfg(test)]
mod tests {
    use crate::{Config, Failure, Sim};
    use std::cell::Cell;

    /// Counts its drops in a cell it borrows from the test.
    struct DropCount<'a>(&'a Cell<u32>);

    impl Drop for DropCount<'_> {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn run_scoped_drops_a_panicking_main_future_before_it_returns() {
        let drops = Cell::new(0);
        let out = Sim::new(Config::default()).run_scoped(async {
            let _guard = DropCount(&drops);
            crate::task::yield_now().await;
            panic!("boom");
        });
        assert_eq!(drops.get(), 1, "dropped inside the run");
        assert!(matches!(out.result, Err(Failure::Panic { .. })));
    }

    #[test]
    fn run_scoped_drops_a_deadlocked_main_future_before_it_returns() {
        let drops = Cell::new(0);
        let out = Sim::new(Config::default()).run_scoped(async {
            let _guard = DropCount(&drops);
            let (_tx, rx) = crate::sync::oneshot::channel::<u32>();
            let _stuck = crate::spawn(async move { std::future::pending::<()>().await });
            rx.await.unwrap()
        });
        assert!(
            matches!(out.result, Err(Failure::Deadlock { .. })),
            "{:?}",
            out.result
        );
        assert_eq!(drops.get(), 1, "dropped by the run's teardown");
    }

    #[test]
    fn run_scoped_returns_borrowing_output_and_matches_run() {
        let words = ["a", "bb", "ccc"];
        let scoped = Sim::new(Config::default().seed(9)).run_scoped(async {
            crate::task::yield_now().await;
            words.iter().max_by_key(|w| w.len()).copied()
        });
        let plain = Sim::new(Config::default().seed(9)).run(async {
            crate::task::yield_now().await;
        });
        assert_eq!(scoped.result.unwrap(), Some("ccc"));
        assert_eq!(scoped.stats.steps, plain.stats.steps);
    }
}
