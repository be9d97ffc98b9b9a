//! Task wakers, and the detection of wakes from foreign OS threads.
//!
//! A task's waker is its identity and nothing else: the data word of the `RawWaker`
//! holds the run id (high 32 bits) and the task id (low 32 bits), and the vtable is
//! [`VTABLE`]. So making, cloning and dropping a waker allocate nothing and touch no
//! memory, and waking one touches only the run's own state — with 100,000 live tasks
//! that is the difference between a cache miss per wake and none.
//!
//! A waker must be `Send + Sync` (that is the `std::task::Waker` contract), so user code
//! *can* move one to a real thread. Inside a simulation that is a determinism leak: the
//! wake would land at a wall-clock-dependent moment. So a wake first checks that the
//! calling thread is running *this* run (the thread-local context); if not, it never
//! touches the run's state (which is not thread-safe). Instead it looks the run up in
//! [`LIVE`] (the registry of running runs, by id) and raises the flag in its [`Shared`],
//! which the step loop turns into [`crate::Failure::ForeignWake`].
//!
//! Invariants:
//! 1. A waker with vtable [`VTABLE`] is never dereferenced: its data word is two ids.
//! 2. `LIVE` holds a run's [`Shared`] exactly while [`Registration`] lives (the run).
//! 3. Run ids are compared modulo 2^32 (the width they have in a waker); a waker would
//!    have to outlive four billion runs on one process to be mistaken for another's.

use super::context;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{RawWaker, RawWakerVTable, Waker};

#[cfg(not(target_pointer_width = "64"))]
compile_error!("detsim's task wakers pack a run id and a task id into a pointer-sized word: a 64-bit target is needed");

/// The only part of a run that other threads may touch.
#[derive(Debug, Default)]
pub(super) struct Shared {
    foreign: AtomicBool,
    detail: Mutex<Option<(u32, String)>>,
}

impl Shared {
    /// True once any foreign wake happened (cheap: checked every step).
    #[inline]
    pub(super) fn any_foreign_wake(&self) -> bool {
        self.foreign.load(Ordering::Relaxed)
    }

    /// The first foreign wake: task id and thread name.
    pub(super) fn foreign_wake(&self) -> Option<(u32, String)> {
        if !self.foreign.load(Ordering::Relaxed) {
            return None;
        }
        self.detail
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn report(&self, task: u32) {
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("<unnamed>").to_string();
        let mut detail = self.detail.lock().unwrap_or_else(|e| e.into_inner());
        if detail.is_none() {
            *detail = Some((task, name));
        }
        self.foreign.store(true, Ordering::Relaxed);
    }
}

/// The runs in progress in this process, by (32-bit) run id: where a foreign wake finds
/// the run to flag. Process-wide, like the run counter, and like it outside every trace.
static LIVE: Mutex<BTreeMap<u32, Arc<Shared>>> = Mutex::new(BTreeMap::new());

/// Keeps a run's [`Shared`] in [`LIVE`] while the run lasts (invariant 2).
#[derive(Debug)]
pub(super) struct Registration(u32);

impl Registration {
    pub(super) fn new(sim: u64, shared: &Arc<Shared>) -> Self {
        let id = sim as u32;
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        live.insert(id, shared.clone());
        Registration(id)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        live.remove(&self.0);
    }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, drop);

#[inline]
fn pack(sim: u64, task: u32) -> *const () {
    ((sim << 32) | task as u64) as usize as *const ()
}

#[inline]
fn unpack(data: *const ()) -> (u32, u32) {
    let bits = data as usize as u64;
    ((bits >> 32) as u32, bits as u32)
}

unsafe fn clone(data: *const ()) -> RawWaker {
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    let (sim, task) = unpack(data);
    let handled = context::try_with(|core| {
        let mine = core.id as u32 == sim;
        if mine {
            core.wake(task);
        }
        mine
    });
    if handled != Some(true) {
        report_foreign(sim, task);
    }
}

unsafe fn drop(_: *const ()) {}

#[cold]
fn report_foreign(sim: u32, task: u32) {
    let shared = {
        let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        live.get(&sim).cloned()
    };
    // A run that is over has nobody left to tell.
    if let Some(shared) = shared {
        shared.report(task);
    }
}

/// The waker of task `task` in run `sim`.
#[inline]
pub(super) fn task_waker(sim: u64, task: u32) -> Waker {
    // SAFETY: every function of VTABLE is sound for any data word: none dereferences it
    // (invariant 1), `clone` returns the same word with the same vtable, `drop` does
    // nothing, and `wake` only reads thread-local and locked process-wide state, so it
    // is `Send + Sync` as the `Waker` contract requires.
    unsafe { Waker::from_raw(RawWaker::new(pack(sim, task), &VTABLE)) }
}

/// The task a waker of run `sim` wakes, if it is one of that run's task wakers.
#[inline]
pub(super) fn task_of(sim: u64, waker: &Waker) -> Option<u32> {
    if !std::ptr::eq(waker.vtable(), &VTABLE) {
        return None;
    }
    let (s, task) = unpack(waker.data());
    (s == sim as u32).then_some(task)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_waker_is_its_two_ids() {
        let w = task_waker(7 | (1 << 40), 42);
        assert_eq!(task_of(7 | (1 << 40), &w), Some(42));
        assert_eq!(task_of(8, &w), None);
        let c = w.clone();
        assert!(c.will_wake(&w));
        assert!(!task_waker(7, 43).will_wake(&w));
        assert_eq!(task_of(7, &futures::task::noop_waker()), None);
        std::mem::drop(c);
        std::mem::drop(w);
    }

    #[test]
    fn a_foreign_wake_flags_its_live_run_only() {
        let shared = Arc::new(Shared::default());
        let reg = Registration::new(900_001, &shared);
        let w = task_waker(900_001, 5);
        std::thread::Builder::new()
            .name("intruder".into())
            .spawn(move || w.wake())
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(shared.foreign_wake(), Some((5, "intruder".to_string())));
        std::mem::drop(reg);
        // After the run, a wake finds no run to flag (and does not panic).
        task_waker(900_001, 6).wake();
        assert!(!LIVE.lock().unwrap().contains_key(&(900_001u64 as u32)));
    }
}
