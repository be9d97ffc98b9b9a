//! [`Dfs`]: systematic, preemption-bounded depth-first exploration of task choices.
//!
//! After CHESS: M. Musuvathi and S. Qadeer, "Iterative Context Bounding for Systematic
//! Testing of Multithreaded Programs", PLDI 2007. Most concurrency bugs need only a few
//! preemptions, and the number of schedules with at most `c` preemptions grows
//! polynomially (not exponentially) with the length of the run, so exploring *all* of
//! them for a small `c` is feasible and gives a guarantee random testing cannot.
//!
//! The algorithm:
//! 1. The explorer keeps the path of the last run: one node per task pick, holding the
//!    number of candidates, the candidate index of the previously polled task (`last`)
//!    and which option was taken.
//! 2. A run replays the taken options of the first `prefix` nodes, then at every new pick
//!    takes the first allowed option and appends a node.
//! 3. A *preemption* is taking an option other than `last` while `last` is set (the task
//!    polled before is runnable again: it did not block). Switching when `last` is unset
//!    is free. Preemptions are counted along the path.
//! 4. Options are tried in this order: `last` first (no preemption), then the others by
//!    index. Once the path has used `bound` preemptions, a node with `last` set allows
//!    only `last`.
//! 5. After a run, backtrack: drop trailing nodes without an untried allowed option and
//!    advance the deepest node that has one; the path up to it is the next prefix. When
//!    no node is left every schedule within the bound was run: the search is complete.
//! 6. Only task picks branch. Every other choice (timers due at the same instant, worker
//!    steals, user randomness) comes from the run's seed, so the caller must make every
//!    run with the same [`crate::Config`]: then the same task picks give the same run.
//! 7. If a replayed node meets another number of candidates or another `last` than it
//!    recorded, or the run ends inside the prefix, the program is not deterministic under
//!    that prefix: the search stops, [`Dfs::nondeterminism`] says where, and
//!    [`Dfs::is_complete`] stays false. No pick panics or indexes out of bounds.
//! 8. At most `max_runs` runs are made ([`Dfs::with_max_runs`]), so a huge tree stops.
//! 9. Sharding ([`Dfs::with_shard`]) splits the tree by prefix: a node carries the split
//!    `(k, n)` of the shards that reach it (the root: this shard of all n). At a node with
//!    m allowed options, if n ≥ m option j belongs to the shards with k mod m = j, which
//!    go on below it as shard k / m of ⌈(n − j) / m⌉; if n < m, option j belongs to shard
//!    j mod n alone, which goes on below it unsplit. A node with one option splits
//!    nothing. A run that ends while still split (n > 1) belongs to the shard with k = 0
//!    only; the others made it but do not count it ([`Dfs::counts_last_run`]). So every
//!    schedule of the unsharded search is run and counted by exactly one shard.
//!
//! Invariant: at the start of a run `path.len() == prefix`; during it, `pos ≤ path.len()`.

use super::strategy::{Candidates, Strategy};
use crate::choice::StrategyRng;
use std::cell::RefCell;
use std::rc::Rc;

/// The default [`Dfs::with_max_runs`] limit.
const DEFAULT_MAX_RUNS: u64 = 1_000_000;

/// One task pick of the current path (rule 1).
#[derive(Clone, Copy, Debug)]
struct Node {
    // The shards that reach this node (rule 9).
    split: Split,
    options: usize,
    last: Option<usize>,
    // Whether the path had preemptions left when this pick was made (rule 4).
    may_preempt: bool,
    // Position in the order of rule 4 of the option taken.
    tried: usize,
}

/// Which of `count` shards (0-based `index`) a search or subtree belongs to (rule 9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Split {
    index: u64,
    count: u64,
}

impl Split {
    const ALL: Split = Split { index: 0, count: 1 };

    /// True if option `j` of `m` belongs to this split's shard.
    fn owns(self, j: usize, m: usize) -> bool {
        let (j, m) = (j as u64, m as u64);
        if self.count >= m {
            self.index % m == j
        } else {
            j % self.count == self.index
        }
    }

    /// The split below option `j` of `m` (owned by this shard).
    fn below(self, j: usize, m: usize) -> Split {
        let (j, m) = (j as u64, m as u64);
        if self.count >= m {
            Split {
                index: self.index / m,
                count: (self.count - j).div_ceil(m),
            }
        } else {
            Split::ALL
        }
    }
}

impl Node {
    /// The first position at or after `from` of the rule-4 order this shard owns.
    fn owned_from(&self, from: usize) -> Option<usize> {
        (from..self.allowed()).find(|&j| self.split.owns(j, self.allowed()))
    }

