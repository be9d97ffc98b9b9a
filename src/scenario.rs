//! [`Scenario`]: a named async test program that campaigns, the CLI and `check` run.

use crate::config::Config;
use crate::strategy::Strategy;
use crate::{Outcome, Schedule, Sim};
use futures::future::LocalBoxFuture;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

type Program = dyn Fn() -> LocalBoxFuture<'static, ()> + Send + Sync;

/// A named program: a factory of fresh main futures, one per run.
///
/// The factory is `Send + Sync` so a campaign can call it on every thread; the futures
/// it makes need not be `Send` (each runs on the thread that made it).
///
/// ```
/// use detsim::{Config, Scenario};
/// let s = Scenario::new("hello", "spawns a task and joins it", || async {
///     detsim::spawn(async {}).await.unwrap();
/// });
/// assert!(s.run(Config::default().seed(1)).is_ok());
/// ```
#[derive(Clone)]
pub struct Scenario {
    name: String,
    description: String,
    program: Arc<Program>,
    /// Where the scenario was defined: the main task's spawn site in traces.
    location: &'static Location<'static>,
    /// The fault plan its runs use unless their `Config` brings one.
    faults: Option<crate::fault::FaultPlan>,
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scenario")
            .field("name", &self.name)
            .finish()
    }
}

impl Scenario {
    /// A scenario named `name` running `program()` as the main task of each run.
    #[track_caller]
    pub fn new<F, Fut>(name: impl Into<String>, description: impl Into<String>, program: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        Scenario {
            name: name.into(),
            description: description.into(),
            program: Arc::new(move || Box::pin(program())),
            location: Location::caller(),
            faults: None,
        }
    }

    /// Runs it under `plan` (unless a run's [`Config::faults`] says otherwise): seeds,
    /// seeds files, schedules and shrinking then all include the plan's faults.
    pub fn with_faults(mut self, plan: crate::fault::FaultPlan) -> Self {
        self.faults = Some(plan);
        self
    }

    /// The scenario's fault plan, if any.
    pub fn faults(&self) -> Option<&crate::fault::FaultPlan> {
        self.faults.as_ref()
    }

    fn prepare(&self, sim: Sim) -> Sim {
        match &self.faults {
            Some(plan) => sim.default_faults(plan),
            None => sim,
        }
    }

    /// The name (used for seeds files and the command line).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The one-line description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Runs a prepared `Sim` (strategy, replay) on a fresh main future.
    pub fn run_sim(&self, sim: Sim) -> Outcome<()> {
        self.start(sim)
    }

    /// Every run of a scenario starts here: under the std guards, on a thread whose
    /// per-thread RNG caches are unseeded (see `crate::guards`).
    fn start(&self, sim: Sim) -> Outcome<()> {
        crate::guards::run_on_clean_thread(sim, |sim| {
            self.prepare(sim).run_located(self.future(), self.location)
        })
    }

    /// A fresh main future.
    pub fn future(&self) -> LocalBoxFuture<'static, ()> {
        (self.program)()
    }

    /// One run with the default (random) strategy.
    pub fn run(&self, config: Config) -> Outcome<()> {
        self.start(Sim::new(config))
    }

    /// One run with `strategy`.
    pub fn run_with(&self, config: Config, strategy: Box<dyn Strategy>) -> Outcome<()> {
        self.start(Sim::new(config).strategy(strategy))
    }

    /// One strict replay of `schedule`.
    pub fn replay(&self, config: Config, schedule: impl Into<Schedule>) -> Outcome<()> {
        self.start(Sim::new(config).replay(schedule))
    }
}
