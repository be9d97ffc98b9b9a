//! Task notification with tokio's `Notify` semantics.
//!
//! - `notify_one` wakes the oldest registered waiter, or stores ONE permit
//!   that the next `notified()` consumes immediately.
//! - `notify_waiters` wakes every waiter registered now, plus every
//!   `Notified` *created* before the call (a generation counter is captured at
//!   creation), and stores nothing. A `Notified` created after the call misses
//!   it: that is the classic lost wake-up a simulation must be able to show.

mod notified;

pub use notified::Notified;
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::Waker;

/// Wakes one or all tasks waiting on [`Notify::notified`].
///
/// ```rust
/// use detsim::sync::Notify;
/// futures::executor::block_on(async {
///     let notify = Notify::new();
///     notify.notify_one(); // stored as a permit: nobody waits yet
///     notify.notified().await; // consumes it without blocking
///     notify.notify_waiters(); // nobody registered: this is lost
///     assert!(futures::poll!(Box::pin(notify.notified())).is_pending());
/// });
/// ```
#[derive(Default)]
pub struct Notify {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// A `notify_one` that found nobody waiting.
    permit: bool,
    /// Number of `notify_waiters` calls so far.
    generation: u64,
    /// Registered waiters, oldest first; `None` waker = enabled, not polled.
    waiters: VecDeque<(u64, Option<Waker>)>,
    /// Waiters removed from the queue by a notification they have not seen yet.
    notified: Vec<(u64, Kind)>,
    next_id: u64,
}

/// How a waiter was notified; only `One` is forwarded if it is dropped unseen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    One,
    All,
}

impl State {
    /// Hands one notification to the oldest waiter, or stores the permit.
    fn notify_one(&mut self) -> Option<Waker> {
        match self.waiters.pop_front() {
            Some((id, waker)) => {
                self.notified.push((id, Kind::One));
                waker
            }
            None => {
                self.permit = true;
                None
            }
        }
    }

    fn take_notified(&mut self, id: u64) -> Option<Kind> {
        let pos = self.notified.iter().position(|&(n, _)| n == id)?;
        Some(self.notified.swap_remove(pos).1)
    }
}

impl Notify {
    /// Creates a `Notify` with no stored permit.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Future that completes on the next notification (see module docs). It
    /// joins the FIFO queue when first polled or [`Notified::enable`]d.
    pub fn notified(&self) -> Notified<'_> {
        Notified::new(self)
    }

    /// Wakes the oldest waiter, or stores a single permit if there is none.
    pub fn notify_one(&self) {
        let waker = self.lock().notify_one();
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Wakes all currently registered waiters, in registration order; stores
    /// no permit.
    pub fn notify_waiters(&self) {
        let mut st = self.lock();
        st.generation += 1;
        let waiters = std::mem::take(&mut st.waiters);
        let mut wakers = Vec::with_capacity(waiters.len());
        for (id, waker) in waiters {
            st.notified.push((id, Kind::All));
            wakers.extend(waker);
        }
        drop(st);
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.lock();
        f.debug_struct("Notify")
            .field("permit", &st.permit)
            .field("waiters", &st.waiters.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_util::{poll, poll_with, WakeLog};
    use futures::task::{waker, ArcWake};
    use std::pin::{pin, Pin};
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::sync::Arc;

    #[test]
    fn notify_and_notified_are_send_sync() {
        fn assert_send_sync<X: Send + Sync>(_: &X) {}
        let n = Notify::new();
        assert_send_sync(&n);
        assert_send_sync(&n.notified());
    }

    #[test]
    fn notify_one_before_notified_stores_exactly_one_permit() {
        let n = Notify::new();
        n.notify_one();
        n.notify_one(); // permits do not accumulate
        assert!(poll(pin!(n.notified())).is_ready());
        assert!(poll(pin!(n.notified())).is_pending());
    }

    #[test]
    fn notify_waiters_before_notified_is_lost() {
        let n = Notify::new();
        n.notify_waiters();
        assert!(poll(pin!(n.notified())).is_pending());
    }

    #[test]
    fn notified_created_before_notify_waiters_completes_even_unpolled() {
        let n = Notify::new();
        let early = n.notified();
        n.notify_waiters();
        assert!(poll(pin!(early)).is_ready());
    }

    #[test]
    fn notify_one_wakes_waiters_in_fifo_order() {
        let n = Notify::new();
        let log = WakeLog::default();
        let mut fs = [n.notified(), n.notified(), n.notified()];
        for (i, f) in fs.iter_mut().enumerate() {
            assert!(poll_with(Pin::new(f), &log.waker(i)).is_pending());
        }
        n.notify_one();
        n.notify_one();
        assert_eq!(log.take(), vec![0, 1]);
        let [a, b, c] = &mut fs;
        assert!(poll(Pin::new(a)).is_ready() && poll(Pin::new(b)).is_ready());
        assert!(poll(Pin::new(c)).is_pending());
    }

    #[test]
    fn notify_waiters_wakes_all_registered_and_stores_nothing() {
        let n = Notify::new();
        let log = WakeLog::default();
        let mut a = pin!(n.notified());
        let mut b = pin!(n.notified());
        assert!(poll_with(a.as_mut(), &log.waker(0)).is_pending());
        assert!(poll_with(b.as_mut(), &log.waker(1)).is_pending());
        n.notify_waiters();
        assert_eq!(log.take(), vec![0, 1]);
        assert!(poll(a).is_ready() && poll(b).is_ready());
        assert!(poll(pin!(n.notified())).is_pending());
    }

    /// The classic bug: check a flag, *then* create `notified()`; a
    /// `notify_waiters` in between is lost. Creating the future first fixes it.
    #[test]
    fn lost_wakeup_is_reproducible_and_fixable() {
        let (n, flag) = (Notify::new(), AtomicBool::new(false));
        let set_and_notify = || {
            flag.store(true, SeqCst);
            n.notify_waiters();
        };
        // Buggy order: check, (other task runs), create + poll.
        assert!(!flag.load(SeqCst));
        set_and_notify();
        assert!(poll(pin!(n.notified())).is_pending(), "wake-up lost");
        // Fixed order: create, check, (other task runs), poll.
        flag.store(false, SeqCst);
        let f = n.notified();
        assert!(!flag.load(SeqCst));
        set_and_notify();
        assert!(poll(pin!(f)).is_ready());
    }

    struct Probe(Arc<Notify>, Mutex<Vec<bool>>);

    impl ArcWake for Probe {
        fn wake_by_ref(p: &Arc<Self>) {
            let free = p.0.state.try_lock().is_ok();
            p.1.lock().unwrap().push(free);
        }
    }

    #[test]
    fn wakes_happen_after_unlocking() {
        let n = Arc::new(Notify::new());
        let probe = Arc::new(Probe(n.clone(), Mutex::new(Vec::new())));
        let w = waker(probe.clone());
        let mut fs: Vec<_> = (0..3).map(|_| Box::pin(n.notified())).collect();
        for f in &mut fs {
            assert!(poll_with(f.as_mut(), &w).is_pending());
        }
        n.notify_one();
        drop(fs.remove(0)); // forwards to the next waiter
        n.notify_waiters();
        assert_eq!(*probe.1.lock().unwrap(), vec![true; 3]);
    }
}