    /// The split below the option taken.
    fn split_below(&self) -> Split {
        self.split.below(self.tried, self.allowed())
    }

    /// How many options rule 4 allows here.
    fn allowed(&self) -> usize {
        match self.last {
            Some(_) if !self.may_preempt => 1,
            _ => self.options,
        }
    }

    /// The candidate index at position `tried` of the rule-4 order.
    fn taken(&self) -> usize {
        match self.last {
            None => self.tried,
            Some(l) if self.tried == 0 => l,
            // Skip `l`, which came first.
            Some(l) if self.tried <= l => self.tried - 1,
            Some(_) => self.tried,
        }
    }

    fn is_preemption(&self) -> bool {
        self.last.is_some_and(|l| l != self.taken())
    }
}

/// The search state shared by the explorer and the strategy of the current run.
#[derive(Debug)]
struct Tree {
    bound: u32,
    max_runs: u64,
    path: Vec<Node>,
    prefix: usize,
    runs: u64,
    complete: bool,
    nondeterminism: Option<String>,
    // The run in progress (its number), if any.
    current: Option<u64>,
    pos: usize,
    preemptions: u32,
    // The shard of the whole search (rule 9), and the split at `pos` in this run.
    shard: Split,
    split: Split,
    // Runs this shard counts (rule 9); whether the last finished run was one.
    counted: u64,
    last_counted: bool,
}

