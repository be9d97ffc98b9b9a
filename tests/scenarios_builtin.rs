//! Built-in scenarios: each buggy one fails for some seeds, each fixed twin never does.

use detsim::{Config, TraceMode};

fn failing_seeds(name: &str, seeds: u64) -> Vec<u64> {
    let s = detsim::scenarios::find(name).expect("scenario exists");
    (0..seeds)
        .filter(|&seed| {
            s.run(Config::default().seed(seed).trace(TraceMode::Off))
                .failure()
                .is_some()
        })
        .collect()
}

#[test]
fn buggy_scenarios_fail_on_some_seeds() {
    for name in ["bank", "lost-wakeup", "pool"] {
        let bad = failing_seeds(name, 1000);
        eprintln!("{name}: {} of 1000 seeds fail", bad.len());
        assert!(
            !bad.is_empty(),
            "{name}: the bug was not found in 1,000 seeds"
        );
        assert!(
            bad.len() < 1000,
            "{name}: fails on every seed, so it tests nothing about schedules"
        );
    }
}

#[test]
fn fixed_scenarios_pass_every_seed() {
    for name in ["bank-fixed", "lost-wakeup-fixed", "pool-fixed"] {
        assert_eq!(failing_seeds(name, 2000), Vec::<u64>::new(), "{name}");
    }
}
