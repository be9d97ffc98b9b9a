//! Unbounded channel: sending never waits (memory is the only limit).

use super::chan::{pair, Tx};
use super::error::SendError;
use super::receiver::{receiver_api, Rx};
use std::fmt;

/// Creates a channel with an unlimited buffer.
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let (tx, rx) = pair(None);
    (UnboundedSender { tx }, UnboundedReceiver { rx })
}

/// Sending half of an unbounded channel; clone it for more producers.
pub struct UnboundedSender<T> {
    tx: Tx<T>,
}

/// Receiving half of an unbounded channel; also a [`Stream`](futures::stream::Stream).
pub struct UnboundedReceiver<T> {
    rx: Rx<T>,
}

impl<T> UnboundedSender<T> {
    /// Buffers `value` without waiting; gives it back if the receiver is
    /// closed or dropped.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.tx.0.push(value).map_err(SendError)
    }

    /// Whether the receiver is closed or dropped.
    pub fn is_closed(&self) -> bool {
        self.tx.0.is_closed()
    }

    /// Waits until the receiver is closed or dropped.
    pub async fn closed(&self) {
        self.tx.0.closed().await
    }

    /// Whether both senders feed the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.tx.0, &other.tx.0)
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        UnboundedSender {
            tx: self.tx.clone(),
        }
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("mpsc::UnboundedSender")
            .finish_non_exhaustive()
    }
}

receiver_api!(
    UnboundedReceiver,
    "mpsc::UnboundedReceiver",
    /// Stops further sends; buffered values can still be received.
    fn close
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::mpsc::error::TryRecvError;
    use crate::sync::test_util::{poll, poll_with, WakeLog};
    use futures::executor::block_on;
    use futures::stream::FusedStream;
    use futures::StreamExt;
    use std::pin::pin;
    use std::task::Poll;

    #[test]
    fn send_never_waits_and_order_is_kept() {
        let (tx, mut rx) = unbounded_channel();
        for i in 0..100 {
            tx.send(i).unwrap();
        }
        assert_eq!(rx.len(), 100);
        drop(tx);
        let got: Vec<_> = block_on(rx.by_ref().collect());
        assert_eq!(got, (0..100).collect::<Vec<_>>());
        assert!(rx.is_terminated());
        assert!(rx.is_empty());
    }

    #[test]
    fn last_sender_drop_wakes_receiver() {
        let (tx, mut rx) = unbounded_channel::<u8>();
        let tx2 = tx.clone();
        let log = WakeLog::default();
        let mut recv = pin!(rx.recv());
        assert!(poll_with(recv.as_mut(), &log.waker(1)).is_pending());
        drop(tx);
        assert!(log.take().is_empty(), "a sender is still alive");
        drop(tx2);
        assert_eq!(log.take(), vec![1]);
        assert_eq!(poll(recv), Poll::Ready(None));
    }

    #[test]
    fn send_after_close_returns_value() {
        let (tx, mut rx) = unbounded_channel();
        tx.send("kept").unwrap();
        rx.close();
        assert!(tx.is_closed() && rx.is_closed());
        assert_eq!(tx.send("lost"), Err(SendError("lost")));
        assert!(poll(pin!(tx.closed())).is_ready());
        assert_eq!(rx.try_recv(), Ok("kept"));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    }

    #[test]
    fn closed_waits_for_receiver_drop() {
        let (tx, rx) = unbounded_channel::<()>();
        let mut closed = pin!(tx.closed());
        assert!(poll(closed.as_mut()).is_pending());
        drop(rx);
        assert!(poll(closed).is_ready());
    }
}
