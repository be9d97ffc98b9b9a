//! Probe: what the determinism check says about the three programs.
use detsim::explore::{check_determinism, StrategySpec};
use detsim::Config;
use detsim_guards_tests::*;

#[test]
fn probe() {
    let turns = spin_turns_for(60);
    for s in [hashmap_fanout(), async_lock_contention(turns), tokio_watch_fanout()] {
        let t = std::time::Instant::now();
        let r = check_determinism(&s, &Config::default(), &StrategySpec::Random, 0..30);
        eprintln!("{} guards={} {:?}: {}", s.name(), detsim::guards::ENABLED, t.elapsed(), match r { Ok(n) => format!("ok {n}"), Err(e) => e.to_string() });
    }
}
