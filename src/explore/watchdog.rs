//! The wall-clock watchdog: every run a campaign starts has a real-time limit.
//!
//! A run stuck in a synchronous loop (no `.await`) never returns to the step loop, so
//! no step or virtual-time limit can stop it. A thread cannot be killed safely, so the
//! watchdog does the next best thing: it names the seed, lets the campaign save it and
//! report, and abandons the stuck thread (the CLI's process exit ends it; `isolate` mode
//! avoids even that by running each seed in a child process). This is the one place
//! besides progress reporting and isolate waits where detsim reads the real clock.
//!
//! Two shapes, one rule ("a run past the limit is a hang, never a hung campaign"):
//! - [`run_guarded`]: one run on a fresh thread, waited for with a timeout — seeds-file
//!   regressions, resumed in-flight seeds, full-trace re-runs, shrink candidates,
//!   `check()`'s `DETSIM_SEED` replay, PCT's calibration run.
//! - [`Threads`] + [`Slot`]: the campaign pool. Each thread says which run it is in; the
//!   watching thread sleeps on a condvar until the earliest deadline or until a thread
//!   exits, so a campaign ends as soon as its work ends (no polling tick).
//!
//! Invariants:
//! 1. A slot is abandoned at most once, by whoever gets there first under its lock:
//!    the watchdog (its run overstayed) or its own thread (it exited). That one step
//!    decrements the live count, so the count is exact and the watcher never waits for
//!    a thread it gave up on.
//! 2. A run whose slot was abandoned reports nothing: its hang was already recorded.
//! 3. Every run past the limit at a check is returned, lowest index first.

// The watchdog measures real time by design (see above); runs never see it.
#![allow(clippy::disallowed_methods)]

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// A run went past the watchdog's limit and was abandoned (its thread keeps running
/// until the process exits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
// The message leaves out `elapsed`: it is timing noise, and reports are compared
// across thread counts.
#[error("the run went past the watchdog of {limit:?} without returning: a synchronous loop with no await?")]
pub struct Hung {
    /// The limit.
    pub limit: Duration,
    /// Wall time when it was given up on.
    pub elapsed: Duration,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `f` under the watchdog: on its own thread, waited for at most `limit`. Without
/// a limit it runs on the calling thread. A panic of `f` (a harness bug: runs catch
/// their tasks' panics) is resumed on the caller.
pub(crate) fn run_guarded<T, F>(limit: Option<Duration>, f: F) -> Result<T, Hung>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let Some(limit) = limit else { return Ok(f()) };
    let (tx, rx) = mpsc::sync_channel(1);
    let started = Instant::now();
    let handle = std::thread::Builder::new()
        .name("detsim-guarded-run".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawning a guarded run's thread");
    match rx.recv_timeout(limit) {
        Ok(value) => {
            let _ = handle.join();
            Ok(value)
        }
        // The thread is abandoned (detached by dropping its handle).
        Err(RecvTimeoutError::Timeout) => Err(Hung {
            limit,
            elapsed: started.elapsed(),
        }),
        Err(RecvTimeoutError::Disconnected) => match handle.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => unreachable!("a guarded run that returned sent its value"),
        },
    }
}

/// The run a campaign thread is in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Running {
    /// The run's plan number (a seed's index in the campaign's plan, a DFS plan's id).
    pub(crate) index: u64,
    started: Instant,
}

#[derive(Debug, Default)]
struct SlotState {
    running: Option<Running>,
    // invariant: set once (rule 1); the live count no longer includes this slot.
    abandoned: bool,
}

/// What one campaign thread tells the watchdog.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    state: Mutex<SlotState>,
}

impl Slot {
    pub(crate) fn start(&self, index: u64) {
        lock(&self.state).running = Some(Running {
            index,
            started: Instant::now(),
        });
    }

    /// Ends the current run; false if the watchdog gave up on it (rule 2).
    pub(crate) fn finish(&self) -> bool {
        let mut s = lock(&self.state);
        s.running = None;
        !s.abandoned
    }

    fn deadline(&self, limit: Duration) -> Option<Instant> {
        let s = lock(&self.state);
        s.running
            .filter(|_| !s.abandoned)
            .map(|r| r.started + limit)
    }
}

/// The live threads of a campaign and their slots.
#[derive(Debug, Default)]
pub(crate) struct Threads {
    live: Mutex<usize>,
    exited: Condvar,
    slots: Mutex<Vec<Arc<Slot>>>,
}

impl Threads {
    /// Registers a thread about to start; its slot.
    pub(crate) fn add(&self) -> Arc<Slot> {
        let slot = Arc::new(Slot::default());
        lock(&self.slots).push(slot.clone());
        *lock(&self.live) += 1;
        slot
    }

