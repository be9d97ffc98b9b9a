//! Hostile input to the command line: every value a user or a file can give gets a
//! one-line error and exit status 2 — no panic, no abort, no absurd allocation, no raw
//! control character echoed, no special file replaced.

use assert_cmd::Command;
use std::path::Path;
use std::process::Output;

const VARS: [&str; 5] = [
    "DETSIM_SEED",
    "DETSIM_SEEDS",
    "DETSIM_STRATEGY",
    "DETSIM_JOBS",
    "DETSIM_WORKERS",
];

fn detsim(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("detsim").unwrap();
    cmd.current_dir(dir).env_remove("RUST_BACKTRACE");
    for v in VARS {
        cmd.env_remove(v);
    }
    cmd.timeout(std::time::Duration::from_secs(60));
    cmd
}

fn run(dir: &Path, args: &[&str]) -> Output {
    detsim(dir).args(args).output().unwrap()
}

/// Exit 2, nothing on stdout, one line on stderr that names each of `names`, printable.
fn rejected(dir: &Path, args: &[&str], names: &[&str]) -> String {
    let out = run(dir, args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?}: stdout must stay empty");
    assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
    assert!(err.starts_with("detsim: error: "), "{args:?}: {err}");
    assert!(
        !err.trim_end().chars().any(char::is_control),
        "{args:?}: raw control character in {err:?}"
    );
    assert!(err.len() < 600, "{args:?}: {} bytes of error", err.len());
    for name in names {
        assert!(err.contains(name), "{args:?}: '{err}' does not name {name}");
    }
    err
}

#[test]
fn numeric_flags_at_their_extremes_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let max = "18446744073709551615";
    for (args, names) in [
        (
            vec!["fuzz", "bank", "--time", max],
            vec!["--time", "too long"],
        ),
        (vec!["fuzz", "bank", "--watchdog", max], vec!["--watchdog"]),
        (
            vec!["fuzz", "bank", "--strategy", "dfs:2", "--isolate"],
            vec!["--isolate", "dfs"],
        ),
        (
            vec!["fuzz", "bank", "--time", "99999999999h"],
            vec!["--time"],
        ),
        (vec!["fuzz", "bank", "--jobs", max], vec!["--jobs", "1024"]),
        (vec!["fuzz", "bank", "--jobs", "65536"], vec!["--jobs"]),
        (vec!["fuzz", "bank", "--jobs", "-1"], vec!["'-1'"]),
        (
            vec!["fuzz", "bank", "--workers", "65536"],
            vec!["--workers", "1024"],
        ),
        (
            vec!["run", "bank", "--seed", "1", "--workers", "4000000000"],
            vec!["--workers"],
        ),
        (
            vec!["fuzz", "bank", "--seeds", "18446744073709551616"],
            vec!["--seeds"],
        ),
        (
            vec!["run", "bank", "--seed", "18446744073709551616"],
            vec!["--seed"],
        ),
        (
            vec!["fuzz", "bank", "--shard", "1/18446744073709551616"],
            vec!["--shard"],
        ),
        (
            vec!["fuzz", "bank", "--strategy", "pct:99999999999999999999"],
            vec!["pct"],
        ),
    ] {
        rejected(d, &args, &names);
    }
}

