//! tokio's `time` module on detsim's virtual clock.
//!
//! Time only moves when every task waits (or burns), so a program behaves as under
//! tokio's `start_paused = true`: `pause`/`resume` are accepted and do nothing, and
//! `advance(d)` sleeps for `d` of virtual time. `Instant` is virtual and has no
//! conversion to `std::time::Instant` (that would read the wall clock).

pub use detsim::time::{
    error, interval, interval_at, sleep, sleep_until, timeout, timeout_at, Instant, Interval,
    MissedTickBehavior, Sleep, Timeout,
};
pub use std::time::Duration;

/// Accepted: virtual time is always "paused" (it moves only when every task waits).
pub fn pause() {}

/// Accepted: see [`pause`].
pub fn resume() {}

/// Lets `duration` of virtual time pass (tasks due meanwhile run).
pub async fn advance(duration: Duration) {
    sleep(duration).await
}
