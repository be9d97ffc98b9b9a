//! Single-value channel: one `send`, one receive (tokio semantics).
//!
//! ```rust
//! use detsim::sync::oneshot;
//! futures::executor::block_on(async {
//!     let (tx, rx) = oneshot::channel();
//!     tx.send(3).unwrap();
//!     assert_eq!(rx.await, Ok(3));
//!     let (tx, rx) = oneshot::channel::<u8>();
//!     drop(tx);
//!     assert!(rx.await.is_err());
//! });
//! ```

use futures::future::FusedFuture;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// Errors of the oneshot channel.
pub mod error {
    /// The sender was dropped (or the receiver closed) without a value.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
    #[error("channel closed")]
    pub struct RecvError(pub(super) ());

    /// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned no value.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
    pub enum TryRecvError {
        /// No value yet, but the sender may still send one.
        #[error("channel empty")]
        Empty,
        /// No value, and none can arrive any more.
        #[error("channel closed")]
        Closed,
    }
}
pub use error::{RecvError, TryRecvError};

/// Creates a connected sender/receiver pair.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: Mutex::new(State {
            value: None,
            tx_gone: false,
            rx_closed: false,
            rx_waker: None,
            tx_waker: None,
        }),
    });
    let tx = Sender {
        inner: Some(inner.clone()),
    };
    (tx, Receiver { inner, done: false })
}

struct Inner<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    value: Option<T>,
    /// The sender sent or was dropped: no (further) value can arrive.
    tx_gone: bool,
    /// The receiver closed or was dropped: `send` must fail.
    rx_closed: bool,
    rx_waker: Option<Waker>,
    tx_waker: Option<Waker>,
}

impl<T> Inner<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the sender's outcome and wakes the receiver (after
    /// unlocking). Gives `value` back if the receiver is already closed.
    fn finish_tx(&self, value: Option<T>) -> Result<(), T> {
        let mut st = self.lock();
        st.tx_gone = true;
        if st.rx_closed {
            return value.map_or(Ok(()), Err);
        }
        st.value = value;
        let waker = st.rx_waker.take();
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }
}

/// Sends the single value; dropping it unsent makes the receiver fail.
pub struct Sender<T> {
    /// `None` once `send` consumed it, so `Drop` does nothing.
    inner: Option<Arc<Inner<T>>>,
}

impl<T> Sender<T> {
    fn inner(&self) -> &Inner<T> {
        self.inner.as_ref().expect("present until send or drop")
    }

    /// Sends `value`; gives it back as `Err` if the receiver is closed/dropped.
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self.inner.take().expect("present until send or drop");
        inner.finish_tx(Some(value))
    }

    /// Whether the receiver was closed or dropped (a send would fail).
    pub fn is_closed(&self) -> bool {
        self.inner().lock().rx_closed
    }

    /// Ready once the receiver is closed or dropped.
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.inner().lock();
        if st.rx_closed {
            return Poll::Ready(());
        }
        st.tx_waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Waits until the receiver is closed or dropped (e.g. to stop work
    /// whose result nobody wants any more).
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let _ = inner.finish_tx(None); // `None` cannot be given back
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender").finish_non_exhaustive()
    }
}

/// Receives the value by being awaited: `Ok(value)`, or `Err(RecvError)` if
/// the sender went away without sending.
pub struct Receiver<T> {
    inner: Arc<Inner<T>>,
    /// Set after `Ready` was returned (for `FusedFuture`).
    done: bool,
}

impl<T> Receiver<T> {
    /// Takes the value if it has arrived, without waiting.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut st = self.inner.lock();
        match st.value.take() {
            Some(v) => Ok(v),
            None if st.tx_gone || st.rx_closed => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Stops the sender from sending; a value sent before stays receivable.
    pub fn close(&mut self) {
        let mut st = self.inner.lock();
        st.rx_closed = true;
        let waker = st.tx_waker.take();
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut st = this.inner.lock();
        let result = match st.value.take() {
            Some(v) => Ok(v),
            None if st.tx_gone || st.rx_closed => Err(RecvError(())),
            None => {
                st.rx_waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
        };
        drop(st);
        this.done = true;
        Poll::Ready(result)
    }
}

impl<T> FusedFuture for Receiver<T> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<T> Drop for Receiver<T> {
    /// Closes the channel and drops an unreceived value outside the lock
    /// (its destructor may touch other primitives).
    fn drop(&mut self) {
        self.close();
        let value = self.inner.lock().value.take();
        drop(value);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_util::{poll, poll_with, WakeLog};
    use futures::executor::block_on;
    use futures::FutureExt;
    use std::pin::pin;

    #[test]
    fn send_wakes_pending_receiver() {
        let (tx, mut rx) = channel();
        let log = WakeLog::default();
        assert!(poll_with(Pin::new(&mut rx), &log.waker(7)).is_pending());
        assert!(!rx.is_terminated());
        tx.send("hi").unwrap();
        assert_eq!(log.take(), vec![7]);
        assert_eq!(poll(Pin::new(&mut rx)), Poll::Ready(Ok("hi")));
        assert!(rx.is_terminated());
    }

    #[test]
    fn dropped_sender_fails_receiver() {
        let (tx, mut rx) = channel::<u8>();
        let log = WakeLog::default();
        assert!(poll_with(Pin::new(&mut rx), &log.waker(1)).is_pending());
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        drop(tx);
        assert_eq!(log.take(), vec![1]);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        assert_eq!(block_on(rx), Err(RecvError(())));
    }

    #[test]
    fn send_to_closed_or_dropped_receiver_returns_value() {
        let (tx, mut rx) = channel();
        rx.close();
        assert!(tx.is_closed());
        assert_eq!(tx.send(5), Err(5));
        assert_eq!(block_on(&mut rx), Err(RecvError(())));
        let (tx, rx) = channel();
        drop(rx);
        assert_eq!(tx.send(6), Err(6));
    }

    #[test]
    fn value_sent_before_close_is_still_received() {
        let (tx, mut rx) = channel();
        tx.send(1).unwrap();
        rx.close();
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }

    #[test]
    fn sender_closed_resolves_when_receiver_drops() {
        let (mut tx, rx) = channel::<()>();
        let log = WakeLog::default();
        {
            let mut closed = pin!(tx.closed());
            assert!(poll_with(closed.as_mut(), &log.waker(3)).is_pending());
            drop(rx);
            assert_eq!(log.take(), vec![3]);
            assert!(poll(closed).is_ready());
        }
        assert!(tx.is_closed());
    }

    #[test]
    fn receiver_in_select_and_unreceived_value_dropped() {
        let (tx, mut rx) = channel::<Arc<()>>();
        let token = Arc::new(());
        let got = block_on(async {
            futures::select_biased! {
                v = rx => v.is_ok(),
                _ = futures::future::ready(()).fuse() => false,
            }
        });
        assert!(!got, "nothing was sent yet");
        tx.send(token.clone()).unwrap();
        assert_eq!(Arc::strong_count(&token), 2);
        drop(rx); // the unreceived value must be dropped with the receiver
        assert_eq!(Arc::strong_count(&token), 1);
    }
}
