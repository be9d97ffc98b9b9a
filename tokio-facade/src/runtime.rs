//! tokio's `runtime` API on detsim: a [`Runtime`] runs one simulation per
//! [`Runtime::block_on`].
//!
//! - The run's seed is `DETSIM_SEED` (default 0), its strategy `DETSIM_STRATEGY`; the
//!   worker count is [`Builder::worker_threads`] (or `DETSIM_WORKERS`, or detsim's
//!   default), `new_current_thread` means one worker.
//! - A failed run (a task panicked, a deadlock, a limit) panics with the failure and the
//!   line that replays it.
//! - Starting a runtime inside a simulation (`block_on` from a task) panics, naming the
//!   problem, as tokio does inside tokio: a nested simulation would escape the schedule.
//! - Tasks cannot be spawned on a runtime before `block_on` (there is no simulation
//!   yet): that panics with a message saying so.

use detsim::{Config, Sim};
use std::future::Future;
use std::io;

/// Builds a [`Runtime`]; options that tune real threads are accepted and ignored.
#[derive(Debug, Clone)]
pub struct Builder {
    workers: Option<usize>,
}

impl Builder {
    /// A multi-worker runtime (detsim's default worker count).
    pub fn new_multi_thread() -> Builder {
        Builder { workers: None }
    }

    /// A one-worker runtime.
    pub fn new_current_thread() -> Builder {
        Builder { workers: Some(1) }
    }

    /// Number of simulated workers.
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        assert!(n > 0, "Worker threads cannot be set to 0");
        self.workers = Some(n);
        self
    }

    /// Accepted; the simulation always has time and (when simulated) I/O.
    pub fn enable_all(&mut self) -> &mut Self {
        self
    }

    /// Accepted; time is always virtual.
    pub fn enable_time(&mut self) -> &mut Self {
        self
    }

    /// Accepted.
    pub fn enable_io(&mut self) -> &mut Self {
        self
    }

    /// Accepted; virtual time only moves when every task waits, as if always paused.
    pub fn start_paused(&mut self, _paused: bool) -> &mut Self {
        self
    }

    /// Accepted and ignored (there are no real threads).
    pub fn thread_name(&mut self, _name: impl Into<String>) -> &mut Self {
        self
    }

    /// Accepted and ignored (there are no real threads).
    pub fn thread_stack_size(&mut self, _bytes: usize) -> &mut Self {
        self
    }

    /// Accepted and ignored (blocking work runs as tasks).
    pub fn max_blocking_threads(&mut self, _n: usize) -> &mut Self {
        self
    }

    /// Makes the runtime.
    pub fn build(&mut self) -> io::Result<Runtime> {
        let mut config = Config::default();
        if let Some(w) = self.workers {
            config = config.workers(w);
        }
        Ok(Runtime {
            config,
            handle: Handle(()),
        })
    }
}

/// Runs futures on a detsim simulation, one simulation per [`Runtime::block_on`].
#[derive(Debug)]
pub struct Runtime {
    config: Config,
    handle: Handle,
}

impl Runtime {
    /// A multi-worker runtime.
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    /// Runs `future` as the main task of a new simulation and returns its output.
    ///
    /// Panics inside a simulation, and if the run fails (with the replay line).
    ///
    /// Like tokio's, `future` may borrow (no `'static` bound): the simulation ends, and
    /// drops every task, before `block_on` returns.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        refuse_nested("Runtime::block_on");
        let (config, strategy) = settings(self.config.clone());
        let seed = config.seed;
        let mut sim = Sim::new(config);
        if let Some(s) = strategy.per_run() {
            sim = sim.strategy(s);
        }
        let mut output = None;
        let out = sim.run(erase_lifetime(future, &mut output));
        match out.result {
            Ok(()) => output.expect("the main task finished, so it stored its output"),
            Err(failure) => panic!(
                "detsim: the simulation failed (seed {seed}, strategy {strategy}):\n  {failure}\n\
                 replay with:\n  DETSIM_SEED={seed} DETSIM_STRATEGY={strategy} <the same command>"
            ),
        }
    }

    /// Spawns a task; only possible inside the simulation (i.e. from `block_on`'s future).
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> crate::task::JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.handle.spawn(future)
    }

    /// The runtime's handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Accepted; returns a guard that does nothing.
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard(std::marker::PhantomData)
    }

    /// Drops the runtime (its simulations already ended with their `block_on`).
    pub fn shutdown_timeout(self, _timeout: std::time::Duration) {}

    /// Drops the runtime (its simulations already ended with their `block_on`).
    pub fn shutdown_background(self) {}
}

