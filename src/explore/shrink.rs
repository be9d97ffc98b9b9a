//! Shrinking a failing schedule to a smaller one that fails the same way.
//!
//! The schedule is a list of choices, so it shrinks the way Hypothesis shrinks its choice
//! sequences (MacIver & Donaldson, "Test-case reduction via test-case generation",
//! ECOOP 2020), with delta debugging's halving span sizes (Zeller & Hildebrandt, TSE 2002):
//! 1. delete spans of choices (halving sizes down to 1);
//! 2. zero spans (choice 0 is the oldest runnable task: fewer departures from FIFO);
//! 3. lower single values towards 0;
//! 4. fill the tail of the schedule with one repeated task choice — a multi-choice edit
//!    single-value passes cannot make: with `swap_remove` ready lists, "keep picking
//!    index k" is how a schedule follows a few tasks and ignores bystanders;
//! 5. move one task's poll later or earlier past other tasks' polls (`shrink_moves.rs`):
//!    the task-level edit that takes a failure from 2–3 preemptions to the 1 it needs.
//!
//! The passes repeat until none improves (a fixpoint) or the budget is spent.
//!
//! Each candidate replays *leniently* (out-of-range values clamp, a short schedule pads
//! with zeros) and is accepted if it fails with the same [`Failure::signature`] and is
//! smaller by (injected faults, steps, preemptions, choices, context switches, sum of
//! values), with no more choices than the original. Fault choices are encoded so that 0
//! is benign (no loss, no crash, no extra delay), so zeroing and lowering values removes
//! the faults a failure does not need. The accepted schedule is the one the
//! replay *recorded*, so the result always replays strictly to the same failure.

use super::shrink_moves;
use super::watchdog::{run_guarded, Hung};
use crate::{ChoiceKind, Config, Failure, Outcome, Scenario, Schedule, Sim, TraceMode};
use serde::Serialize;
use std::time::Duration;

/// Size of a schedule and its run, before or after shrinking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Measure {
    /// Scheduling steps (polls) until the failure.
    pub steps: u64,
    /// Recorded choices.
    pub choices: usize,
    /// Context switches: consecutive polls of different tasks.
    pub switches: u64,
    /// Preemptions: switches away from a task that could have run on.
    pub preemptions: u64,
    /// Faults the simulated world injected (lost/delayed messages, crashes, partitions…).
    pub faults: u64,
}

/// The result of [`shrink`].
#[derive(Clone, Debug, Serialize)]
pub struct Shrunk {
    /// The smallest failing schedule found.
    pub schedule: Schedule,
    /// Its failure (same signature as the original).
    pub failure: Failure,
    /// The original's measure.
    pub before: Measure,
    /// The result's measure.
    pub after: Measure,
    /// Replays tried.
    pub attempts: usize,
    /// True if a candidate ran past the watchdog: shrinking stopped there (each hung
    /// replay keeps a thread busy), with the smallest schedule found before it.
    pub stopped_by_hang: bool,
}

/// The schedule given to [`shrink`] does not fail.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the schedule to shrink does not fail (it passed when replayed): nothing to shrink")]
pub struct NotFailing;

/// Why [`shrink_with_watchdog`] could not shrink.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShrinkError {
    /// The schedule passes.
    #[error(transparent)]
    NotFailing(#[from] NotFailing),
    /// Replaying the schedule hangs: a hang has no end to shrink towards.
    #[error("replaying the schedule to shrink hangs: {0}")]
    Hangs(Hung),
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    faults: u64,
    steps: u64,
    preemptions: u64,
    choices: usize,
    switches: u64,
    total: u128,
}

/// What the shrinker minimises, in this order.
fn key(out: &Outcome<()>) -> Key {
    let s = &out.schedule;
    Key {
        faults: out.stats.faults,
        steps: out.stats.steps,
        preemptions: out.stats.preemptions,
        choices: s.len(),
        switches: out.stats.switches,
        total: s.choices.iter().map(|c| c.value as u128).sum(),
    }
}

struct Shrinker<'a> {
    scenario: &'a Scenario,
    watchdog: Option<Duration>,
    hung: bool,
    config: Config,
    signature: String,
    best: Schedule,
    best_key: Key,
    original_choices: usize,
    attempts: usize,
    budget: usize,
}

