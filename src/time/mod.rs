//! Virtual time: the clock only moves when no task can run (or by `task::burn`).
//!
//! - `instant.rs` — [`Instant`], virtual nanoseconds since the run started.
//! - `sleep.rs` — [`sleep`], [`sleep_until`].
//! - `timeout.rs` — [`timeout`].
//! - `interval.rs` — [`interval`].
//! - `timers.rs` — the run's timer heap (internal).

mod instant;
mod interval;
mod sleep;
mod timeout;
pub(crate) mod timers;

pub use crate::world::clock::SystemTime;
pub use instant::Instant;
pub use interval::{interval, Interval};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, Elapsed, Timeout};
