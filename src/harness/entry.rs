//! Support for the entry-point attributes `#[detsim::test]` and `#[detsim::main]` (and
//! the tokio facade's `#[tokio::test]` / `#[tokio::main]`), which expand to calls here.
//!
//! `#[detsim::test(seeds = 1000, strategy = "pct:3", workers = 4, jobs = 2, start = 0)]`
//! on an `async fn` makes a `#[test]` that runs the body as a campaign with [`check`]:
//! the environment overrides (`DETSIM_SEED`, `DETSIM_SEEDS`, `DETSIM_STRATEGY`,
//! `DETSIM_JOBS`, `DETSIM_WORKERS`) apply, a failure panics with the replay line, and the
//! test's seeds file `seeds/<test path>.seeds` (`::` written `.`) in the crate is replayed first and gets
//! new failing seeds appended. The body may return `()` or a `Result` (an `Err` fails
//! the run, like a panic).
//!
//! [`check`]: crate::check

use crate::explore::StrategySpec;
use crate::{env, Config, Scenario};
use std::fmt::Debug;
use std::future::Future;

/// Gives the body's future the declared return type (helps inference of `?`).
pub fn body<R, F: Future<Output = R>>(future: F) -> F {
    future
}

/// What a test or main body may return: `()`, or a `Result` whose `Err` fails the run.
pub trait TestReturn {
    /// Panics (failing the run) if `self` is an error.
    fn finish(self);
}

impl TestReturn for () {
    fn finish(self) {}
}

impl<T, E: Debug> TestReturn for Result<T, E> {
    #[track_caller]
    fn finish(self) {
        if let Err(e) = self {
            panic!("the body returned an error: {e:?}");
        }
    }
}

/// The `cargo test` name of a test from its `module_path!()` and function name (the
/// crate's name, the first segment, is not part of it).
pub fn test_name(module_path: &str, function: &str) -> String {
    match module_path.split_once("::") {
        Some((_, inner)) => format!("{inner}::{function}"),
        None => function.to_string(),
    }
}

/// Parses an attribute's `strategy = "..."`; a bad token panics naming it.
#[track_caller]
pub fn strategy(token: &str) -> StrategySpec {
    token
        .parse()
        .unwrap_or_else(|e| panic!("#[detsim::test]: bad strategy {token:?}: {e}"))
}

/// `#[detsim::main]`: one run of `program` with seed `DETSIM_SEED` (default 0), strategy
/// `DETSIM_STRATEGY` (default random) and `DETSIM_WORKERS`. On failure it prints the
/// failure, the end of the trace and the line that replays it, and exits with status 1.
pub fn run_main<F, Fut>(config: Config, program: F)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let settings = main_settings(config).unwrap_or_else(|e| {
        eprintln!("detsim: bad environment: {e}");
        std::process::exit(2);
    });
    let (config, strategy) = settings;
    let seed = config.seed;
    let scenario = Scenario::new("main", "#[detsim::main]", program);
    let out = crate::explore::run_one(&scenario, config, &strategy);
    if let Some(failure) = out.failure() {
        eprintln!(
            "detsim: seed {seed} failed (strategy {strategy}):\n  {failure}\n\
             last events of the trace:\n{}\nreplay with:\n  {}={seed} {}={strategy} cargo run",
            out.trace.tail(25),
            env::SEED,
            env::STRATEGY
        );
        std::process::exit(1);
    }
}

fn main_settings(config: Config) -> Result<(Config, StrategySpec), String> {
    let mut config = config.seed(env::parse(env::SEED)?.unwrap_or(0));
    if let Some(w) = env::parse::<usize>(env::WORKERS)? {
        config = config.workers(w);
    }
    let strategy = env::parse(env::STRATEGY)?.unwrap_or_default();
    Ok((config.trace(crate::TraceMode::Full), strategy))
}
