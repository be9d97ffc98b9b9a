//! The run's per-task vectors (status, futures, names, ready list, slab, workers), kept
//! on the thread when a run ends and handed to the thread's next run, emptied.
//!
//! Why: a campaign runs the same program thousands of times on each thread, and every
//! run used to allocate these six vectors afresh and free them at its end — a sixth of
//! an empty run's instructions (W4e: ~880 of ~5,700, most of it glibc's `free`), and
//! for a run with many tasks, every growth step's copy and the fresh pages' faults
//! again (100,000 tasks: ~8 MB of vectors). `spare.rs` does the same for the trace's
//! and choice log's chunks.
//!
//! What it is not: simulation state. A vector is handed out empty (`len` 0) and only its
//! capacity is reused; nothing in a run reads an element it did not push, or depends
//! on a capacity or an address (`runs_after_other_runs_on_the_thread_are_unchanged` in
//! `tests/runtime_core.rs` compares runs after others with runs on a fresh thread).
//! A thread keeps one set, at most [`KEEP_TASKS`] tasks' worth per vector (~10 MB);
//! larger ones are freed as before.

use super::cell::{FutPtr, TaskBox};
use super::core::{Sched, Status, TaskMeta};
use crate::strategy::Queued;
use std::cell::Cell;

/// The most entries a kept vector may hold room for: 2^17, the capacity a run of up to
/// 131,072 tasks grows its vectors to (81 bytes per task in all: ~10.6 MB).
pub(super) const KEEP_TASKS: usize = 1 << 17;

/// What a new run starts with (most fuzzed programs have a handful of tasks).
const INITIAL: usize = 16;

/// A run's per-task vectors, empty.
pub(super) struct Buffers {
    pub(super) status: Vec<Status>,
    pub(super) futures: Vec<FutPtr>,
    pub(super) meta: Vec<TaskMeta>,
    pub(super) ready: Vec<Queued>,
    pub(super) slab: Vec<Option<TaskBox>>,
    pub(super) busy_until: Vec<u64>,
}

thread_local! {
    static KEPT: Cell<Option<Buffers>> = const { Cell::new(None) };
}

impl Buffers {
    fn new() -> Self {
        Buffers {
            status: Vec::with_capacity(INITIAL),
            futures: Vec::with_capacity(INITIAL),
            meta: Vec::with_capacity(INITIAL),
            ready: Vec::with_capacity(INITIAL),
            slab: Vec::with_capacity(INITIAL),
            busy_until: Vec::new(),
        }
    }

    /// The thread's kept vectors (or new ones), empty, with `workers` idle workers.
    pub(super) fn take(workers: usize) -> Self {
        let kept = KEPT.try_with(Cell::take).ok().flatten();
        let mut buffers = kept.unwrap_or_else(Buffers::new);
        buffers.busy_until.resize(workers, 0);
        buffers
    }

    /// A finished run's vectors.
    pub(super) fn of(sched: Sched, slab: Vec<Option<TaskBox>>) -> Self {
        Buffers {
            status: sched.status,
            futures: sched.futures,
            meta: sched.meta,
            ready: sched.ready.entries,
            slab,
            busy_until: sched.busy_until,
        }
    }

    /// Keeps these vectors for the thread's next run: emptied (dropping what they
    /// hold), each freed instead if it grew past [`KEEP_TASKS`].
    pub(super) fn give(mut self) {
        empty(&mut self.status);
        empty(&mut self.futures);
        empty(&mut self.meta);
        empty(&mut self.ready);
        empty(&mut self.slab);
        empty(&mut self.busy_until);
        // Outside the thread's lifetime (its locals being destroyed) they are freed.
        let _ = KEPT.try_with(move |kept| kept.set(Some(self)));
    }
}

/// Frees this thread's kept vectors; the bytes freed (`Sim::release_thread_memory`).
pub(super) fn release() -> usize {
    let kept = KEPT.try_with(Cell::take).ok().flatten();
    kept.map_or(0, |b| {
        bytes(&b.status)
            + bytes(&b.futures)
            + bytes(&b.meta)
            + bytes(&b.ready)
            + bytes(&b.slab)
            + bytes(&b.busy_until)
    })
}

fn bytes<T>(v: &Vec<T>) -> usize {
    v.capacity() * std::mem::size_of::<T>()
}

/// Clears `v`, and frees it if it holds room for more than [`KEEP_TASKS`].
fn empty<T>(v: &mut Vec<T>) {
    if v.capacity() > KEEP_TASKS {
        *v = Vec::new();
    } else {
        v.clear();
    }
}

/// The capacities this thread keeps (tests): status, slab; `None` if nothing is kept.
#[cfg(test)]
pub(super) fn kept_capacity() -> Option<(usize, usize)> {
    KEPT.with(|kept| {
        let buffers = kept.take()?;
        let capacities = (buffers.status.capacity(), buffers.slab.capacity());
        kept.set(Some(buffers));
        Some(capacities)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Sim, TraceMode};

    fn run(tasks: usize, workers: usize) -> crate::Outcome<usize> {
        let config = Config::default()
            .seed(7)
            .workers(workers)
            .trace(TraceMode::Full);
        Sim::new(config).run(async move {
            let handles: Vec<_> = (0..tasks)
                .map(|i| {
                    crate::task::spawn_named(format!("t{i}"), async move {
                        crate::task::yield_now().await;
                        i
                    })
                })
                .collect();
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        })
    }

    /// A run's trace text and fingerprint.
    fn seen(tasks: usize, workers: usize) -> (String, u64) {
        let out = run(tasks, workers);
        assert_eq!(*out.result.as_ref().unwrap(), tasks * (tasks - 1) / 2);
        (out.trace.to_string(), out.fingerprint)
    }

    #[test]
    fn a_run_leaves_its_vectors_empty_for_the_next_and_frees_huge_ones() {
        // Fresh threads of the test's own (outside any run): nothing kept on them.
        let two_workers = std::thread::spawn(|| seen(1000, 2)).join().unwrap();
        std::thread::spawn(move || {
            assert_eq!(kept_capacity(), None, "a fresh thread keeps nothing");
            let first = seen(1000, 4);
            let (status, slab) = kept_capacity().expect("kept after a run");
            assert!(status >= 1001 && slab >= 1001, "{status} {slab}");
            // The next runs start from them, emptied: the same runs, event for event,
            // as on a fresh thread, with fewer workers than the last run had or more.
            assert_eq!(seen(1000, 2), two_workers);
            assert_eq!(seen(1000, 4), first);
            // While a run holds the vectors the thread keeps none: a run inside a task
            // (another simulation) takes fresh ones.
            let mut taken = Buffers::take(3);
            assert_eq!(kept_capacity(), None);
            assert_eq!(taken.busy_until, vec![0, 0, 0]);
            taken.status.reserve(KEEP_TASKS + 1);
            taken.give();
            let (status, _) = kept_capacity().unwrap();
            assert_eq!(status, 0, "a vector past the cap is freed");
        })
        .join()
        .unwrap();
    }
}
