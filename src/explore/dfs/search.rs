//! [`Search`]: the DFS tree as plans and outcomes, so any number of runs can be in
//! flight at once and the answer is still the one-thread depth-first search's.
//!
//! - A *plan* is a prefix to replay: a path of an earlier run up to one of its picks,
//!   with that pick advanced to an option not yet tried. The plan's [`Key`] is its place
//!   in depth-first order.
//! - `pending` holds, per pick with untried options, the next option (lazily: the pick
//!   is re-queued with its following option when one is handed out), keyed by the plan
//!   it makes. [`Search::next`] hands out the smallest key: on one thread this is exactly
//!   CHESS's backtracking (the deepest untried option first).
//! - An outcome adds the untried options of the run's new picks to `pending` (they all
//!   come after the run in depth-first order) and waits in `done` until no pending or
//!   in-flight plan comes before it; then it is *committed*, in depth-first order.
//!   Everything the search reports (run numbers, counts, the failures, the run cap,
//!   nondeterminism) is decided at commit, so it does not depend on how many runs were
//!   in flight or in which order they returned.
//! - A failure at key `F` (stopping at the first) prunes: plans after `F` are not handed
//!   out, and `F` commits once everything before it has.
//!
//! Invariants: every key in `in_flight` and `done` was handed out once; a key is in at
//! most one of `pending`, `in_flight`, `done`; committed runs are never revisited.

use super::node::{key_entry, Key, Node, Split};
use super::replay::{Mismatch, RunRecord};
pub(crate) use crate::explore::explorer::Next;
use crate::explore::watchdog::Hung;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One run to make: replay a prefix ([`Plan::prefix`]), then extend it.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Handed-out number (for the watchdog), not the run's place in the order.
    pub(crate) id: u64,
    // The path the prefix is cut from, the pick it branches at and the option it takes
    // there (none: the root plan, an empty prefix). Copied out by the runner, outside
    // the search's lock.
    from: Option<(Arc<[Node]>, usize, usize)>,
}

impl Plan {
    /// The picks to replay: the path up to the branching pick, which takes its option.
    pub(super) fn prefix(&self) -> Vec<Node> {
        let Some((path, pick, option)) = &self.from else {
            return Vec::new();
        };
        let mut prefix = path[..*pick].to_vec();
        let mut node = path[*pick];
        node.tried = *option;
        prefix.push(node);
        prefix
    }
}

/// The plans a run branches into: the untried options of its new picks (all after the
/// run in depth-first order), keyed. Made by the runner, outside the search's lock.
pub(super) fn branches(path: Vec<Node>, replayed: usize) -> Vec<(Key, Branch)> {
    let path: Arc<[Node]> = path.into();
    let mut key: Key = path[..replayed]
        .iter()
        .enumerate()
        .filter_map(|(i, n)| key_entry(i, n.tried))
        .collect();
    let mut out = Vec::new();
    for (pick, node) in path.iter().enumerate().skip(replayed) {
        if let Some(option) = node.owned_from(node.tried + 1) {
            let mut plan_key = key.clone();
            plan_key.extend(key_entry(pick, option));
            let branch = Branch::At {
                path: path.clone(),
                pick,
                option,
            };
            out.push((plan_key, branch));
        }
        key.extend(key_entry(pick, node.tried));
    }
    out
}

/// A pick with untried options: the path it is on, its position, the option to try.
#[derive(Debug)]
pub(super) enum Branch {
    Root,
    At {
        path: Arc<[Node]>,
        pick: usize,
        option: usize,
    },
}

/// A returned run waiting for its turn to commit.
#[derive(Debug)]
enum Finished<F> {
    Ran {
        counted: bool,
        mismatch: Option<Mismatch>,
        failure: Option<(F, String)>,
    },
    Hung(Hung),
}

/// A failure, committed: the run's number in depth-first order (1-based) and what failed.
#[derive(Debug)]
pub(crate) enum Committed<F> {
    Failed {
        // Read by the tests; reports name DFS failures by their schedule.
        #[cfg_attr(not(test), allow(dead_code))]
        run: u64,
        failure: F,
    },
    Hung {
        run: u64,
        hung: Hung,
    },
}

/// Why a search ended, when it did at a commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    Failures,
    Nondeterministic,
    RunCap,
    Complete,
}

