//! Spawning tasks and joining them: [`spawn`], [`JoinHandle`], [`JoinError`].
//!
//! A task is **one allocation** (`cell.rs`, as in tokio): its join state and its future
//! side by side. The run owns the future (through `TaskBox` in its slab, and a raw
//! `FutPtr` in its ready list); the `JoinHandle` shares the cell for the join state
//! only. One allocation instead of two per spawn, and the result is written into memory
//! the poll that produced it just touched (with 100,000 live tasks finishing in a
//! random order, a separate join slot was a cache miss per task).

use super::cell::{self, Joiner, Stage, TaskBox};
use super::context;
use super::core::{Core, Status, TaskMeta, NO_HOME};
use super::join_error::JoinError;
use crate::trace::EventKind;
use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use crate::task_id::TaskId;

/// An owned permission to await a task's result; dropping it detaches the task.
///
/// ```
/// use detsim::{Config, Sim};
/// let out = Sim::new(Config::default()).run(async {
///     let h = detsim::spawn(async { 6 * 7 });
///     h.await.unwrap()
/// });
/// assert_eq!(out.result.unwrap(), 42);
/// ```
pub struct JoinHandle<T> {
    id: u32,
    sim: u64,
    cell: Joiner<T>,
}

// SAFETY: through `Joiner` a handle reaches only the cell's join state, a
// `Mutex<JoinState<T>>` (`Send + Sync` when `T: Send`), and the cell's atomic count.
// The future, which may be neither, is touched only by the run's thread (through its
// `TaskBox`, which is not `Send`) and is dropped there before the `TaskBox` releases
// the cell, so a handle dropped last on another thread frees memory and drops the
// join state only, never runs the future's code.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: as above; `&JoinHandle` gives only `id`, `is_finished` (locks the mutex) and
// `abort_handle` (ids).
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JoinHandle(t{})", self.id)
    }
}

impl<T> JoinHandle<T> {
    /// The task's id.
    pub fn id(&self) -> TaskId {
        TaskId(self.id)
    }

    /// True once the task finished, was aborted, or panicked.
    pub fn is_finished(&self) -> bool {
        !matches!(self.cell.slot().lock().stage, Stage::Running)
    }

    /// Cancels the task: its future is dropped and awaiting the handle gives a
    /// cancelled [`JoinError`]. A no-op for finished tasks or outside the task's run.
    pub fn abort(&self) {
        self.abort_handle().abort();
    }

    /// A handle that can abort the task without owning its result.
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle {
            id: self.id,
            sim: self.sim,
        }
    }
}

/// Aborts a task without awaiting it (tokio's `AbortHandle`); cheap to clone.
#[derive(Clone)]
pub struct AbortHandle {
    id: u32,
    sim: u64,
}

impl AbortHandle {
    /// Cancels the task (see [`JoinHandle::abort`]).
    pub fn abort(&self) {
        context::try_with(|core| {
            if core.id == self.sim {
                abort(core, self.id);
            }
        });
    }

