//! The determinism check: does a seed give the same run twice, and on another thread?
//!
//! Compares whole-trace fingerprints — every scheduling and event decision, not only
//! random draws — so a leak that changes control flow without changing any draw (a
//! `HashMap` iteration order, a read of `std::time`, an unbiased `futures::select!`) is
//! still caught. On a mismatch it re-runs the seed with full traces *the way the mismatch
//! happened* (twice on this thread, or here and on a fresh thread) and names the first
//! differing event and the task whose poll produced it. If twenty such re-runs all agree,
//! it says so rather than inventing a difference: the leak then depends on timing or on
//! the thread, not on anything the re-runs reproduce.

use super::isolate::{child_output, run_child, Isolate};
use super::{run_one, StrategySpec};
use crate::{Config, Outcome, Scenario, TraceMode};
use serde::Serialize;
use std::fmt;
use std::ops::{Bound, RangeBounds};
use std::time::Duration;

/// Re-runs tried to reproduce a fingerprint mismatch with full traces.
const EXPLAIN_ATTEMPTS: usize = 20;

/// Sources of nondeterminism a program's own code can read, most common first in async
/// code. Named when two runs made the same choices but a task's poll did something else.
const LIKELY_CAUSES: &str = "an unbiased `futures::select!` or `stream_select!` (they \
draw from futures' own thread-local RNG, which the seed does not control: use \
`select_biased!`), `HashMap`/`HashSet` iteration order, `std::time`, `rand::thread_rng`, \
or state kept across runs (statics, thread-locals)";

/// Two runs of one seed that should be identical but are not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct Nondeterminism {
    /// The seed.
    pub seed: u64,
    /// Which runs differed (`"two runs on one thread"` or `"runs on two threads"`).
    pub between: String,
    /// The two fingerprints the check saw.
    pub fingerprints: (u64, u64),
    /// The first differing event of full-trace re-runs; `None` if the difference did not
    /// recur in any of them.
    pub difference: Option<TraceDifference>,
}

/// Where two full traces of one seed part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceDifference {
    /// Index of the first differing trace event.
    pub event: usize,
    /// That event in the first run.
    pub first: String,
    /// That event in the second run.
    pub second: String,
    /// The task whose poll (or spawn) produced the first run's event, as
    /// `t1 "name" (spawned at file:line:col)`, if the event has one.
    pub task: Option<String>,
}

impl fmt::Display for Nondeterminism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b) = self.fingerprints;
        write!(
            f,
            "nondeterminism in seed {} ({}): fingerprints {a:016x} and {b:016x}",
            self.seed, self.between
        )?;
        match &self.difference {
            Some(d) => {
                write!(
                    f,
                    "; first difference at trace event {}:\n  first:  {}\n  second: {}",
                    d.event, d.first, d.second
                )?;
                if let Some(task) = &d.task {
                    write!(f, "\n  in task {task}")?;
                }
                write!(
                    f,
                    "\n  the task's own code read something the seed does not control; likely: {LIKELY_CAUSES}"
                )
            }
            None => write!(
                f,
                ".\n  The difference did not recur: {EXPLAIN_ATTEMPTS} re-runs with full traces, \
                 done the same way ({}), all matched each other. The program leaks something \
                 that changes only sometimes: the wall clock or timing (`std::time`, real \
                 sleeps), which OS thread runs it (thread ids, thread-locals), or state shared \
                 with other runs (statics, a real RNG, an unbiased `futures::select!`). Re-run \
                 the check with more seeds to catch it again.",
                self.between
            ),
        }
    }
}