/// The search over plans and outcomes; `F` is what a failing run carries.
#[derive(Debug)]
pub(crate) struct Search<F> {
    bound: u32,
    max_runs: u64,
    shard: Split,
    keep_going: usize,
    pending: BTreeMap<Key, Branch>,
    in_flight: BTreeMap<Key, u64>,
    ids: BTreeMap<u64, Key>,
    done: BTreeMap<Key, Finished<F>>,
    handed_out: u64,
    // With `keep_going == 1`: the smallest key of a failure returned; later plans wait.
    prune: Option<Key>,
    // Committed state.
    runs: u64,
    counted: u64,
    last_counted: bool,
    signatures: Vec<String>,
    failures: Vec<Committed<F>>,
    nondeterminism: Option<String>,
    ended: Option<Ended>,
}

impl<F> Search<F> {
    /// A search with at most `bound` preemptions per run, `max_runs` runs, of shard
    /// `shard` (0-based index of count), stopping after `keep_going` distinct failures.
    pub(crate) fn new(bound: u32, max_runs: u64, shard: (u64, u64), keep_going: usize) -> Self {
        let mut pending = BTreeMap::new();
        pending.insert(Key::new(), Branch::Root);
        Search {
            bound,
            max_runs,
            shard: Split {
                index: shard.0,
                count: shard.1,
            },
            keep_going: keep_going.max(1),
            pending,
            in_flight: BTreeMap::new(),
            ids: BTreeMap::new(),
            done: BTreeMap::new(),
            handed_out: 0,
            prune: None,
            runs: 0,
            counted: 0,
            last_counted: false,
            signatures: Vec::new(),
            failures: Vec::new(),
            nondeterminism: None,
            ended: if max_runs == 0 {
                Some(Ended::RunCap)
            } else {
                None
            },
        }
    }

    pub(crate) fn bound(&self) -> u32 {
        self.bound
    }

    pub(super) fn shard(&self) -> Split {
        self.shard
    }

    pub(super) fn max_runs(&self) -> u64 {
        self.max_runs
    }

    /// The next plan to run.
    pub(crate) fn next(&mut self) -> Next<Plan> {
        if self.ended.is_some() {
            return Next::Done;
        }
        let idle = || {
            if self.in_flight.is_empty() {
                Next::Done
            } else {
                Next::Wait
            }
        };
        let Some((key, _)) = self.pending.first_key_value() else {
            return idle();
        };
        if self.prune.as_ref().is_some_and(|p| key > p) || self.past_cap(key) {
            return idle();
        }
        let Some((key, branch)) = self.pending.pop_first() else {
            return idle();
        };
        let from = self.take(&key, branch);
        self.handed_out += 1;
        let id = self.handed_out;
        self.in_flight.insert(key.clone(), id);
        self.ids.insert(id, key);
        Next::Run(Plan { id, from })
    }

    /// True if the run-cap would be reached by runs that come before `key`.
    fn past_cap(&self, key: &Key) -> bool {
        let before =
            self.in_flight.range(..key.clone()).count() + self.done.range(..key.clone()).count();
        self.runs + before as u64 >= self.max_runs
    }

    /// Where `branch`'s plan is cut from, re-queueing its next option.
    fn take(&mut self, key: &Key, branch: Branch) -> Option<(Arc<[Node]>, usize, usize)> {
        let Branch::At { path, pick, option } = branch else {
            return None;
        };
        let mut node = path[pick];
        node.tried = option;
        if let Some(next) = node.owned_from(option + 1) {
            let mut next_key = key.clone();
            next_key.pop();
            next_key.extend(key_entry(pick, next));
            let next_branch = Branch::At {
                path: path.clone(),
                pick,
                option: next,
            };
            self.pending.insert(next_key, next_branch);
        }
        Some((path, pick, option))
    }

    /// The outcome of the plan numbered `id`: its record, and its failure with its
    /// signature (kind and location: distinct failures are counted by it).
    pub(crate) fn outcome(&mut self, id: u64, record: RunRecord, failure: Option<(F, String)>) {
        let Some(key) = self.returned(id) else { return };
        if record.mismatch.is_none() {
            self.pending.extend(record.branches);
        }
        if failure.is_some() && record.counted {
            self.prune_after(&key);
        }
        let finished = Finished::Ran {
            counted: record.counted,
            mismatch: record.mismatch,
            failure,
        };
        self.done.insert(key, finished);
        self.commit();
    }

    /// The plan numbered `id` went past the watchdog: a failure with no path.
    pub(crate) fn hung(&mut self, id: u64, hung: Hung) {
        let Some(key) = self.returned(id) else { return };
        self.prune_after(&key);
        self.done.insert(key, Finished::Hung(hung));
        self.commit();
    }

