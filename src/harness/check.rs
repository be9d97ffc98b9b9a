//! [`check`]: detsim in a plain `#[test]`.

use crate::env;
use crate::explore::{Campaign, StrategySpec};
use crate::{Config, Scenario, TraceMode};
use std::future::Future;
use std::path::PathBuf;

/// Settings of [`check`]; environment variables override them (see [`crate::env`]).
#[derive(Clone, Debug)]
pub struct Check {
    config: Config,
    seeds: u64,
    start: u64,
    strategy: StrategySpec,
    jobs: usize,
    seeds_dir: Option<PathBuf>,
    watchdog: std::time::Duration,
    /// The test's name (default: the thread's, which `cargo test` sets to it).
    name: Option<String>,
}

impl Default for Check {
    fn default() -> Self {
        Check {
            config: Config::default(),
            seeds: 1000,
            start: 0,
            strategy: StrategySpec::Random,
            jobs: 0,
            seeds_dir: None,
            watchdog: std::time::Duration::from_secs(10),
            name: None,
        }
    }
}

impl Check {
    /// 1,000 random seeds on all cores with the default [`Config`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of seeds (`DETSIM_SEEDS` overrides).
    pub fn seeds(mut self, n: u64) -> Self {
        self.seeds = n;
        self
    }

    /// First seed.
    pub fn start(mut self, s: u64) -> Self {
        self.start = s;
        self
    }

    /// Strategy (`DETSIM_STRATEGY` overrides).
    pub fn strategy(mut self, s: StrategySpec) -> Self {
        self.strategy = s;
        self
    }

    /// Threads (0 = all cores; `DETSIM_JOBS` overrides).
    pub fn jobs(mut self, j: usize) -> Self {
        self.jobs = j;
        self
    }

    /// Per-run configuration (its seed is replaced per run).
    pub fn config(mut self, c: Config) -> Self {
        self.config = c;
        self
    }

    /// Real-time limit per run (default 10 s): a run stuck in a synchronous loop fails
    /// the check with its seed instead of hanging the test.
    pub fn watchdog(mut self, limit: std::time::Duration) -> Self {
        self.watchdog = limit;
        self
    }

    /// Keep a seeds file per test in `dir` (replayed first, new failures appended).
    pub fn seeds_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.seeds_dir = Some(dir.into());
        self
    }

    /// Names the test (its seeds file and replay line); by default the name of the
    /// thread, which `cargo test` sets to the test's path. `#[detsim::test]` sets it.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    fn with_env(mut self) -> Result<(Self, Option<u64>), String> {
        if let Some(n) = env::parse(env::SEEDS)? {
            self.seeds = n;
        }
        if let Some(s) = env::parse(env::STRATEGY)? {
            self.strategy = s;
        }
        if let Some(j) = env::parse(env::JOBS)? {
            self.jobs = j;
        }
        if let Some(w) = env::parse::<usize>(env::WORKERS)? {
            self.config = self.config.workers(w);
        }
        Ok((self, env::parse(env::SEED)?))
    }
}

/// Runs `program` over many seeds and panics with a replayable report if any run fails.
///
/// The report holds the seed, the failure, the tail of the trace and the exact
/// environment line that replays the failing seed (`DETSIM_SEED=… cargo test …`).
///
/// ```
/// use detsim::{check, Check};
/// check(Check::new().seeds(200), || async {
///     let m = std::sync::Arc::new(detsim::sync::Mutex::new(0));
///     let hs: Vec<_> = (0..3).map(|_| { let m = m.clone(); detsim::spawn(async move {
///         let mut g = m.lock().await; let v = *g; detsim::task::yield_now().await; *g = v + 1;
///     })}).collect();
///     for h in hs { h.await.unwrap(); }
///     assert_eq!(*m.lock().await, 3);
/// });
/// ```
#[track_caller]
pub fn check<F, Fut>(settings: Check, program: F)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let name = settings.name.clone().unwrap_or_else(|| {
        let thread = std::thread::current();
        thread.name().unwrap_or("detsim-check").to_string()
    });
    let (settings, seed) = settings
        .with_env()
        .unwrap_or_else(|e| panic!("detsim: bad environment: {e}"));
    let scenario = Scenario::new(name.clone(), "check", program);
    if let Some(seed) = seed {
        return replay_one(&scenario, &settings, seed, &name);
    }
    let campaign = Campaign::new(scenario.clone(), settings.config.clone())
        .seeds(settings.seeds)
        .start(settings.start)
        .strategy(settings.strategy)
        .jobs(settings.jobs)
        .seeds_dir(settings.seeds_dir.clone())
        // A run stuck in a synchronous loop fails the test with its seed instead of
        // hanging it (the stuck thread is abandoned; the test process exits anyway).
        .watchdog(Some(settings.watchdog));
    let report = campaign.run().unwrap_or_else(|e| panic!("detsim: {e}"));
    let failing = report
        .regressions
        .iter()
        .filter_map(|r| r.failure.as_ref())
        .chain(&report.failures)
        .next();
    if let Some(f) = failing {
        if f.kind == "hang" {
            // Re-running it would hang again: report what the watchdog saw.
            panic!(
                "detsim: {}\nreplay with:\n  {}={} {}={} cargo test -- --exact {name}",
                f.message,
                env::SEED,
                f.seed,
                env::STRATEGY,
                f.strategy
            );
        }
        let strategy: StrategySpec = f.strategy.parse().unwrap_or_default();
        let out = campaign.rerun_full(f.seed, &strategy, f.workers);
        panic!("{}", failure_report(&name, f.seed, &f.strategy, &out));
    }
}

fn replay_one(scenario: &Scenario, settings: &Check, seed: u64, name: &str) {
    let config = settings.config.clone().seed(seed).trace(TraceMode::Full);
    let out = crate::explore::run_one(scenario, config, &settings.strategy);
    if out.failure().is_some() {
        panic!(
            "{}",
            failure_report(name, seed, &settings.strategy.to_string(), &out)
        );
    }
}

fn failure_report(test: &str, seed: u64, strategy: &str, out: &crate::Outcome<()>) -> String {
    let failure = out.failure().map(ToString::to_string).unwrap_or_default();
    format!(
        "detsim: seed {seed} failed (strategy {strategy}):\n  {failure}\n\
         last events of the trace:\n{}\n\
         replay with:\n  {}={seed} {}={strategy} cargo test -- --exact {test}\n",
        out.trace.tail(25),
        env::SEED,
        env::STRATEGY,
    )
}
