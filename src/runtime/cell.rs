//! A task's one allocation (`TaskCell`, tokio's raw task): its header, its future and
//! its join state side by side, made and freed by the runtime ([`pool`](super::pool):
//! blocks kept on the thread, so a run with many tasks does not fault its cells' pages
//! in again, and a spawn costs no `malloc`).
//!
//! Two references share a cell: the run's [`TaskBox`] (the future's owner, kept in the
//! slab, polled through the thin [`FutPtr`] the ready list keeps) and the join handle's
//! [`Joiner`] (the join state only). The header holds the count of the two and a table
//! of the cell type's functions, so neither side needs a `dyn` pointer: a slab entry is
//! one word. The last reference to go drops the join state and gives the block back.
//! Layout: the 16-byte header first, the future right after it (a poll reads both),
//! then the join state.
//!
//! Checking the unsafe code: the tests here and `tests/task_cells.rs` drop every part
//! once on every path a task can end by; under AddressSanitizer
//! (`RUSTFLAGS=-Zsanitizer=address cargo +nightly test --target x86_64-unknown-linux-gnu
//! --test task_cells`), with `pool::KEEP_BYTES` set to 0 so every block goes back to the
//! sanitizer's allocator, a use after free or a double free would be reported.

use super::join_error::JoinError;
use super::pool::{self, UNIT};
use std::alloc::Layout;
use std::cell::UnsafeCell;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

pub(super) struct JoinState<T> {
    pub(super) stage: Stage<T>,
    pub(super) waiter: Option<Waker>,
}

/// A task's result, as its join handle sees it.
pub(super) enum Stage<T> {
    Running,
    Finished(Result<T, JoinError>),
    /// The handle took the result.
    Taken,
}

/// Where a task's result waits for its join handle.
pub(super) struct JoinSlot<T>(Mutex<JoinState<T>>);

