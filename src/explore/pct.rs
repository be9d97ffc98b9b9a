//! [`Pct`]: Probabilistic Concurrency Testing.
//!
//! After S. Burckhardt, P. Kothari, M. Musuvathi and S. Nagarakatte, "A Randomized
//! Scheduler with Probabilistic Guarantees of Finding Bugs", ASPLOS 2010. For a program
//! of at most `n` tasks and `k` steps, one run finds a bug of depth `d` (one that needs
//! `d` specific orderings of events) with probability at least `1 / (n · k^(d−1))`,
//! whereas a uniformly random scheduler can be exponentially unlikely to, e.g. when a bug
//! needs one task to stay unscheduled while another takes many steps.
//!
//! The algorithm, with `d` = depth and `k` = step estimate:
//! 1. Every task gets a random initial priority when it is spawned ([`Strategy::on_spawn`]).
//!    Initial priorities are above every change-point priority and their order is a
//!    uniformly random permutation (the paper's `d, d+1, …, d+n−1` in random order). As
//!    tasks appear one by one, each one takes a uniformly random rank among the tasks
//!    already there; a random 63-bit key does exactly that, in O(1).
//! 2. `d − 1` change points `k_1 … k_{d−1}` are drawn uniformly from `[0, k)`, once, at
//!    the first pick.
//! 3. [`Strategy::pick`] returns the candidate with the highest priority.
//! 4. At the first pick at or after step `k_i` ([`Candidates::step`]), the candidate rule 3
//!    would return gets priority `i` (below every initial priority), and rule 3 is applied
//!    again; change points at the same step apply one after the other. ("At or after":
//!    the runtime asks only when there are ≥ 2 candidates, so step `k_i` itself may pass
//!    without a pick; the change then lands on the next real choice instead of being lost.)
//! 5. Unknown length (`steps == 0`): `k` starts at 100. When a pick happens
//!    at step ≥ `k`, `k` doubles until it exceeds the step, the `d − 1` change points are
//!    drawn again from `[0, k)`, and those that fall at or after the old `k` are kept
//!    (the others lie in the past and are dropped). The part of the run beyond the old
//!    estimate is thus treated as if the new estimate had held from the start. (If the
//!    first pick already comes after step `k`, `k` grows before rule 2's draw.) A known
//!    `steps` is taken as the paper's `k` and never grows.
//!
//! 6. Adaptive mode ([`Pct::adaptive`], used by the swarm): the step counter is PCT's own
//!    count of picks — steps where the runtime offered a real choice — instead of
//!    [`Candidates::step`], which also counts polls with a single runnable task. `k` starts
//!    at [`ADAPTIVE_START`] and grows by rule 5, so short runs still get their change
//!    points and long runs are not diluted by forced steps. No calibration run is needed,
//!    and the whole plan depends only on the run's seed.
//!
//! Invariants:
//! 1. Priorities are compared as `(priority, task id)`, so they are distinct and a pick
//!    never depends on the order of the candidates.
//! 2. All randomness comes from [`Chooser::aux_u64`]; the pick itself is recorded by the
//!    runtime, so a PCT run replays from its schedule without PCT.
//! 3. A pick costs O(candidates) plus O(candidates) per change point that fires.

use super::strategy::{Candidates, Strategy};
use crate::choice::StrategyRng;
use crate::TaskId;

/// The step estimate used when [`Pct::new`] is given `steps == 0` (rule 5).
pub(crate) const DEFAULT_STEPS: u64 = 100;

/// The first step estimate of adaptive mode (rule 6), in picks.
pub(crate) const ADAPTIVE_START: u64 = 8;

/// Initial priorities have this bit set; change-point priorities `1..d` never do (rule 1).
const INITIAL: u64 = 1 << 63;

/// Marks a task without a priority yet; no real priority is 0 (change points count from 1).
const UNASSIGNED: u64 = 0;

