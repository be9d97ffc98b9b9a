//! Isolate mode: seeds that abort the whole process are caught, exactly, in child
//! processes — and without `--isolate` the in-flight log still names them.

use assert_cmd::Command;
use std::path::Path;
use std::process::Output;

/// Runs `detsim ARGS --seeds-dir DIR`.
fn detsim(args: &[&str], dir: &Path) -> Output {
    Command::cargo_bin("detsim")
        .unwrap()
        .args(args)
        .arg("--seeds-dir")
        .arg(dir)
        .output()
        .unwrap()
}

#[test]
fn aborting_seeds_are_reported_exactly_with_isolate() {
    let dir = tempfile::tempdir().unwrap();
    let out = detsim(
        &[
            "fuzz",
            "abort-canary",
            "--isolate",
            "--seeds",
            "250",
            "--keep-going",
            "100",
            "--json",
            "--jobs",
            "2",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(report["failing_seeds"], serde_json::json!([0, 100, 200]));
    assert_eq!(report["runs"], 250);
    assert_eq!(report["failures"][0]["kind"], "crash");
    let saved = std::fs::read_to_string(dir.path().join("abort-canary.seeds")).unwrap();
    for seed in [0, 100, 200] {
        assert!(saved.contains(&format!("seed={seed} ")), "{saved}");
    }
    // The next campaign replays those saved seeds first — in children too, so the
    // campaign survives them and reports them as still failing.
    let again = detsim(
        &[
            "fuzz",
            "abort-canary",
            "--isolate",
            "--start",
            "1",
            "--seeds",
            "50",
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(again.status.code(), Some(1), "{again:?}");
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).expect("JSON summary");
    let regressions = report["regressions"].as_array().unwrap();
    assert_eq!(regressions.len(), 3, "{report}");
    assert!(
        regressions.iter().all(|r| r["failure"]["kind"] == "crash"),
        "{report}"
    );
}

#[test]
fn without_isolate_the_inflight_log_names_the_seed_that_killed_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let out = detsim(
        &[
            "fuzz",
            "abort-canary",
            "--start",
            "1",
            "--seeds",
            "150",
            "--jobs",
            "1",
        ],
        dir.path(),
    );
    assert!(
        out.status.code().is_none() || out.status.code() == Some(134),
        "the process aborted: {out:?}"
    );
    let inflight = std::fs::read_to_string(dir.path().join("abort-canary.inflight"))
        .expect("in-flight log left behind");
    // Seed 100 sits in the chunk claimed last and never marked done.
    let open: Vec<&str> = inflight
        .lines()
        .filter(|l| l.starts_with("claim"))
        .collect();
    assert!(open.last().unwrap().starts_with("claim 97 "), "{inflight}");
    // The next campaign re-runs the left-over chunk first (in a child, so it survives).
    let next = detsim(
        &[
            "fuzz",
            "abort-canary",
            "--isolate",
            "--start",
            "1000001",
            "--seeds",
            "1",
            "--json",
        ],
        dir.path(),
    );
    let report: serde_json::Value = serde_json::from_slice(&next.stdout).expect("JSON summary");
    let resumed = report["resumed_in_flight"].as_array().unwrap();
    assert!(resumed.contains(&serde_json::json!(100)), "{report}");
    let saved = std::fs::read_to_string(dir.path().join("abort-canary.seeds")).unwrap();
    assert!(saved.contains("seed=100 "), "{saved}");
}
