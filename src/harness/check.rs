//! [`check`]: detsim in a plain `#[test]`.

use crate::env;
use crate::explore::watchdog::run_guarded;
use crate::explore::{Campaign, CampaignOptions, FailureKind, StrategySpec};
use crate::{Config, Scenario, TraceMode};
use std::future::Future;
use std::path::PathBuf;

/// Settings of [`check`]: the campaign's [`CampaignOptions`], the per-run [`Config`] and
/// the test's name; environment variables override them (see [`crate::env`]).
#[derive(Clone, Debug)]
pub struct Check {
    config: Config,
    options: CampaignOptions,
    /// The test's name (default: the thread's, which `cargo test` sets to it).
    name: Option<String>,
}

impl Default for Check {
    /// [`CampaignOptions::default`] but for the strategy, `random`, and a 10 s watchdog.
    fn default() -> Self {
        Check {
            config: Config::default(),
            options: CampaignOptions {
                strategy: StrategySpec::Random,
                watchdog: Some(std::time::Duration::from_secs(10)),
                ..CampaignOptions::default()
            },
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
        self.options.seeds = n;
        self
    }

    /// First seed.
    pub fn start(mut self, s: u64) -> Self {
        self.options.start = s;
        self
    }

    /// Strategy (`DETSIM_STRATEGY` overrides).
    pub fn strategy(mut self, s: StrategySpec) -> Self {
        self.options.strategy = s;
        self
    }

    /// Threads (0 = all cores; `DETSIM_JOBS` overrides).
    pub fn jobs(mut self, j: usize) -> Self {
        self.options.jobs = j;
        self
    }

    /// Per-run configuration (its seed is replaced per run).
    pub fn config(mut self, c: Config) -> Self {
        self.config = c;
        self
    }

    /// All campaign options at once, e.g. to stop after several distinct failures
    /// (`keep_going`) or to set a time budget; the setters here change one each. The
    /// environment still overrides seeds, strategy and jobs.
    ///
    /// ```
    /// use detsim::{explore::CampaignOptions, Check};
    /// let mut options = CampaignOptions::default(); // swarm, 1,000 seeds, all cores
    /// options.keep_going = 3;
    /// options.seeds = 20;
    /// options.watchdog = Some(std::time::Duration::from_secs(5));
    /// detsim::check(Check::new().options(options), || async {
    ///     detsim::task::yield_now().await;
    /// });
    /// ```
    pub fn options(mut self, options: CampaignOptions) -> Self {
        self.options = options;
        self
    }

    /// Real-time limit per run (default 10 s): a run stuck in a synchronous loop fails
    /// the check with its seed instead of hanging the test.
    pub fn watchdog(mut self, limit: std::time::Duration) -> Self {
        self.options.watchdog = Some(limit);
        self
    }

    /// Keep a seeds file per test in `dir` (replayed first, new failures appended).
    pub fn seeds_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.options.seeds_dir = Some(dir.into());
        self
    }

