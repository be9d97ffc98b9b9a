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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Sim};
    use futures::FutureExt;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// The paths besides "armed, then polled once it fired": a poll before it fires (a
    /// join), a sleep that fired but was dropped unpolled after its slot was reused
    /// (its stale key must not cancel the new timer), and a reset.
    #[test]
    fn early_polls_stale_drops_and_resets_keep_their_deadlines() {
        let out = Sim::new(Config::default().seed(3)).run(async {
            let t0 = Instant::now();
            // Joined: the 5 ms sleep is polled again, early, when the 2 ms one fires.
            futures::future::join(sleep(ms(2)), sleep(ms(5))).await;
            assert_eq!(t0.elapsed(), ms(5));
            // `b` fires at 8 ms along with the awaited sleep, and is not polled again.
            let mut b = Box::pin(sleep(ms(3)));
            assert!(b.as_mut().now_or_never().is_none(), "armed");
            sleep(ms(3)).await;
            // Two new timers take the two freed slots (`b`'s among them) ...
            let (mut c1, mut c2) = (Box::pin(sleep(ms(4))), Box::pin(sleep(ms(6))));
            assert!(c1.as_mut().now_or_never().is_none());
            assert!(c2.as_mut().now_or_never().is_none());
            // ... so dropping `b` now must release nothing.
            drop(b);
            futures::future::join(c1, c2).await;
            assert_eq!(t0.elapsed(), ms(14));
            // Reset while armed: the new deadline counts, the old one is cancelled.
            let mut r = Box::pin(sleep(ms(50)));
            assert!(r.as_mut().now_or_never().is_none());
            r.as_mut().reset(Instant::now() + ms(1));
            r.await;
            assert_eq!(t0.elapsed(), ms(15));
        });
        out.result.unwrap();
        assert_eq!(out.stats.timers_fired, 7, "the 50 ms timer was cancelled");
        assert_eq!(out.stats.elapsed, ms(15));
    }
}
