//! Giving the worker back: [`yield_now`] and declaring CPU work with [`burn`].

use super::context;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Yields once: the task stays runnable, and the scheduler may run others first.
///
/// ```
/// use detsim::{Config, Sim};
/// let out = Sim::new(Config::default()).run(async {
///     detsim::task::yield_now().await;
///     1
/// });
/// assert_eq!(out.stats.steps, 2);
/// ```
#[inline]
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// Future of [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    // Inline across crates (a yield is a whole poll's work in yield-heavy programs).
    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Declares `duration` of CPU work: the task's worker is busy for that virtual time while
/// the other workers go on. The task resumes on the same worker when the work is done.
///
/// Why: virtual time does not pass while a task runs, so without `burn` a simulated
/// program could never show a starved worker or the benefit of parallelism.
///
/// ```
/// use detsim::{Config, Sim};
/// use std::time::Duration;
/// let out = Sim::new(Config::default().workers(2)).run(async {
///     let a = detsim::spawn(detsim::task::burn(Duration::from_millis(10)));
///     let b = detsim::spawn(detsim::task::burn(Duration::from_millis(10)));
///     a.await.unwrap();
///     b.await.unwrap();
/// });
/// assert_eq!(out.stats.elapsed, Duration::from_millis(10));
/// ```
pub fn burn(duration: Duration) -> Burn {
    Burn {
        duration_ns: duration.as_nanos().min(u64::MAX as u128) as u64,
        started: false,
    }
}

/// Future of [`burn`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Burn {
    duration_ns: u64,
    started: bool,
}

impl Future for Burn {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.started || self.duration_ns == 0 {
            return Poll::Ready(());
        }
        self.started = true;
        let total = self.duration_ns;
        // Several burns in one poll (e.g. `join!` of two) add up: one worker does both.
        // The step loop reads the sum when the poll returns.
        context::with(|core| core.add_burn(total));
        Poll::Pending
    }
}
