//! The command line on the simulated disk: the `wal-kv` scenarios found and clean, the
//! bug needing crashes, `[disk]` plan errors, shrinking disk faults, and the same trace
//! of every file operation in two processes.

mod cli_support;

use cli_support::{detsim, text};

#[test]
fn wal_kv_is_listed_found_under_crashes_and_its_twin_passes() {
    let dir = tempfile::tempdir().unwrap();
    let list = text(&detsim(dir.path(), &["list"]).stdout);
    for name in ["wal-kv", "wal-kv-fixed"] {
        let listed = list
            .lines()
            .any(|l| l.split_whitespace().next() == Some(name));
        assert!(listed, "{list}");
    }
    let out = detsim(
        dir.path(),
        &["fuzz", "wal-kv", "--seeds", "10000", "--jobs", "1"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("acknowledged puts lost"),
        "{}",
        text(&out.stdout)
    );
    let out = detsim(
        dir.path(),
        &["fuzz", "wal-kv-fixed", "--seeds", "1000", "--jobs", "1"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    // Without crashes, acknowledging early loses nothing.
    std::fs::write(
        dir.path().join("calm.toml"),
        "[disk]\nlatency_us = [10, 300]\n",
    )
    .unwrap();
    let args = [
        "fuzz",
        "wal-kv",
        "--seeds",
        "300",
        "--jobs",
        "1",
        "--faults",
        "calm.toml",
    ];
    let out = detsim(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn a_bad_disk_plan_key_is_rejected_with_exit_2_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("t.toml", "[disk]\ntorn = [0.0, 1.5]\n", "key `disk.torn`"),
        (
            "l.toml",
            "[disk]\nlatency_us = [9, 1]\n",
            "key `disk.latency_us`",
        ),
        (
            "f.json",
            r#"{"disk": {"lying_fsync": 2.0}}"#,
            "key `disk.lying_fsync`",
        ),
        (
            "u.toml",
            "[disk]\neioo = [0.0, 0.1]\n",
            "unknown field `eioo`",
        ),
    ];
    for (file, body, needle) in cases {
        std::fs::write(dir.path().join(file), body).unwrap();
        let out = detsim(
            dir.path(),
            &["run", "wal-kv", "--seed", "1", "--faults", file],
        );
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {err}");
        assert!(err.contains(file) && err.contains(needle), "{file}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
}

#[test]
fn a_wal_kv_failure_shrinks_its_faults_and_replays_identically_in_two_processes() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "shrink", "wal-kv", "--seed", "4", "--out", "s.sched", "--budget", "150",
    ];
    let out = detsim(dir.path(), &args);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("faults 3 -> 1"),
        "{stdout}{}",
        text(&out.stderr)
    );
    let out = detsim(dir.path(), &["replay", "wal-kv", "--schedule", "s.sched"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the shrunk schedule still fails"
    );
    let run = || {
        let args = ["replay", "wal-kv", "--seed", "4", "--trace", "text"];
        text(&detsim(dir.path(), &args).stdout)
    };
    let (a, b) = (run(), run());
    assert!(
        a.contains("disk write n1:kv wal.log") && a.contains("CRASH n1:kv"),
        "{a}"
    );
    assert_eq!(a, b, "two processes, one trace");
}
