//! Bounded channel: senders wait (FIFO) while the buffer is full.

use super::chan::{pair, Tx};
use super::error::{SendError, TrySendError};
use super::receiver::{receiver_api, Rx};
use crate::sync::{Semaphore, TryAcquireError};
use std::fmt;

mod reserve;
pub use reserve::{OwnedPermit, Permit};

/// Creates a channel buffering at most `capacity` values.
///
/// Panics if `capacity == 0` (a rendezvous channel is not supported, as in
/// tokio) or exceeds `Semaphore::MAX_PERMITS`.
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "mpsc bounded channel requires buffer > 0");
    let (tx, rx) = pair(Some(Semaphore::new(capacity)));
    (Sender { tx, capacity }, Receiver { rx, capacity })
}

/// Sending half of a bounded channel; clone it for more producers.
pub struct Sender<T> {
    tx: Tx<T>,
    capacity: usize,
}

/// Receiving half of a bounded channel; also a [`Stream`](futures::stream::Stream).
pub struct Receiver<T> {
    rx: Rx<T>,
    capacity: usize,
}

impl<T> Receiver<T> {
    /// Free slots right now (as [`Sender::capacity`]).
    pub fn capacity(&self) -> usize {
        self.rx.free_slots()
    }

    /// The buffer size given to [`channel`].
    pub fn max_capacity(&self) -> usize {
        self.capacity
    }
}

impl<T> Sender<T> {
    /// Waits for a free slot (FIFO among blocked senders), then buffers
    /// `value`. Fails, giving `value` back, once the receiver is closed.
    ///
    /// Not cancel safe for the value: dropping the future drops `value`.
    /// The slot queue itself is: a slot granted to a dropped `send` goes on.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self.tx.0.slots().acquire().await {
            Ok(slot) => slot.forget(), // the receiver returns it on pop
            Err(_) => return Err(SendError(value)),
        }
        self.tx.0.push(value).map_err(SendError)
    }

    /// Buffers `value` if a slot is free right now and no sender is queued.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.tx.0.slots().try_acquire() {
            Ok(slot) => slot.forget(),
            Err(TryAcquireError::NoPermits) => return Err(TrySendError::Full(value)),
            Err(TryAcquireError::Closed) => return Err(TrySendError::Closed(value)),
        }
        self.tx.0.push(value).map_err(TrySendError::Closed)
    }

    /// Whether the receiver is closed or dropped.
    pub fn is_closed(&self) -> bool {
        self.tx.0.is_closed()
    }

    /// Waits until the receiver is closed or dropped.
    pub async fn closed(&self) {
        self.tx.0.closed().await
    }

    /// Free slots right now.
    pub fn capacity(&self) -> usize {
        self.tx.0.slots().available_permits()
    }

    /// The buffer size given to [`channel`].
    pub fn max_capacity(&self) -> usize {
        self.capacity
    }

    /// Whether both senders feed the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.tx.0, &other.tx.0)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            tx: self.tx.clone(),
            capacity: self.capacity,
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::Sender")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