    /// True once the task finished, was aborted, or panicked (always true after its run).
    pub fn is_finished(&self) -> bool {
        let status = context::try_with(|core| {
            (core.id == self.sim).then(|| core.sched.borrow().status[self.id as usize])
        });
        !matches!(status, Some(Some(s)) if s != Status::Done)
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        TaskId(self.id)
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AbortHandle(t{})", self.id)
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = self.cell.slot().lock();
        match std::mem::replace(&mut s.stage, Stage::Taken) {
            Stage::Finished(result) => return Poll::Ready(result),
            Stage::Taken => panic!("JoinHandle polled after it returned Ready"),
            Stage::Running => s.stage = Stage::Running,
        }
        if !s.waiter.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            s.waiter = Some(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// Spawns a task onto the current simulation. Tasks need not be `Send`.
///
/// ```
/// use detsim::{Config, Sim};
/// let out = Sim::new(Config::default().seed(1)).run(async {
///     let handles: Vec<_> = (0..3).map(|i| detsim::spawn(async move { i * 2 })).collect();
///     let mut sum = 0;
///     for h in handles { sum += h.await.unwrap(); }
///     sum
/// });
/// assert_eq!(out.result.unwrap(), 6);
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    context::spawn(Cow::Borrowed("task"), Location::caller(), future)
}

/// Spawns a named task; the name shows in traces and failure reports.
#[track_caller]
pub fn spawn_named<F>(name: impl Into<Cow<'static, str>>, future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    context::spawn(name.into(), Location::caller(), future)
}

pub(crate) fn spawn_on<F>(
    core: &Core,
    name: Cow<'static, str>,
    location: &'static Location<'static>,
    future: F,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let id = core.sched.borrow().status.len() as u32;
    let current = core.current_task();
    let identity = identity(core, &name, location, current);
    let (task, cell) = cell::new(future);
    let future = task.future();
    core.slab.borrow_mut().push(Some(task));
    {
        let mut sched = core.sched.borrow_mut();
        let home = core.current_worker().unwrap_or(NO_HOME);
        // A task belongs to its spawner's node, unless the world spawns it on one.
        let node = core
            .world_if_made()
            .and_then(|w| w.take_spawn_node())
            .unwrap_or_else(|| current.map_or(0, |t| sched.meta[t as usize].node));
        sched.status.push(Status::Queued);
        if sched.status.len() >= super::step::PREFETCH_MIN_TASKS && !core.replaying {
            core.prefetching.set(true);
        }
        sched.futures.push(future);
        sched.meta.push(TaskMeta {
            name,
            location,
            node,
        });
        sched.ready.push(id, home, false, future);
    }
    record_spawn(core, id, current, identity);
    JoinHandle {
        id,
        sim: core.id,
        cell,
    }
}

/// A task's identity (name and spawn site) is part of the run: a program that spawns
/// the same tasks in another order is a different run. The main task's site is wherever
/// `Sim::run` was called, which is not part of the program.
#[allow(clippy::ptr_arg)] // the `Cow` says whether the name is `&'static`
fn identity(
    core: &Core,
    name: &Cow<'static, str>,
    location: &Location<'_>,
    parent: Option<u32>,
) -> u64 {
    let site = match parent {
        Some(_) => (location.line() as u64) << 32 | location.column() as u64,
        None => 0,
    };
    core.name_hash(name) ^ site
}

fn record_spawn(core: &Core, id: u32, parent: Option<u32>, identity: u64) {
    core.mix(identity);
    if core.is_full() {
        let sched = core.sched.borrow();
        let meta = &sched.meta[id as usize];
        let (name, location, node) = (meta.name.clone(), meta.location, meta.node);
        drop(sched);
        let mut trace = core.trace_mut();
        trace.add_spawned(id, name, location, parent, node);
    }
    core.emit(EventKind::Spawn { child: id });
    if !core.uniform {
        // (`Random` has no use for it.)
        let mut chooser = core.chooser.borrow_mut();
        core.strategy
            .borrow_mut()
            .on_spawn(TaskId(id), chooser.strategy_rng());
    }
}

/// Cancels task `id`: drops its future (now, or after its poll if it is running).
pub(crate) fn abort(core: &Core, id: u32) {
    if core.current_task() == Some(id) {
        // Deferred: the step loop drops the future when the poll returns.
        core.abort_current();
        return;
    }
    let status = core.sched.borrow().status[id as usize];
    match status {
        Status::Done => return,
        Status::Queued => core.sched.borrow_mut().ready.remove_task(id),
        Status::Idle => {}
    }
    core.sched.borrow_mut().status[id as usize] = Status::Done;
    core.emit(EventKind::Abort { target: id });
    let task = core.slab.borrow_mut()[id as usize].take();
    if let Some(task) = task {
        drop_task(core, id, task);
    }
}

/// Drops a task's future (catching a panic in its `Drop`) and cancels its join handle.
pub(crate) fn drop_task(core: &Core, id: u32, task: TaskBox) {
    let join = task.join_ref();
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(task)));
    if let Err(payload) = dropped {
        core.fail(crate::Failure::TeardownPanic {
            task: core.task_ref(id),
            message: super::panic::message(&*payload),
            location: super::panic::take_location().unwrap_or_else(|| "<unknown>".into()),
        });
    }
    join.fail(JoinError::cancelled(TaskId(id)));
}

/// The id of the task being polled.
pub fn current_id() -> Option<TaskId> {
    context::current_task()
}
