//! The command line does what it says: machine-readable stdout stays machine-readable,
//! flags that would be ignored are refused, and the `DETSIM_*` variables the README lists
//! are honoured (a flag on the command line wins).

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

fn detsim(dir: &Path, vars: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::cargo_bin("detsim").unwrap();
    cmd.current_dir(dir).env_remove("RUST_BACKTRACE");
    for v in VARS {
        cmd.env_remove(v);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_json_trace_on_stdout_is_only_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    for (scenario, code) in [("bank", 1), ("bank-fixed", 0)] {
        for format in ["json", "chrome", "html"] {
            let out = detsim(
                dir.path(),
                &[],
                &["run", scenario, "--seed", "0", "--trace", format],
            );
            assert_eq!(out.status.code(), Some(code), "{}", text(&out.stderr));
            let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
            assert!(
                stderr.contains(&format!("{scenario} seed 0:")),
                "summary on stderr: {stderr}"
            );
            assert!(!stdout.contains(&format!("{scenario} seed 0:")), "{stdout}");
            if format == "json" {
                for line in stdout.lines() {
                    serde_json::from_str::<serde_json::Value>(line)
                        .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                }
                assert!(stdout.lines().count() > 10);
            } else if format == "chrome" {
                serde_json::from_str::<serde_json::Value>(&stdout).expect("one JSON document");
            }
        }
    }
    // Text stays a human report: trace then the summary, both on stdout.
    let out = detsim(
        dir.path(),
        &[],
        &["run", "bank-fixed", "--seed", "0", "--trace", "text"],
    );
    assert!(text(&out.stdout).contains("bank-fixed seed 0: passed"));
}

#[test]
fn out_without_trace_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["run", "replay"] {
        let out = detsim(
            dir.path(),
            &[],
            &[command, "bank", "--seed", "0", "--out", "t.json"],
        );
        assert_eq!(out.status.code(), Some(2));
        let err = text(&out.stderr);
        assert!(err.contains("--trace"), "{err}");
        assert!(!dir.path().join("t.json").exists());
    }
}

/// `runs, strategy, workers` of a fuzz summary line, e.g. `7 runs` … `2 workers`.
fn summary(out: &Output) -> String {
    let stdout = text(&out.stdout);
    stdout
        .lines()
        .find(|l| l.contains(" passed, "))
        .unwrap_or_else(|| panic!("no summary in:\n{stdout}\n{}", text(&out.stderr)))
        .to_string()
}

#[test]
fn detsim_variables_are_honoured_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fuzz = ["fuzz", "bank-fixed", "--seeds-dir", "s"];
    let line = summary(&detsim(d, &[("DETSIM_SEEDS", "7")], &fuzz));
    assert!(
        line.contains("7 runs") && line.contains("seeds 0..7"),
        "{line}"
    );
    let line = summary(&detsim(
        d,
        &[("DETSIM_SEEDS", "7")],
        &[&fuzz[..], &["--seeds", "5"]].concat(),
    ));
    assert!(line.contains("5 runs"), "the flag wins: {line}");
    let vars = [
        ("DETSIM_SEEDS", "6"),
        ("DETSIM_WORKERS", "2"),
        ("DETSIM_STRATEGY", "pct:2"),
        ("DETSIM_JOBS", "1"),
    ];
    let line = summary(&detsim(d, &vars, &fuzz));
    assert!(
        line.contains("6 runs") && line.contains("2 workers") && line.contains("strategy pct:2:"),
        "{line}"
    );
    let line = summary(&detsim(
        d,
        &vars,
        &[&fuzz[..], &["--workers", "3", "--strategy", "random"]].concat(),
    ));
    assert!(
        line.contains("3 workers") && line.contains("strategy random"),
        "{line}"
    );
    // DETSIM_SEED: only that seed (as check() does), over DETSIM_SEEDS.
    let line = summary(&detsim(
        d,
        &[("DETSIM_SEED", "42"), ("DETSIM_SEEDS", "9")],
        &fuzz,
    ));
    assert!(
        line.contains("1 run,") && line.contains("seeds 42..43"),
        "{line}"
    );

    let out = detsim(d, &[("DETSIM_SEED", "5")], &["run", "bank-fixed"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("bank-fixed seed 5: passed"));
    let out = detsim(
        d,
        &[("DETSIM_SEED", "5")],
        &["run", "bank-fixed", "--seed", "6"],
    );
    assert!(text(&out.stdout).contains("bank-fixed seed 6: passed"));
    let out = detsim(
        d,
        &[("DETSIM_SEEDS", "3")],
        &["check-determinism", "bank-fixed"],
    );
    assert!(
        text(&out.stdout).contains("deterministic: 3 seeds"),
        "{}",
        text(&out.stdout)
    );

    for (var, value) in [
        ("DETSIM_SEEDS", "many"),
        ("DETSIM_WORKERS", "0"),
        ("DETSIM_STRATEGY", "fast"),
        ("DETSIM_JOBS", "100000"),
        ("DETSIM_SEED", "-3"),
    ] {
        let out = detsim(d, &[(var, value)], &fuzz);
        assert_eq!(out.status.code(), Some(2), "{var}={value}");
        let err = text(&out.stderr);
        assert!(
            err.starts_with(&format!("detsim: error: {var}='{value}'")),
            "{err}"
        );
    }
}
