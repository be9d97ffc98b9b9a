//! A single-value channel whose receivers see the latest value (tokio's `watch`).
//!
//! Design: the value lives in a `std::sync::RwLock` (borrowed briefly through [`Ref`],
//! never across an await), a version counter under a small mutex counts sends, and two
//! [`Notify`]s wake receivers on a send or on close, and senders when the last receiver
//! goes. A receiver remembers the version it has seen.
//!
//! Invariants:
//! 1. `version` grows by one per send; a receiver has "changed" iff its version differs.
//! 2. Waiters create their `Notified` before checking the state, and `notify_waiters`
//!    wakes every `Notified` created before it (tokio's rule), so no wake-up is lost.

use super::Notify;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};

/// Errors of [`Sender::send`] and [`Receiver::changed`].
pub mod error {
    use std::fmt;

    /// Every receiver is gone; the value is returned.
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

    /// Every sender is gone.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
    #[error("channel closed")]
    pub struct RecvError(pub(super) ());
}

use error::{RecvError, SendError};

struct Shared<T> {
    value: RwLock<T>,
    state: Mutex<State>,
    /// Woken on every send and when the last sender goes.
    changed: Notify,
    /// Woken when the last receiver goes.
    rx_gone: Notify,
}

#[derive(Debug)]
struct State {
    // invariant: +1 per send (invariant 1)
    version: u64,
    senders: usize,
    receivers: usize,
}

impl<T> Shared<T> {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self) -> RwLockReadGuard<'_, T> {
        self.value.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Creates a watch channel holding `init`.
///
/// ```rust
/// use detsim::sync::watch;
/// futures::executor::block_on(async {
///     let (tx, mut rx) = watch::channel("hello");
///     tx.send("world").unwrap();
///     rx.changed().await.unwrap();
///     assert_eq!(*rx.borrow_and_update(), "world");
///     assert!(!rx.has_changed().unwrap());
///     drop(tx);
///     assert!(rx.changed().await.is_err());
/// });
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        state: Mutex::new(State {
            version: 0,
            senders: 1,
            receivers: 1,
        }),
        changed: Notify::new(),
        rx_gone: Notify::new(),
    });
    let rx = Receiver {
        shared: shared.clone(),
        version: 0,
    };
    (Sender { shared }, rx)
}

/// Sends values to every [`Receiver`]; clone it for more senders.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// Sees the latest value of a watch channel; clone it for more receivers.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version this receiver has seen.
    version: u64,
}

/// A borrowed value; holds a read lock, so keep it short and never across an `.await`.
pub struct Ref<'a, T> {
    inner: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// Whether the value was new to the receiver that borrowed it (false for
    /// `Sender::borrow` and `Receiver::borrow`).
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T> Receiver<T> {
    /// The latest value, without marking it seen.
    pub fn borrow(&self) -> Ref<'_, T> {
        let inner = self.shared.read();
        let has_changed = self.shared.state().version != self.version;
        Ref { inner, has_changed }
    }

    /// The latest value, marking it seen.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let inner = self.shared.read();
        let version = self.shared.state().version;
        let has_changed = version != self.version;
        self.version = version;
        Ref { inner, has_changed }
    }

    /// Whether a value this receiver has not seen was sent; an error once every sender
    /// is gone.
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let st = self.shared.state();
        if st.senders == 0 {
            return Err(RecvError(()));
        }
        Ok(st.version != self.version)
    }

    /// Whether every sender is gone.
    pub fn is_closed(&self) -> bool {
        self.shared.state().senders == 0
    }

    /// Makes the current value count as unseen.
    pub fn mark_changed(&mut self) {
        self.version = self.shared.state().version.wrapping_sub(1);
    }

    /// Makes the current value count as seen.
    pub fn mark_unchanged(&mut self) {
        self.version = self.shared.state().version;
    }

    /// Waits for a value this receiver has not seen and marks it seen; an error once
    /// every sender is gone and no unseen value is left. Cancel safe.
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        changed(&self.shared, &mut self.version).await
    }

    /// Waits until the value satisfies `f` (checking the current value first), marks
    /// it seen, and returns it borrowed.
    pub async fn wait_for(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        let mut closed = false;
        loop {
            {
                let inner = self.shared.read();
                let version = self.shared.state().version;
                let has_changed = version != self.version;
                self.version = version;
                if (!closed || has_changed) && f(&inner) {
                    return Ok(Ref { inner, has_changed });
                }
            }
            if closed {
                return Err(RecvError(()));
            }
            closed = changed(&self.shared, &mut self.version).await.is_err();
        }
    }

    /// Whether both receivers watch the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