    /// The key of the plan `id`, no longer in flight (none once the search ended).
    fn returned(&mut self, id: u64) -> Option<Key> {
        let key = self.ids.remove(&id)?;
        self.in_flight.remove(&key);
        self.ended.is_none().then_some(key)
    }

    fn prune_after(&mut self, key: &Key) {
        if self.keep_going == 1 && self.prune.as_ref().is_none_or(|p| key < p) {
            self.prune = Some(key.clone());
        }
    }

    /// Commits returned runs in depth-first order while nothing before them is open.
    fn commit(&mut self) {
        while self.ended.is_none() {
            let Some((key, _)) = self.done.first_key_value() else {
                break;
            };
            let open_before = |first: Option<&Key>| first.is_some_and(|k| k < key);
            if open_before(self.pending.keys().next()) || open_before(self.in_flight.keys().next())
            {
                break;
            }
            let Some((_, finished)) = self.done.pop_first() else {
                break;
            };
            self.commit_one(finished);
        }
        let drained = self.pending.is_empty() && self.in_flight.is_empty() && self.done.is_empty();
        if self.ended.is_none() && drained {
            self.ended = Some(Ended::Complete);
        }
    }

    fn commit_one(&mut self, finished: Finished<F>) {
        self.runs += 1;
        let run = self.runs;
        self.last_counted = false;
        match finished {
            Finished::Ran {
                mismatch: Some(m), ..
            } => {
                self.nondeterminism = Some(m.explain(run));
                self.ended = Some(Ended::Nondeterministic);
                return;
            }
            Finished::Ran {
                counted, failure, ..
            } => {
                self.last_counted = counted;
                self.counted += u64::from(counted);
                if let Some((failure, signature)) = failure.filter(|_| counted) {
                    self.failures.push(Committed::Failed { run, failure });
                    self.distinct(signature);
                }
            }
            Finished::Hung(hung) => {
                self.counted += 1;
                self.failures.push(Committed::Hung { run, hung });
                self.distinct("hang".into());
            }
        }
        if self.ended.is_none() && self.runs >= self.max_runs {
            self.ended = Some(Ended::RunCap);
        }
    }

    fn distinct(&mut self, signature: String) {
        if !self.signatures.contains(&signature) {
            self.signatures.push(signature);
        }
        if self.signatures.len() >= self.keep_going {
            self.ended = Some(Ended::Failures);
        }
    }

    /// Runs committed (made and in order), counted or not.
    pub(crate) fn runs(&self) -> u64 {
        self.runs
    }

    /// Committed runs this shard counts (all of them, unsharded).
    pub(crate) fn counted_runs(&self) -> u64 {
        self.counted
    }

    /// True if the last committed run is one this shard counts.
    pub(crate) fn counts_last_run(&self) -> bool {
        self.last_counted
    }

    /// Runs handed out and not committed yet.
    pub(crate) fn open_runs(&self) -> u64 {
        (self.in_flight.len() + self.done.len()) as u64
    }

    /// Why the search ended, if it did.
    pub(crate) fn ended(&self) -> Option<Ended> {
        self.ended
    }

    /// True once every schedule within the bound was run.
    pub(crate) fn is_complete(&self) -> bool {
        self.ended == Some(Ended::Complete)
    }

    /// The explanation, if a run left its plan (rule 7).
    pub(crate) fn nondeterminism(&self) -> Option<&str> {
        self.nondeterminism.as_deref()
    }

    /// The committed failures, in depth-first order.
    #[cfg(test)]
    pub(crate) fn failures(&self) -> &[Committed<F>] {
        &self.failures
    }

    /// Takes the committed failures.
    pub(crate) fn take_failures(&mut self) -> Vec<Committed<F>> {
        std::mem::take(&mut self.failures)
    }
}

#[cfg(test)]
mod tests {
    use super::super::replay::RunState;
    use super::*;

    /// The synthetic program of the tests: `depth` picks among `options` candidates,
    /// `last` the previous pick (tasks that never block).
    fn make_run(
        search: &Search<Vec<usize>>,
        plan: Plan,
        options: usize,
        depth: usize,
    ) -> (RunRecord, Vec<usize>) {
        let mut state = RunState::new(search.bound(), search.shard(), plan.prefix());
        let (mut last, mut picks) = (None, Vec::new());
        for _ in 0..depth {
            let i = state.pick(options, last);
            picks.push(i);
            last = Some(i);
        }
        (state.take_record(), picks)
    }

