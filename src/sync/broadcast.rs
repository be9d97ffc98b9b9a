//! A multi-producer, multi-consumer channel where every receiver sees every value
//! (tokio's `broadcast`), with lagging receivers.
//!
//! Design: one ring of `capacity` slots (rounded up to a power of two, as tokio does)
//! under a mutex. Slot `i` holds the value sent at position `tail - len + i`, with the
//! number of receivers that still have to read it; the value is dropped when that
//! reaches zero. A receiver keeps the position it reads next.
//!
//! Invariants:
//! 1. The ring holds the last `min(sent, capacity)` positions; when full, a send drops
//!    the oldest slot. A receiver whose next position fell off the ring gets
//!    [`RecvError::Lagged`] with the number it missed and resumes at the oldest value.
//! 2. Receivers wait on a [`Notify`] created before checking the ring, so a send (or
//!    the last sender leaving) between the check and the wait is not lost.

use super::Notify;
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Errors of [`Sender::send`] and [`Receiver::recv`].
pub mod error {
    use std::fmt;

    /// There is no receiver; the value is returned.
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub struct SendError<T>(pub T);

    impl<T> fmt::Debug for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SendError").finish_non_exhaustive()
        }
    }

    impl<T> fmt::Display for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "channel closed")
        }
    }

    impl<T> std::error::Error for SendError<T> {}

    /// Why [`recv`](super::Receiver::recv) gave no value.
    #[derive(Debug, PartialEq, Eq, Clone, Copy, thiserror::Error)]
    pub enum RecvError {
        /// Every sender is gone and every value was read.
        #[error("channel closed")]
        Closed,
        /// The receiver fell behind and missed this many values; it goes on with the
        /// oldest value still in the channel.
        #[error("channel lagged by {0}")]
        Lagged(u64),
    }

    /// Why [`try_recv`](super::Receiver::try_recv) gave no value.
    #[derive(Debug, PartialEq, Eq, Clone, Copy, thiserror::Error)]
    pub enum TryRecvError {
        /// No value is available right now.
        #[error("channel empty")]
        Empty,
        /// Every sender is gone and every value was read.
        #[error("channel closed")]
        Closed,
        /// The receiver missed this many values (see [`RecvError::Lagged`]).
        #[error("channel lagged by {0}")]
        Lagged(u64),
    }
}

use error::{RecvError, SendError, TryRecvError};

struct Shared<T> {
    ring: Mutex<Ring<T>>,
    /// Woken on every send and when the last sender goes.
    sent: Notify,
    /// Woken when the last receiver goes.
    rx_gone: Notify,
}

struct Ring<T> {
    capacity: usize,
    slots: VecDeque<Slot<T>>,
    /// Position of the next send; the oldest slot is at `tail - slots.len()`.
    tail: u64,
    senders: usize,
    receivers: usize,
}

struct Slot<T> {
    /// `None` once every receiver that was subscribed at the send has read it.
    value: Option<T>,
    unread: usize,
}

impl<T> Ring<T> {
    fn head(&self) -> u64 {
        self.tail - self.slots.len() as u64
    }
}

impl<T> Shared<T> {
    fn ring(&self) -> MutexGuard<'_, Ring<T>> {
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Creates a channel retaining the last `capacity` values (rounded up to a power of two).
///
/// Panics if `capacity` is 0.
///
/// ```rust
/// use detsim::sync::broadcast::{self, error::RecvError};
/// futures::executor::block_on(async {
///     let (tx, mut rx) = broadcast::channel(2);
///     for i in 0..3 { tx.send(i).unwrap(); }
///     assert_eq!(rx.recv().await, Err(RecvError::Lagged(1)));
///     assert_eq!(rx.recv().await, Ok(1));
///     assert_eq!(rx.recv().await, Ok(2));
///     drop(tx);
///     assert_eq!(rx.recv().await, Err(RecvError::Closed));
/// });
/// ```
#[track_caller]
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "broadcast channel capacity cannot be zero");
    let capacity = capacity.next_power_of_two();
    let shared = Arc::new(Shared {
        ring: Mutex::new(Ring {
            capacity,
            slots: VecDeque::with_capacity(capacity),
            tail: 0,
            senders: 1,
            receivers: 1,
        }),
        sent: Notify::new(),
        rx_gone: Notify::new(),
    });
    let rx = Receiver {
        shared: shared.clone(),
        next: 0,
    };
    (Sender { shared }, rx)
}

/// Sends values to every current receiver; clone it for more senders.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// Receives every value sent after it subscribed (unless it lags).
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The position this receiver reads next.
    next: u64,
}

impl<T> Sender<T> {
    /// Creates a sender with no receivers (retaining `capacity` values once subscribed).
    #[track_caller]
    pub fn new(capacity: usize) -> Self
    where
        T: Clone,
    {
        let (tx, _) = channel(capacity);
        tx
    }

