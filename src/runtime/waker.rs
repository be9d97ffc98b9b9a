//! Task wakers, and the detection of wakes from foreign OS threads.
//!
//! A waker must be `Send + Sync` (that is the `std::task::Waker` contract), so user code
//! *can* move one to a real thread. Inside a simulation that is a determinism leak: the
//! wake would land at a wall-clock-dependent moment. So a wake first checks that the
//! calling thread is running *this* simulation; if not, it never touches the run's state
//! (which is not thread-safe) and instead raises a flag in [`Shared`], which the step
//! loop turns into [`crate::Failure::ForeignWake`].

use super::context;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Wake, Waker};

/// The only part of a run that other threads may touch.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    foreign: AtomicBool,
    detail: Mutex<Option<(u32, String)>>,
}

impl Shared {
    /// True once any foreign wake happened (cheap: checked every step).
    #[inline]
    pub(crate) fn any_foreign_wake(&self) -> bool {
        self.foreign.load(Ordering::Relaxed)
    }

    /// The first foreign wake: task id and thread name.
    pub(crate) fn foreign_wake(&self) -> Option<(u32, String)> {
        if !self.foreign.load(Ordering::Relaxed) {
            return None;
        }
        self.detail
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

struct TaskWaker {
    sim: u64,
    task: u32,
    shared: Arc<Shared>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let handled = context::try_with(|core| {
            if core.id == self.sim {
                core.wake(self.task);
                true
            } else {
                false
            }
        });
        if handled != Some(true) {
            self.report_foreign();
        }
    }
}

impl TaskWaker {
    fn report_foreign(&self) {
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("<unnamed>").to_string();
        let mut detail = self.shared.detail.lock().unwrap_or_else(|e| e.into_inner());
        if detail.is_none() {
            *detail = Some((self.task, name));
        }
        self.shared.foreign.store(true, Ordering::Relaxed);
    }
}

/// The waker of task `task` in run `sim`.
pub(crate) fn task_waker(sim: u64, task: u32, shared: &Arc<Shared>) -> Waker {
    Waker::from(Arc::new(TaskWaker {
        sim,
        task,
        shared: shared.clone(),
    }))
}
