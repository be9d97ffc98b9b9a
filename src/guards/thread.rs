//! A run under the guards starts on a thread whose per-thread RNG caches are unseeded.
//!
//! std seeds its `RandomState` keys once per OS thread (one `getrandom`, then each
//! `RandomState::new()` adds one to a key), and everything seeded from `RandomState`
//! inherits that. So a run is identical alone and after other runs only if it is the
//! first thing on its thread to draw entropy. The hooks mark a thread the moment it
//! draws any (in a run or not); [`run_on_clean_thread`] runs a [`Sim`] right here while
//! the thread is unmarked, and on a fresh, joined thread otherwise. Without the guards
//! it always runs here: no thread, no cost.

use crate::Sim;
use std::cell::Cell;

thread_local! {
    /// invariant: true once `getrandom`/`getentropy` returned on this thread.
    static DREW_ENTROPY: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as one whose per-thread RNG caches may be seeded (the hooks call
/// this; a no-op while the thread's locals are being destroyed).
#[cfg_attr(
    not(all(feature = "std-guards", target_os = "linux")),
    allow(dead_code)
)]
pub(crate) fn mark_entropy_drawn() {
    let _ = DREW_ENTROPY.try_with(|d| d.set(true));
}

/// True if this thread drew entropy since it started.
pub(crate) fn drew_entropy() -> bool {
    DREW_ENTROPY.try_with(Cell::get).unwrap_or(true)
}

/// Runs `run(sim)` here if the guards are off or this thread never drew entropy, else
/// on a fresh thread that this one waits for (the harness's single place where runs
/// start: `Scenario`).
pub(crate) fn run_on_clean_thread<T, F>(sim: Sim, run: F) -> T
where
    T: Send,
    F: FnOnce(Sim) -> T + Send,
{
    if !super::ENABLED || !drew_entropy() {
        return run(sim);
    }
    sim_on_fresh_thread(sim, run)
}

/// A `Sim` moved to a thread that the sending thread waits for.
struct SimOnJoinedThread(Sim);

// SAFETY: a `Sim` is not `Send` only because a strategy may share state with its
// creator through `Rc`/`RefCell` (DFS's search tree). `sim_on_fresh_thread` moves the `Sim`
// to a scoped thread and blocks the calling thread in `join` until that thread is done
// with it (the run consumes and drops it there), so the two threads never touch that
// shared state at the same time, and spawning and joining order their accesses
// (happens-before). Nothing in a `Sim` is bound to its OS thread: its config, schedule,
// trace stream and node factories are `Send`, detsim's strategies hold plain data and
// `Rc`s, and `Strategy`'s docs forbid a user's strategy thread-bound values (lock
// guards). Tested by `a_strategy_sharing_an_rc_runs_on_a_fresh_thread`.
unsafe impl Send for SimOnJoinedThread {}

impl SimOnJoinedThread {
    /// A method, not `.0`: a closure then captures the whole (`Send`) wrapper.
    fn into_inner(self) -> Sim {
        self.0
    }
}

/// Runs `run(sim)` on a fresh thread that this one waits for.
pub(crate) fn sim_on_fresh_thread<T, F>(sim: Sim, run: F) -> T
where
    T: Send,
    F: FnOnce(Sim) -> T + Send,
{
    let sim = SimOnJoinedThread(sim);
    fresh_thread(move || run(sim.into_inner()))
}

/// Runs `f` on a new thread named like this one, waits for it, and returns its value (a
/// panic there is resumed here). This is how to call [`Sim::run`] directly under the
/// std guards and get the same run whatever ran on this thread before: build the `Sim`
/// and the future inside `f`. Campaigns, `check`, `check_determinism`,
/// `#[detsim::test]` and the command line do it for you.
///
/// ```
/// use detsim::{Config, Sim};
/// let order = |seed| detsim::guards::fresh_thread(move || {
///     Sim::new(Config::default().seed(seed)).run(async {
///         let set: std::collections::HashSet<u32> = (0..8).collect();
///         set.into_iter().collect::<Vec<_>>()
///     }).result.unwrap()
/// });
/// if detsim::guards::ENABLED {
///     assert_eq!(order(1), order(1)); // HashSet order is the seed's
/// }
/// ```
pub fn fresh_thread<T, F>(f: F) -> T
where
    T: Send,
    F: FnOnce() -> T + Send,
{
    let mut builder = std::thread::Builder::new();
    if let Some(name) = std::thread::current().name() {
        builder = builder.name(name.to_owned());
    }
    std::thread::scope(|scope| {
        let thread = builder
            .spawn_scoped(scope, f)
            .expect("detsim: spawning a fresh thread for a run");
        thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::{Candidates, Random, Strategy};
    use crate::{Config, StrategyRng};
    use std::rc::Rc;

    /// Counts its picks in a cell shared with the test, like DFS's search tree.
    #[derive(Debug)]
    struct Counting(Rc<Cell<u32>>);

    impl Strategy for Counting {
        fn pick(&mut self, c: &Candidates<'_>, rng: &mut StrategyRng) -> usize {
            self.0.set(self.0.get() + 1);
            Random.pick(c, rng)
        }
    }

    #[test]
    fn a_strategy_sharing_an_rc_runs_on_a_fresh_thread() {
        let picks = Rc::new(Cell::new(0));
        let here = std::thread::current().id();
        let sim = Sim::new(Config::default().seed(4)).strategy(Box::new(Counting(picks.clone())));
        let (thread, steps) = sim_on_fresh_thread(sim, |sim| {
            let out = sim.run(async {
                let a = crate::spawn(crate::task::yield_now());
                let b = crate::spawn(crate::task::yield_now());
                a.await.unwrap();
                b.await.unwrap();
            });
            (std::thread::current().id(), out.stats.steps)
        });
        assert_ne!(thread, here, "the run had its own thread");
        assert!(picks.get() > 0 && u64::from(picks.get()) <= steps);
        assert_eq!(
            Rc::strong_count(&picks),
            1,
            "the strategy was dropped there"
        );
    }

    #[test]
    fn without_entropy_drawn_a_run_stays_here() {
        // A fresh thread, so that nothing on the test's thread has drawn entropy.
        fresh_thread(|| {
            let here = std::thread::current().id();
            let sim = Sim::new(Config::default());
            let there = run_on_clean_thread(sim, |_| std::thread::current().id());
            assert_eq!(there, here);
            mark_entropy_drawn();
            assert!(drew_entropy());
            let sim = Sim::new(Config::default());
            let there = run_on_clean_thread(sim, |_| std::thread::current().id());
            assert_eq!(there == here, !super::super::ENABLED);
        });
    }

    #[test]
    fn a_panic_on_the_fresh_thread_reaches_the_caller() {
        let sim = Sim::new(Config::default());
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            sim_on_fresh_thread(sim, |_| -> () { panic!("harness bug") })
        }));
        let payload = caught.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"harness bug"));
    }
}