impl Tree {
    fn pick(&mut self, options: usize, last: Option<usize>) -> usize {
        if self.nondeterminism.is_some() {
            return last.unwrap_or(0); // any valid index: this run no longer counts
        }
        let node = if self.pos < self.prefix {
            match self.replayed(options, last) {
                Some(node) => node,
                None => return last.unwrap_or(0),
            }
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

    /// The recorded node at `pos`, if the run still matches it (rule 7).
    fn replayed(&mut self, options: usize, last: Option<usize>) -> Option<Node> {
        let node = self.path[self.pos];
        if node.options == options && node.last == last {
            return Some(node);
        }
        self.nondeterminism = Some(format!(
            "run {}, task pick {}: the earlier run had {} candidates (previous task at {:?}) \
             here, this one {} (previous task at {:?}); the program does not behave the same \
             under the same seed and task picks",
            self.runs, self.pos, node.options, node.last, options, last
        ));
        None
    }

    /// A new node taking the first allowed option (rules 2 and 4).
    fn fresh(&mut self, options: usize, last: Option<usize>) -> Node {
        debug_assert_eq!(self.pos, self.path.len(), "new nodes are appended");
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

    fn start(&mut self) {
        self.runs += 1;
        self.current = Some(self.runs);
        self.pos = 0;
        self.preemptions = 0;
        self.split = self.shard;
    }

    fn finish(&mut self) {
        if self.current.take().is_none() {
            return;
        }
        if self.nondeterminism.is_none() && self.pos < self.prefix {
            self.nondeterminism = Some(format!(
                "run {}: ended after {} task picks, inside the {} replayed ones; the program \
                 does not behave the same under the same seed and task picks",
                self.runs, self.pos, self.prefix
            ));
        }
        self.last_counted = self.nondeterminism.is_none() && self.split.index == 0;
        if self.last_counted {
            self.counted += 1;
        }
        if self.nondeterminism.is_none() {
            self.backtrack();
        }
    }

    /// Rule 5.
    fn backtrack(&mut self) {
        while let Some(node) = self.path.last_mut() {
            if let Some(next) = node.owned_from(node.tried + 1) {
                node.tried = next;
                break;
            }
            self.path.pop();
        }
        self.prefix = self.path.len();
        self.complete = self.path.is_empty();
    }
}

/// Systematic depth-first search over task interleavings with at most
/// `preemption_bound` preemptions (CHESS's iterative context bounding, one bound).
///
/// Drive it across runs: [`Dfs::next_run`] gives the strategy for the next run, which must
/// use the same [`crate::Config`] (seed included) every time; [`Dfs::finish_run`] after it.
///
/// ```
/// use detsim::explore::Dfs;
/// use detsim::{Config, Sim, TraceMode};
/// let mut dfs = Dfs::new(1);
/// while let Some(strategy) = dfs.next_run() {
///     let config = Config::default().seed(1).trace(TraceMode::Off);
///     let out = Sim::new(config).strategy(strategy).run(async {
///         let a = detsim::spawn(async { detsim::task::yield_now().await });
///         let b = detsim::spawn(async {});
///         a.await.unwrap();
///         b.await.unwrap();
///     });
///     dfs.finish_run();
///     assert!(out.is_ok());
/// }
/// assert!(dfs.is_complete());
/// assert!(dfs.runs() > 1);
/// ```
#[derive(Debug)]
pub struct Dfs {
    tree: Rc<RefCell<Tree>>,
}

impl Dfs {
    /// A search allowing at most `preemption_bound` preemptions per run.
    pub fn new(preemption_bound: u32) -> Self {
        let tree = Tree {
            bound: preemption_bound,
            max_runs: DEFAULT_MAX_RUNS,
            path: Vec::new(),
            prefix: 0,
            runs: 0,
            complete: false,
            nondeterminism: None,
            current: None,
            pos: 0,
            preemptions: 0,
            shard: Split::ALL,
            split: Split::ALL,
            counted: 0,
            last_counted: false,
        };
        Dfs {
            tree: Rc::new(RefCell::new(tree)),
        }
    }

    /// Stops after `max_runs` runs (default 1,000,000) even if the space is not exhausted.
    ///
    /// ```
    /// let mut dfs = detsim::explore::Dfs::new(2).with_max_runs(0);
    /// assert!(dfs.next_run().is_none());
    /// assert!(!dfs.is_complete());
    /// ```
    pub fn with_max_runs(self, max_runs: u64) -> Self {
        self.tree.borrow_mut().max_runs = max_runs;
        self
    }

    /// Explores only shard `index` (1-based) of `count`: the shards' searches split the
    /// tree by prefix, and together run and count every schedule of the unsharded search
    /// exactly once (rule 9 of the module docs). Set it before the first run.
    ///
    /// ```
    /// let dfs = detsim::explore::Dfs::new(2).with_shard(2, 3);
    /// assert_eq!(dfs.shard(), (2, 3));
    /// ```
    pub fn with_shard(self, index: u64, count: u64) -> Self {
        assert!(
            (1..=count).contains(&index),
            "shard {index}/{count}: expected 1 <= K <= N"
        );
        let mut tree = self.tree.borrow_mut();
        tree.shard = Split {
            index: index - 1,
            count,
        };
        tree.split = tree.shard;
        drop(tree);
        self
    }

    /// The shard `(index, count)` this search explores (1-based; `(1, 1)` unsharded).
    pub fn shard(&self) -> (u64, u64) {
        let s = self.tree.borrow().shard;
        (s.index + 1, s.count)
    }

    /// True if the run finished last belongs to this shard (always, unsharded): a run
    /// that ends above the split (rule 9) is counted by one shard only, and the others
    /// ignore its outcome.
    pub fn counts_last_run(&self) -> bool {
        self.tree.borrow().last_counted
    }

    /// Runs this shard counts (all runs, unsharded; see [`Dfs::counts_last_run`]).
    pub fn counted_runs(&self) -> u64 {
        self.tree.borrow().counted
    }

    /// The strategy for the next run, or `None` when every schedule within the bound was
    /// run, the run limit was reached, or the program proved nondeterministic. A run
    /// still open is finished first, as if [`Dfs::finish_run`] had been called.
    pub fn next_run(&mut self) -> Option<Box<dyn Strategy>> {
        let mut tree = self.tree.borrow_mut();
        tree.finish();
        if tree.complete || tree.nondeterminism.is_some() || tree.runs >= tree.max_runs {
            return None;
        }
        tree.start();
        let run = tree.runs;
        drop(tree);
        Some(Box::new(DfsRun {
            tree: Rc::clone(&self.tree),
            run,
        }))
    }

    /// Ends the run made with the strategy from [`Dfs::next_run`] and plans the next one.
    /// Call it after each run; a second call is a no-op.
    pub fn finish_run(&mut self) {
        self.tree.borrow_mut().finish();
    }

    /// Runs started so far.
    pub fn runs(&self) -> u64 {
        self.tree.borrow().runs
    }

    /// True once every schedule within the bound was run.
    pub fn is_complete(&self) -> bool {
        self.tree.borrow().complete
    }

    /// The preemption bound.
    pub fn preemption_bound(&self) -> u32 {
        self.tree.borrow().bound
    }

    /// Why the search stopped early, if the program behaved differently under the same
    /// task picks (rule 7).
    pub fn nondeterminism(&self) -> Option<String> {
        self.tree.borrow().nondeterminism.clone()
    }
}

/// The strategy of one DFS run: follows and extends the explorer's path.
#[derive(Debug)]
struct DfsRun {
    tree: Rc<RefCell<Tree>>,
    run: u64,
}

impl Strategy for DfsRun {
    fn pick(&mut self, candidates: &Candidates<'_>, _rng: &mut StrategyRng) -> usize {
        let mut tree = self.tree.borrow_mut();
        if tree.current != Some(self.run) {
            // A stale strategy (its run was finished): pick validly, touch nothing.
            return candidates.last().unwrap_or(0);
        }
        let i = tree.pick(candidates.len(), candidates.last());
        debug_assert!(i < candidates.len());
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a synthetic "program" whose picks always offer `options` candidates, `depth`
    /// times, with `last` given by the previous pick (a task that never blocks).
    fn count_runs(bound: u32, options: usize, depth: usize) -> u64 {
        let mut dfs = Dfs::new(bound);
        while dfs.next_run().is_some() {
            let mut tree = dfs.tree.borrow_mut();
            let mut last = None;
            for _ in 0..depth {
                last = Some(tree.pick(options, last));
            }
            drop(tree);
            dfs.finish_run();
        }
        assert!(dfs.is_complete());
        dfs.runs()
    }

    #[test]
    fn bound_limits_the_tree() {
        // Bound 0: the first pick is free (no last), then the same task forever.
        assert_eq!(count_runs(0, 3, 4), 3);
        // Bound 1: 3 first picks × (1 + one switch at one of 3 later picks to 2 others).
        assert_eq!(count_runs(1, 3, 4), 3 * (1 + 3 * 2));
        // Unbounded: every sequence.
        assert_eq!(count_runs(9, 3, 4), 81);
    }

    #[test]
    fn option_order_puts_last_first_and_covers_all() {
        for last in 0..4 {
            let taken: Vec<_> = (0..4)
                .map(|tried| {
                    Node {
                        split: Split::ALL,
                        options: 4,
                        last: Some(last),
                        may_preempt: true,
                        tried,
                    }
                    .taken()
                })
                .collect();
            assert_eq!(taken[0], last);
            let mut sorted = taken.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, vec![0, 1, 2, 3]);
        }
    }

    /// The runs of each shard of `n` of the search of [`count_runs`], by shard, as the
    /// sequences of picks each shard counts.
    fn sharded_runs(bound: u32, options: usize, depth: usize, n: u64) -> Vec<Vec<Vec<usize>>> {
        (1..=n)
            .map(|k| {
                let mut dfs = Dfs::new(bound).with_shard(k, n);
                let mut counted = Vec::new();
                while dfs.next_run().is_some() {
                    let mut tree = dfs.tree.borrow_mut();
                    let (mut last, mut picks) = (None, Vec::new());
                    for _ in 0..depth {
                        let i = tree.pick(options, last);
                        picks.push(i);
                        last = Some(i);
                    }
                    drop(tree);
                    dfs.finish_run();
                    if dfs.counts_last_run() {
                        counted.push(picks);
                    }
                }
                assert!(dfs.is_complete(), "shard {k}/{n}");
                assert_eq!(dfs.counted_runs(), counted.len() as u64);
                counted
            })
            .collect()
    }

    #[test]
    fn shards_split_the_tree_into_disjoint_parts_that_cover_it() {
        for (bound, options, depth) in [(0, 3, 4), (1, 3, 4), (2, 2, 5), (9, 3, 3), (1, 1, 3)] {
            let whole = sharded_runs(bound, options, depth, 1).remove(0);
            assert_eq!(whole.len() as u64, count_runs(bound, options, depth));
            for n in [2, 3, 4, 7, 50] {
                let parts = sharded_runs(bound, options, depth, n);
                let mut union: Vec<Vec<usize>> = parts.concat();
                union.sort();
                let mut expected = whole.clone();
                expected.sort();
                assert_eq!(
                    union, expected,
                    "bound {bound}, {options}^{depth}, {n} shards"
                );
                if whole.len() as u64 >= 4 * n {
                    assert!(
                        parts.iter().all(|p| !p.is_empty()),
                        "every shard has work: {:?}",
                        parts.iter().map(Vec::len).collect::<Vec<_>>()
                    );
                }
            }
        }
    }

    #[test]
    fn a_changed_program_stops_cleanly() {
        let mut dfs = Dfs::new(2);
        dfs.next_run().unwrap();
        dfs.tree.borrow_mut().pick(2, None);
        dfs.finish_run();
        dfs.next_run().unwrap();
        assert_eq!(dfs.tree.borrow_mut().pick(3, None), 0);
        dfs.finish_run();
        assert!(dfs.nondeterminism().unwrap().contains("3 (previous task"));
        assert!(dfs.next_run().is_none());
        assert!(!dfs.is_complete());
    }
}
