//! [`run_threads`]: an [`Explorer`] driven on J threads under the watchdog.
//!
//! Threads take plans from the explorer (behind one lock), run them with the shared
//! [`Runner`] outside it, and hand the outcomes back. A thread told to wait sleeps on a
//! condvar until an outcome (or a hang) arrives. The watchdog ([`Threads`]) reports
//! runs past the limit: the explorer records each as a hang, the stuck thread is
//! abandoned and replaced — up to [`MAX_HUNG`] times, then the campaign gives up.
//! Stop flags (Ctrl-C, `--time`) are checked between runs. A runner that panics (a
//! harness bug: runs catch their tasks' panics) stops every thread, and the panic is
//! resumed on the caller — never a campaign waiting forever for a plan that died.

// `--time` is a wall-clock budget checked between runs, and waits have a timeout.
#![allow(clippy::disallowed_methods)]

use super::explorer::{Explorer, Next, Runner};
use super::watchdog::{Hung, Slot, Threads};
use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Hung runs an executor abandons a thread to before it gives up: each keeps a core busy
/// until the process exits.
pub(crate) const MAX_HUNG: usize = 8;

/// How often a waiting thread looks at the stop flags.
const WAIT_TICK: Duration = Duration::from_millis(50);

/// When to stop early.
#[derive(Clone, Debug)]
pub(crate) struct Stops {
    /// Set by Ctrl-C.
    pub(crate) interrupt: Arc<AtomicBool>,
    /// `--time`.
    pub(crate) deadline: Option<Instant>,
    /// Hangs to abandon a thread to before giving up (at most [`MAX_HUNG`]; fewer when
    /// runs before the executor's already hung).
    pub(crate) hangs_left: usize,
}

/// Why the executor stopped handing out plans (when the explorer did not end first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Halt {
    /// The explorer said done.
    Done,
    /// Ctrl-C.
    Interrupted,
    /// `--time` ran out.
    TimeLimit,
    /// [`MAX_HUNG`] runs hung.
    GaveUp,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Pool<E, R> {
    // `None` only after `run_threads` took it back.
    explorer: Mutex<Option<E>>,
    changed: Condvar,
    runner: R,
    threads: Threads,
    watched: bool,
    stops: Stops,
    hangs: AtomicUsize,
    gave_up: AtomicBool,
    /// Set when a thread was told `Done`: every plan was handed out.
    saw_done: AtomicBool,
    /// The first stop flag a thread saw when it asked for work.
    stopped_by: Mutex<Option<Halt>>,
    /// The payload of a runner that panicked.
    panicked: Mutex<Option<Box<dyn Any + Send>>>,
}

/// Drives `explorer` with `runner` on `jobs` threads, each run under `watchdog`; returns
/// the explorer (to build its report) and why plans stopped being handed out.
pub(crate) fn run_threads<E, R>(
    explorer: E,
    runner: R,
    jobs: usize,
    watchdog: Option<Duration>,
    stops: Stops,
) -> (E, Halt)
where
    E: Explorer,
    R: Runner<Plan = E::Plan, Outcome = E::Outcome>,
{
    let pool = Arc::new(Pool {
        explorer: Mutex::new(Some(explorer)),
        changed: Condvar::new(),
        runner,
        threads: Threads::default(),
        watched: watchdog.is_some(),
        stops,
        hangs: AtomicUsize::new(0),
        gave_up: AtomicBool::new(false),
        saw_done: AtomicBool::new(false),
        stopped_by: Mutex::new(None),
        panicked: Mutex::new(None),
    });
    for _ in 0..jobs.max(1) {
        spawn_worker(&pool);
    }
    pool.threads.watch(watchdog, |hung| {
        for (run, elapsed) in hung {
            let limit = watchdog.unwrap_or(elapsed);
            if let Some(e) = lock(&pool.explorer).as_mut() {
                e.hung(run.index, Hung { limit, elapsed });
            }
            pool.changed.notify_all();
            if pool.hangs.fetch_add(1, Ordering::Relaxed) + 1 >= pool.stops.hangs_left {
                pool.gave_up.store(true, Ordering::Relaxed);
            } else {
                spawn_worker(&pool);
            }
        }
    });
    if let Some(payload) = lock(&pool.panicked).take() {
        std::panic::resume_unwind(payload);
    }
    let halt = pool.halt();
    // Abandoned (hung) threads may still hold the pool, but never touch the explorer
    // again: their slots are abandoned, so they report nothing.
    let explorer = lock(&pool.explorer).take();
    (explorer.expect("the explorer is taken once"), halt)
}

fn spawn_worker<E, R>(pool: &Arc<Pool<E, R>>)
where
    E: Explorer,
    R: Runner<Plan = E::Plan, Outcome = E::Outcome>,
{
    let slot = pool.threads.add();
    let p = pool.clone();
    let spawned = std::thread::Builder::new()
        .name("detsim-campaign".into())
        .spawn(move || {
            p.worker(&slot);
            p.threads.exit(&slot);
            p.changed.notify_all();
        });
    if let Err(e) = spawned {
        panic!("detsim: cannot start a campaign thread: {e}");
    }
}