#[test]
fn seed_ranges_past_the_largest_seed_are_rejected_by_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let max = "18446744073709551615";
    for command in ["fuzz", "check-determinism"] {
        rejected(
            d,
            &[command, "bank", "--start", max, "--seeds", "2"],
            &["2^64-1", "--seeds is at most 1"],
        );
        rejected(
            d,
            &[
                command,
                "bank",
                "--start",
                "18446744073709551000",
                "--seeds",
                "1000",
            ],
            &["--seeds is at most 616"],
        );
    }
    // The last seed itself is fine.
    let out = run(
        d,
        &[
            "check-determinism",
            "bank-fixed",
            "--start",
            max,
            "--seeds",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("deterministic: 1 seeds"));
    let out = run(d, &["fuzz", "bank-fixed", "--start", max, "--seeds", "1"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn long_and_control_character_arguments_are_quoted_short_and_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let err = rejected(
        d,
        &["run", "b\x1b[31mank\x07", "--seed", "1"],
        &["unknown scenario"],
    );
    assert!(err.contains("b\\u{1b}[31mank\\u{7}"), "{err}");
    // Linux caps one argument at 128 KiB.
    let huge = "x".repeat(100_000);
    let err = rejected(d, &["run", &huge, "--seed", "1"], &["100000 bytes"]);
    assert!(err.contains("'xxxx"), "{err}");
    let long = "y".repeat(4000);
    rejected(d, &["fuzz", &long], &["unknown scenario", "4000 bytes"]);
    rejected(
        d,
        &["fuzz", "bank", "--strategy", &long],
        &["invalid strategy", "4000 bytes"],
    );
    rejected(
        d,
        &["fuzz", "bank", "--strategy", "pct:\r\n3"],
        &["pct:\\r\\n3"],
    );
    rejected(
        d,
        &["fuzz", "bank", "--shard", "\x1b[2J1/2"],
        &["\\u{1b}[2J1/2"],
    );
}

#[test]
fn out_never_replaces_what_is_not_a_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sub = d.join("a-directory");
    std::fs::create_dir(&sub).unwrap();
    let sub = sub.to_str().unwrap();
    rejected(
        d,
        &[
            "run",
            "bank",
            "--seed",
            "0",
            "--trace",
            "json",
            "--out",
            "/dev/null",
        ],
        &["/dev/null", "a device"],
    );
    rejected(
        d,
        &["shrink", "bank", "--seed", "0", "--out", "/dev/null"],
        &["/dev/null"],
    );
    rejected(
        d,
        &["run", "bank", "--seed", "0", "--schedule-out", "/dev/null"],
        &["/dev/null"],
    );
    rejected(
        d,
        &[
            "run", "bank", "--seed", "0", "--trace", "text", "--out", sub,
        ],
        &["a directory"],
    );
    #[cfg(unix)]
    {
        let fifo = d.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let f = fifo.to_str().unwrap();
            rejected(
                d,
                &["run", "bank", "--seed", "0", "--trace", "text", "--out", f],
                &["a FIFO"],
            );
            rejected(
                d,
                &["shrink", "bank", "--seed", "0", "--out", f],
                &["a FIFO"],
            );
            use std::os::unix::fs::FileTypeExt;
            assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device());
    }
    // A regular file is replaced as before.
    let file = d.join("t.json");
    std::fs::write(&file, "old").unwrap();
    let f = file.to_str().unwrap();
    let out = run(
        d,
        &["run", "bank", "--seed", "0", "--trace", "json", "--out", f],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(std::fs::read_to_string(&file).unwrap().starts_with('{'));
}

#[test]
fn seeds_file_lines_that_are_mistyped_huge_or_raw_are_errors_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let seeds = d.join("seeds");
    std::fs::create_dir(&seeds).unwrap();
    let file = seeds.join("bank.seeds");
    let cases: [(String, &[&str]); 5] = [
        (
            "seed=1 stratgy=pct:3\n".into(),
            &["bank.seeds:1", "'stratgy'", "did you mean 'strategy'"],
        ),
        (
            "seed=1\nseed=2 wrokers=2\n".into(),
            &["bank.seeds:2", "did you mean 'workers'"],
        ),
        (
            format!("seed=1 {}\n", "z".repeat(1 << 20)),
            &["bank.seeds:1", "1048576 bytes"],
        ),
        ("seed=\x1b[31m1\n".into(), &["bank.seeds:1", "\\u{1b}[31m1"]),
        (
            "seed=1 workers=100000\n".into(),
            &["bank.seeds:1", "'100000'", "1024"],
        ),
    ];
    for (text, names) in cases {
        std::fs::write(&file, &text).unwrap();
        rejected(d, &["fuzz", "bank", "--seeds", "1"], names);
    }
}

#[test]
fn schedule_headers_with_a_valid_checksum_but_absurd_config_are_rejected() {
    use detsim::harness::{ScheduleFile, ScheduleHeader};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = run(
        d,
        &[
            "run",
            "lost-wakeup",
            "--seed",
            "1",
            "--schedule-out",
            "good.schedule",
        ],
    );
    assert!(out.status.code().is_some_and(|c| c < 2), "{out:?}");
    let good = ScheduleFile::load(d.join("good.schedule")).unwrap();
    for workers in [0usize, 1025, 65536, 100_000, 4_000_000_000] {
        let mut bad = good.clone();
        bad.header = ScheduleHeader {
            config: good.header.config.clone().workers(workers),
            ..good.header.clone()
        };
        std::fs::write(d.join("bad.schedule"), bad.to_text()).unwrap();
        for command in ["replay", "shrink"] {
            let mut args = vec![command, "lost-wakeup", "--schedule", "bad.schedule"];
            if command == "shrink" {
                args.extend(["--out", "s.schedule"]);
            }
            rejected(
                d,
                &args,
                &["bad.schedule:4", &format!("workers = {workers}")],
            );
        }
    }
}