/// Probabilistic Concurrency Testing: random task priorities, the highest runs, and
/// `depth − 1` random points in the run where the running task is demoted.
///
/// Use one `Pct` per run; the seed of the run decides priorities and change points.
///
/// ```
/// use detsim::explore::Pct;
/// use detsim::{Config, Sim, TraceMode};
/// let run = |seed| {
///     let config = Config::default().seed(seed).trace(TraceMode::Off);
///     let out = Sim::new(config).strategy(Box::new(Pct::new(3, 0))).run(async {
///         let a = detsim::spawn(async { detsim::task::yield_now().await });
///         let b = detsim::spawn(async { detsim::task::yield_now().await });
///         a.await.unwrap();
///         b.await.unwrap();
///     });
///     out.fingerprint
/// };
/// assert_eq!(run(7), run(7)); // the seed decides everything
/// ```
#[derive(Debug)]
pub struct Pct {
    depth: u32,
    // invariant: ≥ 1.
    estimate: u64,
    grows: bool,
    // Indexed by task id; `UNASSIGNED` until the task's first spawn or pick.
    priority: Vec<u64>,
    // Change points `(step, i)` not yet fired, sorted by step descending: the next is last.
    pending: Vec<(u64, u32)>,
    drawn: bool,
    // Adaptive mode (rule 6): `Some(picks so far)`.
    picks: Option<u64>,
}

impl Pct {
    /// PCT for bugs of depth `depth` (values below 1 count as 1: no change points) in runs
    /// of about `steps` scheduling steps; `steps == 0` means unknown: start from 100
    /// and grow the estimate when a run exceeds it.
    ///
    /// ```
    /// use detsim::explore::Pct;
    /// let pct = Pct::new(3, 0);
    /// assert_eq!((pct.depth(), pct.steps()), (3, 100));
    /// assert_eq!(Pct::new(0, 500).depth(), 1);
    /// ```
    pub fn new(depth: u32, steps: u64) -> Self {
        Pct {
            depth: depth.max(1),
            estimate: if steps == 0 { DEFAULT_STEPS } else { steps },
            grows: steps == 0,
            priority: Vec::new(),
            pending: Vec::new(),
            drawn: false,
            picks: None,
        }
    }

    /// PCT for bugs of depth `depth` that counts only picks with a real choice and learns
    /// the run length as it goes (rule 6): no calibration, no step parameter.
    ///
    /// ```
    /// use detsim::explore::Pct;
    /// let pct = Pct::adaptive(2);
    /// assert_eq!((pct.depth(), pct.steps()), (2, 8));
    /// ```
    pub fn adaptive(depth: u32) -> Self {
        Pct {
            estimate: ADAPTIVE_START,
            picks: Some(0),
            ..Pct::new(depth, 0)
        }
    }

    /// The bug depth `d`: `d − 1` priority change points per run.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// The current step estimate `k` (it grows during a run when it was unknown).
    pub fn steps(&self) -> u64 {
        self.estimate
    }

    /// Gives `task` its initial priority if it has none (rule 1).
    fn ensure(&mut self, task: TaskId, rng: &mut StrategyRng) {
        let id = task.as_u32() as usize;
        if id >= self.priority.len() {
            self.priority.resize(id + 1, UNASSIGNED);
        }
        if self.priority[id] == UNASSIGNED {
            self.priority[id] = INITIAL | rng.aux_u64();
        }
    }

    /// Draws the change points (rules 2 and 5) the first time, and again whenever the run
    /// outgrows an unknown-length estimate.
    fn plan(&mut self, step: u64, rng: &mut StrategyRng) {
        let old = self.estimate;
        if self.grows {
            while step >= self.estimate {
                self.estimate = self.estimate.saturating_mul(2);
            }
        }
        if !self.drawn {
            self.drawn = true;
            self.draw_change_points(0, rng);
        } else if self.estimate != old {
            self.draw_change_points(old, rng);
        }
    }

    /// Draws `k_1 … k_{d−1}` from `[0, estimate)` and keeps those at or after `from`.
    fn draw_change_points(&mut self, from: u64, rng: &mut StrategyRng) {
        for i in 1..self.depth {
            let k = below(rng.aux_u64(), self.estimate);
            if k >= from {
                self.pending.push((k, i));
            }
        }
        // Descending, so the next change point is popped from the end.
        self.pending.sort_unstable_by(|a, b| b.cmp(a));
    }

    /// The candidate with the highest `(priority, id)` (rule 3, invariant 1).
    fn highest(&self, candidates: &Candidates<'_>) -> usize {
        let key = |i: usize| {
            let id = candidates.task(i).as_u32();
            (self.priority[id as usize], id)
        };
        (0..candidates.len()).max_by_key(|&i| key(i)).unwrap_or(0)
    }
}