/// Runs each seed of `seeds` twice on this thread and once on another; `Ok(n)` is the
/// number of seeds checked.
///
/// ```
/// use detsim::{Config, Scenario};
/// use detsim::explore::{check_determinism, StrategySpec};
/// let s = Scenario::new("ok", "", || async { detsim::task::yield_now().await });
/// assert_eq!(check_determinism(&s, &Config::default(), &StrategySpec::Random, 0..10), Ok(10));
/// assert_eq!(check_determinism(&s, &Config::default(), &StrategySpec::Random, u64::MAX..), Ok(1));
/// ```
pub fn check_determinism(
    scenario: &Scenario,
    config: &Config,
    spec: &StrategySpec,
    seeds: impl RangeBounds<u64>,
) -> Result<u64, Box<Nondeterminism>> {
    let Some((first, last)) = inclusive(&seeds) else {
        return Ok(0);
    };
    let off = config.clone().trace(TraceMode::Off);
    let other = {
        let (scenario, off, spec) = (scenario.clone(), off.clone(), *spec);
        // The check itself runs a copy on another OS thread (each run stays on one).
        std::thread::spawn(move || {
            (first..=last)
                .map(|s| run_one(&scenario, off.clone().seed(s), &spec).fingerprint)
                .collect::<Vec<_>>()
        })
    };
    let mut checked = 0;
    for seed in first..=last {
        let a = run_one(scenario, off.clone().seed(seed), spec).fingerprint;
        let b = run_one(scenario, off.clone().seed(seed), spec).fingerprint;
        if a != b {
            let how = How::OneThread;
            return Err(explain(scenario, config, spec, seed, how, (a, b)));
        }
        checked += 1;
    }
    let theirs = other.join().unwrap_or_default();
    for (seed, theirs) in (first..=last).zip(theirs) {
        let ours = run_one(scenario, off.clone().seed(seed), spec).fingerprint;
        if ours != theirs {
            let how = How::TwoThreads;
            return Err(explain(scenario, config, spec, seed, how, (ours, theirs)));
        }
    }
    Ok(checked)
}

/// The first and last seed of `seeds`, or `None` if it is empty.
fn inclusive(seeds: &impl RangeBounds<u64>) -> Option<(u64, u64)> {
    let first = match seeds.start_bound() {
        Bound::Included(&s) => s,
        Bound::Excluded(&s) => s.checked_add(1)?,
        Bound::Unbounded => 0,
    };
    let last = match seeds.end_bound() {
        Bound::Included(&e) => e,
        Bound::Excluded(&e) => e.checked_sub(1)?,
        Bound::Unbounded => u64::MAX,
    };
    (first <= last).then_some((first, last))
}

/// How the two differing runs were made.
#[derive(Clone, Copy, PartialEq, Eq)]
enum How {
    OneThread,
    TwoThreads,
}

impl How {
    fn describe(self) -> &'static str {
        match self {
            How::OneThread => "two runs on one thread",
            How::TwoThreads => "runs on two threads",
        }
    }
}

/// Why [`check_determinism_isolated`] stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IsolatedCheckError {
    /// Two processes ran a seed differently.
    #[error(transparent)]
    Nondeterministic(Box<Nondeterminism>),
    /// A child process crashed, hung past the limit, or could not start.
    #[error("{0}")]
    Child(String),
}

/// [`check_determinism`] with every run in a fresh child process (`iso`, the child
/// protocol of `fuzz --isolate`): each seed runs in two processes and their fingerprints
/// are compared. This is the check for programs that keep process-wide state a run
/// cannot reset — the real tokio seeds each thread's RNG from a process-wide counter,
/// futures' unbiased `select!` too — which the in-process check flags even under the
/// std guards, although every seed runs the same in a fresh process (which is how a
/// failure is replayed). On a mismatch, `trace_iso` (the same child printing its text
/// trace) is run in pairs until two traces part, naming the first differing line.
pub fn check_determinism_isolated(
    iso: &Isolate,
    trace_iso: &Isolate,
    spec: &StrategySpec,
    workers: usize,
    seeds: impl RangeBounds<u64>,
    limit: Option<Duration>,
) -> Result<u64, IsolatedCheckError> {
    let Some((first, last)) = inclusive(&seeds) else {
        return Ok(0);
    };
    let child = |seed| {
        run_child(iso, seed, spec, workers, limit)
            .map(|s| s.fingerprint.0)
            .map_err(|(_, message)| IsolatedCheckError::Child(message))
    };
    let mut checked = 0;
    for seed in first..=last {
        let (a, b) = (child(seed)?, child(seed)?);
        if a != b {
            let difference = explain_isolated(trace_iso, spec, workers, seed, limit);
            return Err(IsolatedCheckError::Nondeterministic(Box::new(
                Nondeterminism {
                    seed,
                    between: "runs in two fresh processes".to_string(),
                    fingerprints: (a, b),
                    difference,
                },
            )));
        }
        checked += 1;
    }
    Ok(checked)
}

