//! Core shared by both channel flavours: buffer, sender count, receiver waker.
//!
//! Bounded channels add a [`Semaphore`] of free slots: a send first takes a
//! slot (FIFO among blocked senders, cancel safe), a receive gives one back.

use super::error::TryRecvError;
use super::receiver::Rx;
use crate::sync::{Notify, Semaphore};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

pub(super) struct Chan<T> {
    state: Mutex<State<T>>,
    /// Free buffer slots of a bounded channel; `None` when unbounded.
    slots: Option<Semaphore>,
    /// `notify_waiters` when the receiver closes, for `Sender::closed`.
    rx_closed: Notify,
}

struct State<T> {
    queue: VecDeque<T>,
    senders: usize,
    rx_closed: bool,
    rx_waker: Option<Waker>,
}

impl<T> Chan<T> {
    /// A channel with one sender; `slots` is `Some` for bounded channels.
    pub(super) fn new(slots: Option<Semaphore>) -> Arc<Self> {
        let state = State {
            queue: VecDeque::new(),
            senders: 1,
            rx_closed: false,
            rx_waker: None,
        };
        Arc::new(Chan {
            state: Mutex::new(state),
            slots,
            rx_closed: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Slot semaphore; only called by the bounded flavour.
    pub(super) fn slots(&self) -> &Semaphore {
        self.slots.as_ref().expect("bounded channel has slots")
    }

    /// Buffers `value` (the caller already holds a slot if bounded) and wakes
    /// the receiver. Gives the value back if the receiver is closed.
    pub(super) fn push(&self, value: T) -> Result<(), T> {
        let mut st = self.lock();
        if st.rx_closed {
            return Err(value);
        }
        st.queue.push_back(value);
        let waker = st.rx_waker.take();
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Pops one value and frees its slot (after unlocking, as that may wake a
    /// blocked sender). When empty, hands the still-held guard back.
    fn pop<'a>(&'a self, mut st: MutexGuard<'a, State<T>>) -> Result<T, MutexGuard<'a, State<T>>> {
        match st.queue.pop_front() {
            Some(v) => {
                drop(st);
                if let Some(slots) = &self.slots {
                    slots.add_permits(1);
                }
                Ok(v)
            }
            None => Err(st),
        }
    }

    pub(super) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        match self.pop(self.lock()) {
            Ok(v) => Poll::Ready(Some(v)),
            Err(st) if st.senders == 0 || st.rx_closed => Poll::Ready(None),
            Err(mut st) => {
                st.rx_waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    pub(super) fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.pop(self.lock()) {
            Ok(v) => Ok(v),
            Err(st) if st.senders == 0 || st.rx_closed => Err(TryRecvError::Disconnected),
            Err(_) => Err(TryRecvError::Empty),
        }
    }

    /// Stops further sends (blocked senders fail); buffered values stay.
    pub(super) fn close_rx(&self) {
        self.lock().rx_closed = true;
        if let Some(slots) = &self.slots {
            slots.close();
        }
        self.rx_closed.notify_waiters();
    }

    /// Receiver dropped: close, then drop buffered values outside the lock
    /// (their destructors may use other primitives, even this channel).
    pub(super) fn drop_rx(&self) {
        self.close_rx();
        let queue = std::mem::take(&mut self.lock().queue);
        drop(queue);
    }

    pub(super) fn is_closed(&self) -> bool {
        self.lock().rx_closed
    }

    /// Resolves once the receiver is closed or dropped.
    pub(super) async fn closed(&self) {
        loop {
            // Created before the check, so a close in between is not missed.
            let notified = self.rx_closed.notified();
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }

    /// Receiver's view: closed by it, or no sender left.
    pub(super) fn rx_is_closed(&self) -> bool {
        let st = self.lock();
        st.rx_closed || st.senders == 0
    }

    pub(super) fn len(&self) -> usize {
        self.lock().queue.len()
    }

    pub(super) fn add_sender(&self) {
        self.lock().senders += 1;
    }

    /// The last sender leaving wakes the receiver so `recv` can return `None`.
    pub(super) fn drop_sender(&self) {
        let mut st = self.lock();
        st.senders -= 1;
        let waker = if st.senders == 0 {
            st.rx_waker.take()
        } else {
            None
        };
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// Counted sender handle: cloning registers a sender, dropping unregisters.
pub(super) struct Tx<T>(pub(super) Arc<Chan<T>>);

impl<T> Clone for Tx<T> {
    fn clone(&self) -> Self {
        self.0.add_sender();
        Tx(self.0.clone())
    }
}

impl<T> Drop for Tx<T> {
    fn drop(&mut self) {
        self.0.drop_sender();
    }
}

/// Creates the two handles of a new channel.
pub(super) fn pair<T>(slots: Option<Semaphore>) -> (Tx<T>, Rx<T>) {
    let chan = Chan::new(slots);
    (Tx(chan.clone()), Rx::new(chan))
}
