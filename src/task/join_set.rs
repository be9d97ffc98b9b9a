//! [`JoinSet`]: a set of spawned tasks, joined in the order they complete.
//!
//! Design (tokio's idea, simpler): each member's [`JoinHandle`] is polled with its own
//! waker, which puts the member's index on a ready queue and wakes the set's owner.
//! `join_next` polls only queued members, so completion order is the order in which the
//! tasks' results were woken — deterministic, like every wake in a run.
//!
//! Invariants:
//! 1. A newly spawned member is queued once, so its handle is polled (and its waker
//!    registered) at the next `join_next`.
//! 2. `len` counts the `Some` entries; a slot is freed when its result was returned.
//! 3. Dropping the set aborts every member still in it (tokio's rule).

use super::{spawn, AbortHandle, Id, JoinError, JoinHandle};
use futures::task::ArcWake;
use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

/// A set of tasks; [`JoinSet::join_next`] returns their results as they complete.
///
/// ```
/// use detsim::{Config, Sim, task::JoinSet};
/// use std::time::Duration;
/// let out = Sim::new(Config::default()).run(async {
///     let mut set = JoinSet::new();
///     for ms in [30u64, 10, 20] {
///         set.spawn(async move { detsim::time::sleep(Duration::from_millis(ms)).await; ms });
///     }
///     let mut order = Vec::new();
///     while let Some(r) = set.join_next().await { order.push(r.unwrap()); }
///     order
/// });
/// assert_eq!(out.result.unwrap(), vec![10, 20, 30]);
/// ```
pub struct JoinSet<T> {
    /// Members by slot; `None` = free slot (invariant 2).
    entries: Vec<Option<Entry<T>>>,
    free: Vec<usize>,
    len: usize,
    ready: Arc<ReadyQueue>,
}

struct Entry<T> {
    handle: JoinHandle<T>,
    waker: Waker,
}

/// Indices of members whose handle may be ready, and the owner's waker.
#[derive(Default)]
struct ReadyQueue(Mutex<ReadyState>);

#[derive(Default)]
struct ReadyState {
    queue: VecDeque<usize>,
    owner: Option<Waker>,
}

struct MemberWaker {
    index: usize,
    ready: Arc<ReadyQueue>,
}

impl ArcWake for MemberWaker {
    fn wake_by_ref(this: &Arc<Self>) {
        let owner = {
            let mut st = this.ready.0.lock().unwrap_or_else(PoisonError::into_inner);
            st.queue.push_back(this.index);
            st.owner.clone()
        };
        if let Some(w) = owner {
            w.wake();
        }
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> Self {
        JoinSet {
            entries: Vec::new(),
            free: Vec::new(),
            len: 0,
            ready: Arc::default(),
        }
    }

    /// Number of tasks in the set.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Aborts every task in the set; they stay in it until joined (as cancelled).
    pub fn abort_all(&mut self) {
        for entry in self.entries.iter().flatten() {
            entry.handle.abort();
        }
    }

    /// Removes every task from the set without aborting it.
    pub fn detach_all(&mut self) {
        self.entries.clear();
        self.free.clear();
        self.len = 0;
        self.lock_ready().queue.clear();
    }

    fn lock_ready(&self) -> std::sync::MutexGuard<'_, ReadyState> {
        self.ready.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: 'static> JoinSet<T> {
    /// Spawns `future` into the set (see [`crate::spawn`]).
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(spawn(future))
    }

    /// The same as [`JoinSet::spawn`] (detsim tasks never need `Send`).
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.spawn(future)
    }

    /// Runs `f` as a task in the set (see [`super::spawn_blocking`]).
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + 'static,
    {
        self.insert(super::spawn_blocking(f))
    }

    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        let index = self.free.pop().unwrap_or(self.entries.len());
        let waker = futures::task::waker(Arc::new(MemberWaker {
            index,
            ready: self.ready.clone(),
        }));
        let entry = Some(Entry { handle, waker });
        match self.entries.get_mut(index) {
            Some(slot) => *slot = entry,
            None => self.entries.push(entry),
        }
        self.len += 1;
        self.lock_ready().queue.push_back(index); // invariant 1
        abort
    }

    /// Waits for the next task to complete; `None` when the set is empty. Cancel safe.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Like [`JoinSet::join_next`], with the task's id.
    pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        poll_fn(|cx| self.poll_join_next_with_id(cx)).await
    }

    /// A completed task's result if one is ready now.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id().map(|r| r.map(|(_, v)| v))
    }

    /// Like [`JoinSet::try_join_next`], with the task's id.
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        let waker = futures::task::noop_waker();
        match self.poll_members(&mut Context::from_waker(&waker)) {
            Poll::Ready(r) => r,
            Poll::Pending => None,
        }
    }

    /// Aborts every task and waits until all are gone.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for every task and returns their outputs in completion order; resumes a
    /// task's panic, and panics if a task was cancelled (as tokio does).
    pub async fn join_all(mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len);
        while let Some(r) = self.join_next().await {
            match r {
                Ok(v) => out.push(v),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => panic!("{e}"),
            }
        }
        out
    }

    /// Polls for the next completed task (for hand-written futures).
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx)
            .map(|r| r.map(|r| r.map(|(_, v)| v)))
    }

    /// Like [`JoinSet::poll_join_next`], with the task's id.
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        if self.len == 0 {
            return Poll::Ready(None);
        }
        {
            let mut st = self.lock_ready();
            if !st.owner.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                st.owner = Some(cx.waker().clone());
            }
        }
        self.poll_members(cx)
    }

    /// Polls queued members until one is ready; `Ready(None)` only when empty.
    fn poll_members(&mut self, _cx: &mut Context<'_>) -> Poll<Option<Result<(Id, T), JoinError>>> {
        if self.len == 0 {
            return Poll::Ready(None);
        }
        loop {
            let Some(index) = self.lock_ready().queue.pop_front() else {
                return Poll::Pending;
            };
            let Some(entry) = self.entries.get_mut(index).and_then(Option::as_mut) else {
                continue; // a stale wake for a slot already joined
            };
            let mut member_cx = Context::from_waker(&entry.waker);
            if let Poll::Ready(result) = Pin::new(&mut entry.handle).poll(&mut member_cx) {
                let id = entry.handle.id();
                self.entries[index] = None;
                self.free.push(index);
                self.len -= 1;
                return Poll::Ready(Some(result.map(|v| (id, v))));
            }
        }
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all(); // invariant 3
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len).finish()
    }
}

impl<T: 'static, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + 'static,
{
    fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
        for future in iter {
            self.spawn(future);
        }
    }
}

impl<T: 'static, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + 'static,
{
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> Self {
        let mut set = JoinSet::new();
        set.extend(iter);
        set
    }
}