/// A few thousand random argument lists: none may panic, abort or hang; bad ones exit 2
/// with one printable line. Deterministic (a fixed xorshift seed), so a failure replays.
#[test]
fn random_argument_lists_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let words = [
        "run",
        "fuzz",
        "replay",
        "shrink",
        "check-determinism",
        "list",
        "bank",
        "bank-fixed",
        "pool",
        "--seed",
        "--seeds",
        "--start",
        "--jobs",
        "--workers",
        "--time",
        "--watchdog",
        "--strategy",
        "--shard",
        "--trace",
        "--out",
        "--schedule",
        "--keep-going",
        "--budget",
        "--json",
        "--isolate",
        "--seeds-dir",
        "--schedule-out",
        "0",
        "1",
        "-1",
        "2",
        "65536",
        "18446744073709551615",
        "18446744073709551616",
        "0x",
        "0xffffffffffffffff",
        "pct:3",
        "pct:0",
        "dfs:1",
        "dfs:99999999999",
        "random",
        "1/0",
        "0/0",
        "2/1",
        "1/1",
        "text",
        "json",
        "chrome",
        "html",
        "/dev/null",
        "",
        " ",
        "\x1b",
        "\u{202e}",
        "1ms",
        "0s",
        "1h",
        "=",
        "--seed=",
        "--",
        "-",
        "nope",
    ];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut outcomes = [0usize; 3];
    for _ in 0..150 {
        let n = 1 + next() % 6;
        let args: Vec<&str> = (0..n)
            .map(|_| words[(next() % words.len() as u64) as usize])
            .collect();
        // Keep the cost bounded: small seed counts, no isolate children.
        let mut args: Vec<&str> = args.into_iter().filter(|a| *a != "--isolate").collect();
        for i in 1..args.len() {
            let big = args[i].parse::<u64>().is_ok_and(|n| n > 100) || args[i].starts_with("0x");
            if big && matches!(args[i - 1], "--seeds" | "--budget") {
                args[i] = "5";
            }
        }
        args.extend(["--seeds-dir", "s"]);
        let out = detsim(d)
            .args(&args)
            .env("DETSIM_SEEDS", "3")
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        assert!(matches!(code, Some(0..=2)), "{args:?}: {code:?}\n{err}");
        assert!(
            !err.contains("panicked") || err.contains("FAILED") || err.contains("task t"),
            "{args:?}: {err}"
        );
        if code == Some(2) {
            assert!(
                err.starts_with("detsim: error: ") || err.contains("Usage"),
                "{args:?}: {err}"
            );
            assert!(
                !err.trim_end().contains('\x1b'),
                "{args:?}: raw escape in {err:?}"
            );
        }
        outcomes[code.unwrap_or(2) as usize] += 1;
    }
    assert!(
        outcomes[2] > 50,
        "most random lists are bad input: {outcomes:?}"
    );
}

#[cfg(unix)]
#[test]
fn seeds_and_schedule_paths_that_are_fifos_or_devices_are_errors_not_hangs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for name in ["fifo.schedule", "seeds/bank.seeds"] {
        std::fs::create_dir_all(d.join("seeds")).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(d.join(name))
            .status();
        if !made.is_ok_and(|s| s.success()) {
            return; // no mkfifo here
        }
    }
    rejected(
        d,
        &["replay", "bank", "--schedule", "/dev/zero"],
        &["/dev/zero", "not a regular file"],
    );
    rejected(
        d,
        &["replay", "bank", "--schedule", "fifo.schedule"],
        &["fifo.schedule", "not a regular file"],
    );
    rejected(
        d,
        &[
            "shrink",
            "bank",
            "--schedule",
            "/dev/zero",
            "--out",
            "x.schedule",
        ],
        &["not a regular file"],
    );
    rejected(
        d,
        &["fuzz", "bank", "--seeds", "1"],
        &["bank.seeds", "not a regular file"],
    );
}