/// `future` as a `'static` main task that stores its output in `slot`.
///
/// `Sim::run` needs a `'static` future because its tasks live in the run's slab; tokio's
/// `block_on` takes any future. The run owns the main task only while `Sim::run`
/// executes — it completes the task or drops it at teardown (every task is dropped before
/// `run` returns, and a panic escaping `run` drops the run's core with its tasks) — and
/// `slot` outlives that call, so no borrow is used after it ends.
fn erase_lifetime<'a, F: Future + 'a>(
    future: F,
    slot: &'a mut Option<F::Output>,
) -> std::pin::Pin<Box<dyn Future<Output = ()> + 'static>> {
    let task: std::pin::Pin<Box<dyn Future<Output = ()> + 'a>> = Box::pin(async move {
        *slot = Some(future.await);
    });
    // SAFETY: only the lifetime bound of the trait object changes (same layout); the
    // future and what it borrows are not used after `Sim::run` returns (see above), and
    // the caller passes the box straight to `Sim::run`.
    unsafe {
        std::mem::transmute::<
            std::pin::Pin<Box<dyn Future<Output = ()> + 'a>>,
            std::pin::Pin<Box<dyn Future<Output = ()> + 'static>>,
        >(task)
    }
}

/// The seed and strategy of a `block_on` from the environment (the program's boundary).
fn settings(config: Config) -> (Config, detsim::explore::StrategySpec) {
    let read = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let seed = read("DETSIM_SEED").map(|v| {
        v.trim()
            .parse::<u64>()
            .unwrap_or_else(|e| panic!("detsim: DETSIM_SEED={v:?}: {e}"))
    });
    let strategy = read("DETSIM_STRATEGY").map(|v| {
        v.trim()
            .parse()
            .unwrap_or_else(|e| panic!("detsim: DETSIM_STRATEGY={v:?}: {e}"))
    });
    let workers = read("DETSIM_WORKERS").map(|v| {
        v.trim()
            .parse::<usize>()
            .unwrap_or_else(|e| panic!("detsim: DETSIM_WORKERS={v:?}: {e}"))
    });
    let mut config = config.seed(seed.unwrap_or(0));
    if let Some(w) = workers {
        config = config.workers(w);
    }
    (config, strategy.unwrap_or_default())
}

#[track_caller]
fn refuse_nested(what: &str) {
    if detsim::task::try_id().is_some() {
        panic!(
            "Cannot start a runtime from within a runtime: {what} was called inside a detsim \
             simulation. Await the future instead (a nested runtime would run outside the \
             simulation's schedule)."
        );
    }
}

/// A handle to the current simulation.
#[derive(Debug, Clone)]
pub struct Handle(());

/// The error of [`Handle::try_current`] outside a simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryCurrentError(());

impl std::fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("there is no reactor running, must be called from the context of a Tokio 1.x runtime (a detsim simulation)")
    }
}

impl std::error::Error for TryCurrentError {}

impl Handle {
    /// The handle of the running simulation; panics outside one.
    #[track_caller]
    pub fn current() -> Handle {
        Handle::try_current().unwrap_or_else(|e| panic!("{e}"))
    }

    /// The handle of the running simulation, if any.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        match detsim::task::try_id() {
            Some(_) => Ok(Handle(())),
            None => Err(TryCurrentError(())),
        }
    }

    /// Spawns a task on the running simulation; panics outside one.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> crate::task::JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        if detsim::task::try_id().is_none() {
            panic!(
                "detsim: cannot spawn on a runtime outside its simulation: spawn from inside \
                 the future given to Runtime::block_on"
            );
        }
        detsim::spawn(future)
    }

    /// Runs `f` as a task (see `task::spawn_blocking`).
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> crate::task::JoinHandle<R>
    where
        F: FnOnce() -> R + 'static,
        R: 'static,
    {
        crate::task::spawn_blocking(f)
    }

    /// Always panics inside a simulation (as tokio does inside a runtime); outside one,
    /// runs a new simulation like [`Runtime::block_on`].
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        refuse_nested("Handle::block_on");
        Builder::new_multi_thread()
            .build()
            .expect("building a facade runtime cannot fail")
            .block_on(future)
    }

    /// Accepted; returns a guard that does nothing.
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard(std::marker::PhantomData)
    }

    /// The simulated runtime is multi-threaded (it has workers).
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        RuntimeFlavor::MultiThread
    }
}

/// Returned by `enter`; does nothing.
#[derive(Debug)]
pub struct EnterGuard<'a>(std::marker::PhantomData<&'a Handle>);

/// The kind of runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// One worker.
    CurrentThread,
    /// Several workers.
    MultiThread,
}
