//! Virtual time: the clock only moves when no task can run (or by `task::burn`).
//!
//! - `instant.rs` — [`Instant`], virtual nanoseconds since the run started.
//! - `sleep.rs` — [`sleep`], [`sleep_until`].
//! - `timeout.rs` — [`timeout`], [`timeout_at`].
//! - `interval.rs` — [`interval`], [`interval_at`], [`MissedTickBehavior`].
//!
//! Everything here is built on the runtime's interface (`runtime::context`: `now`,
//! `arm_timer`, `poll_timer`, `cancel_timer`); the timers themselves live in the runtime.

mod instant;
mod interval;
mod sleep;
mod timeout;

pub use crate::world::clock::SystemTime;
pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};

/// tokio's path for [`Elapsed`].
pub mod error {
    pub use super::Elapsed;
}
