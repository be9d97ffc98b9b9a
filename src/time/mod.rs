//! Virtual time: the clock only moves when no task can run (or by `task::burn`).
//!
//! - `instant.rs` — [`Instant`], virtual nanoseconds since the run started.
//! - `sleep.rs` — [`sleep`], [`sleep_until`].
//! - `timeout.rs` — [`timeout`].
//! - `interval.rs` — [`interval`].
//!
//! Everything here is built on the runtime's interface (`runtime::context`: `now`,
//! `arm_timer`, `poll_timer`, `cancel_timer`); the timers themselves live in the runtime.

mod instant;
mod interval;
mod sleep;
mod timeout;

pub use crate::world::clock::SystemTime;
pub use instant::Instant;
pub use interval::{interval, Interval};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, Elapsed, Timeout};
