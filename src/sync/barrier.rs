//! [`Barrier`]: `n` tasks wait until all of them arrived (tokio's semantics).
//!
//! Invariant: `arrived < n` between rounds; the task whose arrival makes it `n` is the
//! leader, starts a new generation and wakes the others (FIFO, through [`Notify`]).

use super::Notify;
use std::sync::{Mutex, PoisonError};

/// Lets `n` tasks meet: each [`Barrier::wait`] returns once `n` tasks are waiting.
///
/// ```rust
/// use detsim::{Config, Sim};
/// use std::sync::Arc;
/// let out = Sim::new(Config::default()).run(async {
///     let barrier = Arc::new(detsim::sync::Barrier::new(3));
///     let tasks: Vec<_> = (0..3).map(|_| {
///         let b = barrier.clone();
///         detsim::spawn(async move { b.wait().await.is_leader() })
///     }).collect();
///     let mut leaders = 0;
///     for t in tasks { leaders += t.await.unwrap() as u32; }
///     leaders
/// });
/// assert_eq!(out.result.unwrap(), 1);
/// ```
#[derive(Debug)]
pub struct Barrier {
    n: usize,
    state: Mutex<State>,
    released: Notify,
}

#[derive(Debug)]
struct State {
    arrived: usize,
    generation: u64,
}

/// What [`Barrier::wait`] returns; exactly one waiter per round is the leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// True for the task whose arrival released the round (the last to arrive).
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Barrier {
    /// A barrier for `n` tasks (`0` behaves as `1`, as in tokio).
    pub fn new(n: usize) -> Self {
        Barrier {
            n: n.max(1),
            state: Mutex::new(State {
                arrived: 0,
                generation: 0,
            }),
            released: Notify::new(),
        }
    }

    /// Waits until `n` tasks are waiting. Not cancel safe in the sense of tokio: a
    /// cancelled waiter still counts as arrived.
    pub async fn wait(&self) -> BarrierWaitResult {
        let notified = self.released.notified(); // before arriving: no lost wake-up
        let generation = {
            let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            st.arrived += 1;
            if st.arrived == self.n {
                st.arrived = 0;
                st.generation += 1;
                drop(st);
                self.released.notify_waiters();
                return BarrierWaitResult(true);
            }
            st.generation
        };
        let mut notified = std::pin::pin!(notified);
        loop {
            notified.as_mut().await;
            let st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            if st.generation != generation {
                return BarrierWaitResult(false);
            }
            drop(st);
            notified.set(self.released.notified());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_util::poll;
    use std::task::Poll;

    #[test]
    fn releases_all_when_the_last_arrives_and_is_reusable() {
        let b = Barrier::new(2);
        for _ in 0..2 {
            let mut first = Box::pin(b.wait());
            assert!(poll(first.as_mut()).is_pending());
            let mut second = Box::pin(b.wait());
            assert_eq!(poll(second.as_mut()), Poll::Ready(BarrierWaitResult(true)));
            assert_eq!(poll(first.as_mut()), Poll::Ready(BarrierWaitResult(false)));
        }
        let single = Barrier::new(0);
        assert!(futures::executor::block_on(single.wait()).is_leader());
    }
}