    /// Names the test (its seeds file and replay line); by default the name of the
    /// thread, which `cargo test` sets to the test's path. `#[detsim::test]` sets it.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Checks that `program` is deterministic: each seed runs twice on this thread and
    /// once on another, and every run of a seed must have the same fingerprint (the
    /// `check-determinism` command, in a `#[test]`). Panics with the seed, the first
    /// differing event and its likely cause otherwise. Honours `DETSIM_SEED` (only that
    /// seed), `DETSIM_SEEDS`, `DETSIM_STRATEGY` and `DETSIM_WORKERS`; `dfs` strategies
    /// are checked as `random` (a determinism check runs seeds, not a search).
    ///
    /// ```
    /// use detsim::Check;
    /// Check::new().seeds(50).determinism(|| async {
    ///     let (tx, rx) = detsim::sync::oneshot::channel();
    ///     detsim::spawn(async move { tx.send(7).unwrap() });
    ///     // `select_biased!` polls in order: deterministic (unlike `select!`).
    ///     let mut rx = futures::FutureExt::fuse(rx);
    ///     let mut tick = Box::pin(futures::FutureExt::fuse(detsim::time::sleep(std::time::Duration::from_millis(1))));
    ///     futures::select_biased! {
    ///         v = rx => assert_eq!(v.unwrap(), 7),
    ///         _ = tick => {}
    ///     }
    /// });
    /// ```
    #[track_caller]
    pub fn determinism<F, Fut>(self, program: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let name = self.name.clone().unwrap_or_else(test_name);
        let (settings, seed) = self
            .with_env()
            .unwrap_or_else(|e| panic!("detsim: bad environment: {e}"));
        let o = &settings.options;
        let (start, seeds) = seed.map_or((o.start, o.seeds), |s| (s, 1));
        let last = start
            .checked_add(seeds.saturating_sub(1))
            .unwrap_or_else(|| panic!("detsim: seeds {start}.. ({seeds} seeds) run past 2^64-1"));
        let strategy = match settings.options.strategy {
            StrategySpec::Dfs { .. } => StrategySpec::Random,
            s => s,
        };
        let scenario = Scenario::new(name.clone(), "determinism check", program);
        let checked =
            crate::explore::check_determinism(&scenario, &settings.config, &strategy, start..=last);
        if let Err(leak) = checked {
            panic!(
                "detsim: {name} is not deterministic: {leak}\nrepeat the check with:\n  {}={} {}={strategy} cargo test -- --exact {name}",
                env::SEED,
                leak.seed,
                env::STRATEGY
            );
        }
    }

    fn with_env(mut self) -> Result<(Self, Option<u64>), String> {
        if let Some(n) = env::parse(env::SEEDS)? {
            self.options.seeds = n;
        }
        if let Some(s) = env::parse(env::STRATEGY)? {
            self.options.strategy = s;
        }
        if let Some(j) = env::parse(env::JOBS)? {
            self.options.jobs = j;
        }
        if let Some(w) = env::parse::<usize>(env::WORKERS)? {
            self.config = self.config.workers(w);
        }
        self.config
            .validate()
            .map_err(|e| format!("invalid config: {e}"))?;
        if self.options.jobs > Campaign::JOBS_MAX {
            return Err(format!(
                "{} jobs: at most {}",
                self.options.jobs,
                Campaign::JOBS_MAX
            ));
        }
        Ok((self, env::parse::<crate::Seed>(env::SEED)?.map(u64::from)))
    }
}

/// Events of a trace printed in full in a failure report; a longer trace is printed as
/// its last [`TAIL`] events (the whole trace is always in the file the report names).
const PRINTED_EVENTS_MAX: usize = 2_000;

/// Events shown of a trace too long to print whole.
const TAIL: usize = 25;

/// Runs `program` over many seeds and panics with a replayable report if any run fails.
///
/// The report holds the seed, the failure, the trace (whole, or its tail and the file
/// holding the whole of it) and the exact environment line that replays the failing seed
/// (`DETSIM_SEED=… cargo test …`). The panic points at the caller — your test — not at
/// detsim. Every run, the `DETSIM_SEED` replay included, is under the [`Check::watchdog`].
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
    let name = settings.name.clone().unwrap_or_else(test_name);
    let (settings, seed) = settings
        .with_env()
        .unwrap_or_else(|e| panic!("detsim: bad environment: {e}"));
    let scenario = Scenario::new(name.clone(), "check", program);
    let failed = match seed {
        Some(seed) => replay_one(&scenario, &settings, seed, &name),
        None => run_campaign(scenario, &settings, &name),
    };
    // Panicking here, in the `#[track_caller]` function itself, names the user's test.
    if let Some(report) = failed {
        panic!("{report}");
    }
}

