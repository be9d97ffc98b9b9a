//! The [`Strategy`] trait: how the next task is picked among the candidates.

use crate::choice::Chooser;
use crate::runtime::core::Ready;
use crate::TaskId;
use std::fmt;

/// The runnable tasks a strategy picks from, in a deterministic order.
pub struct Candidates<'a> {
    ready: &'a [Ready],
    // invariant: if set, indices into `ready`, and `len()` is its length.
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
    pub(crate) fn new(ready: &'a [Ready], subset: Option<&'a [u32]>) -> Self {
        Candidates {
            ready,
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
        self.subset.map_or(self.ready.len(), <[u32]>::len)
    }

    /// Never true: a strategy is only asked when there is a choice.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The task of candidate `i`.
    pub fn task(&self, i: usize) -> TaskId {
        let index = self.subset.map_or(i, |s| s[i] as usize);
        TaskId(self.ready[index].task)
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
/// choice, so a strategy never needs to record anything itself, and a run made with any
/// strategy replays from its schedule alone. Strategies draw randomness from the
/// [`Chooser`] (`draw_below` for the main stream, `aux_u64` for their private stream).
pub trait Strategy: fmt::Debug {
    /// Called for every spawned task, in spawn order.
    fn on_spawn(&mut self, _task: TaskId, _chooser: &mut Chooser) {}

    /// Picks one of `candidates` (which holds at least 2); returns its index.
    fn pick(&mut self, candidates: &Candidates<'_>, chooser: &mut Chooser) -> usize;
}
