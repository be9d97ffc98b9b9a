//! `interval` on virtual time: tokio's missed-tick rules and `interval_at` / `reset_*`.

use detsim::time::{interval, interval_at, Instant, MissedTickBehavior};
use detsim::{Config, Sim};
use std::time::Duration;

/// Tick times (ms) of an interval whose owner is 25 ms late once, after tick 1.
fn ticks(behavior: MissedTickBehavior) -> Vec<u64> {
    let out = Sim::new(Config::default()).run(async move {
        let mut every = interval(Duration::from_millis(10));
        every.set_missed_tick_behavior(behavior);
        let mut at = Vec::new();
        for i in 0..5 {
            every.tick().await;
            at.push(Instant::now().as_nanos() / 1_000_000);
            if i == 1 {
                detsim::time::sleep(Duration::from_millis(25)).await;
            }
        }
        at
    });
    out.result.unwrap()
}

#[test]
fn missed_ticks_follow_tokio() {
    assert_eq!(ticks(MissedTickBehavior::Burst), [0, 10, 35, 35, 40]);
    assert_eq!(ticks(MissedTickBehavior::Delay), [0, 10, 35, 45, 55]);
    assert_eq!(ticks(MissedTickBehavior::Skip), [0, 10, 35, 40, 50]);
}

#[test]
fn interval_at_and_reset() {
    let out = Sim::new(Config::default()).run(async {
        let start = Instant::now() + Duration::from_millis(7);
        let mut every = interval_at(start, Duration::from_millis(10));
        let first = every.tick().await.as_nanos();
        every.reset_after(Duration::from_millis(3));
        let second = every.tick().await.as_nanos();
        (first, second)
    });
    assert_eq!(out.result.unwrap(), (7_000_000, 10_000_000));
}