impl<T> JoinSlot<T> {
    fn new() -> Self {
        JoinSlot(Mutex::new(JoinState {
            stage: Stage::Running,
            waiter: None,
        }))
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, JoinState<T>> {
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

/// The first field of every task cell.
pub(crate) struct Header {
    vtable: &'static Vtable,
    /// References to the cell: its `TaskBox` and its `Joiner`, 2 at spawn.
    refs: AtomicUsize,
}

/// A cell type's functions (one static table per future type).
struct Vtable {
    /// Polls the future; on `Ready` stores its output for the join handle.
    poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> Poll<()>,
    /// Drops the future in place (the cell lives on while its `Joiner` does).
    drop_future: unsafe fn(NonNull<Header>),
    /// Completes the join state with an error (a no-op if it has a result).
    fail: unsafe fn(NonNull<Header>, JoinError),
    /// Drops the join state and frees the cell: the last reference is gone.
    free: unsafe fn(NonNull<Header>),
    /// Where the join state lies, in bytes from the header.
    join: usize,
}

/// A spawned task's one allocation. `repr(C)`: the header first, so a pointer to the
/// cell is a pointer to its header ([`FutPtr`]), and the future right after it.
#[repr(C)]
struct TaskCell<F: Future> {
    header: Header,
    // invariant: initialised from spawn until `drop_future` (called once, by `TaskBox`'s
    // drop); touched only by the run's thread, through `TaskBox` or a `FutPtr`.
    future: UnsafeCell<ManuallyDrop<F>>,
    join: JoinSlot<F::Output>,
}

impl<F: Future> TaskCell<F> {
    const VTABLE: Vtable = Vtable {
        poll: Self::poll,
        drop_future: Self::drop_future,
        fail: Self::fail,
        free: Self::free,
        join: std::mem::offset_of!(Self, join),
    };

    /// The cell's block: whole pool units (or the future's own larger alignment).
    #[inline]
    fn layout() -> Layout {
        let layout = Layout::new::<Self>();
        let align = layout.align().max(UNIT);
        let size = layout.size().div_ceil(align) * align;
        Layout::from_size_align(size, align).expect("a task cell's size overflows")
    }

    /// # Safety
    /// `cell` points to a live `TaskCell<F>` (the same `F`).
    #[inline(always)]
    unsafe fn cast<'a>(cell: NonNull<Header>) -> &'a Self {
        // SAFETY: by the contract; `repr(C)` puts the header at the cell's address.
        unsafe { cell.cast::<Self>().as_ref() }
    }

    /// # Safety
    /// As `RawTask::poll` was: the future is alive, not completed, and nothing else
    /// touches it during the call.
    unsafe fn poll(cell: NonNull<Header>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: the caller's contract; the cell is a `TaskCell<F>` (its vtable's type).
        let this = unsafe { Self::cast(cell) };
        // SAFETY: exclusive access to a live future, which never moves (it lives in the
        // cell's block until the block is freed), so pinning it is sound.
        let future = unsafe { Pin::new_unchecked(&mut **this.future.get()) };
        match future.poll(cx) {
            Poll::Ready(output) => {
                this.join.complete(Ok(output));
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// # Safety
    /// Called once, not during a poll; the future is not polled afterwards.
    unsafe fn drop_future(cell: NonNull<Header>) {
        // SAFETY: the cell is a live `TaskCell<F>`; by the contract its future is
        // initialised and nothing uses it during or after the drop.
        unsafe { ManuallyDrop::drop(&mut *Self::cast(cell).future.get()) }
    }

    /// # Safety
    /// `cell` is a live `TaskCell<F>`.
    unsafe fn fail(cell: NonNull<Header>, error: JoinError) {
        // SAFETY: by the contract.
        unsafe { Self::cast(cell) }.join.complete(Err(error));
    }

    /// # Safety
    /// The last reference to a `TaskCell<F>` whose future was dropped is gone.
    unsafe fn free(cell: NonNull<Header>) {
        let this = cell.cast::<Self>().as_ptr();
        // SAFETY: no reference is left, so nothing else touches the cell: its join
        // state is dropped once, here (the future already was; the header has no drop
        // glue), and the block goes back whence `new` took it, with the same layout.
        unsafe {
            std::ptr::drop_in_place(std::ptr::addr_of_mut!((*this).join));
            pool::dealloc(cell.cast(), Self::layout());
        }
    }
}

/// Makes a task's cell for `future`: the run's reference to it and the join handle's.
pub(super) fn new<F>(future: F) -> (TaskBox, Joiner<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
{
    let block = pool::alloc(TaskCell::<F>::layout()).cast::<TaskCell<F>>();
    // SAFETY: a fresh block of the cell's layout (size and alignment), owned by nobody
    // else: written in full before anything reads it.
    unsafe {
        block.as_ptr().write(TaskCell {
            header: Header {
                vtable: &TaskCell::<F>::VTABLE,
                refs: AtomicUsize::new(2),
            },
            future: UnsafeCell::new(ManuallyDrop::new(future)),
            join: JoinSlot::new(),
        })
    };
    let cell = block.cast::<Header>();
    (
        TaskBox { cell },
        Joiner {
            cell,
            output: PhantomData,
        },
    )
}

/// Gives up one reference to `cell`; the last one frees it.
///
/// # Safety
/// The caller holds a reference (counted in `refs`) and does not use `cell` afterwards.
unsafe fn release(cell: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the cell alive until this decrement.
    let header = unsafe { cell.as_ref() };
    if header.refs.fetch_sub(1, Ordering::Release) != 1 {
        return;
    }
    // Every other reference's use of the cell happened before its decrement (Release),
    // and so before this (as `Arc`'s drop does).
    fence(Ordering::Acquire);
    // Read before the cell is freed; `header` is not used after this.
    let free = header.vtable.free;
    // SAFETY: the last reference is gone; the `TaskBox` dropped the future before
    // giving up its reference.
    unsafe { free(cell) }
}

/// Where a task's future lives, as the step loop reaches it: its cell's header.
pub(crate) type FutPtr = NonNull<Header>;

/// A spawned task as stored in the run's slab: the run's reference to its cell.
/// Dropping it drops the future (the join state lives on while its `Joiner` does).
/// (Its waker is made from its id when needed: `waker.rs`.)
///
/// The step loop polls the future in place, through a `FutPtr` it keeps in the ready
/// list, while the slab stays free to grow (a task may spawn during its poll): no move
/// out of the slab and back per poll, and one memory access fewer on the way to it.
/// Not `Send` (a raw pointer): the future is only ever touched by the run's thread.
pub(crate) struct TaskBox {
    cell: NonNull<Header>,
}

impl TaskBox {
    /// The pointer the step loop polls through ([`poll_in_place`]).
    #[inline]
    pub(crate) fn future(&self) -> FutPtr {
        self.cell
    }

    /// Completes the task's join handle with `error` (no-op if it has a result).
    pub(crate) fn fail(&self, error: JoinError) {
        // SAFETY: this reference keeps the cell alive.
        unsafe { fail(self.cell, error) }
    }

    /// Another reference to the cell, to fail its join handle once this is dropped.
    pub(crate) fn join_ref(&self) -> CellRef {
        // SAFETY: this reference keeps the cell alive. (Relaxed, as `Arc::clone`: a new
        // reference is made from an existing one, which orders what follows.)
        unsafe { self.cell.as_ref() }
            .refs
            .fetch_add(1, Ordering::Relaxed);
        CellRef(self.cell)
    }
}

/// A reference to a task's cell that reaches only its join state ([`TaskBox::join_ref`]).
pub(crate) struct CellRef(NonNull<Header>);

impl CellRef {
    /// Completes the task's join handle with `error` (no-op if it has a result).
    pub(crate) fn fail(&self, error: JoinError) {
        // SAFETY: this reference keeps the cell alive.
        unsafe { fail(self.0, error) }
    }
}

impl Drop for CellRef {
    fn drop(&mut self) {
        // SAFETY: this reference, given up once, here.
        unsafe { release(self.0) }
    }
}

/// # Safety
/// The caller holds a reference to `cell`.
unsafe fn fail(cell: NonNull<Header>, error: JoinError) {
    // SAFETY: the caller's reference keeps the cell alive; `fail` is its type's.
    unsafe { (cell.as_ref().vtable.fail)(cell, error) }
}

impl Drop for TaskBox {
    fn drop(&mut self) {
        /// Gives up the reference even if the future's drop panics.
        struct Release(NonNull<Header>);
        impl Drop for Release {
            fn drop(&mut self) {
                // SAFETY: the `TaskBox`'s reference, given up once, here.
                unsafe { release(self.0) }
            }
        }
        let cell = Release(self.cell);
        // SAFETY: a `TaskBox` is unique per task and dropped once, never during its
        // task's poll (the step loop takes it out of the slab only after the poll
        // returned); nothing polls the task after its `TaskBox` is gone (it is `Done`).
        unsafe { (cell.0.as_ref().vtable.drop_future)(cell.0) }
    }
}

/// A join handle's reference to its task's cell: the join state, typed by the output.
pub(super) struct Joiner<T> {
    cell: NonNull<Header>,
    /// Dropping the last reference may drop a `T` (a result never taken).
    output: PhantomData<T>,
}

impl<T> Joiner<T> {
    #[inline]
    pub(super) fn slot(&self) -> &JoinSlot<T> {
        // SAFETY: this reference keeps the cell alive; its join state lies `join` bytes
        // from the header and is a `JoinSlot<T>`: the cell is a `TaskCell<F>` with
        // `F::Output = T` (`new` made both from one `F`).
        unsafe {
            let join = self.cell.as_ref().vtable.join;
            &*self
                .cell
                .cast::<u8>()
                .as_ptr()
                .add(join)
                .cast::<JoinSlot<T>>()
        }
    }
}

// The output is never pinned: a join handle moves freely, whatever `T` is.
impl<T> Unpin for Joiner<T> {}

impl<T> Drop for Joiner<T> {
    fn drop(&mut self) {
        // SAFETY: this `Joiner`'s reference, given up once, here.
        unsafe { release(self.cell) }
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
#[inline(always)]
pub(crate) unsafe fn poll_in_place(future: FutPtr, cx: &mut Context<'_>) -> Poll<()> {
    // SAFETY: the cell is alive (its `TaskBox` holds it) and its future unaliased and
    // not completed, by the contract above; its vtable's `poll` is the cell type's own
    // (set when the cell was made, never changed).
    unsafe { (future.as_ref().vtable.poll)(future, cx) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;
    use std::sync::Arc;

    #[test]
    fn sizes() {
        // The join state rides along with every task's future: keep it under a line.
        assert!(std::mem::size_of::<JoinSlot<()>>() <= 48);
        assert!(std::mem::size_of::<JoinSlot<u64>>() <= 48);
        // A slab entry is one word; what the ready list keeps per task is 16 bytes.
        assert_eq!(std::mem::size_of::<Option<TaskBox>>(), 8);
        assert_eq!(std::mem::size_of::<FutPtr>(), 8);
        assert_eq!(std::mem::size_of::<Header>(), 16);
        assert_eq!(std::mem::size_of::<crate::strategy::Queued>(), 16);
    }

    /// Counts its drops.
    struct Dropped(Arc<AtomicU32>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll(task: &TaskBox) -> Poll<()> {
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        // SAFETY: `task` keeps the cell alive, nothing else touches the future, and it
        // has not completed.
        unsafe { poll_in_place(task.future(), &mut cx) }
    }

    /// A cell polls its own future through the thin pointer, for futures of different
    /// sizes and alignments, which their cells keep; the future follows the header.
    #[test]
    fn a_future_pointer_polls_its_own_cell() {
        #[repr(align(128))]
        struct Wide([u8; 200]);
        let (a, ja) = new(std::future::ready(5u32));
        let (b, jb) = new(std::future::ready(Wide([9; 200])));
        assert_eq!(a.future().as_ptr() as usize % UNIT, 0);
        assert_eq!(b.future().as_ptr() as usize % 128, 0);
        let small = std::mem::offset_of!(TaskCell<std::future::Ready<u32>>, future);
        assert_eq!(small, 16, "the future right after the header");
        assert_eq!(poll(&a), Poll::Ready(()));
        assert_eq!(poll(&b), Poll::Ready(()));
        assert!(matches!(ja.slot().lock().stage, Stage::Finished(Ok(5))));
        let wide = matches!(&jb.slot().lock().stage, Stage::Finished(Ok(w)) if w.0 == [9; 200]);
        assert!(wide);
    }

    /// The future is dropped with the `TaskBox`, the result with the last reference,
    /// whichever goes last; a result never taken is dropped once.
    #[test]
    fn the_last_reference_frees_the_cell_and_drops_each_part_once() {
        let future_drops = Arc::new(AtomicU32::new(0));
        let output_drops = Arc::new(AtomicU32::new(0));
        let make = || {
            let (f, o) = (Dropped(future_drops.clone()), Dropped(output_drops.clone()));
            new(async move {
                let _held = f;
                o
            })
        };
        // Handle dropped first, then the task (its future done, the result untaken).
        let (task, joiner) = make();
        assert_eq!(poll(&task), Poll::Ready(()));
        drop(joiner);
        assert_eq!(
            output_drops.load(Ordering::SeqCst),
            0,
            "the task holds the cell"
        );
        drop(task);
        assert_eq!(future_drops.load(Ordering::SeqCst), 1);
        assert_eq!(output_drops.load(Ordering::SeqCst), 1);
        // Task dropped unpolled first (with both captures), then the handle, on
        // another thread.
        let (task, joiner) = make();
        drop(task);
        assert_eq!(
            future_drops.load(Ordering::SeqCst),
            2,
            "the unpolled future"
        );
        assert_eq!(output_drops.load(Ordering::SeqCst), 2, "its capture");
        let joiner = SendJoiner(joiner);
        // The test's own thread (no run): a handle's last drop may happen anywhere.
        std::thread::spawn(move || {
            let joiner = joiner;
            joiner.0.slot().lock().stage = Stage::Taken;
            drop(joiner);
        })
        .join()
        .unwrap();
        assert_eq!(output_drops.load(Ordering::SeqCst), 2, "no output was made");
        // A task that fails: the error reaches the handle.
        let (task, joiner) = make();
        task.fail(JoinError::cancelled(crate::task_id::TaskId(3)));
        drop(task);
        assert!(matches!(
            joiner.slot().lock().stage,
            Stage::Finished(Err(_))
        ));
        drop(joiner);
        assert_eq!(future_drops.load(Ordering::SeqCst), 3);
        assert_eq!(output_drops.load(Ordering::SeqCst), 3);
    }

    /// A future whose drop panics still gives up the task's reference.
    #[test]
    fn a_panicking_future_drop_still_releases_the_cell() {
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("bomb");
            }
        }
        let output_drops = Arc::new(AtomicU32::new(0));
        let o = Dropped(output_drops.clone());
        let (task, joiner) = new(async move {
            let _bomb = Bomb;
            std::future::pending::<()>().await;
            o
        });
        assert_eq!(poll(&task), Poll::Pending);
        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(task)));
        assert!(dropped.is_err());
        // SAFETY (test): the joiner keeps the cell alive.
        let refs = unsafe { joiner.cell.as_ref() }.refs.load(Ordering::SeqCst);
        assert_eq!(refs, 1, "the task's reference went with the unwinding drop");
        assert_eq!(output_drops.load(Ordering::SeqCst), 1, "the captures too");
        drop(joiner);
    }

    struct SendJoiner(Joiner<Dropped>);
    // SAFETY (test): the joiner's output type is `Send`, as `JoinHandle` requires.
    unsafe impl Send for SendJoiner {}
}
