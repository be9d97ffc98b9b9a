//! [`sleep`] and [`sleep_until`].

use super::Instant;
use crate::runtime::context::{self, TimerKey};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Waits until `duration` of virtual time has passed. Costs no wall time: when nothing
/// else can run, the clock jumps to the deadline.
///
/// ```
/// use detsim::{Config, Sim, time::{sleep, Instant}};
/// use std::time::Duration;
/// let out = Sim::new(Config::default()).run(async {
///     sleep(Duration::from_millis(5)).await;
///     Instant::now().as_nanos()
/// });
/// assert_eq!(out.result.unwrap(), 5_000_000);
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now() + duration) // virtual time: super::Instant
}

/// Waits until the virtual clock reaches `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        key: None,
    }
}

/// Future of [`sleep`] / [`sleep_until`]. `Send`, and cancels its timer when dropped.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    key: Option<TimerKey>,
}

impl Sleep {
    /// The deadline.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// True once the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline (re-arming the timer on the next poll).
    pub fn reset(&mut self, deadline: Instant) {
        self.release();
        self.deadline = deadline;
    }

    fn release(&mut self) {
        if let Some(key) = self.key.take() {
            context::cancel_timer(key);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.deadline.0;
        let ready = match self.key {
            Some(key) => context::poll_timer(key, cx.waker()),
            None if deadline <= context::now() => true,
            None => {
                // The fault plan may hold the timer back (an injected delay).
                let deadline = deadline + crate::world::fault::timer_delay();
                self.key = Some(context::arm_timer(deadline, cx.waker()));
                false
            }
        };
        if ready {
            self.release();
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.release();
    }
}