impl Strategy for Pct {
    fn on_spawn(&mut self, task: TaskId, rng: &mut StrategyRng) {
        self.ensure(task, rng);
    }

    fn pick(&mut self, candidates: &Candidates<'_>, rng: &mut StrategyRng) -> usize {
        let step = match self.picks.as_mut() {
            Some(picks) => {
                *picks += 1;
                *picks - 1
            }
            None => candidates.step(),
        };
        self.plan(step, rng);
        // Normally every task got its priority at spawn; this covers a strategy installed
        // after tasks were spawned, without depending on it.
        for i in 0..candidates.len() {
            self.ensure(candidates.task(i), rng);
        }
        let mut best = self.highest(candidates);
        while let Some(&(k, i)) = self.pending.last() {
            if k > step {
                break;
            }
            self.pending.pop();
            let id = candidates.task(best).as_u32() as usize;
            self.priority[id] = u64::from(i); // rule 4: demote below every initial priority
            best = self.highest(candidates);
        }
        best
    }
}

/// Maps a uniform 64-bit draw to `[0, n)` (multiply-high; bias below 2^-64 · n).
fn below(x: u64, n: u64) -> u64 {
    ((u128::from(x) * u128::from(n)) >> 64) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(ids: &[u32]) -> Vec<crate::strategy::Queued> {
        crate::strategy::Queued::ids(ids)
    }

    #[test]
    fn picks_the_highest_priority_whatever_the_order() {
        let mut chooser = crate::choice::Chooser::new(1);
        let mut pct = Pct::new(1, 10);
        for id in 0..5 {
            pct.on_spawn(TaskId(id), chooser.strategy_rng());
        }
        let forward = ready(&[0, 1, 2, 3, 4]);
        let backward = ready(&[4, 3, 2, 1, 0]);
        let a = Candidates::new(&forward, None).with_context(None, 1);
        let b = Candidates::new(&backward, None).with_context(None, 2);
        let ta = a.task(pct.pick(&a, chooser.strategy_rng()));
        let tb = b.task(pct.pick(&b, chooser.strategy_rng()));
        assert_eq!(ta, tb);
    }

    #[test]
    fn change_point_demotes_the_top_task() {
        let mut chooser = crate::choice::Chooser::new(3);
        // depth 2 with k = 1: the single change point is at step 0.
        let mut pct = Pct::new(2, 1);
        for id in 0..3 {
            pct.on_spawn(TaskId(id), chooser.strategy_rng());
        }
        let list = ready(&[0, 1, 2]);
        let before = pct.highest(&Candidates::new(&list, None));
        let c = Candidates::new(&list, None).with_context(None, 0);
        let picked = pct.pick(&c, chooser.strategy_rng());
        assert_ne!(picked, before, "the top task was demoted");
        assert_eq!(pct.priority[before], 1);
        assert!(pct.pending.is_empty());
    }

    #[test]
    fn adaptive_mode_counts_picks_not_polls() {
        let mut chooser = crate::choice::Chooser::new(9);
        let mut pct = Pct::adaptive(3);
        let list = ready(&[0, 1]);
        // Polls 1000 and 2000 are the first two picks: the estimate stays at its start.
        for step in [1000, 2000] {
            pct.pick(
                &Candidates::new(&list, None).with_context(None, step),
                chooser.strategy_rng(),
            );
        }
        assert_eq!(pct.steps(), ADAPTIVE_START);
        for step in 0..ADAPTIVE_START {
            pct.pick(
                &Candidates::new(&list, None).with_context(None, 5000 + step),
                chooser.strategy_rng(),
            );
        }
        assert_eq!(
            pct.steps(),
            2 * ADAPTIVE_START,
            "grew at pick {ADAPTIVE_START}"
        );
    }

    #[test]
    fn unknown_length_grows_past_the_step() {
        let mut chooser = crate::choice::Chooser::new(5);
        let mut pct = Pct::new(3, 0);
        let list = ready(&[0, 1]);
        pct.pick(
            &Candidates::new(&list, None).with_context(None, 1000),
            chooser.strategy_rng(),
        );
        assert!(pct.steps() > 1000);
        assert!(
            pct.pending.iter().all(|&(k, _)| k > 1000),
            "points up to the step fired"
        );
    }
}
