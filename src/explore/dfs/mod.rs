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
//! 5. After a run, backtrack: the deepest node with an untried allowed option is advanced;
//!    the path up to it is the next prefix. When no node is left every schedule within
//!    the bound was run: the search is complete. (`search.rs` keeps the untried options
//!    of all runs as *plans* ordered by their place in depth-first order, so several runs
//!    can be in flight on several threads — rule 10.)
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
//! 10. Runs may be made in parallel ([`crate::explore::Campaign::jobs`]): `search.rs`
//!     hands out the plans in depth-first order, takes their outcomes in any order, and
//!     *commits* them in depth-first order only, deciding run numbers, counts, the run cap,
//!     failures and nondeterminism at commit. So a search on J threads reports exactly what
//!     the one-thread search reports.
//!
//! Code map: `node.rs` (a pick, its options, the shard split, the order key),
//! `replay.rs` (the strategy of one run), `search.rs` (plans, outcomes, commit), this
//! file ([`Dfs`], the one-run-at-a-time driver for direct use).

mod node;
mod replay;
mod search;

pub(crate) use replay::RunRecord;
pub(crate) use search::{Committed, Ended, Next, Plan, Search};

/// What every run of one search replays plans with: its bound and shard.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RunShape {
    bound: u32,
    shard: Split,
}

impl<F> Search<F> {
    /// The shape of this search's runs.
    pub(crate) fn run_shape(&self) -> RunShape {
        RunShape {
            bound: self.bound(),
            shard: self.shard(),
        }
    }
}

/// Makes the run of `plan`: `run` makes it with the strategy it is given; returns what
/// the run did (for [`Search::outcome`]) and what `run` returned.
pub(crate) fn make_run<T>(
    shape: RunShape,
    plan: Plan,
    run: impl FnOnce(Box<dyn Strategy>) -> T,
) -> (RunRecord, T) {
    let state = Rc::new(RefCell::new(RunState::new(
        shape.bound,
        shape.shard,
        plan.prefix(),
    )));
    let out = run(Box::new(DfsRun {
        state: state.clone(),
    }));
    let record = state.borrow_mut().take_record();
    (record, out)
}

use super::strategy::Strategy;
use node::Split;
use replay::{DfsRun, RunState};
use std::cell::RefCell;
use std::rc::Rc;

/// The default [`Dfs::with_max_runs`] limit.
const DEFAULT_MAX_RUNS: u64 = 1_000_000;

/// Systematic depth-first search over task interleavings with at most
/// `preemption_bound` preemptions (CHESS's iterative context bounding, one bound).
///
/// Drive it across runs: [`Dfs::next_run`] gives the strategy for the next run, which must
/// use the same [`crate::Config`] (seed included) every time; [`Dfs::finish_run`] after it.
/// (Campaigns run the same search on many threads: `fuzz --strategy dfs:N --jobs J`.)
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
    search: Search<()>,
    // The run in progress: its plan number and state.
    current: Option<(u64, Rc<RefCell<RunState>>)>,
}

impl Dfs {
    /// A search allowing at most `preemption_bound` preemptions per run.
    pub fn new(preemption_bound: u32) -> Self {
        Dfs {
            search: Search::new(preemption_bound, DEFAULT_MAX_RUNS, (0, 1), usize::MAX),
            current: None,
        }
    }

    /// Stops after `max_runs` runs (default 1,000,000) even if the space is not exhausted.
    /// Set it before the first run.
    ///
    /// ```
    /// let mut dfs = detsim::explore::Dfs::new(2).with_max_runs(0);
    /// assert!(dfs.next_run().is_none());
    /// assert!(!dfs.is_complete());
    /// ```
    pub fn with_max_runs(self, max_runs: u64) -> Self {
        let Split { index, count } = self.search.shard();
        Dfs {
            search: Search::new(self.search.bound(), max_runs, (index, count), usize::MAX),
            current: None,
        }
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
        let search = &self.search;
        Dfs {
            search: Search::new(
                search.bound(),
                search.max_runs(),
                (index - 1, count),
                usize::MAX,
            ),
            current: None,
        }
    }

