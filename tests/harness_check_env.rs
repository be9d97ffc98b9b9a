//! `DETSIM_SEED` replays one seed. Its own test binary: environment variables are
//! process-wide, so no other test may run beside it.

mod common;

use common::lost_update as racy;
use detsim::{check, Check};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Ten tasks yield a few times, then the check fails: a trace of a hundred-odd events.
async fn busy_then_fail() {
    let hs: Vec<_> = (0..10)
        .map(|_| {
            detsim::spawn(async {
                for _ in 0..3 {
                    detsim::task::yield_now().await;
                }
            })
        })
        .collect();
    for h in hs {
        h.await.unwrap();
    }
    panic!("always fails");
}

/// Run by `detsim_seed_replays_exactly_that_seed` in a child process, with `DETSIM_SEED`
/// set to a failing seed: the panic must name the line of this `check` call.
#[test]
#[ignore = "run by detsim_seed_replays_exactly_that_seed"]
fn location_probe() {
    check(Check::new(), racy);
}
const PROBE_LINE: u32 = line!() - 2;

#[test]
fn detsim_seed_replays_exactly_that_seed() {
    let failing = (0..1000u64)
        .find(|&s| {
            detsim::Sim::new(detsim::Config::default().seed(s))
                .run(racy())
                .failure()
                .is_some()
        })
        .expect("a failing seed");
    let passing = (0..1000u64)
        .find(|&s| {
            detsim::Sim::new(detsim::Config::default().seed(s))
                .run(racy())
                .is_ok()
        })
        .expect("a passing seed");
    std::env::set_var("DETSIM_SEED", passing.to_string());
    check(Check::new(), racy); // only the passing seed runs: no panic
    std::env::set_var("DETSIM_SEED", format!("{passing:#x}")); // as the CLI takes it
    check(Check::new(), racy);
    std::env::set_var("DETSIM_SEED", failing.to_string());
    let panic = catch_unwind(AssertUnwindSafe(|| check(Check::new(), racy)))
        .expect_err("replayed seed fails");
    let report = panic.downcast_ref::<String>().unwrap();
    assert!(
        report.contains(&format!("seed {failing} failed")),
        "{report}"
    );
    // The whole trace is in the report (this one is short), not only its last events.
    let panic = catch_unwind(AssertUnwindSafe(|| check(Check::new(), busy_then_fail)))
        .expect_err("always fails");
    let report = panic.downcast_ref::<String>().unwrap();
    let config = detsim::Config::default()
        .seed(failing)
        .trace(detsim::TraceMode::Full);
    let out = detsim::Sim::new(config).run(busy_then_fail());
    assert!(out.trace.len() > 50, "a trace longer than the old tail");
    assert!(
        report.contains(&format!("trace ({} events", out.trace.len())),
        "{report}"
    );
    let (_, shown) = report.split_once("events; the whole trace is in").unwrap();
    let shown = shown.split_once("replay with:").unwrap().0;
    assert_eq!(shown.lines().count() - 1, out.trace.len(), "{report}");
    assert!(
        shown.contains("spawn t0:main"),
        "the first event is shown: {report}"
    );
    // The panic points at the test that called `check`, not inside detsim.
    let probe = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "location_probe", "--nocapture"])
        .env("DETSIM_SEED", failing.to_string())
        .output()
        .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&probe.stdout),
        String::from_utf8_lossy(&probe.stderr)
    );
    assert!(
        printed.contains(&format!(
            "panicked at tests/harness_check_env.rs:{PROBE_LINE}:"
        )),
        "{printed}"
    );
    // A hang under DETSIM_SEED is stopped by the watchdog and reported as one.
    static RELEASE: AtomicBool = AtomicBool::new(false);
    std::env::set_var("DETSIM_SEED", "3");
    let panic = catch_unwind(AssertUnwindSafe(|| {
        check(
            Check::new().watchdog(Duration::from_millis(200)),
            || async {
                detsim::task::yield_now().await;
                while detsim::rand::seed() == 3 && !RELEASE.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(2));
                }
            },
        )
    }))
    .expect_err("the hang is reported");
    RELEASE.store(true, Ordering::Relaxed);
    let report = panic.downcast_ref::<String>().unwrap();
    assert!(report.contains("seed 3 hangs"), "{report}");
    std::env::set_var("DETSIM_SEED", "not-a-number");
    let panic = catch_unwind(AssertUnwindSafe(|| check(Check::new(), racy))).expect_err("bad env");
    let report = panic.downcast_ref::<String>().unwrap();
    assert!(report.contains("DETSIM_SEED"), "{report}");
    std::env::remove_var("DETSIM_SEED");
    // A bad strategy is a one-line error naming the variable, never a silent `random`.
    std::env::set_var("DETSIM_STRATEGY", "pct:0");
    let panic = catch_unwind(AssertUnwindSafe(|| check(Check::new().seeds(5), racy)))
        .expect_err("bad strategy");
    std::env::remove_var("DETSIM_STRATEGY");
    let report = panic.downcast_ref::<String>().unwrap();
    assert_eq!(report.lines().count(), 1, "{report}");
    assert!(
        report.contains("DETSIM_STRATEGY='pct:0'") && report.contains("invalid strategy"),
        "{report}"
    );
}
