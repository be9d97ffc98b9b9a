//! Virtual time: the clock only moves when no task can run (or by `task::burn`).
//!
//! - `instant.rs` — [`Instant`], virtual nanoseconds since the run started.
//! - `sleep.rs` — [`sleep`], [`sleep_until`].
//! - `timeout.rs` — [`timeout`], [`timeout_at`].
//! - `interval.rs` — [`interval`], [`interval_at`], [`MissedTickBehavior`].
//! - `timers.rs` — the run's timer heap (internal).

mod instant;
mod interval;
mod sleep;
mod timeout;
pub(crate) mod timers;

pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};

/// tokio's path for [`Elapsed`].
pub mod error {
    pub use super::Elapsed;
}
