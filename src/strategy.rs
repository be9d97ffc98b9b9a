//! The scheduler's side of the choice point: the [`Strategy`] trait, the [`Candidates`] it
//! picks from, and the default strategy [`Random`].
//!
//! This sits next to `choice.rs`, below the runtime: the runtime asks a strategy for each
//! `Task` choice and records the answer through the run's `Chooser`; a strategy itself
//! sees only a [`StrategyRng`] (draws, no recording); `explore/` implements
//! more strategies (PCT, DFS) on top of this trait and re-exports it
//! (`detsim::explore::Strategy`). Nothing here knows the runtime's types: candidates are
//! task ids.

use crate::choice::StrategyRng;
use crate::task_id::TaskId;
use std::fmt;

/// A ready task as the runtime queues it: the id a strategy sees, and what only the
/// runtime reads (where the task is queued, and a thin pointer to its future). One
/// 16-byte entry per ready task, so that a pick and a requeue move one entry, not one
/// per parallel vector; defined here, below the runtime, because [`Candidates`] lends
/// strategies a slice of them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Queued {
    // invariant (runtime): the future of task `task`'s `TaskBox`, as a `FutPtr`.
    pub(crate) future: std::ptr::NonNull<()>,
    pub(crate) task: u32,
    // invariant (runtime): `NO_HOME` or a worker index < workers.
    pub(crate) home: u16,
    // invariant (runtime): if set, `home` is busy burning for this task and only
    // `home` may run it.
    pub(crate) pinned: bool,
}

impl Queued {
    /// Entries for these ids (tests of strategies; their futures are dangling).
    #[cfg(test)]
    pub(crate) fn ids(ids: &[u32]) -> Vec<Queued> {
        ids.iter()
            .map(|&task| Queued {
                future: std::ptr::NonNull::dangling(),
                task,
                home: u16::MAX,
                pinned: false,
            })
            .collect()
    }
}

/// The runnable tasks a strategy picks from, in a deterministic order.
pub struct Candidates<'a> {
    /// The whole ready list, in its order.
    tasks: &'a [Queued],
    // invariant: if set, indices into `tasks`, and `len()` is its length.
    subset: Option<&'a [u32]>,
    last: Option<u32>,
    step: u64,
}

impl fmt::Debug for Candidates<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries((0..self.len()).map(|i| self.task(i)))
            .finish()
    }
}

impl<'a> Candidates<'a> {
    /// All of `tasks`, or only the entries at the indices in `subset`.
    pub(crate) fn new(tasks: &'a [Queued], subset: Option<&'a [u32]>) -> Self {
        Candidates {
            tasks,
            subset,
            last: None,
            step: 0,
        }
    }

    pub(crate) fn with_context(self, last: Option<u32>, step: u64) -> Self {
        Candidates { last, step, ..self }
    }

    /// The scheduling step about to be taken (number of polls so far in this run).
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Number of candidates (≥ 1).
    pub fn len(&self) -> usize {
        self.subset.map_or(self.tasks.len(), <[u32]>::len)
    }

    /// Never true: a strategy is only asked when there is a choice.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The task of candidate `i`.
    pub fn task(&self, i: usize) -> TaskId {
        let index = self.subset.map_or(i, |s| s[i] as usize);
        TaskId(self.tasks[index].task)
    }

    /// The candidate index of the task polled in the previous step, if it is a candidate
    /// again. Picking another one then is a *preemption* (it was not waiting for anything).
    pub fn last(&self) -> Option<usize> {
        let last = self.last?;
        (0..self.len()).find(|&i| self.task(i).0 == last)
    }
}

/// Picks which runnable task is polled next.
///
/// The runtime records whatever index [`Strategy::pick`] returns as the run's `Task`
/// choice, and that is the only decision a strategy hands out: it draws randomness from a
/// [`StrategyRng`] (`draw_below` for the main stream, `aux_u64` for its private stream),
/// which cannot record a choice, so a run made with any strategy replays from its
/// schedule alone.
///
/// A strategy need not be `Send` (it may share `Rc` state with whoever made it), but it
/// must not hold values bound to their OS thread (lock guards): under the std guards
/// (`crate::guards`) a run may move to a fresh thread while its creator waits.
pub trait Strategy: fmt::Debug {
    /// Called for every spawned task, in spawn order.
    fn on_spawn(&mut self, _task: TaskId, _rng: &mut StrategyRng) {}

    /// Picks one of `candidates` (which holds at least 2); returns its index.
    fn pick(&mut self, candidates: &Candidates<'_>, rng: &mut StrategyRng) -> usize;

    /// A guess of the index [`Strategy::pick`] will return when asked with `n`
    /// candidates, `ahead` picks from now (0: the next pick, 1: the one after). The step
    /// loop uses it only to prefetch that task's memory while the current task runs, so
    /// a wrong guess costs a little time and never changes a run. The default makes no
    /// guess.
    fn hint(&mut self, _n: usize, _ahead: usize, _rng: &mut StrategyRng) -> Option<usize> {
        None
    }

    /// True if this strategy's every pick is exactly `rng.draw_below(candidates.len())`
    /// and its hint `rng.peek_below(n, ahead)` ([`Random`]): the step loop then draws
    /// and guesses itself, without a call through the trait object per step. The same
    /// draws either way, so runs, traces and schedules do not change. The default is
    /// false; only a strategy that is [`Random`] in all but name should say true.
    fn is_uniform(&self) -> bool {
        false
    }
}

/// Picks uniformly at random among the runnable tasks at every step.
///
/// Simple and surprisingly effective for bugs of depth 1 (one bad ordering of two
/// events); PCT is better when the bug needs several specific orderings.
#[derive(Clone, Copy, Debug, Default)]
pub struct Random;

impl Strategy for Random {
    fn pick(&mut self, candidates: &Candidates<'_>, rng: &mut StrategyRng) -> usize {
        rng.draw_below(candidates.len())
    }

    fn hint(&mut self, n: usize, ahead: usize, rng: &mut StrategyRng) -> Option<usize> {
        Some(rng.peek_below(n, ahead))
    }

    fn is_uniform(&self) -> bool {
        true
    }
}
