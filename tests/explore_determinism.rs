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

/// Spawns one or two tasks depending on `two`: a visible difference in the trace.
async fn spawn_one_or_two(two: bool) {
    detsim::spawn(async {}).await.unwrap();
    if two {
        detsim::task::spawn_named("extra", async {}).await.unwrap();
    }
}

#[test]
fn a_thread_dependent_leak_is_explained_by_runs_on_two_threads() {
    thread_local! {
        // Differs between threads, stable within one: two runs on one thread agree.
        static PARITY: bool = {
            let id = format!("{:?}", std::thread::current().id());
            id.bytes().map(u64::from).sum::<u64>() % 2 == 0
        };
    }
    static SPAWNED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let leaky = Scenario::new("per-thread", "branches on a thread-local", || async {
        SPAWNED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        spawn_one_or_two(PARITY.with(|p| *p)).await
    });
    // Thread ids alternate parity; run the check from threads until one differs from the
    // check's helper thread (almost always the first).
    let leak = (0..8)
        .find_map(|_| {
            let leaky = leaky.clone();
            std::thread::spawn(move || {
                check_determinism(&leaky, &Config::default(), &StrategySpec::Random, 0..3).err()
            })
            .join()
            .unwrap()
        })
        .expect("some thread pair differs");
    assert_eq!(leak.between, "runs on two threads", "{leak}");
    let d = leak
        .difference
        .as_ref()
        .expect("re-run on two threads, it recurs");
    assert!(
        d.first.contains("extra") || d.second.contains("extra"),
        "{leak}"
    );
    assert!(!leak.to_string().contains("did not recur"), "{leak}");
}

#[test]
fn a_difference_that_does_not_recur_is_said_plainly() {
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let once = Scenario::new("once", "differs on its second run only", || async {
        let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        spawn_one_or_two(n == 1).await
    });
    // Run 0 on the helper thread may race with run 0 here; either way one early run
    // differs and no later run does.
    let leak = check_determinism(&once, &Config::default(), &StrategySpec::Random, 0..1)
        .expect_err("the second run differs");
    assert!(leak.difference.is_none(), "{leak}");
    let text = leak.to_string();
    assert!(text.contains("did not recur"), "{text}");
    assert!(
        text.contains("wall clock") && text.contains("thread"),
        "{text}"
    );
    assert!(!text.contains("trace event"), "no invented event: {text}");
}

/// Two futures ready at once under an unbiased `select!`: the branch comes from futures'
/// thread-local RNG, not from the seed.
async fn unbiased_select() {
    use futures::FutureExt;
    for _ in 0..4 {
        let mut left = futures::future::ready(()).fuse();
        let mut right = futures::future::ready(()).fuse();
        let name = futures::select! {
            _ = left => "left",
            _ = right => "right",
        };
        detsim::task::spawn_named(name, async {}).await.unwrap();
    }
}

#[test]
fn an_unbiased_select_is_caught_and_named() {
    let s = Scenario::new("select", "unbiased select!", unbiased_select);
    let leak = check_determinism(&s, &Config::default(), &StrategySpec::Random, 0..20)
        .expect_err("select! draws from a thread-local RNG");
    let text = leak.to_string();
    assert!(text.contains("select_biased!"), "{text}");
    assert!(
        text.contains("in task t0 \"main\""),
        "names the task: {text}"
    );
}

#[test]
fn check_determinism_is_offered_through_check() {
    detsim::Check::new().seeds(20).determinism(|| async {
        use futures::FutureExt;
        let mut a = Box::pin(async { 1 }.fuse());
        let mut b = Box::pin(async { 2 }.fuse());
        let v = futures::select_biased! { x = a => x, y = b => y };
        detsim::task::spawn_named(format!("got-{v}"), async {})
            .await
            .unwrap();
    });
    let caught = std::panic::catch_unwind(|| {
        detsim::Check::new().seeds(20).determinism(unbiased_select);
    })
    .expect_err("the unbiased select! is not deterministic");
    let message = caught.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("is not deterministic"), "{message}");
    assert!(message.contains("DETSIM_SEED="), "{message}");
}
