//! DFS campaigns on J threads report exactly what the one-thread search reports: the
//! same runs, the same first failure (and its schedule), the same stop reason, the same
//! run-cap cut, the same hang — plans run in parallel but commit in depth-first order.

mod bugs;

use detsim::explore::{Campaign, CampaignReport, FailureKind, StopReason};
use detsim::{Config, Scenario};
use std::time::Duration;

fn dfs(scenario: &Scenario, bound: u32, jobs: usize, max_runs: u64) -> CampaignReport {
    Campaign::new(scenario.clone(), Config::default())
        .strategy(format!("dfs:{bound}").parse().unwrap())
        .seeds(max_runs)
        .jobs(jobs)
        .run()
        .unwrap()
}

#[test]
fn dfs_reports_do_not_depend_on_the_thread_count() {
    let programs = [
        ("lost-update", bugs::lost_update(false)),
        ("lost-update fixed", bugs::lost_update(true)),
        ("lock-order", bugs::lock_order(false)),
        ("lock-order fixed", bugs::lock_order(true)),
        ("lost-wakeup", bugs::lost_wakeup(false)),
        ("bounded-buffer fixed", bugs::bounded_buffer(true)),
    ];
    let mut failing = 0;
    for (name, scenario) in &programs {
        for (bound, cap) in [(1, 100_000), (2, 40)] {
            let one = dfs(scenario, bound, 1, cap);
            failing += usize::from(one.failed());
            for jobs in [2, 4] {
                let many = dfs(scenario, bound, jobs, cap);
                assert_eq!(many, one, "{name}, dfs:{bound}, cap {cap}, {jobs} threads");
            }
        }
    }
    assert!(
        failing >= 3,
        "the buggy programs fail under DFS ({failing})"
    );
}

#[test]
fn a_fixed_program_is_searched_completely_on_many_threads() {
    let one = dfs(&bugs::bounded_buffer(true), 2, 1, 1_000_000);
    assert_eq!(
        (one.stopped, one.complete),
        (StopReason::Exhausted, Some(true))
    );
    assert!(one.runs > 50, "a tree worth splitting: {} runs", one.runs);
    let two = dfs(&bugs::bounded_buffer(true), 2, 2, 1_000_000);
    assert_eq!((two.runs, two.stopped), (one.runs, one.stopped));
}

/// The program spins forever (no await) when task b runs before task a's second poll:
/// a hang at one place of the tree. With the watchdog, a search on 1 and on 3 threads
/// reports the same hung run, and goes no further.
#[test]
fn a_hung_dfs_run_is_the_same_run_on_any_thread_count() {
    let spinner = Scenario::new("spinner", "spins on one order", || async {
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (o1, o2) = (order.clone(), order.clone());
        let a = detsim::spawn(async move {
            o1.lock().unwrap().push('a');
            detsim::task::yield_now().await;
            o1.lock().unwrap().push('A');
        });
        let b = detsim::spawn(async move {
            let seen = o2.lock().unwrap().clone();
            if seen == ['a'] {
                #[allow(clippy::empty_loop)]
                loop {
                    std::hint::spin_loop();
                }
            }
        });
        a.await.unwrap();
        b.await.unwrap();
    });
    let hang = |jobs| {
        Campaign::new(spinner.clone(), Config::default())
            .strategy("dfs:2".parse().unwrap())
            .jobs(jobs)
            .watchdog(Some(Duration::from_millis(300)))
            .run()
            .unwrap()
    };
    let one = hang(1);
    assert_eq!(one.stopped, StopReason::Failures, "{one:?}");
    assert_eq!(one.failures[0].kind, FailureKind::Hang);
    assert!(
        one.failures[0].message.starts_with("dfs run "),
        "{}",
        one.failures[0].message
    );
    let three = hang(3);
    assert_eq!(three.failures[0].message, one.failures[0].message);
    assert_eq!(three.runs, one.runs);
}

/// A DFS failure is saved as it commits: a schedule file and a seeds-file line naming it
/// relative to the seeds file (no absolute path in a file meant to be committed). The
/// next campaign replays that line as a regression from its schedule, and the directory
/// still works after it moved.
#[test]
fn dfs_failures_go_to_the_seeds_file_and_replay_as_regressions() {
    let scenario = bugs::lost_update(false);
    let dir = tempfile::tempdir().unwrap();
    let seeds = dir.path().join("seeds");
    let campaign = |seeds: &std::path::Path| {
        Campaign::new(scenario.clone(), Config::default())
            .strategy("dfs:1".parse().unwrap())
            .jobs(2)
            .seeds_dir(Some(seeds.to_path_buf()))
            .run()
            .unwrap()
    };
    let first = campaign(&seeds);
    assert!(first.failed(), "{first:?}");
    let file = detsim::harness::SeedsFile::load(detsim::harness::scenario_seeds_path(
        &seeds,
        scenario.name(),
    ))
    .unwrap();
    assert_eq!(file.cases.len(), 1);
    let (_, named) = file.cases[0]
        .extra
        .iter()
        .find(|(k, _)| k == "schedule")
        .unwrap();
    assert!(
        !named.contains('/') && named.ends_with(".schedule"),
        "{named}"
    );
    let moved = dir.path().join("moved");
    std::fs::rename(&seeds, &moved).unwrap();
    let again = campaign(&moved);
    assert_eq!(again.regressions.len(), 1);
    let regression = again.regressions[0]
        .failure
        .as_ref()
        .expect("still failing");
    assert_eq!(regression.signature, first.failures[0].signature);
}

/// `--time` stops a DFS search that would run for hours: the report says so, counts
/// only the runs committed in depth-first order, and is not `complete`.
#[test]
fn a_dfs_search_stops_at_its_time_limit() {
    #[allow(clippy::disallowed_methods)] // the test measures the wall clock it limits
    let started = std::time::Instant::now();
    let report = Campaign::new(bugs::reorder_50(true), Config::default())
        .strategy("dfs:3".parse().unwrap())
        .seeds(u64::MAX)
        .jobs(2)
        .time_limit(Some(Duration::from_millis(300)))
        .run()
        .unwrap();
    assert_eq!(report.stopped, StopReason::TimeLimit, "{report:?}");
    assert_eq!(report.complete, Some(false));
    assert!(report.runs > 0 && !report.failed(), "{report:?}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}
