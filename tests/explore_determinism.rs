//! The determinism check catches leaky programs and passes clean ones.

// These programs leak nondeterminism on purpose, to show the check catching them.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use detsim::explore::{check_determinism, StrategySpec};
use detsim::{Config, Scenario, Sim};

#[test]
fn clean_scenarios_are_deterministic() {
    for name in ["bank", "lost-wakeup", "pool"] {
        let s = detsim::scenarios::find(name).unwrap();
        assert_eq!(
            check_determinism(&s, &Config::default(), &StrategySpec::Random, 0..50),
            Ok(50),
            "{name}"
        );
    }
}

#[test]
fn hashmap_iteration_order_is_caught() {
    let leaky = Scenario::new("hashmap", "spawns in HashMap order", || async {
        let map: std::collections::HashMap<u32, u32> = (0..16).map(|i| (i, i)).collect();
        let mut hs = Vec::new();
        for (&k, _) in map.iter() {
            hs.push(detsim::spawn(async move {
                for _ in 0..k % 3 {
                    detsim::task::yield_now().await;
                }
            }));
        }
        for h in hs {
            h.await.unwrap();
        }
    });
    let leak =
        check_determinism(&leaky, &Config::default(), &StrategySpec::Random, 0..20).unwrap_err();
    let d = leak.difference.as_ref().expect("the HashMap leak recurs");
    assert!(d.first != d.second, "{leak}");
    assert!(
        leak.to_string().contains("first difference at trace event"),
        "{leak}"
    );
}

#[test]
fn wall_clock_read_that_changes_control_flow_is_caught() {
    let leaky = Scenario::new("instant", "branches on std::time", || async {
        for _ in 0..8 {
            let t = std::time::Instant::now();
            let mut x = 0u64;
            for i in 0..200u64 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
            if std::hint::black_box(x) == 1 {
                continue;
            }
            // The parity of a nanosecond reading: the same program, different paths.
            if t.elapsed().as_nanos() % 2 == 0 {
                detsim::task::yield_now().await;
            }
            detsim::spawn(async {}).await.unwrap();
        }
    });
    let leak =
        check_determinism(&leaky, &Config::default(), &StrategySpec::Random, 0..30).unwrap_err();
    assert!(leak.fingerprints.0 != leak.fingerprints.1, "{leak}");
}

#[test]
fn a_leak_that_changes_no_random_draw_is_still_caught() {
    // Only the order of spawns (by name) differs; no choice has another range or value.
    let leaky = Scenario::new("names", "names tasks in HashMap order", || async {
        let set: std::collections::HashSet<&str> = ["a", "b", "c", "d", "e", "f", "g", "h"]
            .into_iter()
            .collect();
        for name in set {
            detsim::task::spawn_named(name, async {}).await.unwrap();
        }
    });
    assert!(check_determinism(
        &leaky,
        &Config::default().workers(1),
        &StrategySpec::Random,
        0..10
    )
    .is_err());
}

async fn logging_program() {
    let hs: Vec<_> = (0..4)
        .map(|i| {
            detsim::spawn(async move {
                tracing::info!(task = i, "starting");
                detsim::task::yield_now().await;
                tracing::debug!("done");
            })
        })
        .collect();
    for h in hs {
        h.await.unwrap();
    }
}

#[test]
fn turning_tracing_output_on_or_off_does_not_change_the_fingerprint() {
    use tracing_subscriber::prelude::*;
    for seed in 0..10 {
        let quiet = Sim::new(Config::default().seed(seed)).run(logging_program());
        let subscriber = tracing_subscriber::registry().with(detsim::trace::layer());
        let loud = tracing::subscriber::with_default(subscriber, || {
            Sim::new(Config::default().seed(seed)).run(logging_program())
        });
        assert_eq!(quiet.fingerprint, loud.fingerprint, "seed {seed}");
        let logs = |o: &detsim::Outcome<()>| {
            o.trace
                .events()
                .filter(|e| matches!(e.kind, detsim::trace::EventKind::Log { .. }))
                .count()
        };
        assert_eq!(logs(&quiet), 0);
        assert_eq!(logs(&loud), 8);
    }
}
