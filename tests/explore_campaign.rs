//! Campaigns: independence from thread count, sharding, canaries, seeds files, watchdog.

mod common;

use detsim::explore::{Campaign, FailureKind, Shard, StopReason, StrategySpec};
use detsim::{Config, Scenario};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn bank() -> Scenario {
    detsim::scenarios::find("bank").unwrap()
}

/// Fails exactly when `seed % 100 == 0`, after some scheduling.
fn canary() -> Scenario {
    Scenario::new("canary", "fails on every 100th seed", || async {
        let h = detsim::spawn(async { detsim::task::yield_now().await });
        h.await.unwrap();
        assert!(detsim::rand::seed() % 100 != 0, "canary seed");
    })
}

#[test]
fn campaign_results_do_not_depend_on_thread_count() {
    for strategy in ["random", "pct:3"] {
        let spec: StrategySpec = strategy.parse().unwrap();
        let run = |jobs| {
            Campaign::new(bank(), Config::default())
                .seeds(10_000)
                .strategy(spec)
                .keep_going(1_000)
                .jobs(jobs)
                .run()
                .unwrap()
        };
        let (one, two) = (run(1), run(2));
        assert_eq!(one, two, "{strategy}");
        assert!(
            one.failing_seeds.len() > 100,
            "{strategy}: {}",
            one.failing_seeds.len()
        );
        assert_eq!(one.runs, 10_000);
    }
}

#[test]
fn stopping_at_first_failure_reports_the_smallest_failing_seed_for_any_jobs() {
    let first = |jobs| {
        Campaign::new(bank(), Config::default())
            .start(5_000)
            .seeds(1_000)
            .jobs(jobs)
            .run()
            .unwrap()
    };
    let (a, b) = (first(1), first(2));
    assert_eq!(a.stopped, StopReason::Failures);
    assert_eq!(a.failures.len(), 1);
    assert_eq!(a, b);
    // Every seed before it passes.
    let s = a.failures[0].seed;
    for seed in 5_000..s {
        assert!(
            bank().run(Config::default().seed(seed)).is_ok(),
            "seed {seed} fails but was not reported"
        );
    }
    assert_eq!(a.runs, s - 5_000 + 1);
}

#[test]
fn shards_together_find_exactly_what_one_campaign_finds() {
    let whole = Campaign::new(canary(), Config::default())
        .seeds(3_000)
        .keep_going(usize::MAX)
        .run()
        .unwrap();
    let mut union: Vec<u64> = Vec::new();
    let mut runs = 0;
    for k in 1..=3 {
        let part = Campaign::new(canary(), Config::default())
            .seeds(3_000)
            .keep_going(usize::MAX)
            .shard(Shard { index: k, count: 3 })
            .run()
            .unwrap();
        runs += part.runs;
        union.extend(part.failing_seeds);
    }
    union.sort_unstable();
    assert_eq!(union, whole.failing_seeds);
    assert_eq!(runs, 3_000);
}

#[test]
fn canary_seeds_are_exactly_reported_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let report = Campaign::new(canary(), Config::default())
        .seeds(1_000)
        .keep_going(usize::MAX)
        .seeds_dir(Some(dir.path().to_path_buf()))
        .run()
        .unwrap();
    let expected: Vec<u64> = (0..1_000).filter(|s| s % 100 == 0).collect();
    assert_eq!(report.failing_seeds, expected);
    assert_eq!(report.passes, 990);
    let file = detsim::harness::SeedsFile::load(dir.path().join("canary.seeds")).unwrap();
    let mut recorded: Vec<u64> = file.cases.iter().map(|c| c.seed).collect();
    recorded.sort_unstable();
    assert_eq!(recorded, expected);
    assert!(
        !dir.path().join("canary.inflight").exists(),
        "a clean campaign removes its in-flight log"
    );
    // The next campaign replays them first, and they still fail.
    let again = Campaign::new(canary(), Config::default())
        .seeds(10)
        .seeds_dir(Some(dir.path().to_path_buf()))
        .run()
        .unwrap();
    assert_eq!(again.regressions.len(), 10);
    assert!(again.regressions.iter().all(|r| r.failure.is_some()));
}

