//! The [`Notified`] future: registration, enable, and cancellation hand-off.

use super::{Kind, Notify};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

#[derive(Debug, Clone, Copy)]
enum NotifiedState {
    Init,
    Waiting(u64),
    Done,
}

/// Future returned by [`Notify::notified`]. Dropping it after it was chosen
/// by `notify_one` (but before it completed) forwards that notification.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Notified<'a> {
    notify: &'a Notify,
    /// `Notify::generation` when this future was created.
    generation: u64,
    state: NotifiedState,
}

impl<'a> Notified<'a> {
    pub(super) fn new(notify: &'a Notify) -> Self {
        Notified {
            notify,
            generation: notify.lock().generation,
            state: NotifiedState::Init,
        }
    }

    /// Registers for `notify_one` without polling (no waker is stored).
    /// Returns `true` if the future is already complete; then every later
    /// poll returns `Ready`. Same contract as tokio's `Notified::enable`.
    pub fn enable(self: Pin<&mut Self>) -> bool {
        self.get_mut().register(None)
    }

    /// Advances the state machine; `true` once notified.
    fn register(&mut self, waker: Option<&Waker>) -> bool {
        let mut st = self.notify.lock();
        match self.state {
            NotifiedState::Init => {
                let permit = std::mem::take(&mut st.permit);
                if permit || st.generation != self.generation {
                    self.state = NotifiedState::Done;
                    return true;
                }
                let id = st.next_id;
                st.next_id += 1;
                st.waiters.push_back((id, waker.cloned()));
                self.state = NotifiedState::Waiting(id);
                false
            }
            NotifiedState::Waiting(id) => {
                if st.take_notified(id).is_some() {
                    self.state = NotifiedState::Done;
                    return true;
                }
                let entry = st.waiters.iter_mut().find(|e| e.0 == id);
                if let (Some(new), Some((_, old))) = (waker, entry) {
                    if !old.as_ref().is_some_and(|w| w.will_wake(new)) {
                        *old = Some(new.clone());
                    }
                }
                false
            }
            NotifiedState::Done => true,
        }
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.get_mut().register(Some(cx.waker())) {
            true => Poll::Ready(()),
            false => Poll::Pending,
        }
    }
}

impl Drop for Notified<'_> {
    /// Cancellation: leave the queue; a `notify_one` we received but never
    /// reported goes to the next waiter (or back to the permit), so it is not
    /// lost. A `notify_waiters` wake is not forwarded (it stores no permit).
    fn drop(&mut self) {
        let NotifiedState::Waiting(id) = self.state else {
            return;
        };
        let mut st = self.notify.lock();
        let waker = if let Some(pos) = st.waiters.iter().position(|e| e.0 == id) {
            st.waiters.remove(pos);
            None
        } else if st.take_notified(id) == Some(Kind::One) {
            st.notify_one()
        } else {
            None
        };
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_util::{poll, poll_with, WakeLog};
    use std::pin::pin;

    #[test]
    fn dropped_notified_forwards_notify_one() {
        let n = Notify::new();
        let log = WakeLog::default();
        let mut a = Box::pin(n.notified());
        let mut b = pin!(n.notified());
        assert!(poll_with(a.as_mut(), &log.waker(0)).is_pending());
        assert!(poll_with(b.as_mut(), &log.waker(1)).is_pending());
        n.notify_one(); // goes to `a`, which is cancelled before seeing it
        drop(a);
        assert_eq!(log.take(), vec![0, 1]);
        assert!(poll(b).is_ready());
        // With nobody left to forward to, the notification becomes a permit.
        let mut c = Box::pin(n.notified());
        assert!(poll(c.as_mut()).is_pending());
        n.notify_one();
        drop(c);
        assert!(poll(pin!(n.notified())).is_ready());
    }

    #[test]
    fn dropped_notified_does_not_forward_notify_waiters() {
        let n = Notify::new();
        let mut a = Box::pin(n.notified());
        assert!(poll(a.as_mut()).is_pending());
        n.notify_waiters();
        drop(a);
        assert!(poll(pin!(n.notified())).is_pending());
    }

    #[test]
    fn enable_registers_without_polling() {
        let n = Notify::new();
        let mut f = pin!(n.notified());
        assert!(!f.as_mut().enable());
        n.notify_one(); // reaches the enabled future: no permit is stored
        assert!(poll(pin!(n.notified())).is_pending());
        assert!(f.as_mut().enable());
        assert!(poll(f).is_ready());
    }
}