impl Shrinker<'_> {
    /// Replays `candidate`; keeps it if it fails the same way and is smaller.
    fn try_candidate(&mut self, candidate: Schedule) -> bool {
        if self.attempts >= self.budget || self.hung {
            return false;
        }
        self.attempts += 1;
        let Ok(out) = replay_guarded(self.scenario, &self.config, candidate, self.watchdog) else {
            self.hung = true;
            return false;
        };
        let same = out
            .failure()
            .is_some_and(|f| f.signature() == self.signature);
        let k = key(&out);
        // Smaller by the key, and never more choices than the original: a shorter run
        // that needs more recorded choices (timers, workers) is not a smaller schedule
        // to a reader.
        if same && k < self.best_key && k.choices <= self.original_choices {
            self.best = out.schedule.into();
            self.best_key = k;
            return true;
        }
        false
    }

    fn delete_spans(&mut self) -> bool {
        let mut improved = false;
        let mut size = (self.best.len() / 2).max(1);
        loop {
            let mut start = 0;
            while start < self.best.len() {
                let mut c = self.best.clone();
                let end = (start + size).min(c.len());
                c.choices.drain(start..end);
                if self.try_candidate(c) {
                    improved = true;
                } else {
                    start += size;
                }
            }
            if size == 1 || self.attempts >= self.budget {
                return improved;
            }
            size /= 2;
        }
    }

    fn zero_spans(&mut self) -> bool {
        let mut improved = false;
        let mut size = (self.best.len() / 2).max(1);
        loop {
            // An accepted candidate may be shorter (its replay made fewer choices), so
            // the bound is re-read on every iteration.
            let mut start = 0;
            while start < self.best.len() {
                let mut c = self.best.clone();
                let end = (start + size).min(c.len());
                if c.choices[start..end].iter().any(|x| x.value != 0) {
                    c.choices[start..end].iter_mut().for_each(|x| x.value = 0);
                    improved |= self.try_candidate(c);
                }
                start += size;
            }
            if size == 1 || self.attempts >= self.budget {
                return improved;
            }
            size /= 2;
        }
    }

    fn fill_tails(&mut self) -> bool {
        let mut values: Vec<u64> = self
            .best
            .choices
            .iter()
            .filter(|c| c.kind == ChoiceKind::Task)
            .map(|c| c.value)
            .collect();
        values.sort_unstable();
        values.dedup();
        let mut improved = false;
        for from in 0..self.best.len() {
            for &v in &values {
                let mut c = self.best.clone();
                let tail = c
                    .choices
                    .iter_mut()
                    .skip(from)
                    .filter(|x| x.kind == ChoiceKind::Task);
                tail.for_each(|x| x.value = v.min(x.n.saturating_sub(1) as u64));
                if c != self.best {
                    improved |= self.try_candidate(c);
                }
            }
        }
        improved
    }

    /// Pass 5: one poll moved past other tasks' polls, nearest moves first; restarts
    /// from the new order after every improvement.
    fn move_polls(&mut self) -> bool {
        let mut improved = false;
        'orders: loop {
            let order =
                shrink_moves::poll_order(self.scenario, &self.config, &self.best, self.watchdog);
            let Ok(Some(order)) = order else {
                self.hung |= order.is_err();
                return improved;
            };
            for candidate in shrink_moves::moves(&order) {
                if self.attempts >= self.budget || self.hung {
                    return improved;
                }
                let schedule = shrink_moves::schedule_for(
                    self.scenario,
                    &self.config,
                    candidate,
                    self.watchdog,
                );
                let Ok(schedule) = schedule else {
                    self.hung = true;
                    return improved;
                };
                if schedule != self.best && self.try_candidate(schedule) {
                    improved = true;
                    continue 'orders;
                }
            }
            return improved;
        }
    }

    fn lower_values(&mut self) -> bool {
        let mut improved = false;
        for i in 0..self.best.len() {
            let Some(&c) = self.best.choices.get(i) else {
                break;
            };
            let v = c.value;
            // A raw 64-bit draw only tries 0 and a much smaller value: walking it down
            // one by one would spend the whole budget on a single number.
            let tries = if c.n == 0 {
                [0, v >> 32, v >> 48]
            } else {
                [0, v / 2, v.saturating_sub(1)]
            };
            for lower in tries {
                if lower >= v {
                    continue;
                }
                let mut c = self.best.clone();
                c.choices[i].value = lower;
                if self.try_candidate(c) {
                    improved = true;
                    break;
                }
            }
        }
        improved
    }
}

