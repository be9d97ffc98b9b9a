//! No failing seed lost, end to end: a saved hang does not hang later campaigns, a crash
//! while resuming keeps the seed, and concurrent processes never lose each other's cases.

// These tests measure that hangs are cut short and campaigns end quickly: wall time.
#![allow(clippy::disallowed_methods)]

use assert_cmd::Command;
use detsim::explore::StrategySpec;
use detsim::harness::{append_case, SeedCase, SeedsFile};
use serde_json::Value;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

/// Runs `detsim ARGS --seeds-dir DIR`, killed if it takes more than a minute.
fn detsim(args: &[&str], dir: &Path) -> Output {
    Command::cargo_bin("detsim")
        .unwrap()
        .args(args)
        .arg("--seeds-dir")
        .arg(dir)
        .env_remove("RUST_BACKTRACE")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn saved(dir: &Path, scenario: &str) -> Vec<u64> {
    SeedsFile::load(dir.join(format!("{scenario}.seeds")))
        .unwrap()
        .cases
        .iter()
        .map(|c| c.seed)
        .collect()
}

#[test]
fn a_saved_hang_is_reported_again_by_the_next_fuzz_instead_of_hanging_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = detsim(
        &[
            "fuzz",
            "hang-canary",
            "--watchdog",
            "1s",
            "--seeds",
            "20",
            "--jobs",
            "2",
        ],
        dir.path(),
    );
    let report = text(&first.stdout);
    assert_eq!(first.status.code(), Some(1), "{first:?}");
    assert!(report.contains("FAILED seed 3 "), "{report}");
    assert!(
        report.contains("it hangs"),
        "the replay line says it hangs: {report}"
    );
    assert_eq!(saved(dir.path(), "hang-canary"), vec![3]);
    // Seeds 100 and 101 pass; the saved seed 3 is replayed first, under the watchdog.
    let started = Instant::now();
    let again = detsim(
        &[
            "fuzz",
            "hang-canary",
            "--watchdog",
            "1s",
            "--start",
            "100",
            "--seeds",
            "2",
            "--json",
        ],
        dir.path(),
    );
    assert!(started.elapsed() < Duration::from_secs(30), "{again:?}");
    assert_eq!(again.status.code(), Some(1), "{again:?}");
    let json: Value = serde_json::from_slice(&again.stdout).expect("JSON report");
    assert_eq!(json["regressions"][0]["failure"]["kind"], "hang", "{json}");
    assert_eq!(json["runs"], 2, "{json}");
    assert!(text(&again.stderr).contains("it hangs"), "{again:?}");
}

#[test]
fn a_crash_while_resuming_keeps_the_seed_until_a_campaign_saves_it() {
    let dir = tempfile::tempdir().unwrap();
    // The process aborts at seed 0.
    let first = detsim(&["fuzz", "abort-canary", "--seeds", "300"], dir.path());
    assert!(
        first.status.code() != Some(0) && first.status.code() != Some(1),
        "{first:?}"
    );
    // Resuming the in-flight chunk aborts again, at seed 0.
    let second = detsim(
        &["fuzz", "abort-canary", "--start", "1001", "--seeds", "50"],
        dir.path(),
    );
    assert!(
        second.status.code() != Some(0) && second.status.code() != Some(1),
        "{second:?}"
    );
    // In child processes the resumed seed 0 is caught, reported and saved.
    let third = detsim(
        &[
            "fuzz",
            "abort-canary",
            "--start",
            "1001",
            "--seeds",
            "50",
            "--isolate",
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(third.status.code(), Some(1), "{third:?}");
    let json: Value = serde_json::from_slice(&third.stdout).expect("JSON report");
    assert_eq!(json["resumed_failures"][0]["seed"], 0, "{json}");
    assert_eq!(json["resumed_failures"][0]["kind"], "crash", "{json}");
    assert!(text(&third.stderr).contains("left in flight by a campaign that died"));
    assert_eq!(saved(dir.path(), "abort-canary"), vec![0]);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".inflight"))
        .collect();
    assert!(leftovers.is_empty(), "every claim is closed: {leftovers:?}");
}

/// Child side of the concurrency test: appends cases `FROM..FROM+COUNT` to `PATH`.
#[test]
#[ignore = "run by concurrent_processes_never_lose_each_others_cases"]
fn append_child() {
    let path = std::env::var("APPEND_CHILD_PATH").unwrap();
    let from: u64 = std::env::var("APPEND_CHILD_FROM").unwrap().parse().unwrap();
    for seed in from..from + 40 {
        let case = SeedCase::new(seed, StrategySpec::Random, 4).with_summary("child");
        assert!(append_case(&path, &case).unwrap());
    }
}

#[test]
fn concurrent_processes_never_lose_each_others_cases() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.seeds");
    let children: Vec<_> = (0..4u64)
        .map(|k| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--ignored",
                    "--exact",
                    "append_child",
                    "--test-threads",
                    "1",
                ])
                .env("APPEND_CHILD_PATH", &path)
                .env("APPEND_CHILD_FROM", (k * 1000).to_string())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    // Every line parses (none torn), and all 160 cases are there.
    let mut seeds = saved(dir.path(), "shared");
    seeds.sort_unstable();
    let expected: Vec<u64> = (0..4u64).flat_map(|k| k * 1000..k * 1000 + 40).collect();
    assert_eq!(seeds, expected);
}

#[test]
fn two_shards_sharing_a_seeds_directory_keep_every_case() {
    let dir = tempfile::tempdir().unwrap();
    let shard = |k: &str| {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("detsim"));
        cmd.args([
            "fuzz",
            "bank",
            "--seeds",
            "3000",
            "--keep-going",
            "1000",
            "--jobs",
            "1",
            "--json",
            "--shard",
            k,
            "--seeds-dir",
        ])
        .arg(dir.path())
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped());
        cmd.spawn().unwrap()
    };
    let (a, b) = (shard("1/2"), shard("2/2"));
    let mut expected = Vec::new();
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        let json: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
        let failing: Vec<u64> = json["failing_seeds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert!(failing.len() >= 10, "{json}");
        // Up to 10 per signature are saved, in seed order: at least the first 10.
        expected.extend_from_slice(&failing[..10]);
    }
    let file = saved(dir.path(), "bank");
    for seed in expected {
        assert!(file.contains(&seed), "seed {seed} lost: {file:?}");
    }
}

#[test]
fn shrinking_a_hang_is_a_one_line_error_not_a_stuck_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("detsim")
        .unwrap()
        .current_dir(dir.path())
        .args([
            "shrink",
            "hang-canary",
            "--seed",
            "13",
            "--watchdog",
            "300ms",
            "--out",
            "x.schedule",
        ])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = text(&out.stderr);
    assert!(err.contains("seed 13") && err.contains("hangs"), "{err}");
    assert!(!dir.path().join("x.schedule").exists());
}