/// Runs `seed`'s text-trace child in pairs until two traces part; the first differing
/// line (`None` if no pair differed).
fn explain_isolated(
    trace_iso: &Isolate,
    spec: &StrategySpec,
    workers: usize,
    seed: u64,
    limit: Option<Duration>,
) -> Option<TraceDifference> {
    let trace = || {
        child_output(trace_iso, seed, spec, workers, limit)
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    // The header line carries the fingerprint, which differs by definition.
    let body = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.starts_with("# detsim trace"))
            .map(str::to_string)
            .collect()
    };
    (0..EXPLAIN_ATTEMPTS).find_map(|_| {
        let (a, b) = (body(&trace()?), body(&trace()?));
        let at = a.iter().zip(&b).position(|(x, y)| x != y)?;
        Some(TraceDifference {
            // Events are the lines that are not `#` comments (the task table).
            event: a[..at].iter().filter(|l| !l.starts_with('#')).count(),
            first: a[at].trim().to_string(),
            second: b[at].trim().to_string(),
            task: None,
        })
    })
}

/// Re-runs `seed` with full traces, made the way the mismatch was, until two runs differ,
/// and names the first difference (or says that it did not recur).
fn explain(
    scenario: &Scenario,
    config: &Config,
    spec: &StrategySpec,
    seed: u64,
    how: How,
    fingerprints: (u64, u64),
) -> Box<Nondeterminism> {
    let full = config.clone().seed(seed).trace(TraceMode::Full);
    let mut difference = None;
    for _ in 0..EXPLAIN_ATTEMPTS {
        let first: Outcome<()> = run_one(scenario, full.clone(), spec);
        let second = match how {
            How::OneThread => run_one(scenario, full.clone(), spec),
            How::TwoThreads => match on_fresh_thread(scenario, &full, spec) {
                Some(second) => second,
                None => continue,
            },
        };
        difference = first_difference(&first, &second);
        if difference.is_some() {
            break;
        }
    }
    Box::new(Nondeterminism {
        seed,
        between: how.describe().to_string(),
        fingerprints,
        difference,
    })
}

/// One full-trace run on a new OS thread; `None` if the thread could not run it.
fn on_fresh_thread(scenario: &Scenario, full: &Config, spec: &StrategySpec) -> Option<Outcome<()>> {
    let (scenario, full, spec) = (scenario.clone(), full.clone(), *spec);
    // `Outcome<()>` holds only owned data, so it can come back from the thread.
    std::thread::spawn(move || run_one(&scenario, full, &spec))
        .join()
        .ok()
}

/// Where two full traces part, naming the task of the first run's event.
fn first_difference(a: &Outcome<()>, b: &Outcome<()>) -> Option<TraceDifference> {
    let (event, first, second) = a.trace.first_difference(&b.trace)?;
    let task = a
        .trace
        .event(event)
        .and_then(|e| e.task)
        .and_then(|t| a.trace.tasks.get(t as usize))
        .map(|t| format!("t{} \"{}\" (spawned at {})", t.id, t.name, t.spawned_at));
    Some(TraceDifference {
        event,
        first,
        second,
        task,
    })
}
