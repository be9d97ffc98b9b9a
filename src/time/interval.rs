//! [`interval`]: a periodic tick.

use super::{sleep_until, Instant, Sleep};
use std::future::poll_fn;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Ticks every `period`; the first tick completes immediately. Missed ticks are not
/// skipped (they complete one after another), like tokio's default `Burst`.
///
/// ```
/// use detsim::{Config, Sim, time::{interval, Instant}};
/// use std::time::Duration;
/// let out = Sim::new(Config::default()).run(async {
///     let mut every = interval(Duration::from_millis(10));
///     for _ in 0..4 { every.tick().await; }
///     Instant::now().as_nanos()
/// });
/// assert_eq!(out.result.unwrap(), 30_000_000);
/// ```
pub fn interval(period: Duration) -> Interval {
    assert!(!period.is_zero(), "interval period must be non-zero");
    let start = Instant::now(); // the virtual clock (this module's Instant)
    Interval {
        period,
        next: start,
        sleep: sleep_until(start),
    }
}

/// Stream of ticks made by [`interval`].
#[derive(Debug)]
pub struct Interval {
    period: Duration,
    next: Instant,
    sleep: Sleep,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled instant.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let tick = self.next;
        self.next = tick + self.period;
        self.sleep.reset(self.next);
        Poll::Ready(tick)
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}