/// Shrinks `schedule` (which must fail under `config`) within `budget` replays.
///
/// ```
/// use detsim::{Config, Scenario, TraceMode};
/// use detsim::explore::shrink;
/// use std::{cell::Cell, rc::Rc};
/// let racy = Scenario::new("race", "lost update", || async {
///     let n = Rc::new(Cell::new(0));
///     let hs: Vec<_> = (0..3).map(|_| { let n = n.clone(); detsim::spawn(async move {
///         let v = n.get(); detsim::task::yield_now().await; n.set(v + 1);
///     })}).collect();
///     for h in hs { h.await.unwrap(); }
///     assert_eq!(n.get(), 3);
/// });
/// let failing = (0..100).map(|s| racy.run(Config::default().seed(s)))
///     .find(|o| o.failure().is_some()).unwrap();
/// let config = Config::default().seed(failing.seed);
/// let shrunk = shrink(&racy, &config, failing.schedule.clone(), 2000).unwrap();
/// assert!(shrunk.after <= shrunk.before);
/// let replay = racy.replay(config, shrunk.schedule.clone());
/// assert_eq!(replay.failure().unwrap().signature(), shrunk.failure.signature());
/// ```
pub fn shrink(
    scenario: &Scenario,
    config: &Config,
    schedule: impl Into<Schedule>,
    budget: usize,
) -> Result<Shrunk, NotFailing> {
    shrink_with_watchdog(scenario, config, schedule, budget, None).map_err(|e| match e {
        ShrinkError::NotFailing(e) => e,
        ShrinkError::Hangs(_) => unreachable!("no watchdog, no hang"),
    })
}

/// [`shrink`], with every replay under a wall-clock `watchdog`: a schedule that hangs is
/// an error, and a candidate that hangs ends the search ([`Shrunk::stopped_by_hang`]).
pub fn shrink_with_watchdog(
    scenario: &Scenario,
    config: &Config,
    schedule: impl Into<Schedule>,
    budget: usize,
    watchdog: Option<Duration>,
) -> Result<Shrunk, ShrinkError> {
    let config = config.clone().trace(TraceMode::Schedule);
    let first =
        replay_guarded(scenario, &config, schedule.into(), watchdog).map_err(ShrinkError::Hangs)?;
    let failure = first.failure().cloned().ok_or(NotFailing)?;
    let before = measure(&first);
    let mut s = Shrinker {
        scenario,
        watchdog,
        hung: false,
        config: config.clone(),
        signature: failure.signature(),
        best_key: key(&first),
        original_choices: first.schedule.len(),
        best: first.schedule.into(),
        attempts: 0,
        budget,
    };
    while s.attempts < s.budget {
        let improved =
            s.delete_spans() | s.zero_spans() | s.lower_values() | s.fill_tails() | s.move_polls();
        if !improved {
            break;
        }
    }
    // The accepted schedule is one that a replay recorded, so it ends; the watchdog is
    // kept anyway (a program may read the wall clock).
    let (scenario_, config_, best) = (scenario.clone(), config.clone(), s.best.clone());
    let final_run = run_guarded(watchdog, move || scenario_.replay(config_, best))
        .map_err(ShrinkError::Hangs)?;
    Ok(Shrunk {
        failure: final_run.failure().cloned().unwrap_or(failure),
        after: measure(&final_run),
        schedule: s.best,
        before,
        attempts: s.attempts,
        stopped_by_hang: s.hung,
    })
}

/// A lenient replay of `schedule` under the watchdog.
fn replay_guarded(
    scenario: &Scenario,
    config: &Config,
    schedule: Schedule,
    watchdog: Option<Duration>,
) -> Result<Outcome<()>, Hung> {
    let (scenario, config) = (scenario.clone(), config.clone());
    run_guarded(watchdog, move || {
        scenario.run_sim(Sim::new(config).replay_lenient(schedule))
    })
}

/// Steps, choices and context switches of a run.
pub fn measure(out: &Outcome<()>) -> Measure {
    Measure {
        steps: out.stats.steps,
        choices: out.schedule.len(),
        switches: out.stats.switches,
        preemptions: out.stats.preemptions,
        faults: out.stats.faults,
    }
}
