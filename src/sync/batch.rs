//! FIFO permit queue: the core shared by `Semaphore`, `Mutex` and bounded `mpsc`.
//!
//! Invariant: while any waiter is queued, `permits == 0`. Released permits are
//! assigned to the head waiter first (possibly partially), so a large request at
//! the head blocks smaller ones behind it and `try_acquire` can never barge past
//! queued waiters. That is tokio's semantics and keeps wake order deterministic.

use super::TryAcquireError;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// Largest number of permits a pool may hold (same value as tokio).
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 3;

/// Internal state; only ever locked briefly and never across a `wake()`.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    permits: usize,
    closed: bool,
    /// Pending requests, oldest first.
    waiters: VecDeque<Waiter>,
    /// Ids of waiters that got all their permits but have not been polled yet.
    granted: Vec<u64>,
    /// Source of waiter ids; a counter keeps ids (and thus behaviour) deterministic.
    next_id: u64,
}

#[derive(Debug)]
struct Waiter {
    id: u64,
    needed: usize,
    /// Permits still missing; `needed - remaining` were already assigned.
    remaining: usize,
    waker: Waker,
}

impl Batch {
    pub(crate) fn new(permits: usize) -> Self {
        let state = State {
            permits,
            ..State::default()
        };
        Batch {
            state: Mutex::new(state),
        }
    }

    /// The internal lock cannot be poisoned by user code (none runs under it),
    /// but recover anyway rather than propagate an unrelated panic.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn available(&self) -> usize {
        self.lock().permits
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    pub(crate) fn try_acquire(&self, n: usize) -> Result<(), TryAcquireError> {
        let mut st = self.lock();
        if st.closed {
            Err(TryAcquireError::Closed)
        } else if st.permits >= n {
            st.permits -= n;
            Ok(())
        } else {
            Err(TryAcquireError::NoPermits)
        }
    }

    /// Returns `n` permits, hands them to waiters in FIFO order, then wakes
    /// the satisfied waiters after the lock is dropped.
    ///
    /// Panics if the pool would exceed [`MAX_PERMITS`] (checked before any
    /// change, so the state stays consistent).
    pub(crate) fn release(&self, n: usize) {
        let mut st = self.lock();
        if st.permits.checked_add(n).is_none_or(|t| t > MAX_PERMITS) {
            drop(st);
            panic!("a semaphore cannot hold more than {MAX_PERMITS} permits");
        }
        let wakers = st.release(n);
        drop(st);
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Closes the queue: every pending waiter fails, partially assigned
    /// permits go back to the pool.
    pub(crate) fn close(&self) {
        let mut st = self.lock();
        st.closed = true;
        let waiters = std::mem::take(&mut st.waiters);
        let mut wakers = Vec::with_capacity(waiters.len());
        for w in waiters {
            // Only the head can hold a partial share; return it to the pool.
            st.permits += w.needed - w.remaining;
            wakers.push(w.waker);
        }
        drop(st);
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Future that resolves once `n` permits are owned by the caller.
    pub(crate) fn acquire(&self, n: usize) -> Acquire<'_> {
        Acquire {
            batch: self,
            needed: n,
            state: AcquireState::Init,
        }
    }
}

impl State {
    /// Adds permits and assigns them to the head of the queue; returns the
    /// wakers of fully satisfied waiters (to be woken after unlocking).
    fn release(&mut self, n: usize) -> Vec<Waker> {
        self.permits += n;
        let mut wakers = Vec::new();
        while let Some(head) = self.waiters.front_mut() {
            let take = head.remaining.min(self.permits);
            head.remaining -= take;
            self.permits -= take;
            if head.remaining > 0 {
                break; // FIFO: the head blocks everyone behind it.
            }
            let w = self.waiters.pop_front().expect("front exists");
            self.granted.push(w.id);
            wakers.push(w.waker);
        }
        wakers
    }

    fn take_granted(&mut self, id: u64) -> bool {
        match self.granted.iter().position(|&g| g == id) {
            Some(pos) => {
                self.granted.swap_remove(pos);
                true
            }
            None => false,
        }
    }
}

#[derive(Debug)]
enum AcquireState {
    Init,
    Waiting(u64),
    Done,
}

/// Cancel-safe request for `needed` permits. Output: `true` on success,
/// `false` if the queue was closed.
#[derive(Debug)]
pub(crate) struct Acquire<'a> {
    batch: &'a Batch,
    needed: usize,
    state: AcquireState,
}

