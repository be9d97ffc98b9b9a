//! `#[detsim::test]`: an async test body runs as a campaign with the attribute's
//! settings, and a failing body is reported with its replay line.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

static RUNS: AtomicU64 = AtomicU64::new(0);

#[detsim::test(seeds = 50, strategy = "pct:3", workers = 2, jobs = 1)]
async fn attribute_runs_the_body_once_per_seed() {
    RUNS.fetch_add(1, Ordering::Relaxed);
    let m = Arc::new(detsim::sync::Mutex::new(0));
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let m = m.clone();
            detsim::spawn(async move {
                let mut g = m.lock().await;
                let v = *g;
                detsim::task::yield_now().await;
                *g = v + 1;
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*m.lock().await, 3);
}

#[test]
fn the_attribute_test_above_ran_many_seeds() {
    // Run it here too (tests may run in any order), then count.
    let before = RUNS.load(Ordering::Relaxed);
    attribute_runs_the_body_once_per_seed();
    let ran = RUNS.load(Ordering::Relaxed) - before;
    // 50 seeds, unless DETSIM_SEEDS / DETSIM_SEED override it in this environment.
    if std::env::var_os("DETSIM_SEEDS").is_none() && std::env::var_os("DETSIM_SEED").is_none() {
        assert!(ran >= 50, "ran {ran} times");
    }
}

#[detsim::test(seeds = 20)]
async fn bodies_may_return_results() -> Result<(), String> {
    let v = detsim::spawn(async { 2 })
        .await
        .map_err(|e| e.to_string())?;
    if v == 2 {
        Ok(())
    } else {
        Err(format!("got {v}"))
    }
}

mod failing {
    /// Not a test by itself (`#[ignore]`), called below to see how it fails.
    #[detsim::test(seeds = 500, jobs = 1)]
    #[ignore = "fails on purpose; run by `a_failing_body_reports_the_replay_line`"]
    pub(super) async fn lost_update() {
        let c = std::rc::Rc::new(std::cell::Cell::new(0));
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let c = c.clone();
                detsim::spawn(async move {
                    let v = c.get();
                    detsim::task::yield_now().await;
                    c.set(v + 1);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(c.get(), 2, "lost update");
    }
}

#[test]
fn a_failing_body_reports_the_replay_line() {
    if std::env::var_os("DETSIM_SEED").is_some() {
        return; // a forced seed may pass
    }
    let panic = std::panic::catch_unwind(failing::lost_update).expect_err("the race is found");
    let report = panic.downcast_ref::<String>().expect("a report");
    assert!(report.contains("lost update"), "{report}");
    assert!(report.contains("DETSIM_SEED="), "{report}");
    assert!(
        report.contains("cargo test -- --exact failing::lost_update"),
        "{report}"
    );
    // The seeds file of the test is kept in the crate's seeds/ directory.
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let name = std::fs::read_dir(&seeds)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.contains("lost_update"));
    // Named for the test's path with `.` for `::`: a valid file name on Windows too.
    assert_eq!(
        name.as_deref(),
        Some("failing.lost_update.seeds"),
        "the seeds file of the test in {}",
        seeds.display()
    );
}

static MAIN_RUNS: AtomicU64 = AtomicU64::new(0);

/// `#[detsim::main]` on a function other than `main`, to call it from a test.
#[detsim::main(workers = 2)]
async fn as_main() {
    let start = detsim::time::Instant::now();
    detsim::time::sleep(std::time::Duration::from_secs(3600)).await;
    assert_eq!(start.elapsed().as_secs(), 3600, "virtual time");
    MAIN_RUNS.fetch_add(1, Ordering::Relaxed);
}

#[test]
fn detsim_main_runs_the_body_once() {
    as_main();
    assert_eq!(MAIN_RUNS.load(Ordering::Relaxed), 1);
}
