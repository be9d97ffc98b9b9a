//! Spawning tasks and joining them: [`spawn`], [`JoinHandle`], [`JoinError`].

use super::context;
use super::core::{Core, Status, TaskMeta, NO_HOME};
use super::join_error::JoinError;
use crate::trace::EventKind;
use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

pub use crate::task_id::TaskId;

struct JoinState<T> {
    result: Option<Result<T, JoinError>>,
    finished: bool,
    waiter: Option<Waker>,
}

/// Where a task's result waits for its [`JoinHandle`].
struct JoinSlot<T>(Mutex<JoinState<T>>);

impl<T> JoinSlot<T> {
    fn complete(&self, result: Result<T, JoinError>) {
        let waiter = {
            let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if s.finished {
                return;
            }
            s.finished = true;
            s.result = Some(result);
            s.waiter.take()
        };
        if let Some(w) = waiter {
            w.wake();
        }
    }
}

/// Type-erased access to a task's join slot, to report cancellation or a panic.
pub(crate) trait Completer {
    fn fail(&self, error: JoinError);
}

impl<T> Completer for JoinSlot<T> {
    fn fail(&self, error: JoinError) {
        self.complete(Err(error));
    }
}

/// Where a task's future lives: pinned on the heap, reached through a raw pointer.
pub(crate) type FutPtr = NonNull<dyn Future<Output = ()>>;

/// A spawned task's future and join slot, as stored in the run's slab. (Its waker is
/// made from its id when needed: `waker.rs`.)
///
/// The future is owned through a raw pointer rather than a `Pin<Box<_>>` so that the
/// step loop can poll it in place, through a pointer it keeps in the ready list, while
/// the slab stays free to grow (a task may spawn during its poll): no move out of the
/// slab and back per poll, and one memory access fewer on the way to the future.
pub(crate) struct TaskBox {
    // invariant: made by `Box::into_raw` and freed only by `Drop`, so the future never
    // moves (it is pinned) and lives exactly as long as this `TaskBox`.
    future: FutPtr,
    pub(crate) join: Arc<dyn Completer>,
}

impl TaskBox {
    fn new(future: impl Future<Output = ()> + 'static, join: Arc<dyn Completer>) -> Self {
        let boxed: Box<dyn Future<Output = ()>> = Box::new(future);
        TaskBox {
            future: NonNull::from(Box::leak(boxed)),
            join,
        }
    }

    /// The pointer the step loop polls through ([`poll_in_place`]).
    pub(crate) fn future(&self) -> FutPtr {
        self.future
    }
}

impl Drop for TaskBox {
    fn drop(&mut self) {
        // SAFETY: `future` came from `Box::into_raw` (via `Box::leak`) and is freed only
        // here, once (invariant above).
        drop(unsafe { Box::from_raw(self.future.as_ptr()) });
    }
}

/// Polls a task's future where it lies.
///
/// # Safety
/// `future` must be the pointer of a `TaskBox` that stays alive (is not dropped) until
/// this returns, and nothing else may access that future meanwhile. The step loop
/// guarantees both: it polls only the task it took from the ready list (so that task is
/// not `Done`, and a `TaskBox` is dropped only once its task is `Done`), one task at a
/// time; an abort of the running task is deferred until its poll returns; and the
/// future is reachable only through this pointer.
pub(crate) unsafe fn poll_in_place(future: FutPtr, cx: &mut Context<'_>) -> Poll<()> {
    // SAFETY: alive and unaliased by the contract above; pinned because a `TaskBox`
    // never moves its future.
    unsafe { Pin::new_unchecked(&mut *future.as_ptr()) }.poll(cx)
}

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
    slot: Arc<JoinSlot<T>>,
}

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
        self.slot
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .finished
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
        let mut s = self.slot.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(result) = s.result.take() {
            return Poll::Ready(result);
        }
        if s.finished {
            panic!("JoinHandle polled after it returned Ready");
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
    let slot = Arc::new(JoinSlot(Mutex::new(JoinState {
        result: None,
        finished: false,
        waiter: None,
    })));
    let id = core.sched.borrow().status.len() as u32;
    let body = {
        let slot = slot.clone();
        async move {
            let output = future.await;
            slot.complete(Ok(output));
        }
    };
    let task = TaskBox::new(body, slot.clone());
    let future = task.future();
    core.slab.borrow_mut().push(Some(task));
    let current = core.current.get();
    {
        let mut sched = core.sched.borrow_mut();
        let home = current.map_or(NO_HOME, |r| r.worker);
        // A task belongs to its spawner's node, unless the world spawns it on one.
        let node = core
            .world
            .take_spawn_node()
            .unwrap_or_else(|| current.map_or(0, |r| sched.meta[r.task as usize].node));
        sched.status.push(Status::Queued);
        sched.futures.push(future);
        sched.meta.push(TaskMeta {
            name,
            location,
            node,
        });
        sched.ready.push(id, home, false, future);
    }
    record_spawn(core, id, current.map(|r| r.task));
    JoinHandle {
        id,
        sim: core.id,
        slot,
    }
}

fn record_spawn(core: &Core, id: u32, parent: Option<u32>) {
    {
        let mut trace = core.trace.borrow_mut();
        // A task's identity (name and spawn site) is part of the run: a program that
        // spawns the same tasks in another order is a different run. The main task's
        // site is wherever `Sim::run` was called, which is not part of the program.
        let identity = {
            let sched = core.sched.borrow();
            let meta = &sched.meta[id as usize];
            let site = match parent {
                Some(_) => (meta.location.line() as u64) << 32 | meta.location.column() as u64,
                None => 0,
            };
            crate::hash::fnv1a(meta.name.as_bytes()) ^ site
        };
        trace.mix(identity);
        if trace.is_full() {
            let sched = core.sched.borrow();
            let meta = &sched.meta[id as usize];
            trace.add_spawned(id, meta.name.clone(), meta.location, parent, meta.node);
        }
    }
    core.emit(EventKind::Spawn { child: id });
    let mut chooser = core.chooser.borrow_mut();
    core.strategy
        .borrow_mut()
        .on_spawn(TaskId(id), chooser.strategy_rng());
}

/// Cancels task `id`: drops its future (now, or after its poll if it is running).
pub(crate) fn abort(core: &Core, id: u32) {
    let status = core.sched.borrow().status[id as usize];
    match status {
        Status::Done => return,
        Status::Running { .. } => {
            core.update_running(|r| r.abort = true);
            return;
        }
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
    let join = task.join.clone();
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