impl Future for Acquire<'_> {
    type Output = bool;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        let this = &mut *self;
        let mut st = this.batch.lock();
        match this.state {
            AcquireState::Init => {
                if st.closed {
                    this.state = AcquireState::Done;
                    return Poll::Ready(false);
                }
                // Only takes anything when the queue is empty (invariant).
                let take = this.needed.min(st.permits);
                st.permits -= take;
                if take == this.needed {
                    this.state = AcquireState::Done;
                    return Poll::Ready(true);
                }
                let id = st.next_id;
                st.next_id += 1;
                let waker = cx.waker().clone();
                st.waiters.push_back(Waiter {
                    id,
                    needed: this.needed,
                    remaining: this.needed - take,
                    waker,
                });
                this.state = AcquireState::Waiting(id);
                Poll::Pending
            }
            AcquireState::Waiting(id) => {
                if st.take_granted(id) {
                    this.state = AcquireState::Done;
                    return Poll::Ready(true);
                }
                if st.closed {
                    this.state = AcquireState::Done;
                    return Poll::Ready(false);
                }
                if let Some(w) = st.waiters.iter_mut().find(|w| w.id == id) {
                    w.waker.clone_from(cx.waker());
                }
                Poll::Pending
            }
            AcquireState::Done => panic!("`Acquire` polled after completion"),
        }
    }
}

impl Drop for Acquire<'_> {
    /// Cancellation: leave the queue and give back whatever was assigned to
    /// us, so the next waiter can proceed and no permit is lost.
    fn drop(&mut self) {
        let AcquireState::Waiting(id) = self.state else {
            return;
        };
        let mut st = self.batch.lock();
        let give_back = match st.waiters.iter().position(|w| w.id == id) {
            Some(pos) => {
                let w = st.waiters.remove(pos).expect("position is valid");
                w.needed - w.remaining
            }
            None if st.take_granted(id) => self.needed,
            None => 0, // closed: nothing was kept for us
        };
        let wakers = st.release(give_back);
        drop(st);
        wakers.into_iter().for_each(Waker::wake);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_util::{poll, poll_with};
    use futures::task::{waker, ArcWake};
    use std::pin::pin;
    use std::sync::Arc;

    #[test]
    fn cancelled_head_returns_its_partial_share() {
        let batch = Batch::new(2);
        let mut big = Box::pin(batch.acquire(3)); // takes 2, waits for 1
        let mut next = pin!(batch.acquire(2));
        assert!(poll(big.as_mut()).is_pending());
        assert!(poll(next.as_mut()).is_pending());
        assert_eq!(batch.available(), 0);
        drop(big);
        assert_eq!(poll(next.as_mut()), Poll::Ready(true));
        assert_eq!(batch.available(), 0);
    }

    #[test]
    fn close_returns_partial_share_to_pool() {
        let batch = Batch::new(1);
        let mut big = pin!(batch.acquire(2));
        assert!(poll(big.as_mut()).is_pending());
        batch.close();
        assert_eq!(poll(big.as_mut()), Poll::Ready(false));
        assert_eq!(batch.available(), 1);
    }

    /// A waker that checks the internal lock is free when `wake()` runs.
    struct Probe(Arc<Batch>, Mutex<Vec<bool>>);

    impl ArcWake for Probe {
        fn wake_by_ref(p: &Arc<Self>) {
            let free = p.0.state.try_lock().is_ok();
            p.1.lock().unwrap().push(free);
        }
    }

    #[test]
    fn wakes_happen_after_unlocking() {
        let batch = Arc::new(Batch::new(0));
        let probe = Arc::new(Probe(batch.clone(), Mutex::new(Vec::new())));
        let w = waker(probe.clone());
        let mut a = pin!(batch.acquire(1));
        let mut b = pin!(batch.acquire(1));
        let mut c = Box::pin(batch.acquire(1));
        for f in [a.as_mut(), b.as_mut(), c.as_mut()] {
            assert!(poll_with(f, &w).is_pending());
        }
        batch.release(1); // wake via release
        drop(c); // dropping a queued waiter wakes nobody
        batch.close(); // wake via close
        assert_eq!(*probe.1.lock().unwrap(), vec![true, true]);
    }
}
