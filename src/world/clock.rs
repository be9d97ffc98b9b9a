//! Per-node wall clocks: [`SystemTime::now`] with skew, drift and jumps.
//!
//! [`crate::time::Instant`] is global virtual time: every node agrees on it. Wall clocks
//! do not: node `n` reads `EPOCH + now + offset(n) + now * drift_ppm(n) / 10^6`, where
//! the offset is its configured skew plus any clock jumps the fault plan injected. A
//! wall clock may jump backwards (as NTP steps do); code that measures durations with it
//! is exactly what this shakes out.

use super::ctx;
use crate::runtime::context;
use crate::world::World;
use std::time::{Duration, UNIX_EPOCH};

/// Virtual time zero on every wall clock: 2025-01-01T00:00:00Z. Fixed, so traces and
/// results do not depend on when a run happened.
const EPOCH_S: u64 = 1_735_689_600;

/// The calling node's wall clock (a stand-in for `std::time::SystemTime::now`).
///
/// ```
/// use detsim::{Config, Sim, node, time::SystemTime};
/// use std::time::Duration;
/// let out = Sim::new(Config::default()).run(async {
///     let (tx, rx) = detsim::sync::oneshot::channel();
///     let tx = std::cell::RefCell::new(Some(tx));
///     node::Builder::new("late").clock_skew_ns(-2_000_000_000).build(move || {
///         let tx = tx.borrow_mut().take();
///         async move { tx.unwrap().send(SystemTime::now()).unwrap() }
///     });
///     (SystemTime::now(), rx.await.unwrap())
/// });
/// let (main, late) = out.result.unwrap();
/// assert_eq!(main.duration_since(late).unwrap(), Duration::from_secs(2));
/// /// ```
#[derive(Clone, Copy, Debug)]
pub struct SystemTime {
    _private: (),
}

impl SystemTime {
    /// `std::time::UNIX_EPOCH`, for `duration_since`.
    pub const UNIX_EPOCH: std::time::SystemTime = UNIX_EPOCH;

    /// The wall-clock time on the calling task's node. Not a wall-clock read: the value
    /// is computed from virtual time and the node's skew and drift; `std`'s type only
    /// carries it, so code written against `std::time::SystemTime` can take it.
    pub fn now() -> std::time::SystemTime {
        context::world(|w| wall_clock(w, ctx::current_node()))
    }
}

/// Node `n`'s wall clock now.
pub(crate) fn wall_clock(w: &World, n: u32) -> std::time::SystemTime {
    let (offset, drift) = {
        let nodes = w.nodes.borrow();
        let s = nodes.get(n);
        (s.clock_offset_ns, s.clock_drift_ppm)
    };
    UNIX_EPOCH + Duration::from_nanos(wall_ns(ctx::now(), offset, drift))
}

/// Node `n`'s wall clock at virtual time `now`, in nanoseconds since the Unix epoch, or
/// `None` if the node table is being changed (for the std guards, which must not panic).
pub(crate) fn try_wall_ns(w: &World, n: u32, now: u64) -> Option<u64> {
    let nodes = w.nodes.try_borrow().ok()?;
    let s = nodes.get(n);
    Some(wall_ns(now, s.clock_offset_ns, s.clock_drift_ppm))
}

/// The wall clock without skew or drift at virtual time `now` (the std guards' clock
/// when no node's clock can be read).
pub(crate) fn epoch_ns(now: u64) -> u64 {
    wall_ns(now, 0, 0)
}

fn wall_ns(now: u64, offset_ns: i64, drift_ppm: i64) -> u64 {
    let now = now as i128;
    let (offset, drift) = (offset_ns as i128, drift_ppm as i128);
    let ns = EPOCH_S as i128 * 1_000_000_000 + now + offset + now * drift / 1_000_000;
    ns.clamp(0, u64::MAX as i128) as u64
}

/// Moves node `n`'s wall clock by `ns` (fault plan clock jumps).
pub(crate) fn jump(w: &World, n: u32, ns: i64) {
    let mut nodes = w.nodes.borrow_mut();
    let s = nodes.get_mut(n);
    s.clock_offset_ns = s.clock_offset_ns.saturating_add(ns);
}
