//! The strategy of one DFS run: replay a plan's prefix, check that the program still
//! offers the same picks there (rule 7), then extend the path with the first option each
//! new pick allows (rules 2 and 4), recording every pick.

use super::node::{Key, Node, Split};
use super::search::{branches, Branch};
use crate::choice::StrategyRng;
use crate::strategy::{Candidates, Strategy};
use std::cell::RefCell;
use std::rc::Rc;

/// What one run did: the plans it branches into, and whether it still matched its plan.
#[derive(Debug)]
pub(crate) struct RunRecord {
    /// The untried options of the run's new picks (none if it left its plan).
    pub(super) branches: Vec<(Key, Branch)>,
    pub(super) mismatch: Option<Mismatch>,
    /// False if the run ended still split among shards and belongs to another (rule 9).
    pub(super) counted: bool,
}

/// How a run left its plan (rule 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mismatch {
    /// A replayed pick offered other candidates, or another previous task.
    Pick {
        pick: usize,
        recorded: (usize, Option<usize>),
        seen: (usize, Option<usize>),
    },
    /// The run ended inside the replayed prefix.
    Ended { picks: usize, replayed: usize },
}

impl Mismatch {
    /// The explanation, for the run numbered `run` (1-based) in depth-first order.
    pub(super) fn explain(self, run: u64) -> String {
        match self {
            Mismatch::Pick {
                pick,
                recorded,
                seen,
            } => format!(
                "run {run}, task pick {pick}: the earlier run had {} candidates (previous task \
                 at {:?}) here, this one {} (previous task at {:?}); the program does not \
                 behave the same under the same seed and task picks",
                recorded.0, recorded.1, seen.0, seen.1
            ),
            Mismatch::Ended { picks, replayed } => format!(
                "run {run}: ended after {picks} task picks, inside the {replayed} replayed \
                 ones; the program does not behave the same under the same seed and task picks"
            ),
        }
    }
}

/// The state of one run in progress.
#[derive(Debug)]
pub(super) struct RunState {
    bound: u32,
    path: Vec<Node>,
    replayed: usize,
    pos: usize,
    preemptions: u32,
    split: Split,
    mismatch: Option<Mismatch>,
    // Set once the record was taken: later picks (a stale strategy) touch nothing.
    taken: bool,
}

impl RunState {
    pub(super) fn new(bound: u32, shard: Split, prefix: Vec<Node>) -> Self {
        RunState {
            bound,
            replayed: prefix.len(),
            path: prefix,
            pos: 0,
            preemptions: 0,
            split: shard,
            mismatch: None,
            taken: false,
        }
    }

    /// The candidate index to take among `options`, `last` the previous task's.
    pub(super) fn pick(&mut self, options: usize, last: Option<usize>) -> usize {
        if self.mismatch.is_some() || self.taken {
            return last.unwrap_or(0); // any valid index: this run no longer counts
        }
        let node = if self.pos < self.replayed {
            let node = self.path[self.pos];
            if (node.options, node.last) != (options, last) {
                self.mismatch = Some(Mismatch::Pick {
                    pick: self.pos,
                    recorded: (node.options, node.last),
                    seen: (options, last),
                });
                return last.unwrap_or(0);
            }
            node
        } else {
            self.fresh(options, last)
        };
        self.pos += 1;
        self.split = node.split_below();
        if node.is_preemption() {
            self.preemptions += 1;
        }
        node.taken()
    }

    /// A new node taking the first allowed option this shard owns (rules 2, 4, 9).
    fn fresh(&mut self, options: usize, last: Option<usize>) -> Node {
        let mut node = Node {
            split: self.split,
            options,
            last,
            may_preempt: self.preemptions < self.bound,
            tried: 0,
        };
        // Every split owns an option of every node (rule 9).
        node.tried = node.owned_from(0).unwrap_or(0);
        self.path.push(node);
        node
    }

    /// Ends the run: what it did.
    pub(super) fn take_record(&mut self) -> RunRecord {
        self.taken = true;
        if self.mismatch.is_none() && self.pos < self.replayed {
            self.mismatch = Some(Mismatch::Ended {
                picks: self.pos,
                replayed: self.replayed,
            });
        }
        let branches = match self.mismatch {
            None => branches(std::mem::take(&mut self.path), self.replayed),
            Some(_) => Vec::new(),
        };
        RunRecord {
            branches,
            mismatch: self.mismatch,
            counted: self.mismatch.is_none() && self.split.index == 0,
        }
    }
}

/// The [`Strategy`] of one DFS run, sharing its [`RunState`] with whoever takes the
/// record after the run.
#[derive(Debug)]
pub(super) struct DfsRun {
    pub(super) state: Rc<RefCell<RunState>>,
}

impl Strategy for DfsRun {
    fn pick(&mut self, candidates: &Candidates<'_>, _rng: &mut StrategyRng) -> usize {
        let i = self
            .state
            .borrow_mut()
            .pick(candidates.len(), candidates.last());
        debug_assert!(i < candidates.len());
        i
    }
}