/// The campaign of `check`; the report of its first failure, if any.
fn run_campaign(scenario: Scenario, settings: &Check, name: &str) -> Option<String> {
    // With the watchdog (on by default), a run stuck in a synchronous loop fails the test
    // with its seed instead of hanging it (the stuck thread is abandoned; the test
    // process exits anyway).
    let campaign =
        Campaign::new(scenario, settings.config.clone()).options(settings.options.clone());
    let report = match campaign.run() {
        Ok(report) => report,
        Err(e) => return Some(format!("detsim: {e}")),
    };
    let f = report
        .regressions
        .iter()
        .filter_map(|r| r.failure.as_ref())
        .chain(&report.resumed_failures)
        .chain(&report.failures)
        .next()?;
    if f.kind == FailureKind::Hang {
        return Some(hang_report(name, f.seed, &f.strategy, &f.message));
    }
    Some(match campaign.rerun_full(f.seed, &f.strategy, f.workers) {
        Ok(out) => failure_report(name, f.seed, &f.strategy, &out),
        Err(hung) => hang_report(name, f.seed, &f.strategy, &hung.to_string()),
    })
}

/// The running test's name (the thread name libtest gives it).
fn test_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("detsim-check")
        .to_string()
}

/// `DETSIM_SEED`: one run with the full trace, under the watchdog.
fn replay_one(scenario: &Scenario, settings: &Check, seed: u64, name: &str) -> Option<String> {
    let config = settings.config.clone().seed(seed).trace(TraceMode::Full);
    let (s, strategy) = (scenario.clone(), settings.options.strategy);
    match run_guarded(settings.options.watchdog, move || {
        crate::explore::run_one(&s, config, &strategy)
    }) {
        Ok(out) if out.failure().is_none() => None,
        Ok(out) => Some(failure_report(name, seed, &strategy, &out)),
        Err(hung) => Some(hang_report(name, seed, &strategy, &hung.to_string())),
    }
}

/// The environment line that replays `seed` of test `test`.
fn replay_line(test: &str, seed: u64, strategy: &StrategySpec) -> String {
    format!(
        "{}={seed} {}={strategy} cargo test -- --exact {test}",
        env::SEED,
        env::STRATEGY
    )
}

fn hang_report(test: &str, seed: u64, strategy: &StrategySpec, why: &str) -> String {
    format!(
        "detsim: seed {seed} hangs (strategy {strategy}): {why}\n\
         replay with (it hangs again; the same watchdog stops it):\n  {}\n",
        replay_line(test, seed, strategy)
    )
}

fn failure_report(
    test: &str,
    seed: u64,
    strategy: &StrategySpec,
    out: &crate::Outcome<()>,
) -> String {
    let failure = out.failure().map(ToString::to_string).unwrap_or_default();
    format!(
        "detsim: seed {seed} failed (strategy {strategy}):\n  {failure}\n{}\
         replay with:\n  {}\n",
        trace_section(test, seed, &out.trace),
        replay_line(test, seed, strategy)
    )
}

/// The whole trace (or its tail when long), and the file it was written to.
fn trace_section(test: &str, seed: u64, trace: &crate::Trace) -> String {
    let path = trace_path(test, seed);
    let written = std::fs::write(&path, trace.to_string());
    let file = match &written {
        Ok(()) => format!("the whole trace is in {}", path.display()),
        Err(e) => format!("(could not write the trace to {}: {e})", path.display()),
    };
    if trace.len() <= PRINTED_EVENTS_MAX {
        format!(
            "trace ({} events; {file}):\n{}",
            trace.len(),
            trace.tail(trace.len())
        )
    } else {
        format!(
            "last {TAIL} of {} events of the trace ({file}):\n{}",
            trace.len(),
            trace.tail(TAIL)
        )
    }
}

/// `<temp dir>/detsim-<test>-seed-<seed>.trace`, the test name made file-name safe.
fn trace_path(test: &str, seed: u64) -> PathBuf {
    let safe: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    std::env::temp_dir().join(format!("detsim-{safe}-seed-{seed}.trace"))
}
