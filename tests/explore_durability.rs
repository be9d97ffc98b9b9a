//! Campaign durability: every run a campaign starts is under the watchdog; hangs are
//! failures at their index, reported and saved lowest first for any thread count; the
//! seeds file holds exactly what the report says; resumed seeds are saved once.
//!
//! Hanging programs here loop on a sleep (no `.await`, so only the watchdog sees them)
//! until their test releases them, so abandoned threads cost no CPU and end.

// These tests measure that hangs are cut short and campaigns end quickly: wall time.
#![allow(clippy::disallowed_methods)]

use detsim::explore::{Campaign, FailureKind, StopReason, StrategySpec};
use detsim::harness::SeedsFile;
use detsim::{Config, Scenario};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Loops without awaiting until `release` is set.
fn stuck(release: &AtomicBool) {
    while !release.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The seeds saved in `dir` for `scenario`, in file order.
fn saved(dir: &Path, scenario: &str) -> Vec<u64> {
    SeedsFile::load(dir.join(format!("{scenario}.seeds")))
        .unwrap()
        .cases
        .iter()
        .map(|c| c.seed)
        .collect()
}

fn campaign(s: &Scenario, dir: &Path, jobs: usize) -> Campaign {
    Campaign::new(s.clone(), Config::default())
        .jobs(jobs)
        .seeds_dir(Some(dir.to_path_buf()))
        .watchdog(Some(Duration::from_millis(300)))
}

#[test]
fn a_saved_hang_is_replayed_under_the_watchdog_not_forever() {
    static RELEASE: AtomicBool = AtomicBool::new(false);
    let hang = Scenario::new("hang7", "hangs on seed 7", || async {
        detsim::task::yield_now().await;
        if detsim::rand::seed() == 7 {
            stuck(&RELEASE);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let first = campaign(&hang, dir.path(), 2).seeds(20).run().unwrap();
    assert_eq!(first.failures[0].kind, FailureKind::Hang);
    assert_eq!(saved(dir.path(), "hang7"), vec![7]);
    // The next campaign replays the saved hang first: under the watchdog, as a failure.
    let started = Instant::now();
    let again = campaign(&hang, dir.path(), 2)
        .start(1_000)
        .seeds(20)
        .run()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    let regression = again.regressions[0].failure.as_ref().expect("still hangs");
    assert_eq!((regression.seed, regression.kind.as_str()), (7, "hang"));
    assert!(
        regression.message.contains("watchdog"),
        "{}",
        regression.message
    );
    assert!(again.failed());
    // A full-trace re-run of it is under the watchdog too.
    let c = campaign(&hang, dir.path(), 1);
    assert!(c.rerun_full(7, &StrategySpec::Random, 4).is_err());
    assert!(c.rerun_full(8, &StrategySpec::Random, 4).is_ok());
    RELEASE.store(true, Ordering::Relaxed);
}

#[test]
fn resumed_calibration_and_dfs_runs_are_under_the_watchdog_too() {
    static RELEASE: AtomicBool = AtomicBool::new(false);
    let hang = Scenario::new("hang0", "hangs on seed 0 after a race", || async {
        let h = detsim::spawn(async { detsim::task::yield_now().await });
        h.await.unwrap();
        if detsim::rand::seed() == 0 {
            stuck(&RELEASE);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    // Resumed: a campaign died with seed 0 in flight.
    std::fs::write(dir.path().join("hang0.inflight"), "claim 0 2 1\n").unwrap();
    let resumed = campaign(&hang, dir.path(), 1)
        .start(5)
        .seeds(3)
        .run()
        .unwrap();
    assert_eq!(resumed.resumed_in_flight, vec![0, 1]);
    assert_eq!(resumed.resumed_failures.len(), 1);
    assert_eq!(resumed.resumed_failures[0].kind, FailureKind::Hang);
    assert!(resumed.failed());
    assert_eq!(saved(dir.path(), "hang0"), vec![0]);
    assert!(
        !dir.path().join("hang0.inflight").exists(),
        "the claim is closed once seed 0 is saved"
    );
    // PCT's calibration run of the first seed.
    let pct = Campaign::new(hang.clone(), Config::default())
        .strategy("pct:3".parse().unwrap())
        .seeds(5)
        .watchdog(Some(Duration::from_millis(300)))
        .run()
        .unwrap();
    assert_eq!(pct.failures[0].kind, FailureKind::Hang);
    assert_eq!(pct.failing_seeds, vec![0]);
    // A DFS search of seed 0: every run of it hangs; the first one is reported.
    let dfs = Campaign::new(hang, Config::default())
        .strategy("dfs:1".parse().unwrap())
        .watchdog(Some(Duration::from_millis(300)))
        .run()
        .unwrap();
    assert_eq!(dfs.failures[0].kind, FailureKind::Hang);
    assert!(dfs.failures[0].message.contains("dfs run 1"), "{dfs:?}");
    RELEASE.store(true, Ordering::Relaxed);
}

/// Hangs on seeds ending in 3. Seeds 0..3 first sleep, so with 2 threads the second
/// thread (seeds 32..) reaches seed 33 and overstays the watchdog well before seed 3 does.
fn threes(release: &'static AtomicBool) -> Scenario {
    Scenario::new("threes", "hangs on seeds ending in 3", move || async move {
        detsim::task::yield_now().await;
        let seed = detsim::rand::seed();
        if seed < 3 {
            std::thread::sleep(Duration::from_millis(100));
        }
        if seed % 10 == 3 {
            stuck(release);
        }
    })
}

#[test]
fn hangs_are_reported_and_saved_lowest_first_for_any_thread_count() {
    static RELEASE: AtomicBool = AtomicBool::new(false);
    let s = threes(&RELEASE);
    let run = |jobs, keep_going| {
        let dir = tempfile::tempdir().unwrap();
        // Seed 33 overstays at 0.5 s, seed 3 (reached after 0.3 s of sleeps) at 0.8 s.
        let report = campaign(&s, dir.path(), jobs)
            .watchdog(Some(Duration::from_millis(500)))
            .seeds(40)
            .keep_going(keep_going)
            .run()
            .unwrap();
        (report, saved(dir.path(), "threes"))
    };
    // Stop at the first failure: seed 3, although seed 33 overstays first with 2 threads.
    let (one, one_saved) = run(1, 1);
    let (two, two_saved) = run(2, 1);
    assert_eq!(one.failures[0].seed, 3);
    assert_eq!(one.failing_seeds, vec![3]);
    assert_eq!(one, two);
    assert_eq!((one_saved.clone(), two_saved), (vec![3], vec![3]));
    // Keep going: every hang is a failure at its index; the threads stuck in them are
    // replaced and the rest of their chunks run by others.
    let (all1, all1_saved) = run(1, usize::MAX);
    let (all2, all2_saved) = run(2, usize::MAX);
    assert_eq!(all1.failing_seeds, vec![3, 13, 23, 33]);
    assert_eq!((all1.runs, all1.passes), (40, 36));
    assert_eq!(all1.stopped, StopReason::Exhausted);
    assert_eq!(all1, all2);
    assert_eq!(all1_saved, vec![3, 13, 23, 33]);
    assert_eq!(all1_saved, all2_saved);
    RELEASE.store(true, Ordering::Relaxed);
}

/// Fails with one signature on multiples of 20 and another on multiples of 15 (0 passes);
/// the first seeds are slow, so other threads find the higher failures first.
fn two_bugs() -> Scenario {
    Scenario::new("two-bugs", "two assertions", || async {
        detsim::task::yield_now().await;
        let seed = detsim::rand::seed();
        if seed < 12 {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(seed == 0 || seed % 20 != 0, "bug A");
        assert!(seed == 0 || seed % 15 != 0, "bug B");
    })
}

#[test]
fn the_seeds_file_holds_exactly_what_the_report_says_for_any_thread_count() {
    let s = two_bugs();
    let run = |jobs, keep_going| {
        let dir = tempfile::tempdir().unwrap();
        let report = Campaign::new(s.clone(), Config::default())
            .seeds(200)
            .jobs(jobs)
            .keep_going(keep_going)
            .seeds_dir(Some(dir.path().to_path_buf()))
            .run()
            .unwrap();
        let mut file = saved(dir.path(), "two-bugs");
        file.sort_unstable();
        (report, file)
    };
    for keep_going in [1, 2] {
        let (one, one_file) = run(1, keep_going);
        assert_eq!(one_file, one.failing_seeds, "keep-going {keep_going}");
        for jobs in [2, 4] {
            let (many, many_file) = run(jobs, keep_going);
            assert_eq!(one, many, "keep-going {keep_going}, {jobs} jobs");
            assert_eq!(one_file, many_file, "keep-going {keep_going}, {jobs} jobs");
        }
    }
    assert_eq!(run(1, 1).1, vec![15]);
    assert_eq!(run(1, 2).1, vec![15, 20]);
}

#[test]
fn the_save_cap_keeps_the_lowest_seeds_for_any_thread_count() {
    let every_third = Scenario::new("thirds", "fails on multiples of 3", || async {
        detsim::task::yield_now().await;
        assert!(detsim::rand::seed() % 3 != 0, "multiple of 3");
    });
    let run = |jobs| {
        let dir = tempfile::tempdir().unwrap();
        Campaign::new(every_third.clone(), Config::default())
            .seeds(300)
            .jobs(jobs)
            .keep_going(usize::MAX)
            .seeds_dir(Some(dir.path().to_path_buf()))
            .run()
            .unwrap();
        saved(dir.path(), "thirds")
    };
    let expected: Vec<u64> = (0..10).map(|i| i * 3).collect();
    assert_eq!(run(1), expected, "10 per signature, in seed order");
    assert_eq!(run(2), expected);
}

#[test]
fn a_resumed_seed_already_saved_does_not_use_up_the_save_cap() {
    let canary = Scenario::new("canary", "fails on every 100th seed", || async {
        detsim::task::yield_now().await;
        assert!(detsim::rand::seed() % 100 != 0, "canary seed");
    });
    let dir = tempfile::tempdir().unwrap();
    // A campaign saved seed 200, then was killed before closing its claim.
    std::fs::write(
        dir.path().join("canary.seeds"),
        "seed=200 strategy=random workers=4  # canary seed\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("canary.inflight"), "claim 200 1 1\n").unwrap();
    let report = Campaign::new(canary, Config::default())
        .strategy(detsim::explore::StrategySpec::Random) // as the saved line and claim
        .seeds(1_100)
        .jobs(2)
        .keep_going(usize::MAX)
        .seeds_dir(Some(dir.path().to_path_buf()))
        .run()
        .unwrap();
    assert_eq!(report.resumed_in_flight, vec![200]);
    assert_eq!(report.failing_seeds.len(), 11);
    // 200 was already there; the 10 others all fit under the cap of 10.
    let mut file = saved(dir.path(), "canary");
    file.sort_unstable();
    assert_eq!(file, (0..11).map(|i| i * 100).collect::<Vec<u64>>());
}

#[test]
fn a_campaign_ends_as_soon_as_its_work_ends() {
    let quick = Scenario::new("quick", "one yield", || async {
        detsim::task::yield_now().await;
    });
    let started = Instant::now();
    for _ in 0..20 {
        let report = Campaign::new(quick.clone(), Config::default())
            .seeds(1)
            .jobs(1)
            .watchdog(Some(Duration::from_secs(10)))
            .run()
            .unwrap();
        assert_eq!(report.passes, 1);
    }
    // With a watchdog tick floor, 20 campaigns took ≥ 2 s.
    assert!(
        started.elapsed() < Duration::from_millis(1_000),
        "{:?} for 20 one-seed campaigns",
        started.elapsed()
    );
}

#[test]
fn shrinking_is_under_the_watchdog() {
    use detsim::explore::{shrink_with_watchdog, ShrinkError};
    static RELEASE: AtomicBool = AtomicBool::new(false);
    // Fails on a nonzero draw; a zero draw — what shrinking tries first — hangs.
    let s = Scenario::new("zero-hangs", "hangs when the draw is 0", || async {
        detsim::task::yield_now().await;
        if detsim::rand::random::<u64>() == 0 {
            stuck(&RELEASE);
        }
        panic!("nonzero draw");
    });
    let config = Config::default().seed(1).trace(detsim::TraceMode::Schedule);
    let failing = s.run(config.clone());
    assert!(failing.failure().is_some());
    let limit = Some(Duration::from_millis(200));
    let shrunk = shrink_with_watchdog(&s, &config, failing.schedule.clone(), 1_000, limit)
        .expect("the original fails");
    assert!(shrunk.stopped_by_hang);
    assert!(shrunk.attempts < 1_000);
    assert_eq!(
        shrunk.failure.signature(),
        failing.failure().unwrap().signature()
    );
    // A schedule whose replay hangs is an error, not a stuck shrink.
    let mut hanging = failing.schedule.clone();
    hanging.choices.iter_mut().for_each(|c| c.value = 0);
    let err = shrink_with_watchdog(&s, &config, hanging, 1_000, limit).unwrap_err();
    assert!(matches!(err, ShrinkError::Hangs(_)), "{err}");
    RELEASE.store(true, Ordering::Relaxed);
}

#[test]
fn a_stopped_campaign_saves_what_it_found_and_closes_its_claims() {
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let s = Scenario::new(
        "stops",
        "fails on multiples of 7; Ctrl-C at seed 100",
        move || {
            let flag = flag.clone();
            async move {
                detsim::task::yield_now().await;
                let seed = detsim::rand::seed();
                if seed == 100 {
                    flag.store(true, Ordering::Relaxed); // as Ctrl-C would
                }
                assert!(seed % 7 != 0 || seed == 0, "multiple of 7");
            }
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let report = Campaign::new(s, Config::default())
        .seeds(10_000)
        .jobs(2)
        .keep_going(usize::MAX)
        .interrupt(stop)
        .seeds_dir(Some(dir.path().to_path_buf()))
        .run()
        .unwrap();
    assert_eq!(report.stopped, StopReason::Interrupted);
    let file = saved(dir.path(), "stops");
    assert!(file.contains(&7) && file.contains(&14), "{file:?}");
    assert!(
        !dir.path().join("stops.inflight").exists(),
        "nothing was in flight when it stopped"
    );
}