    /// The shard `(index, count)` this search explores (1-based; `(1, 1)` unsharded).
    pub fn shard(&self) -> (u64, u64) {
        let s = self.search.shard();
        (s.index + 1, s.count)
    }

    /// True if the run finished last belongs to this shard (always, unsharded): a run
    /// that ends above the split (rule 9) is counted by one shard only, and the others
    /// ignore its outcome.
    pub fn counts_last_run(&self) -> bool {
        self.search.counts_last_run()
    }

    /// Runs this shard counts (all runs, unsharded; see [`Dfs::counts_last_run`]).
    pub fn counted_runs(&self) -> u64 {
        self.search.counted_runs()
    }

    /// The strategy for the next run, or `None` when every schedule within the bound was
    /// run, the run limit was reached, or the program proved nondeterministic. A run
    /// still open is finished first, as if [`Dfs::finish_run`] had been called.
    pub fn next_run(&mut self) -> Option<Box<dyn Strategy>> {
        self.finish_run();
        let Next::Run(plan) = self.search.next() else {
            return None;
        };
        let state = RunState::new(self.search.bound(), self.search.shard(), plan.prefix());
        let state = Rc::new(RefCell::new(state));
        self.current = Some((plan.id, state.clone()));
        Some(Box::new(DfsRun { state }))
    }

    /// Ends the run made with the strategy from [`Dfs::next_run`] and plans the next one.
    /// Call it after each run; a second call is a no-op.
    pub fn finish_run(&mut self) {
        if let Some((id, state)) = self.current.take() {
            let record = state.borrow_mut().take_record();
            self.search.outcome(id, record, None);
        }
    }

    /// Runs started so far.
    pub fn runs(&self) -> u64 {
        self.search.runs() + self.search.open_runs()
    }

    /// True once every schedule within the bound was run.
    pub fn is_complete(&self) -> bool {
        self.search.is_complete()
    }

    /// The preemption bound.
    pub fn preemption_bound(&self) -> u32 {
        self.search.bound()
    }

    /// Why the search stopped early, if the program behaved differently under the same
    /// task picks (rule 7).
    pub fn nondeterminism(&self) -> Option<String> {
        self.search.nondeterminism().map(str::to_string)
    }

    /// Test hook: a pick of the run in progress, as the runtime would make it.
    #[cfg(test)]
    fn pick(&self, options: usize, last: Option<usize>) -> usize {
        let (_, state) = self.current.as_ref().expect("a run in progress");
        state.borrow_mut().pick(options, last)
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
            let mut last = None;
            for _ in 0..depth {
                last = Some(dfs.pick(options, last));
            }
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

    /// The runs of each shard of `n` of the search of [`count_runs`], by shard, as the
    /// sequences of picks each shard counts.
    fn sharded_runs(bound: u32, options: usize, depth: usize, n: u64) -> Vec<Vec<Vec<usize>>> {
        (1..=n)
            .map(|k| {
                let mut dfs = Dfs::new(bound).with_shard(k, n);
                let mut counted = Vec::new();
                while dfs.next_run().is_some() {
                    let (mut last, mut picks) = (None, Vec::new());
                    for _ in 0..depth {
                        let i = dfs.pick(options, last);
                        picks.push(i);
                        last = Some(i);
                    }
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
        dfs.pick(2, None);
        dfs.finish_run();
        dfs.next_run().unwrap();
        assert_eq!(dfs.pick(3, None), 0);
        dfs.finish_run();
        assert!(dfs.nondeterminism().unwrap().contains("3 (previous task"));
        assert!(dfs.next_run().is_none());
        assert!(!dfs.is_complete());
    }
}
