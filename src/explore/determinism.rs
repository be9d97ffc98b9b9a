//! The determinism check: does a seed give the same run twice, and on another thread?
//!
//! Compares whole-trace fingerprints — every scheduling and event decision, not only
//! random draws — so a leak that changes control flow without changing any draw (a
//! `HashMap` iteration order, a read of `std::time`) is still caught. On a mismatch it
//! re-runs with full traces and names the first differing event.

use super::{run_one, StrategySpec};
use crate::{Config, Outcome, Scenario, TraceMode};
use serde::Serialize;

/// Two runs of one seed that should be identical but are not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("nondeterminism in seed {seed} ({between}): first difference at trace event {event}:\n  first:  {first}\n  second: {second}")]
pub struct Nondeterminism {
    /// The seed.
    pub seed: u64,
    /// Which runs differed (`"two runs on one thread"` or `"runs on two threads"`).
    pub between: String,
    /// Index of the first differing trace event.
    pub event: usize,
    /// That event in the first run.
    pub first: String,
    /// That event in the second run.
    pub second: String,
}

/// Runs each seed of `seeds` twice on this thread and once on another; `Ok(n)` is the
/// number of seeds checked.
///
/// ```
/// use detsim::{Config, Scenario};
/// use detsim::explore::{check_determinism, StrategySpec};
/// let s = Scenario::new("ok", "", || async { detsim::task::yield_now().await });
/// assert_eq!(check_determinism(&s, &Config::default(), &StrategySpec::Random, 0..10), Ok(10));
/// ```
pub fn check_determinism(
    scenario: &Scenario,
    config: &Config,
    spec: &StrategySpec,
    seeds: std::ops::Range<u64>,
) -> Result<u64, Box<Nondeterminism>> {
    let off = config.clone().trace(TraceMode::Off);
    let other = {
        let (scenario, off, spec, seeds) = (scenario.clone(), off.clone(), *spec, seeds.clone());
        // The check itself runs a copy on another OS thread (each run stays on one).
        std::thread::spawn(move || {
            seeds
                .map(|s| run_one(&scenario, off.clone().seed(s), &spec).fingerprint)
                .collect::<Vec<_>>()
        })
    };
    let mut checked = 0;
    for seed in seeds.clone() {
        let a = run_one(scenario, off.clone().seed(seed), spec).fingerprint;
        let b = run_one(scenario, off.clone().seed(seed), spec).fingerprint;
        if a != b {
            return Err(explain(
                scenario,
                config,
                spec,
                seed,
                "two runs on one thread",
            ));
        }
        checked += 1;
    }
    let theirs = other.join().unwrap_or_default();
    for (seed, theirs) in seeds.zip(theirs) {
        let ours = run_one(scenario, off.clone().seed(seed), spec).fingerprint;
        if ours != theirs {
            return Err(explain(scenario, config, spec, seed, "runs on two threads"));
        }
    }
    Ok(checked)
}

/// Re-runs `seed` with full traces until two runs differ, and names the first difference.
fn explain(
    scenario: &Scenario,
    config: &Config,
    spec: &StrategySpec,
    seed: u64,
    between: &str,
) -> Box<Nondeterminism> {
    let full = config.clone().seed(seed).trace(TraceMode::Full);
    let first: Outcome<()> = run_one(scenario, full.clone(), spec);
    for _ in 0..20 {
        let second = run_one(scenario, full.clone(), spec);
        if let Some((event, a, b)) = first.trace.first_difference(&second.trace) {
            return Box::new(Nondeterminism {
                seed,
                between: between.to_string(),
                event,
                first: a,
                second: b,
            });
        }
    }
    Box::new(Nondeterminism {
        seed,
        between: between.to_string(),
        event: 0,
        first: format!(
            "fingerprint differed, but 20 full-trace re-runs matched {:016x}",
            first.fingerprint
        ),
        second: "the leak is rare; re-run the check".to_string(),
    })
}