async fn changed<T>(shared: &Shared<T>, seen: &mut u64) -> Result<(), RecvError> {
    loop {
        let notified = shared.changed.notified(); // before the check (invariant 2)
        {
            let st = shared.state();
            if st.version != *seen {
                *seen = st.version;
                return Ok(());
            }
            if st.senders == 0 {
                return Err(RecvError(()));
            }
        }
        notified.await;
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.state().receivers += 1;
        Receiver {
            shared: self.shared.clone(),
            version: self.version,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let last = {
            let mut st = self.shared.state();
            st.receivers -= 1;
            st.receivers == 0
        };
        if last {
            self.shared.rx_gone.notify_waiters();
        }
    }
}

impl<T> Sender<T> {
    /// Creates a sender with no receivers (subscribe later).
    pub fn new(init: T) -> Self {
        let (tx, _) = channel(init);
        tx
    }

    /// Replaces the value and notifies receivers; fails, returning it, if every
    /// receiver is gone.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Replaces the value (even without receivers) and returns the old one.
    pub fn send_replace(&self, mut value: T) -> T {
        self.send_modify(|v| std::mem::swap(v, &mut value));
        value
    }

    /// Modifies the value in place and notifies receivers.
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|v| {
            modify(v);
            true
        });
    }

    /// Modifies the value in place; notifies receivers only if `modify` returns true.
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        {
            let mut value = self
                .shared
                .value
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if !modify(&mut value) {
                return false;
            }
            self.shared.state().version += 1;
        }
        self.shared.changed.notify_waiters();
        true
    }

    /// The latest value.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            inner: self.shared.read(),
            has_changed: false,
        }
    }

    /// Whether every receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until every receiver is gone.
    pub async fn closed(&self) {
        loop {
            let notified = self.shared.rx_gone.notified();
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }

    /// A new receiver that has seen the current value.
    pub fn subscribe(&self) -> Receiver<T> {
        let version = {
            let mut st = self.shared.state();
            st.receivers += 1;
            st.version
        };
        Receiver {
            shared: self.shared.clone(),
            version,
        }
    }

    /// Number of receivers.
    pub fn receiver_count(&self) -> usize {
        self.shared.state().receivers
    }

    /// Number of senders.
    pub fn sender_count(&self) -> usize {
        self.shared.state().senders
    }

    /// Whether both senders feed the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.state().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let last = {
            let mut st = self.shared.state();
            st.senders -= 1;
            st.senders == 0
        };
        if last {
            self.shared.changed.notify_waiters();
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Sender")
            .field("value", &*self.borrow())
            .finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Receiver")
            .field("value", &*self.borrow())
            .field("version", &self.version)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_util::{poll, poll_with, WakeLog};
    use futures::executor::block_on;
    use std::pin::pin;
    use std::task::Poll;

    #[test]
    fn receivers_see_only_the_latest_value_and_are_woken_in_order() {
        let (tx, mut a) = channel(0);
        let mut b = tx.subscribe();
        let log = WakeLog::default();
        {
            let mut fa = pin!(a.changed());
            let mut fb = pin!(b.changed());
            assert!(poll_with(fb.as_mut(), &log.waker(1)).is_pending());
            assert!(poll_with(fa.as_mut(), &log.waker(0)).is_pending());
            tx.send(1).unwrap();
            tx.send(2).unwrap();
            assert_eq!(log.take(), vec![1, 0], "registration order");
            assert_eq!(poll(fa.as_mut()), Poll::Ready(Ok(())));
            assert_eq!(poll(fb.as_mut()), Poll::Ready(Ok(())));
        }
        assert_eq!(*a.borrow(), 2, "intermediate values are skipped");
        assert!(!a.borrow().has_changed());
    }

    #[test]
    fn close_rules_follow_tokio() {
        let (tx, mut rx) = channel(String::from("a"));
        assert_eq!(tx.send_replace("b".into()), "a");
        drop(tx);
        assert!(rx.has_changed().is_err(), "closed wins in has_changed");
        assert_eq!(
            block_on(rx.changed()),
            Ok(()),
            "an unseen value is still delivered"
        );
        assert!(block_on(rx.changed()).is_err());
        let (tx, rx) = channel(0);
        assert!(!tx.send_if_modified(|_| false));
        drop(rx);
        assert_eq!(tx.send(1), Err(SendError(1)), "no receivers");
        assert_eq!(*tx.borrow(), 0);
        block_on(tx.closed());
    }

    #[test]
    fn wait_for_checks_the_current_value_first() {
        let (tx, mut rx) = channel(3);
        assert_eq!(*block_on(rx.wait_for(|v| *v == 3)).unwrap(), 3);
        let mut fut = Box::pin(async { *rx.wait_for(|v| *v > 10).await.unwrap() });
        assert!(poll(fut.as_mut()).is_pending());
        tx.send(5).unwrap();
        assert!(poll(fut.as_mut()).is_pending());
        tx.send(11).unwrap();
        assert_eq!(poll(fut.as_mut()), Poll::Ready(11));
        drop(fut);
        let mut rx2 = rx.clone();
        rx2.mark_changed();
        assert!(rx2.has_changed().unwrap());
        rx2.mark_unchanged();
        assert!(!rx2.has_changed().unwrap());
        assert!(rx.same_channel(&rx2));
        assert_eq!(tx.receiver_count(), 2);
    }
}
