//! [`sleep`] and [`sleep_until`].

use super::Instant;
use crate::runtime::context::{self, Armed};
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
#[inline]
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now() + duration) // virtual time: super::Instant
}

/// Waits until the virtual clock reaches `deadline`.
#[inline]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        timer: None,
    }
}

/// Future of [`sleep`] / [`sleep_until`]. `Send`, and cancels its timer when dropped.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    // invariant: `Some` from the poll that armed the timer until one that finds it fired.
    timer: Option<Armed>,
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

    /// Moves the deadline (re-arming the timer on the next poll). Takes `Pin<&mut Self>`
    /// as tokio's does (`sleep.as_mut().reset(t)`); a `Sleep` is `Unpin`, so
    /// `Pin::new(&mut sleep).reset(t)` works too.
    pub fn reset(self: std::pin::Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.release();
        this.deadline = deadline;
    }

    #[inline]
    fn release(&mut self) {
        if let Some(timer) = self.timer.take() {
            context::cancel_timer(timer.key);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    /// Inline, for the poll that finds the timer fired (a clock read); the others
    /// (arming, an early poll) are a call.
    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.timer {
            // Fired once the clock reached it (`Armed`): no lookup, nothing to release.
            Some(timer) if context::now() >= timer.at => {
                self.timer = None;
                Poll::Ready(())
            }
            _ => self.arm_or_refresh(cx),
        }
    }
}

impl Sleep {
    #[inline(never)]
    fn arm_or_refresh(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(timer) = self.timer else {
            // First poll (or after `reset`): arm, unless the deadline already passed.
            self.timer = context::arm_timer(self.deadline.0, cx.waker());
            return match self.timer {
                Some(_) => Poll::Pending,
                None => Poll::Ready(()),
            };
        };
        // Polled before it fired (e.g. by a `select!`): keep the waker current.
        match context::poll_timer(timer.key, cx.waker()) {
            true => {
                self.timer = None;
                Poll::Ready(())
            }
            false => Poll::Pending,
        }
    }
}

impl Drop for Sleep {
    #[inline]
    fn drop(&mut self) {
        self.release();
    }
}