receiver_api!(
    Receiver,
    "mpsc::Receiver",
    /// Stops further sends (blocked senders fail); buffered values can still
    /// be received.
    fn close
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::mpsc::error::TryRecvError;
    use crate::sync::test_util::{poll, poll_with, WakeLog};
    use futures::executor::{block_on, LocalPool};
    use futures::stream::FusedStream;
    use futures::task::LocalSpawnExt;
    use futures::{FutureExt, StreamExt};
    use std::pin::pin;
    use std::sync::Arc;
    use std::task::Poll;

    fn assert_send_sync<X: Send + Sync>(_: &X) {}

    #[test]
    fn handles_and_futures_are_send_sync() {
        let (tx, mut rx) = channel::<Vec<u8>>(1);
        assert_send_sync(&tx);
        assert_send_sync(&tx.send(Vec::new()));
        assert_send_sync(&tx.closed());
        assert_send_sync(&rx.recv());
        assert_send_sync(&rx);
    }

    #[test]
    fn full_buffer_applies_back_pressure() {
        let (tx, mut rx) = channel(1);
        assert_eq!(tx.max_capacity(), 1);
        assert_eq!((rx.capacity(), rx.max_capacity()), (1, 1));
        assert!(poll(pin!(tx.send(1))).is_ready());
        assert_eq!(tx.capacity(), 0);
        let mut second = pin!(tx.send(2));
        assert!(poll(second.as_mut()).is_pending());
        assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(poll(second), Poll::Ready(Ok(())));
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }

    #[test]
    fn blocked_senders_are_served_fifo() {
        let (tx, mut rx) = channel(1);
        let tx2 = tx.clone();
        assert!(tx.same_channel(&tx2));
        tx.try_send('x').unwrap();
        let log = WakeLog::default();
        let mut b = pin!(tx2.send('b'));
        let mut a = pin!(tx.send('a'));
        assert!(poll_with(b.as_mut(), &log.waker(1)).is_pending());
        assert!(poll_with(a.as_mut(), &log.waker(0)).is_pending());
        assert_eq!(rx.try_recv(), Ok('x'));
        assert_eq!(log.take(), vec![1]);
        assert!(poll(a.as_mut()).is_pending(), "a queued behind b");
        assert!(poll(b).is_ready());
        assert_eq!(rx.try_recv(), Ok('b'));
        assert!(poll(a).is_ready());
        assert_eq!(rx.try_recv(), Ok('a'));
    }

    #[test]
    fn cancelled_send_passes_its_slot_on() {
        let (tx, mut rx) = channel(1);
        tx.try_send(0).unwrap();
        let mut a = Box::pin(tx.send(10));
        let mut b = pin!(tx.send(20));
        assert!(poll(a.as_mut()).is_pending());
        assert!(poll(b.as_mut()).is_pending());
        assert_eq!(rx.try_recv(), Ok(0)); // slot granted to `a`...
        drop(a); // ...which is cancelled before using it
        assert_eq!(poll(b), Poll::Ready(Ok(())));
        assert_eq!(rx.try_recv(), Ok(20));
        assert_eq!(tx.capacity(), 1, "no slot leaked");
    }

    #[test]
    fn recv_is_none_after_senders_drop_and_buffer_drains() {
        let (tx, mut rx) = channel(4);
        let tx2 = tx.clone();
        block_on(tx.send(1)).unwrap();
        drop(tx);
        assert!(!rx.is_closed(), "one sender left");
        block_on(tx2.send(2)).unwrap();
        drop(tx2);
        assert!(rx.is_closed());
        assert_eq!(rx.len(), 2);
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), Some(2));
        assert!(!rx.is_terminated());
        assert_eq!(block_on(rx.next()), None);
        assert!(rx.is_terminated());
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    }

    #[test]
    fn close_fails_senders_but_keeps_buffered_values() {
        let (tx, mut rx) = channel(1);
        tx.try_send(1).unwrap();
        let mut blocked = pin!(tx.send(2));
        assert!(poll(blocked.as_mut()).is_pending());
        rx.close();
        assert!(tx.is_closed());
        assert_eq!(poll(blocked), Poll::Ready(Err(SendError(2))));
        assert!(matches!(tx.try_send(3), Err(TrySendError::Closed(3))));
        assert!(poll(pin!(tx.closed())).is_ready());
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), None, "closed and drained");
    }

    #[test]
    fn dropping_receiver_drops_buffer_and_wakes_closed() {
        let (tx, rx) = channel(2);
        let token = Arc::new(());
        tx.try_send(token.clone()).unwrap();
        let log = WakeLog::default();
        let mut closed = pin!(tx.closed());
        assert!(poll_with(closed.as_mut(), &log.waker(5)).is_pending());
        drop(rx);
        assert_eq!(log.take(), vec![5]);
        assert!(poll(closed).is_ready());
        assert_eq!(Arc::strong_count(&token), 1, "buffered value dropped");
    }

    #[test]
    fn stream_receives_everything_in_order() {
        let (tx, rx) = channel(2);
        let mut pool = LocalPool::new();
        let producer = async move {
            for i in 0..6 {
                tx.send(i).await.unwrap();
            }
        };
        pool.spawner().spawn_local(producer).unwrap();
        let got: Vec<i32> = pool.run_until(rx.collect());
        assert_eq!(got, (0..6).collect::<Vec<_>>());
    }

    #[test]
    fn recv_losing_a_select_loses_no_value() {
        let (tx, mut rx) = channel(1);
        let lost = block_on(async {
            futures::select_biased! {
                v = rx.recv().fuse() => v,
                _ = futures::future::ready(()).fuse() => None,
            }
        });
        assert_eq!(lost, None);
        tx.try_send(9).unwrap();
        assert_eq!(rx.try_recv(), Ok(9));
    }

    #[test]
    fn recv_many_takes_what_is_buffered_up_to_the_limit() {
        let (tx, mut rx) = channel(8);
        for i in 0..5 {
            tx.try_send(i).unwrap();
        }
        let mut got = Vec::new();
        assert_eq!(block_on(rx.recv_many(&mut got, 3)), 3);
        assert_eq!(block_on(rx.recv_many(&mut got, 10)), 2);
        assert_eq!(got, [0, 1, 2, 3, 4]);
        assert_eq!(block_on(rx.recv_many(&mut got, 0)), 0);
        drop(tx);
        assert_eq!(block_on(rx.recv_many(&mut got, 4)), 0, "closed and drained");
    }

    #[test]
    #[should_panic(expected = "requires buffer > 0")]
    fn zero_capacity_panics() {
        let _ = channel::<()>(0);
    }
}