impl<E, R> Pool<E, R>
where
    E: Explorer,
    R: Runner<Plan = E::Plan, Outcome = E::Outcome>,
{
    fn worker(&self, slot: &Slot) {
        while let Some(plan) = self.claim() {
            let id = E::ident(&plan);
            if self.watched {
                slot.start(id);
            }
            let run = std::panic::catch_unwind(AssertUnwindSafe(|| self.runner.run(plan)));
            let outcome = match run {
                Ok(outcome) => outcome,
                Err(payload) => {
                    // A harness bug (runs catch their tasks' panics): stop every thread
                    // and hand the panic to the caller.
                    lock(&self.panicked).get_or_insert(payload);
                    self.gave_up.store(true, Ordering::Relaxed);
                    slot.finish();
                    self.changed.notify_all();
                    return;
                }
            };
            if self.watched && !slot.finish() {
                return; // the watchdog recorded it as hung
            }
            if let Some(e) = lock(&self.explorer).as_mut() {
                e.outcome(id, outcome);
            }
            self.changed.notify_all();
        }
    }

    /// The next plan, waiting while the explorer says so; none once stopped or done.
    fn claim(&self) -> Option<E::Plan> {
        let mut explorer = lock(&self.explorer);
        loop {
            if let Some(halt) = self.stop_flag() {
                lock(&self.stopped_by).get_or_insert(halt);
                return None;
            }
            match explorer.as_mut()?.next() {
                Next::Run(plan) => return Some(plan),
                Next::Done => {
                    self.saw_done.store(true, Ordering::Relaxed);
                    return None;
                }
                Next::Wait => {
                    explorer = self
                        .changed
                        .wait_timeout(explorer, WAIT_TICK)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
            }
        }
    }

    /// The stop flag that is up, if any.
    fn stop_flag(&self) -> Option<Halt> {
        if self.gave_up.load(Ordering::Relaxed) {
            Some(Halt::GaveUp)
        } else if self.stops.interrupt.load(Ordering::Relaxed) {
            Some(Halt::Interrupted)
        } else if self.stops.deadline.is_some_and(|d| Instant::now() >= d) {
            Some(Halt::TimeLimit)
        } else {
            None
        }
    }

    /// Why plans stopped: giving up first, then the explorer being done (every plan
    /// handed out returns, as threads check flags only between runs), then the first
    /// flag a thread saw.
    fn halt(&self) -> Halt {
        if self.gave_up.load(Ordering::Relaxed) {
            Halt::GaveUp
        } else if self.saw_done.load(Ordering::Relaxed) {
            Halt::Done
        } else {
            lock(&self.stopped_by).unwrap_or(Halt::Done)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::explorer::Explorer;

    /// Hands out 0..n, and waits for all before saying done (like DFS).
    #[derive(Debug)]
    struct Count {
        next: u64,
        n: u64,
        out: u64,
        seen: Vec<u64>,
    }

    impl Explorer for Count {
        type Plan = u64;
        type Outcome = u64;
        fn next(&mut self) -> Next<u64> {
            if self.next < self.n {
                self.next += 1;
                self.out += 1;
                Next::Run(self.next - 1)
            } else if self.out > 0 {
                Next::Wait
            } else {
                Next::Done
            }
        }
        fn ident(plan: &u64) -> u64 {
            *plan
        }
        fn outcome(&mut self, _: u64, v: u64) {
            self.out -= 1;
            self.seen.push(v);
        }
        fn hung(&mut self, _: u64, _: Hung) {
            self.out -= 1;
        }
    }

    struct Square(Option<u64>);

    impl Runner for Square {
        type Plan = u64;
        type Outcome = u64;
        fn run(&self, plan: u64) -> u64 {
            assert_ne!(Some(plan), self.0, "runner bug at {plan}");
            plan * plan
        }
    }

    fn stops() -> Stops {
        Stops {
            interrupt: Arc::default(),
            deadline: None,
            hangs_left: MAX_HUNG,
        }
    }

    fn count(n: u64) -> Count {
        Count {
            next: 0,
            n,
            out: 0,
            seen: Vec::new(),
        }
    }

    #[test]
    fn every_plan_runs_once_on_any_thread_count() {
        for jobs in [1, 2, 5] {
            let (mut c, halt) = run_threads(count(500), Square(None), jobs, None, stops());
            c.seen.sort_unstable();
            assert_eq!(c.seen, (0..500).map(|i| i * i).collect::<Vec<_>>());
            assert_eq!(halt, Halt::Done);
        }
    }

    #[test]
    fn a_runner_panic_reaches_the_caller_instead_of_a_hung_campaign() {
        let caught = std::panic::catch_unwind(|| {
            run_threads(
                count(500),
                Square(Some(77)),
                3,
                Some(Duration::from_secs(60)),
                stops(),
            )
        });
        let payload = caught.expect_err("the panic is resumed");
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(message.contains("runner bug at 77"), "{message}");
    }

    #[test]
    fn an_interrupt_stops_handing_out_plans() {
        let s = stops();
        s.interrupt.store(true, Ordering::Relaxed);
        let (c, halt) = run_threads(count(500), Square(None), 2, None, s);
        assert!(c.seen.is_empty());
        assert_eq!(halt, Halt::Interrupted);
    }
}