#[test]
fn corrupt_seeds_file_is_an_error_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bank.seeds"),
        "# ok\nseed=1 strategy=random\nseed=banana\n",
    )
    .unwrap();
    let err = Campaign::new(bank(), Config::default())
        .seeds(10)
        .seeds_dir(Some(dir.path().to_path_buf()))
        .run()
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("bank.seeds:3"), "{msg}");
    assert!(msg.contains("banana"), "{msg}");
}

#[test]
fn a_hanging_run_is_caught_by_the_watchdog_and_its_seed_saved() {
    static RELEASE: AtomicBool = AtomicBool::new(false);
    let hang = Scenario::new("hang", "spins without awaiting on seed 7", || async {
        detsim::task::yield_now().await;
        if detsim::rand::seed() == 7 {
            while !RELEASE.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let report = Campaign::new(hang, Config::default())
        .seeds(50)
        .jobs(2)
        .watchdog(Some(std::time::Duration::from_millis(300)))
        .seeds_dir(Some(dir.path().to_path_buf()))
        .interrupt(Arc::new(AtomicBool::new(false)))
        .run()
        .unwrap();
    RELEASE.store(true, Ordering::Relaxed);
    // A hang is a failure at its index like any other.
    assert_eq!(report.stopped, StopReason::Failures);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].seed, 7);
    assert_eq!(report.failures[0].kind, FailureKind::Hang);
    assert_eq!(report.failing_seeds, vec![7]);
    assert_eq!(report.runs, 8);
    let text = std::fs::read_to_string(dir.path().join("hang.seeds")).unwrap();
    assert!(text.contains("seed=7 "), "{text}");
    // Seed 7 is saved, so its in-flight claim was closed and the log removed.
    assert!(!dir.path().join("hang.inflight").exists());
}

#[test]
fn seeds_left_in_flight_by_a_killed_campaign_are_rerun_first() {
    let dir = tempfile::tempdir().unwrap();
    // As if a campaign died while running seeds 200..232 (chunk claimed, never done).
    std::fs::write(
        dir.path().join("canary.inflight"),
        "claim 0 32\ndone 0\nclaim 200 32\n",
    )
    .unwrap();
    let report = Campaign::new(canary(), Config::default())
        .start(1_000_000_001)
        .seeds(10)
        .seeds_dir(Some(dir.path().to_path_buf()))
        .run()
        .unwrap();
    assert_eq!(report.resumed_in_flight, (200..232).collect::<Vec<u64>>());
    let saved = std::fs::read_to_string(dir.path().join("canary.seeds")).unwrap();
    assert!(
        saved.contains("seed=200 "),
        "the in-flight failing seed was saved: {saved}"
    );
}

#[test]
fn dfs_campaign_reports_completeness_and_finds_the_lost_update() {
    let racy = Scenario::new("racy", "lost update", common::lost_update);
    let bound0 = Campaign::new(racy.clone(), Config::default())
        .strategy("dfs:0".parse().unwrap())
        .run()
        .unwrap();
    assert_eq!(bound0.complete, Some(true));
    assert!(bound0.failures.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let bound1 = Campaign::new(racy, Config::default())
        .strategy("dfs:1".parse().unwrap())
        .seeds_dir(Some(dir.path().to_path_buf()))
        .run()
        .unwrap();
    assert_eq!(bound1.failures.len(), 1);
    let schedule = bound1.failures[0]
        .schedule
        .clone()
        .expect("DFS failures are saved as schedules");
    let file = detsim::harness::ScheduleFile::load(&schedule).unwrap();
    assert_eq!(file.header.scenario, "racy");
}

/// `--shard K/N` splits a DFS search by prefix: the shards of a search that passes run
/// every schedule of the unsharded search between them (their runs sum to its runs) and
/// each is complete; on the racy program, some shard finds the lost update, and each
/// shard's failure replays from its saved schedule.
#[test]
fn dfs_shards_split_the_search_and_find_what_it_finds() {
    let fixed = Scenario::new("fixed", "no race", || async {
        let m = std::sync::Arc::new(detsim::sync::Mutex::new(0));
        let hs: Vec<_> = (0..3)
            .map(|_| {
                let m = m.clone();
                detsim::spawn(async move {
                    let mut g = m.lock().await;
                    detsim::task::yield_now().await;
                    *g += 1;
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
        assert_eq!(*m.lock().await, 3);
    });
    let dfs = |scenario: &Scenario, spec: &str, shard: Shard, dir: Option<&std::path::Path>| {
        Campaign::new(scenario.clone(), Config::default())
            .strategy(spec.parse().unwrap())
            .shard(shard)
            .seeds_dir(dir.map(std::path::Path::to_path_buf))
            .run()
            .unwrap()
    };
    let whole = dfs(&fixed, "dfs:1", Shard::default(), None);
    assert_eq!(whole.complete, Some(true));
    assert!(whole.runs > 10, "a tree worth splitting: {}", whole.runs);
    let mut runs = 0;
    let mut parts = Vec::new();
    for index in 1..=3 {
        let part = dfs(&fixed, "dfs:1", Shard { index, count: 3 }, None);
        assert_eq!(part.complete, Some(true), "shard {index}/3");
        assert_eq!(part.stopped, StopReason::Exhausted);
        assert!(part.runs > 0, "shard {index}/3 has work");
        runs += part.runs;
        parts.push((format!("{index}"), part));
    }
    assert_eq!(runs, whole.runs, "each schedule runs in exactly one shard");
    let merged = detsim::explore::merge_reports(&parts).unwrap();
    assert_eq!(
        merged, whole,
        "a merged passing dfs search is the unsharded one"
    );
    let racy = Scenario::new("racy", "lost update", common::lost_update);
    let dir = tempfile::tempdir().unwrap();
    let mut found = 0;
    let mut parts = Vec::new();
    for index in 1..=3 {
        let part = dfs(&racy, "dfs:1", Shard { index, count: 3 }, Some(dir.path()));
        parts.push((format!("{index}"), part.clone()));
        for f in &part.failures {
            let file = detsim::harness::ScheduleFile::load(f.schedule.as_ref().unwrap()).unwrap();
            let again = racy.replay(file.header.config, file.schedule);
            assert_eq!(
                again.failure().map(|f| f.signature()),
                Some(f.signature.clone())
            );
            found += 1;
        }
    }
    assert!(
        found > 0,
        "the lost update is in some shard's part of the tree"
    );
    let merged = detsim::explore::merge_reports(&parts).unwrap();
    assert_eq!(merged.failures.len(), 1, "one signature: {merged:?}");
    assert_eq!(merged.stopped, StopReason::Failures);
}

/// A program that behaves differently from one run to the next (a process-wide counter
/// decides how many tasks it spawns) stops a DFS search with that reason and the
/// explanation, not as if it had hit its run cap.
#[test]
fn a_dfs_search_of_a_leaky_program_says_so() {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let leaky = Scenario::new("leaky", "more tasks each run", || async {
        let n = 2 + RUNS.fetch_add(1, Ordering::Relaxed) % 3;
        let hs: Vec<_> = (0..n)
            .map(|_| detsim::spawn(async { detsim::task::yield_now().await }))
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    });
    let report = Campaign::new(leaky, Config::default())
        .strategy("dfs:2".parse().unwrap())
        .jobs(1)
        .run()
        .unwrap();
    assert_eq!(report.stopped, StopReason::Nondeterministic, "{report:?}");
    assert_eq!(report.complete, Some(false));
    let why = report.nondeterminism.expect("the explanation");
    assert!(why.contains("does not behave the same"), "{why}");
}
