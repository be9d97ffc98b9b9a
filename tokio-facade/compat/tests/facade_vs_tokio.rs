//! The same tokio programs (`src/programs.rs`) on the real tokio and on detsim's facade:
//! equal answers where the program is deterministic; under detsim, its race is found on
//! some seeds; `select!` takes its first branch by a recorded choice that varies with
//! the seed and replays from a schedule.

use detsim::{Config, Sim, TraceMode};
use detsim_tokio_compat::on_facade;
use std::future::Future;

/// The programs again, with `tokio` bound to the real tokio.
mod on_tokio {
    use real_tokio as tokio;
    include!("../src/programs.rs");
}

/// Real tokio, multi-threaded, real clock.
fn real<F: Future>(f: F) -> F::Output {
    real_tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Real tokio on its paused clock (the deterministic-timing mode of tokio's tests).
fn real_paused<F: Future>(f: F) -> F::Output {
    real_tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(f)
}

/// The facade, on `seed`.
fn sim<F: Future + 'static>(seed: u64, f: F) -> F::Output
where
    F::Output: 'static,
{
    let out = Sim::new(Config::default().seed(seed).workers(2)).run(f);
    out.result.unwrap_or_else(|e| panic!("seed {seed}: {e}"))
}

#[test]
fn pipeline_gives_the_same_answer_on_tokio_and_on_every_seed() {
    let expected = real(on_tokio::pipeline());
    let total: u64 = (0..4u64)
        .flat_map(|p| (0..25).map(move |i| p * 100 + i))
        .sum();
    assert_eq!(expected.0, total);
    for seed in 0..30 {
        assert_eq!(sim(seed, on_facade::pipeline()), expected, "seed {seed}");
    }
}

#[test]
fn timers_tick_the_same_on_virtual_time_as_on_tokios_paused_clock() {
    let expected = real_paused(on_tokio::timers());
    assert_eq!(expected, (6, true, vec![10, 20, 30], 59));
    for seed in 0..30 {
        assert_eq!(sim(seed, on_facade::timers()), expected, "seed {seed}");
    }
}

#[test]
fn coordination_primitives_agree() {
    let expected = real(on_tokio::coordination());
    assert_eq!(expected, (40, 1, 4, "channel"));
    for seed in 0..30 {
        assert_eq!(
            sim(seed, on_facade::coordination()),
            expected,
            "seed {seed}"
        );
    }
}

#[test]
fn the_lost_update_is_found_under_detsim() {
    let results: Vec<u32> = (0..100)
        .map(|s| sim(s, on_facade::racy_counter()))
        .collect();
    let lost = results.iter().filter(|&&r| r < 3).count();
    assert!(lost > 0, "some schedule loses an update: {results:?}");
    assert!(lost < 100, "and some do not");
    // The same seed loses the same update again: the bug replays.
    let seed = results.iter().position(|&r| r < 3).unwrap() as u64;
    assert_eq!(sim(seed, on_facade::racy_counter()), results[seed as usize]);
    // On the real tokio the program runs too (its answer depends on the OS schedule).
    assert!((1..=3).contains(&real(on_tokio::racy_counter())));
}

#[test]
fn select_branch_order_varies_with_the_seed_and_replays_from_the_schedule() {
    let run = |seed| {
        Sim::new(Config::default().seed(seed).trace(TraceMode::Full)).run(on_facade::first_ready())
    };
    let outs: Vec<_> = (0..40).map(run).collect();
    let picks: Vec<&str> = outs.iter().map(|o| *o.result.as_ref().unwrap()).collect();
    assert!(picks.contains(&"a") && picks.contains(&"b"), "{picks:?}");
    for (seed, out) in outs.iter().enumerate() {
        let again = run(seed as u64);
        assert_eq!(
            again.fingerprint, out.fingerprint,
            "seed {seed} is deterministic"
        );
        let replayed = Sim::new(Config::default().seed(999).trace(TraceMode::Full))
            .replay(out.schedule.clone())
            .run(on_facade::first_ready());
        assert_eq!(replayed.result.unwrap(), picks[seed], "seed {seed} replays");
        assert_eq!(replayed.fingerprint, out.fingerprint);
    }
    // The pick is a recorded `Rand` choice of 2, visible in the trace.
    let text = outs[0].trace.to_string();
    assert!(text.contains("choice"), "{text}");
    assert!(!outs[0].schedule.is_empty());
    // On the real tokio, both programs run as well.
    assert!(["a", "b"].contains(&real(on_tokio::first_ready())));
}

#[tokio::test(seeds = 40)]
async fn tokio_test_attribute_runs_a_campaign_on_the_facade() {
    let (sum, last, producers, _) = on_facade::pipeline().await;
    assert_eq!((sum, last, producers), (16200, 16200, 4));
}

#[tokio::test(flavor = "current_thread")]
async fn tokio_test_flavor_current_thread_is_one_worker() {
    assert_eq!(on_facade::coordination().await.0, 40);
}

#[test]
fn runtime_block_on_runs_one_simulation_and_refuses_nesting() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(3)
        .enable_all()
        .build()
        .unwrap();
    let (ticks, ..) = rt.block_on(on_facade::timers());
    assert_eq!(ticks, 6);
    let nested = std::panic::catch_unwind(|| {
        rt.block_on(async {
            let inner = tokio::runtime::Runtime::new().unwrap();
            inner.block_on(async { 1 })
        })
    })
    .expect_err("a runtime inside a simulation is refused");
    let message = panic_message(&*nested);
    assert!(
        message.contains("Cannot start a runtime from within a runtime"),
        "{message}"
    );
    assert!(
        message.contains("DETSIM_SEED=0"),
        "the failure names the replay: {message}"
    );
    let outside = std::panic::catch_unwind(|| rt.spawn(async {})).expect_err("no simulation yet");
    let message = panic_message(&*outside);
    assert!(message.contains("outside its simulation"), "{message}");
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    match payload.downcast_ref::<String>() {
        Some(s) => s.clone(),
        None => payload.downcast_ref::<&str>().unwrap().to_string(),
    }
}

/// `[patch]` route: an unmodified program using crates.io's tokio and tokio-stream, with
/// the facade patched in for the whole tree. Ignored by default (it builds tokio-stream
/// and tokio-util, over a minute); run with `cargo test --release -- --ignored patch_route`.
#[test]
#[ignore = "builds a separate workspace with crates from the registry"]
fn patch_route() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--manifest-path"])
        .arg(root.join("patch-demo/Cargo.toml"))
        .env("CARGO_TARGET_DIR", root.join("patch-demo/target"))
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.trim(),
        "[0, 1, 2, 3, 4] Some(2) after 300s of virtual time"
    );
}
