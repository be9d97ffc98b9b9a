//! `detsim::check` in plain tests: passes fixed programs, reports buggy ones replayably.

use detsim::{check, Check};
use std::panic::{catch_unwind, AssertUnwindSafe};

async fn counter(fixed: bool) {
    let m = std::sync::Arc::new(detsim::sync::Mutex::new(0));
    let racy = std::rc::Rc::new(std::cell::Cell::new(0));
    let hs: Vec<_> = (0..3)
        .map(|_| {
            let (m, racy) = (m.clone(), racy.clone());
            detsim::spawn(async move {
                if fixed {
                    let mut g = m.lock().await;
                    let v = *g;
                    detsim::task::yield_now().await;
                    *g = v + 1;
                } else {
                    let v = racy.get();
                    detsim::task::yield_now().await;
                    racy.set(v + 1);
                }
            })
        })
        .collect();
    for h in hs {
        h.await.unwrap();
    }
    let total = if fixed { *m.lock().await } else { racy.get() };
    assert_eq!(total, 3, "lost update");
}

#[test]
fn check_passes_a_correct_program() {
    check(Check::new().seeds(2_000), || counter(true));
}

#[test]
fn check_reports_a_failing_seed_with_a_replay_line() {
    let panic = catch_unwind(AssertUnwindSafe(|| {
        check(Check::new().seeds(2_000).jobs(2), || counter(false))
    }))
    .expect_err("the lost update is found");
    let report = panic.downcast_ref::<String>().expect("a formatted report");
    assert!(report.contains("detsim: seed "), "{report}");
    assert!(report.contains("lost update"), "{report}");
    assert!(report.contains("DETSIM_SEED="), "{report}");
    // The whole trace is printed (it is short) and written to the file the report names.
    let (_, after) = report
        .split_once("the whole trace is in ")
        .expect("a trace file");
    let path = after.split_once("):").expect("the path ends the line").0;
    let file = std::fs::read_to_string(path).expect("the trace file exists");
    let events = file.lines().filter(|l| !l.starts_with('#')).count();
    assert!(
        report.contains(&format!("trace ({events} events")),
        "{report}"
    );
    let last = file.lines().last().unwrap();
    assert!(report.contains(last.trim()), "{report}");
    // The seed in the report really fails, and its replay line names the strategy.
    let seed: u64 = report["detsim: seed ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let out = detsim::Sim::new(detsim::Config::default().seed(seed)).run(counter(false));
    assert!(out.failure().is_some());
    assert!(report.contains("DETSIM_STRATEGY=random"), "{report}");
}

#[test]
fn a_runaway_synchronous_loop_fails_the_check_with_its_seed() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static RELEASE: AtomicBool = AtomicBool::new(false);
    let panic = catch_unwind(AssertUnwindSafe(|| {
        check(
            Check::new()
                .seeds(50)
                .jobs(1)
                .watchdog(std::time::Duration::from_millis(300)),
            || async {
                detsim::task::yield_now().await;
                if detsim::rand::seed() == 3 {
                    while !RELEASE.load(Ordering::Relaxed) {
                        std::hint::spin_loop(); // no .await: only the watchdog can notice
                    }
                }
            },
        )
    }))
    .expect_err("the hang is reported");
    RELEASE.store(true, Ordering::Relaxed);
    let report = panic.downcast_ref::<String>().expect("a formatted report");
    assert!(report.contains("seed 3"), "{report}");
    assert!(report.contains("DETSIM_SEED=3"), "{report}");
}

#[test]
#[should_panic(expected = "invalid config: workers = 5000")]
fn check_refuses_an_unusable_config_with_a_message() {
    detsim::check(
        detsim::Check::new().config(detsim::Config::default().workers(5000)),
        || async {},
    );
}

#[test]
fn campaigns_refuse_absurd_threads_and_seed_ranges() {
    use detsim::explore::Campaign;
    let s = detsim::Scenario::new("s", "", || async {});
    let c = || Campaign::new(s.clone(), detsim::Config::default());
    let err = c().jobs(usize::MAX).run().unwrap_err().to_string();
    assert!(err.contains("at most 1024 threads"), "{err}");
    let err = c().start(u64::MAX).seeds(2).run().unwrap_err().to_string();
    assert!(err.contains("2^64-1"), "{err}");
    let err = c()
        .time_limit(Some(std::time::Duration::from_secs(u64::MAX)))
        .run()
        .unwrap_err()
        .to_string();
    assert!(err.contains("time limit"), "{err}");
    let report = c().start(u64::MAX).seeds(1).jobs(1).run().unwrap();
    assert_eq!(report.runs, 1);
}
