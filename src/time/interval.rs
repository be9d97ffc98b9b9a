//! [`interval`] and [`interval_at`]: a periodic tick, with tokio's [`MissedTickBehavior`].

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
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period) // the virtual clock (this module's Instant)
}

/// Ticks at `start`, then every `period`.
///
/// Panics if `period` is zero.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "`period` must be non-zero.");
    Interval {
        period,
        next: start,
        sleep: sleep_until(start),
        missed: MissedTickBehavior::Burst,
    }
}

/// What an [`Interval`] does when ticks were missed (its owner was late), as in tokio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Missed ticks fire at once, one after another, to catch up (the default).
    #[default]
    Burst,
    /// The next tick is one period after the late tick.
    Delay,
    /// Missed ticks are skipped; the next tick is on the original grid.
    Skip,
}

impl MissedTickBehavior {
    /// The tick after one due at `due` that fired at `now` (late).
    fn next(self, due: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => due + period,
            MissedTickBehavior::Delay => now + period,
            MissedTickBehavior::Skip => {
                let late = (now - due).as_nanos() % period.as_nanos();
                now + period - Duration::from_nanos(late as u64)
            }
        }
    }
}

/// Stream of ticks made by [`interval`].
#[derive(Debug)]
pub struct Interval {
    period: Duration,
    next: Instant,
    sleep: Sleep,
    missed: MissedTickBehavior,
}

/// How late a tick may be before it counts as missed (tokio's threshold).
const LATE: Duration = Duration::from_millis(5);

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
        let now = Instant::now();
        self.next = match now > tick + LATE {
            true => self.missed.next(tick, now, self.period),
            false => tick + self.period,
        };
        Pin::new(&mut self.sleep).reset(self.next);
        Poll::Ready(tick)
    }

    /// Restarts the grid: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.reset_at(Instant::now() + self.period);
    }

    /// The next tick is now.
    pub fn reset_immediately(&mut self) {
        self.reset_at(Instant::now());
    }

    /// The next tick is `after` from now.
    pub fn reset_after(&mut self, after: Duration) {
        self.reset_at(Instant::now() + after);
    }

    /// The next tick is at `deadline`.
    pub fn reset_at(&mut self, deadline: Instant) {
        self.next = deadline;
        Pin::new(&mut self.sleep).reset(deadline);
    }

    /// What happens to missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets what happens to missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}
