//! The shrinker's task-level pass: move one task's poll later or earlier past other
//! tasks' polls.
//!
//! The other passes edit the schedule as numbers (indices into ready lists), so they
//! cannot express "let task A run its next poll after B's instead of before": that edit
//! changes every later index. Here the schedule is first read back as the sequence of
//! polled tasks (one full-trace replay), one poll is moved by up to [`WINDOW`]
//! positions, and the new order is turned back into a schedule by running the program
//! under [`FollowOrder`], a strategy that polls the wanted task when it can and
//! otherwise keeps the last task running (never a gratuitous preemption). The shrinker
//! accepts the recorded schedule only if its replay fails the same way and is smaller
//! — at equal length, fewer preemptions — so a local minimum of the numeric passes with
//! 2 or 3 preemptions moves on to 1 when 1 is enough.
//!
//! The re-run draws the other choice kinds (worker, timer order, faults) afresh from the
//! seed instead of keeping the original's; a candidate whose failure changes with them
//! is simply rejected, so the pass is sound for any schedule, and most effective where
//! the failure depends on task order alone.

use super::strategy::{Candidates, Strategy};
use super::watchdog::{run_guarded, Hung};
use crate::choice::StrategyRng;
use crate::trace::EventKind;
use crate::{Config, Scenario, Schedule, Sim, TraceMode};
use std::time::Duration;

/// How far (in polls) a poll is moved, each way.
pub(super) const WINDOW: usize = 12;

/// Longest poll sequence the pass reorders: it tries up to `2 · WINDOW` moves per poll.
pub(super) const MAX_POLLS: usize = 400;

/// The task polled at each step of `schedule`'s lenient replay, or `None` if it is too
/// long to reorder.
pub(super) fn poll_order(
    scenario: &Scenario,
    config: &Config,
    schedule: &Schedule,
    watchdog: Option<Duration>,
) -> Result<Option<Vec<u32>>, Hung> {
    let (scenario, schedule) = (scenario.clone(), schedule.clone());
    let config = config.clone().trace(TraceMode::Full);
    let out = run_guarded(watchdog, move || {
        scenario.run_sim(Sim::new(config).replay_lenient(schedule))
    })?;
    let order: Vec<u32> = out
        .trace
        .events()
        .filter(|e| e.kind == EventKind::Poll)
        .filter_map(|e| e.task)
        .collect();
    Ok((order.len() <= MAX_POLLS).then_some(order))
}

/// Every order that moves one run of consecutive polls of a task past 1 to [`WINDOW`]
/// runs of other tasks, either way (merging runs is what removes preemptions), then
/// every order that moves one poll by 1 to [`WINDOW`] places past other tasks' polls,
/// nearest moves first.
pub(super) fn moves(order: &[u32]) -> Vec<Vec<u32>> {
    let mut out = run_moves(order);
    out.extend(poll_moves(order));
    out
}

/// The maximal runs of equal tasks in `order`, as `start..end` ranges.
fn runs(order: &[u32]) -> Vec<std::ops::Range<usize>> {
    let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, &t) in order.iter().enumerate() {
        match runs.last_mut() {
            Some(r) if order[r.start] == t => r.end = i + 1,
            _ => runs.push(i..i + 1),
        }
    }
    runs
}

fn run_moves(order: &[u32]) -> Vec<Vec<u32>> {
    let runs = runs(order);
    let mut out = Vec::new();
    for distance in 1..=WINDOW {
        for (i, run) in runs.iter().enumerate() {
            let block = &order[run.clone()];
            // Later: after run i + distance. Earlier: before run i − distance.
            if let Some(after) = runs.get(i + distance) {
                let mut o = Vec::with_capacity(order.len());
                o.extend_from_slice(&order[..run.start]);
                o.extend_from_slice(&order[run.end..after.end]);
                o.extend_from_slice(block);
                o.extend_from_slice(&order[after.end..]);
                out.push(o);
            }
            if let Some(before) = i.checked_sub(distance).map(|j| &runs[j]) {
                let mut o = Vec::with_capacity(order.len());
                o.extend_from_slice(&order[..before.start]);
                o.extend_from_slice(block);
                o.extend_from_slice(&order[before.start..run.start]);
                o.extend_from_slice(&order[run.end..]);
                out.push(o);
            }
        }
    }
    out
}

fn poll_moves(order: &[u32]) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    for distance in 1..=WINDOW {
        for from in 0..order.len() {
            for to in [from.checked_sub(distance), Some(from + distance)] {
                let Some(to) = to.filter(|&t| t < order.len()) else {
                    continue;
                };
                if order[to] == order[from] {
                    continue; // moving past its own poll changes nothing
                }
                let mut o = order.to_vec();
                let task = o.remove(from);
                o.insert(to, task);
                out.push(o);
            }
        }
    }
    out
}

/// The schedule a run records when it follows `order` (see [`FollowOrder`]).
pub(super) fn schedule_for(
    scenario: &Scenario,
    config: &Config,
    order: Vec<u32>,
    watchdog: Option<Duration>,
) -> Result<Schedule, Hung> {
    let (scenario, config) = (scenario.clone(), config.clone().trace(TraceMode::Schedule));
    run_guarded(watchdog, move || {
        scenario
            .run_with(config, Box::new(FollowOrder { order }))
            .schedule
            .into_schedule()
    })
}

/// Polls the tasks in a wanted order: at step `s` the task `order[s]` if it is runnable;
/// otherwise the task polled last if it can run on (no preemption), else the first
/// candidate.
#[derive(Debug)]
pub(super) struct FollowOrder {
    order: Vec<u32>,
}

impl Strategy for FollowOrder {
    fn pick(&mut self, candidates: &Candidates<'_>, _rng: &mut StrategyRng) -> usize {
        let wanted = usize::try_from(candidates.step())
            .ok()
            .and_then(|s| self.order.get(s).copied());
        let runnable = |t: u32| (0..candidates.len()).find(|&i| candidates.task(i).as_u32() == t);
        wanted
            .and_then(runnable)
            .or_else(|| candidates.last())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_moves_merge_a_task_s_runs() {
        // 1 is preempted by 2 and resumes: moving its second run before 2's merges them.
        let order = [1, 2, 2, 1, 3];
        let all = moves(&order);
        assert!(all.contains(&vec![1, 1, 2, 2, 3]), "{all:?}");
        assert!(all.contains(&vec![2, 2, 1, 1, 3]), "{all:?}");
        assert_eq!(runs(&order), vec![0..1, 1..3, 3..4, 4..5]);
    }

    #[test]
    fn moves_shift_one_poll_past_other_tasks_only() {
        let order = [1, 1, 2];
        let all = moves(&order);
        assert!(all.contains(&vec![1, 2, 1]), "{all:?}");
        assert!(all.contains(&vec![2, 1, 1]), "{all:?}");
        assert!(all.iter().all(|o| o.len() == 3 && o != &order.to_vec()));
        assert!(!all.contains(&order.to_vec()));
    }
}