    /// The thread of `slot` is done (rule 1: unless the watchdog already gave up on it).
    pub(crate) fn exit(&self, slot: &Slot) {
        if self.abandon(slot) {
            self.exited.notify_all();
        }
    }

    /// Marks `slot` abandoned and drops it from the live count; false if it already was.
    fn abandon(&self, slot: &Slot) -> bool {
        let mut s = lock(&slot.state);
        if s.abandoned {
            return false;
        }
        s.abandoned = true;
        *lock(&self.live) -= 1;
        true
    }

    /// Runs past `limit`, abandoned, lowest index first (rule 3).
    fn overstays(&self, limit: Duration) -> Vec<(Running, Duration)> {
        let slots = lock(&self.slots).clone();
        let mut hung = Vec::new();
        for slot in slots {
            let mut s = lock(&slot.state);
            let Some(run) = s.running.filter(|_| !s.abandoned) else {
                continue;
            };
            let elapsed = run.started.elapsed();
            if elapsed > limit {
                s.abandoned = true;
                *lock(&self.live) -= 1;
                hung.push((run, elapsed));
            }
        }
        hung.sort_by_key(|(r, _)| r.index);
        hung
    }

    /// How long to sleep before the next run could overstay.
    fn next_check(&self, limit: Duration) -> Duration {
        let slots = lock(&self.slots).clone();
        let now = Instant::now();
        slots
            .iter()
            .filter_map(|s| s.deadline(limit))
            .min()
            // A run started after this look cannot overstay before `now + limit`.
            .map_or(limit, |d| d.saturating_duration_since(now))
            + Duration::from_millis(1)
    }

    /// Waits until every live thread has exited. With a `limit`, each batch of runs past
    /// it goes to `on_hang` (which may [`Threads::add`] replacements) as soon as it
    /// overstays; without one, this only waits.
    pub(crate) fn watch(
        &self,
        limit: Option<Duration>,
        mut on_hang: impl FnMut(Vec<(Running, Duration)>),
    ) {
        loop {
            let timeout = limit.map(|l| self.next_check(l));
            {
                let live = lock(&self.live);
                if *live == 0 {
                    return;
                }
                let _unused = match timeout {
                    Some(t) => {
                        self.exited
                            .wait_timeout(live, t)
                            .unwrap_or_else(PoisonError::into_inner)
                            .0
                    }
                    None => self
                        .exited
                        .wait(live)
                        .unwrap_or_else(PoisonError::into_inner),
                };
            }
            if let Some(limit) = limit {
                let hung = self.overstays(limit);
                if !hung.is_empty() {
                    on_hang(hung);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn a_guarded_run_returns_its_value_or_hangs() {
        assert_eq!(run_guarded(Some(Duration::from_secs(5)), || 7), Ok(7));
        assert_eq!(run_guarded(None, || 8), Ok(8));
        static RELEASE: AtomicBool = AtomicBool::new(false);
        let hung = run_guarded(Some(Duration::from_millis(50)), || {
            while !RELEASE.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(1));
            }
        })
        .unwrap_err();
        RELEASE.store(true, Ordering::Relaxed);
        assert!(hung.elapsed >= Duration::from_millis(50), "{hung:?}");
    }

    #[test]
    fn watching_ends_as_soon_as_the_threads_end() {
        let threads = Arc::new(Threads::default());
        let slot = threads.add();
        let t = threads.clone();
        let handle = std::thread::spawn(move || {
            slot.start(0);
            assert!(slot.finish());
            t.exit(&slot);
        });
        let started = Instant::now();
        threads.watch(Some(Duration::from_secs(10)), |_| panic!("no hang"));
        handle.join().unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn every_overstaying_run_is_reported_lowest_first() {
        static RELEASE: AtomicBool = AtomicBool::new(false);
        let threads = Arc::new(Threads::default());
        let mut handles = Vec::new();
        // The higher index starts first, so it overstays first.
        for (index, delay) in [(33u64, 0u64), (3, 30)] {
            let slot = threads.add();
            let t = threads.clone();
            handles.push(std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(delay));
                slot.start(index);
                while !RELEASE.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                assert!(!slot.finish(), "abandoned runs report nothing");
                t.exit(&slot);
            }));
        }
        let mut seen = Vec::new();
        threads.watch(Some(Duration::from_millis(100)), |hung| {
            seen.extend(hung.iter().map(|(r, _)| r.index));
        });
        RELEASE.store(true, Ordering::Relaxed);
        for h in handles {
            h.join().unwrap();
        }
        seen.sort_unstable();
        assert_eq!(seen, vec![3, 33]);
    }
}
