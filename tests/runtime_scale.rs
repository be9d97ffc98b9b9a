//! Many live tasks: the step loop prefetches the next picks' memory from a guess at the
//! next random draws (only with thousands of tasks, and never while replaying). The
//! guess must never change a run: a seeded run (prefetching) and the strict replay of its
//! schedule (not prefetching) agree event for event.

use detsim::{Config, Sim};
use std::time::Duration;

/// 3,000 tasks that yield, sleep (many due at the same instants: `Timer` choices) and
/// yield again, so both the pick and the timer-firing paths prefetch.
async fn program() -> u64 {
    let handles: Vec<_> = (0..3_000u64)
        .map(|i| {
            detsim::spawn(async move {
                detsim::task::yield_now().await;
                detsim::time::sleep(Duration::from_millis(i % 7)).await;
                detsim::task::yield_now().await;
                i
            })
        })
        .collect();
    let mut sum = 0;
    for h in handles {
        sum += h.await.unwrap();
    }
    sum
}

/// Both runs from one call site (the main task's spawn site is where `Sim::run` is called).
fn run(sim: Sim) -> detsim::Outcome<u64> {
    sim.run(program())
}

#[test]
fn prefetching_never_changes_a_run() {
    for seed in 0..3 {
        let config = Config::default().seed(seed);
        let first = run(Sim::new(config.clone()));
        assert_eq!(first.result, Ok(3_000 * 2_999 / 2));
        assert!(first.stats.steps > 9_000 && first.stats.timers_fired >= 2_500);
        let replay = run(Sim::new(config.seed(seed + 100)).replay(first.schedule.clone()));
        assert_eq!(replay.result, first.result);
        assert_eq!(replay.fingerprint, first.fingerprint, "seed {seed}");
        assert_eq!(replay.trace.first_difference(&first.trace), None);
    }
}
