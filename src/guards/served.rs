//! What the std guards serve inside a run: entropy words and clock readings.
//!
//! Platform-independent, so it is compiled and tested everywhere; only `hooks.rs`
//! (Linux with glibc, feature `std-guards`) calls it from the C symbols.

// Without the hooks nothing but the tests below calls these.
#![cfg_attr(
    not(all(feature = "std-guards", target_os = "linux")),
    allow(dead_code)
)]

use crate::runtime::context;
use crate::world::clock;

/// What `CLOCK_MONOTONIC` reads at virtual time zero: a week of "uptime", so that code
/// subtracting a few days from `Instant::now()` does not underflow.
pub(crate) const MONOTONIC_BASE_NS: u64 = 7 * 86_400 * 1_000_000_000;

/// The two clocks a run serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Clock {
    /// `CLOCK_MONOTONIC` and its kin: virtual time since the run started, plus
    /// [`MONOTONIC_BASE_NS`]. Every node agrees on it, as on `detsim::time::Instant`.
    Monotonic,
    /// `CLOCK_REALTIME` and its kin: the wall clock of the node whose task reads it
    /// (skew, drift and jumps included, as `detsim::time::SystemTime::now`).
    Wall,
}

/// `clock` now, in nanoseconds, or `None` outside a run.
pub(crate) fn clock_ns(clock: Clock) -> Option<u64> {
    let now = context::try_now()?;
    Some(match clock {
        Clock::Monotonic => MONOTONIC_BASE_NS + now,
        Clock::Wall => wall_ns(now),
    })
}

/// The current node's wall clock; the clock without skew if the node table is busy.
fn wall_ns(now: u64) -> u64 {
    let node = context::try_current_node().unwrap_or(0);
    context::try_world(|w| clock::try_wall_ns(w, node, now))
        .flatten()
        .unwrap_or_else(|| clock::epoch_ns(now))
}

/// The `index`-th word of a `getrandom` buffer, or `None` outside a run: a recorded
/// `Rand` choice of the run (see the module docs of `guards` for why).
pub(crate) fn entropy_word(index: u64) -> Option<u64> {
    context::try_entropy(index)
}

/// Logs a `getrandom` served from the run's choices (full traces only; not
/// fingerprinted), so a reader of the trace sees where the draws in the schedule came from.
pub(crate) fn log_entropy(bytes: usize) {
    context::log(|| format!("std guard: getrandom of {bytes} bytes served from the run's choices"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Sim};
    use std::time::Duration;

    #[test]
    fn outside_a_run_nothing_is_served() {
        assert_eq!(clock_ns(Clock::Monotonic), None);
        assert_eq!(clock_ns(Clock::Wall), None);
        assert_eq!(entropy_word(0), None);
    }

    #[test]
    fn the_monotonic_clock_is_virtual_time() {
        let out = Sim::new(Config::default().seed(3)).run(async {
            let a = clock_ns(Clock::Monotonic).unwrap();
            crate::time::sleep(Duration::from_millis(1500)).await;
            (a, clock_ns(Clock::Monotonic).unwrap())
        });
        let (a, b) = out.result.unwrap();
        assert_eq!(a, MONOTONIC_BASE_NS);
        assert_eq!(b - a, 1_500_000_000);
    }

    #[test]
    fn the_wall_clock_is_the_nodes() {
        let out = Sim::new(Config::default()).run(async {
            let (tx, rx) = crate::sync::oneshot::channel();
            let tx = std::cell::RefCell::new(Some(tx));
            crate::node::Builder::new("skewed")
                .clock_skew_ns(-3_000_000_000)
                .build(move || {
                    let tx = tx.borrow_mut().take();
                    async move {
                        let served = clock_ns(Clock::Wall).unwrap();
                        let node = crate::time::SystemTime::now();
                        tx.unwrap().send((served, node)).unwrap()
                    }
                });
            let main = clock_ns(Clock::Wall).unwrap();
            (main, rx.await.unwrap())
        });
        let (main, (skewed, node)) = out.result.unwrap();
        let since = |t: std::time::SystemTime| {
            t.duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
        };
        assert_eq!(skewed, since(node));
        assert_eq!(main - skewed, 3_000_000_000);
        assert_eq!(main, clock::epoch_ns(0));
    }

    #[test]
    fn entropy_is_recorded_and_follows_the_seed() {
        let words = |seed| {
            Sim::new(Config::default().seed(seed))
                .run(async { (0..4).map(|i| entropy_word(i).unwrap()).collect::<Vec<_>>() })
        };
        let (a, b, c) = (words(5), words(5), words(6));
        let rand_choices = |o: &crate::Outcome<Vec<u64>>| {
            let kinds = o.schedule.choices.iter().map(|c| c.kind);
            kinds.filter(|k| *k == crate::ChoiceKind::Rand).count()
        };
        assert_eq!(rand_choices(&a), 4);
        let (a_words, b_words) = (a.result.unwrap(), b.result.unwrap());
        assert_eq!(a_words, b_words);
        assert_ne!(a_words, c.result.unwrap());
    }
}
