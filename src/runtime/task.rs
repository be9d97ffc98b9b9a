//! Spawning tasks and joining them: [`spawn`], [`JoinHandle`], [`JoinError`].
//!
//! A task is **one allocation** (`TaskCell`, as in tokio): its join state and its future
//! side by side behind one `Arc`. The run owns the future (through `TaskBox` in its slab,
//! and a raw `FutPtr` in its ready list); the `JoinHandle` shares the cell for the join
//! state only. One allocation instead of two per spawn, and the result is written into
//! memory the poll that produced it just touched (with 100,000 live tasks finishing in a
//! random order, a separate join slot was a cache miss per task).

use super::context;
use super::core::{Core, Status, TaskMeta, NO_HOME};
use super::join_error::JoinError;
use crate::trace::EventKind;
use std::borrow::Cow;
use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::Location;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

pub use crate::task_id::TaskId;

struct JoinState<T> {
    stage: Stage<T>,
    waiter: Option<Waker>,
}

/// A task's result, as its join handle sees it.
enum Stage<T> {
    Running,
    Finished(Result<T, JoinError>),
    /// The handle took the result.
    Taken,
}

/// Where a task's result waits for its [`JoinHandle`].
struct JoinSlot<T>(Mutex<JoinState<T>>);

impl<T> JoinSlot<T> {
    fn new() -> Self {
        JoinSlot(Mutex::new(JoinState {
            stage: Stage::Running,
            waiter: None,
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, JoinState<T>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn complete(&self, result: Result<T, JoinError>) {
        let waiter = {
            let mut s = self.lock();
            if !matches!(s.stage, Stage::Running) {
                return;
            }
            s.stage = Stage::Finished(result);
            s.waiter.take()
        };
        if let Some(w) = waiter {
            w.wake();
        }
    }
}

/// A spawned task's one allocation: its header, join state and future. `repr(C)` puts
/// the header first, so a pointer to the cell is a pointer to its header ([`FutPtr`]).
#[repr(C)]
struct TaskCell<F: Future> {
    header: Header,
    // invariant: initialised from spawn until `drop_future` (called once, by `TaskBox`'s
    // drop); touched only by the run's thread, through `TaskBox` or a `FutPtr`.
    // Right after the header: a poll reads both, so they share a cache line if they can.
    future: UnsafeCell<ManuallyDrop<F>>,
    join: JoinSlot<F::Output>,
}

/// The run's side of a task cell (type-erased over the future).
pub(crate) trait RawTask {
    /// Polls the future; on `Ready` stores its output for the join handle.
    ///
    /// # Safety
    /// The future is alive (not dropped), not being polled or dropped elsewhere, and did
    /// not complete before.
    unsafe fn poll(&self, cx: &mut Context<'_>) -> Poll<()>;

    /// Drops the future in place (the cell lives on while a join handle holds it).
    ///
    /// # Safety
    /// Called once, not during a poll; the future is not polled afterwards.
    unsafe fn drop_future(&self);

    /// Completes the join handle with `error` (a no-op if it already has a result).
    fn fail(&self, error: JoinError);
}

impl<F: Future> RawTask for TaskCell<F> {
    unsafe fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: the caller guarantees exclusive access to a live future; it never
        // moves (it lives in the `Arc`'s allocation), so pinning it is sound.
        let future = unsafe { Pin::new_unchecked(&mut **self.future.get()) };
        match future.poll(cx) {
            Poll::Ready(output) => {
                self.join.complete(Ok(output));
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    unsafe fn drop_future(&self) {
        // SAFETY: called once with no other access (the caller's contract), so the
        // future is initialised and nothing uses it afterwards.
        unsafe { ManuallyDrop::drop(&mut *self.future.get()) }
    }

    fn fail(&self, error: JoinError) {
        self.join.complete(Err(error));
    }
}

/// The first field of every task cell: how the step loop polls the future without
/// knowing its type (tokio's layout). With it, the pointer the ready list keeps per task
/// is one word, not a two-word `dyn` pointer.
pub(crate) struct Header {
    poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> Poll<()>,
}

impl<F: Future> TaskCell<F> {
    const HEADER: Header = Header {
        poll: Self::poll_erased,
    };

    /// [`RawTask::poll`] through the header.
    ///
    /// # Safety
    /// `header` points to the header of a `TaskCell<F>` (the first field of a
    /// `repr(C)` struct, so the cell's address), under `RawTask::poll`'s contract.
    unsafe fn poll_erased(header: NonNull<Header>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: by the contract, the cell is a live `TaskCell<F>` at this address.
        unsafe { header.cast::<Self>().as_ref().poll(cx) }
    }
}

/// The join handle's side of a task cell (type-erased over the future, not the output).
trait Joined<T> {
    fn slot(&self) -> &JoinSlot<T>;
}

impl<F: Future> Joined<F::Output> for TaskCell<F> {
    fn slot(&self) -> &JoinSlot<F::Output> {
        &self.join
    }
}

/// Where a task's future lives, as the step loop reaches it: its cell's header (pinned
/// in the `Arc`'s allocation), through a thin raw pointer.
pub(crate) type FutPtr = NonNull<Header>;

/// A spawned task as stored in the run's slab: the run's reference to its cell. Dropping
/// it drops the future (the join state lives on while a `JoinHandle` holds the cell).
/// (Its waker is made from its id when needed: `waker.rs`.)
///
/// The step loop polls the future in place, through a `FutPtr` it keeps in the ready
/// list, while the slab stays free to grow (a task may spawn during its poll): no move
/// out of the slab and back per poll, and one memory access fewer on the way to it.
pub(crate) struct TaskBox {
    // Not `Send`: the future is only ever touched by the run's thread.
    cell: Arc<dyn RawTask>,
}

impl TaskBox {
    /// The pointer the step loop polls through ([`poll_in_place`]).
    pub(crate) fn future(&self) -> FutPtr {
        // The cell's address, which is its header's (`TaskCell` is `repr(C)`).
        NonNull::from(&*self.cell).cast::<Header>()
    }

    /// Completes the task's join handle with `error` (no-op if it has a result).
    pub(crate) fn fail(&self, error: JoinError) {
        self.cell.fail(error);
    }
}

impl Drop for TaskBox {
    fn drop(&mut self) {
        // SAFETY: a `TaskBox` is unique per task and dropped once, never during its
        // task's poll (the step loop takes it out of the slab only after the poll
        // returned); nothing polls the task after its `TaskBox` is gone (it is `Done`).
        unsafe { self.cell.drop_future() }
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
    // SAFETY: the cell is alive (its `TaskBox` holds it) and its future unaliased and
    // not completed, by the contract above; its header's `poll` is the `poll_erased`
    // of the cell's own type (set when the cell was made, never changed).
    unsafe { (future.as_ref().poll)(future, cx) }
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
    cell: Arc<dyn Joined<T>>,
}

// SAFETY: through `Joined` a handle reaches only the cell's join state, a
// `Mutex<JoinState<T>>` (`Send + Sync` when `T: Send`), and the `Arc`'s atomic counts.
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
    let cell = Arc::new(TaskCell {
        header: TaskCell::<F>::HEADER,
        join: JoinSlot::new(),
        future: UnsafeCell::new(ManuallyDrop::new(future)),
    });
    let task = TaskBox { cell: cell.clone() };
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
    let join = task.cell.clone();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_task_is_one_small_allocation() {
        // The join state rides along with every task's future: keep it to a cache line
        // less the `Arc` counts, so a small task's whole cell is about one line.
        assert!(std::mem::size_of::<JoinSlot<()>>() <= 48);
        assert!(std::mem::size_of::<JoinSlot<u64>>() <= 48);
        // And a `TaskBox` (a slab entry) is one fat pointer; what the ready list keeps
        // per task, one word of future pointer and the rest, is 16 bytes.
        assert_eq!(std::mem::size_of::<Option<TaskBox>>(), 16);
        assert_eq!(std::mem::size_of::<FutPtr>(), 8);
        assert_eq!(std::mem::size_of::<crate::strategy::Queued>(), 16);
    }

    /// The thin pointer is the cell's address, and polling through it runs that cell's
    /// own future, for futures of different types, sizes and alignments in one run.
    #[test]
    fn a_future_pointer_polls_its_own_cell() {
        #[repr(align(64))]
        struct Wide([u8; 200]);
        let out = crate::Sim::new(crate::Config::default().seed(3)).run(async {
            let a = crate::spawn(async { 7u8 });
            let b = crate::spawn(async {
                let w = Wide([9; 200]);
                crate::task::yield_now().await;
                w.0.iter().map(|&x| x as u64).sum::<u64>()
            });
            let c = crate::spawn(async { String::from("c") });
            (a.await.unwrap(), b.await.unwrap(), c.await.unwrap())
        });
        assert_eq!(out.result.unwrap(), (7, 1800, "c".to_string()));
        #[allow(clippy::arc_with_non_send_sync)] // as `spawn_on` makes cells (one thread)
        let cell = Arc::new(TaskCell {
            header: TaskCell::<std::future::Ready<u32>>::HEADER,
            join: JoinSlot::new(),
            future: UnsafeCell::new(ManuallyDrop::new(std::future::ready(5u32))),
        });
        let task = TaskBox { cell: cell.clone() };
        assert_eq!(task.future().as_ptr() as usize, Arc::as_ptr(&cell) as usize);
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        // SAFETY: `task` keeps the cell alive, nothing else touches the future, and it
        // has not completed.
        let polled = unsafe { poll_in_place(task.future(), &mut cx) };
        assert_eq!(polled, Poll::Ready(()));
        assert!(matches!(cell.join.lock().stage, Stage::Finished(Ok(5))));
    }
}