    /// Sends `value` to every receiver, returning how many there are; fails if none.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let receivers = {
            let mut ring = self.shared.ring();
            if ring.receivers == 0 {
                return Err(SendError(value));
            }
            if ring.slots.len() == ring.capacity {
                ring.slots.pop_front(); // invariant 1: the oldest falls off
            }
            let unread = ring.receivers;
            ring.slots.push_back(Slot {
                value: Some(value),
                unread,
            });
            ring.tail += 1;
            unread
        };
        self.shared.sent.notify_waiters();
        Ok(receivers)
    }

    /// A new receiver that gets values sent from now on.
    pub fn subscribe(&self) -> Receiver<T> {
        subscribe(&self.shared)
    }

    /// Values some receiver has not read yet.
    pub fn len(&self) -> usize {
        let ring = self.shared.ring();
        ring.slots.iter().filter(|s| s.value.is_some()).count()
    }

    /// Whether every value was read by every receiver.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of receivers.
    pub fn receiver_count(&self) -> usize {
        self.shared.ring().receivers
    }

    /// Whether both senders feed the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Waits until there are no receivers.
    pub async fn closed(&self) {
        loop {
            let notified = self.shared.rx_gone.notified();
            if self.receiver_count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

fn subscribe<T>(shared: &Arc<Shared<T>>) -> Receiver<T> {
    let next = {
        let mut ring = shared.ring();
        ring.receivers += 1;
        ring.tail
    };
    Receiver {
        shared: shared.clone(),
        next,
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.ring().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let last = {
            let mut ring = self.shared.ring();
            ring.senders -= 1;
            ring.senders == 0
        };
        if last {
            self.shared.sent.notify_waiters();
        }
    }
}

impl<T: Clone> Receiver<T> {
    /// Waits for the next value. Cancel safe.
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        let shared = self.shared.clone();
        loop {
            let notified = shared.sent.notified(); // before the check (invariant 2)
            match self.try_recv() {
                Ok(v) => return Ok(v),
                Err(TryRecvError::Lagged(n)) => return Err(RecvError::Lagged(n)),
                Err(TryRecvError::Closed) => return Err(RecvError::Closed),
                Err(TryRecvError::Empty) => notified.await,
            }
        }
    }

    /// The next value if one is available now.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut ring = self.shared.ring();
        let head = ring.head();
        if self.next < head {
            let missed = head - self.next;
            self.next = head;
            return Err(TryRecvError::Lagged(missed));
        }
        if self.next == ring.tail {
            return Err(match ring.senders {
                0 => TryRecvError::Closed,
                _ => TryRecvError::Empty,
            });
        }
        let slot = &mut ring.slots[(self.next - head) as usize];
        slot.unread -= 1;
        let value = match slot.unread {
            0 => slot.value.take(),
            _ => slot.value.clone(),
        };
        self.next += 1;
        Ok(value.expect("a slot keeps its value until its last reader took it"))
    }
}

impl<T> Receiver<T> {
    /// Values sent that this receiver has not read yet (within the ring).
    pub fn len(&self) -> usize {
        let ring = self.shared.ring();
        (ring.tail - self.next.max(ring.head())) as usize
    }

    /// Whether this receiver has read everything.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every sender is gone.
    pub fn is_closed(&self) -> bool {
        self.shared.ring().senders == 0
    }

    /// Whether both receivers listen to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// A new receiver on the same channel that gets values sent from now on.
    pub fn resubscribe(&self) -> Self {
        subscribe(&self.shared)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let last = {
            let mut ring = self.shared.ring();
            let head = ring.head();
            let from = self.next.saturating_sub(head) as usize;
            for slot in ring.slots.iter_mut().skip(from) {
                slot.unread -= 1;
                if slot.unread == 0 {
                    slot.value = None;
                }
            }
            ring.receivers -= 1;
            ring.receivers == 0
        };
        if last {
            self.shared.rx_gone.notify_waiters();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_util::{poll, poll_with, WakeLog};
    use std::pin::pin;
    use std::rc::Rc;
    use std::task::Poll;

    #[test]
    fn every_receiver_gets_every_value_and_values_drop_after_the_last_read() {
        let (tx, mut a) = channel(4);
        let mut b = tx.subscribe();
        let v = Rc::new(());
        tx.send(v.clone()).unwrap();
        assert_eq!(tx.len(), 1);
        a.try_recv().unwrap();
        assert_eq!(
            Rc::strong_count(&v),
            2,
            "the channel keeps a copy: b has not read it"
        );
        b.try_recv().unwrap();
        assert_eq!(Rc::strong_count(&v), 1, "the channel dropped its copy");
        tx.send(v.clone()).unwrap();
        drop(b);
        drop(a.try_recv().unwrap());
        assert_eq!(Rc::strong_count(&v), 1, "a dropped receiver counts as read");
        assert!(tx.is_empty());
    }

    #[test]
    fn capacity_rounds_up_and_lag_is_counted() {
        let (tx, mut rx) = channel(3); // 4 slots
        for i in 0..10 {
            tx.send(i).unwrap();
        }
        assert_eq!(rx.len(), 4);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(6)));
        assert_eq!(rx.try_recv(), Ok(6));
        let late = rx.resubscribe();
        assert!(late.is_empty());
        assert_eq!(tx.receiver_count(), 2);
    }

    #[test]
    fn waiting_receivers_wake_in_order_and_see_close() {
        let (tx, mut a) = channel::<u8>(1);
        let mut b = tx.subscribe();
        let log = WakeLog::default();
        let mut fa = pin!(a.recv());
        let mut fb = pin!(b.recv());
        assert!(poll_with(fa.as_mut(), &log.waker(0)).is_pending());
        assert!(poll_with(fb.as_mut(), &log.waker(1)).is_pending());
        tx.send(7).unwrap();
        assert_eq!(log.take(), vec![0, 1]);
        assert_eq!(poll(fa.as_mut()), Poll::Ready(Ok(7)));
        assert_eq!(poll(fb.as_mut()), Poll::Ready(Ok(7)));
        let mut c = tx.subscribe();
        drop(tx);
        assert_eq!(c.try_recv(), Err(TryRecvError::Closed));
        assert!(c.is_closed());
    }

    #[test]
    fn send_without_receivers_fails() {
        let tx = Sender::<u8>::new(2);
        assert_eq!(tx.send(1), Err(SendError(1)));
        futures::executor::block_on(tx.closed());
    }
}