    /// Runs the search with up to `j` runs in flight, returning them in an order drawn
    /// from `mix`; every run "fails" with its picks (distinct signatures), so the
    /// committed failures list the counted runs in commit order.
    fn search(
        j: usize,
        mix: u64,
        bound: u32,
        (options, depth): (usize, usize),
        max_runs: u64,
        shard: (u64, u64),
    ) -> (Vec<Vec<usize>>, u64, Option<Ended>) {
        let mut s: Search<Vec<usize>> = Search::new(bound, max_runs, shard, usize::MAX);
        let mut flight: Vec<(u64, RunRecord, Vec<usize>)> = Vec::new();
        let mut state = mix;
        loop {
            while flight.len() < j {
                match s.next() {
                    Next::Run(plan) => {
                        let id = plan.id;
                        let (record, picks) = make_run(&s, plan, options, depth);
                        flight.push((id, record, picks));
                    }
                    Next::Wait => break,
                    Next::Done => break,
                }
            }
            if flight.is_empty() {
                break;
            }
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let (id, record, picks) = flight.swap_remove((state >> 33) as usize % flight.len());
            let signature = format!("{picks:?}");
            s.outcome(id, record, Some((picks, signature)));
        }
        let order = s
            .failures()
            .iter()
            .map(|c| match c {
                Committed::Failed { failure, .. } => failure.clone(),
                Committed::Hung { .. } => unreachable!(),
            })
            .collect();
        (order, s.runs(), s.ended())
    }

    #[test]
    fn runs_in_flight_commit_in_the_one_thread_order() {
        for (bound, shape) in [(0, (3, 4)), (1, (3, 4)), (2, (2, 6)), (9, (3, 3))] {
            for shard in [(0, 1), (1, 3)] {
                for max_runs in [1, 5, 17, 1_000_000] {
                    let serial = search(1, 0, bound, shape, max_runs, shard);
                    for (j, mix) in [(2, 1), (3, 7), (8, 99)] {
                        let parallel = search(j, mix, bound, shape, max_runs, shard);
                        assert_eq!(
                            parallel, serial,
                            "bound {bound} {shape:?} cap {max_runs} shard {shard:?} j {j}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn the_first_failure_prunes_later_plans_and_commits_after_earlier_ones() {
        // Every run whose first pick is 2 fails; with 4 in flight, the report is the
        // one-thread search's: the first such run in depth-first order, and the runs
        // before it.
        let run = |j: usize| {
            let mut s: Search<Vec<usize>> = Search::new(1, u64::MAX, (0, 1), 1);
            let mut flight = Vec::new();
            let mut handed = 0;
            loop {
                while flight.len() < j {
                    let Next::Run(plan) = s.next() else { break };
                    handed += 1;
                    let id = plan.id;
                    let (record, picks) = make_run(&s, plan, 3, 4);
                    flight.push((id, record, picks));
                }
                let Some((id, record, picks)) = flight.pop() else {
                    break;
                };
                let failure = (picks[0] == 2).then(|| (picks.clone(), "first is 2".to_string()));
                s.outcome(id, record, failure);
            }
            let Committed::Failed { run, failure } = &s.failures()[0] else {
                unreachable!()
            };
            (*run, failure.clone(), s.runs(), s.ended(), handed)
        };
        let (run1, picks1, runs1, ended1, _) = run(1);
        assert_eq!((run1, runs1, ended1), (15, 15, Some(Ended::Failures)));
        assert_eq!(picks1, vec![2, 2, 2, 2]);
        for j in [2, 4] {
            let (run, picks, runs, ended, handed) = run(j);
            assert_eq!(
                (run, &picks, runs, ended),
                (run1, &picks1, runs1, ended1),
                "j {j}"
            );
            assert!(handed <= runs + j as u64, "pruned: {handed} handed out");
        }
    }

    #[test]
    fn a_hang_commits_in_its_place() {
        let mut s: Search<()> = Search::new(0, 100, (0, 1), 1);
        let Next::Run(root) = s.next() else { panic!() };
        let (record, _) = {
            let mut st = RunState::new(0, Split::ALL, root.prefix());
            st.pick(2, None);
            (st.take_record(), ())
        };
        s.outcome(root.id, record, None);
        let Next::Run(second) = s.next() else {
            panic!()
        };
        let hung = Hung {
            limit: std::time::Duration::from_secs(1),
            elapsed: std::time::Duration::from_secs(2),
        };
        s.hung(second.id, hung);
        assert!(matches!(s.failures(), [Committed::Hung { run: 2, .. }]));
        assert_eq!(s.ended(), Some(Ended::Failures));
        assert!(matches!(s.next(), Next::Done));
    }
}
