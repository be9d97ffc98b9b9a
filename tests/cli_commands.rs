//! The `detsim` command line, end to end: the built binary run as a user runs it.
//!
//! Every test runs in a fresh temporary directory (as working directory, or through
//! `--seeds-dir`), so no test writes into the repository's `seeds/`.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The `detsim` binary, run in `dir`.
fn detsim(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("detsim").expect("the detsim binary is built");
    cmd.current_dir(dir).env_remove("RUST_BACKTRACE");
    for var in [
        "DETSIM_SEED",
        "DETSIM_SEEDS",
        "DETSIM_STRATEGY",
        "DETSIM_JOBS",
        "DETSIM_WORKERS",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs `detsim args...` in `dir`; checks the exit code and that stderr has no panic.
fn run_in(dir: &Path, args: &[&str], code: i32) -> Output {
    let out = detsim(dir).args(args).output().expect("detsim runs");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(code),
        "detsim {args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert_no_panic(&stderr, args);
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn stdout(out: &Output) -> String {
    text(&out.stdout)
}

fn stderr(out: &Output) -> String {
    text(&out.stderr)
}

/// No Rust panic of the program itself (a simulated task's panic is a reported failure, and
/// `fuzz --json` prints the human report, failure messages included, on stderr).
fn assert_no_panic(stderr: &str, args: &[&str]) {
    let rust_panic = stderr
        .lines()
        .any(|l| l.starts_with("thread '") && l.contains("panicked"));
    assert!(
        !rust_panic && !stderr.contains("RUST_BACKTRACE") && !stderr.contains("stack backtrace"),
        "detsim {args:?}: stderr shows a Rust panic:\n{stderr}"
    );
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// The 16 hex digits after the first `fingerprint ` in `s`.
fn fingerprint(s: &str) -> String {
    let at = s
        .find("fingerprint ")
        .unwrap_or_else(|| panic!("no fingerprint in:\n{s}"));
    let fp: String = s[at + "fingerprint ".len()..].chars().take(16).collect();
    assert!(
        fp.len() == 16 && fp.chars().all(|c| c.is_ascii_hexdigit()),
        "bad fingerprint '{fp}' in:\n{s}"
    );
    fp
}

/// Where a panic failure happened: the text between "panicked at " and the next ": ".
fn panic_location(s: &str) -> &str {
    let at = s
        .find("panicked at ")
        .unwrap_or_else(|| panic!("no panic in:\n{s}"));
    let rest = &s[at + "panicked at ".len()..];
    &rest[..rest.find(": ").unwrap_or(rest.len())]
}

/// The first `FAILED seed N ...` block of a fuzz report: seed, header line, first message
/// line, and the replay command.
struct Reported {
    seed: u64,
    header: String,
    message: String,
    replay: String,
}

fn first_failure(report: &str) -> Reported {
    let lines: Vec<&str> = report.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.starts_with("FAILED seed "))
        .unwrap_or_else(|| panic!("no FAILED line in:\n{report}"));
    let seed = lines[i]["FAILED seed ".len()..]
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no seed in '{}'", lines[i]));
    let replay = lines[i + 1..]
        .iter()
        .find_map(|l| l.trim_start().strip_prefix("replay: "))
        .unwrap_or_else(|| panic!("no replay command after '{}':\n{report}", lines[i]));
    Reported {
        seed,
        header: lines[i].to_string(),
        message: lines[i + 1].trim().to_string(),
        replay: replay.to_string(),
    }
}

/// The program arguments of a printed command: after the `--` of `cargo run ... --`,
/// or after the program path.
fn command_args(command: &str) -> Vec<String> {
    let command = command.trim();
    let words: Vec<&str> = command.split_whitespace().collect();
    let args = if command.starts_with("cargo run") {
        let dashes = words
            .iter()
            .position(|w| *w == "--")
            .unwrap_or_else(|| panic!("no `--` in '{command}'"));
        &words[dashes + 1..]
    } else {
        &words[1..]
    };
    args.iter().map(|s| s.to_string()).collect()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", stdout(out)))
}

/// A failing seed of `scenario`, from `fuzz --json`.
fn failing_seed(dir: &Path, scenario: &str) -> u64 {
    let seeds = dir.join("failing-seed-search");
    let out = run_in(
        dir,
        // The strategy `run` and `shrink` use by default (fuzz's default is swarm).
        &[
            "fuzz",
            scenario,
            "--strategy",
            "random",
            "--json",
            "--seeds-dir",
            path_str(&seeds),
        ],
        1,
    );
    json(&out)["failures"][0]["seed"]
        .as_u64()
        .expect("a failing seed")
}

#[test]
fn list_prints_every_scenario_name_first_then_description() {
    let dir = tempdir();
    let out = run_in(dir.path(), &["list"], 0);
    let listing = stdout(&out);
    let lines: Vec<&str> = listing.lines().collect();
    let builtin = detsim::scenarios::builtin();
    assert_eq!(
        lines.len(),
        builtin.len(),
        "one line per scenario:\n{listing}"
    );
    for (line, s) in lines.iter().zip(&builtin) {
        let (name, description) = line
            .split_once(char::is_whitespace)
            .unwrap_or_else(|| panic!("no description on '{line}'"));
        assert_eq!(name, s.name());
        assert_eq!(description.trim(), s.description());
    }
    for name in [
        "bank",
        "bank-fixed",
        "lost-wakeup",
        "lost-wakeup-fixed",
        "pool",
        "pool-fixed",
    ] {
        assert!(
            lines
                .iter()
                .any(|l| l.split_whitespace().next() == Some(name)),
            "{name} missing from:\n{listing}"
        );
    }
}

#[test]
fn fuzz_bank_saves_the_seed_and_prints_a_replay_command_that_reproduces_it() {
    let dir = tempdir();
    let out = run_in(dir.path(), &["fuzz", "bank"], 1);
    let report = stdout(&out);
    let found = first_failure(&report);

    // The seeds file is created under the working directory, and holds the seed.
    let seeds = std::fs::read_to_string(dir.path().join("seeds/bank.seeds"))
        .expect("fuzz wrote seeds/bank.seeds in the working directory");
    assert!(
        seeds
            .lines()
            .any(|l| l.starts_with(&format!("seed={} ", found.seed))),
        "seed {} not saved:\n{seeds}",
        found.seed
    );
    assert!(
        report.contains("seeds/bank.seeds"),
        "report names the seeds file:\n{report}"
    );

    // The printed command, run exactly, reproduces the same failure and fingerprint.
    let args = command_args(&found.replay);
    assert_eq!(
        args[..4],
        ["replay", "bank", "--seed", &found.seed.to_string()],
        "{}",
        found.replay
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let replayed = run_in(dir.path(), &args, 1);
    let replayed = stdout(&replayed);
    assert!(
        replayed.contains(&found.message),
        "replay shows another failure.\nfuzz: {}\nreplay:\n{replayed}",
        found.message
    );
    let summary = replayed
        .lines()
        .find(|l| l.starts_with(&format!("bank seed {}: FAILED", found.seed)))
        .unwrap_or_else(|| panic!("no FAILED summary in replay:\n{replayed}"));
    assert_eq!(fingerprint(summary), fingerprint(&found.header));

    // A second campaign replays the seeds file first and still fails.
    let again = run_in(dir.path(), &["fuzz", "bank"], 1);
    assert!(
        stdout(&again).contains("bank.seeds: replayed"),
        "{}",
        stdout(&again)
    );
}

#[test]
fn a_dfs_failure_prints_a_schedule_replay_that_reproduces_it() {
    let dir = tempdir();
    let d = dir.path();
    let args = [
        "fuzz",
        "lost-wakeup",
        "--strategy",
        "dfs:2",
        "--seeds-dir",
        "s",
    ];
    let report = stdout(&run_in(d, &args, 1));
    let found = first_failure(&report);
    assert!(found.message.starts_with("deadlock"), "{report}");
    let replay = command_args(&found.replay);
    assert_eq!(
        replay[..3],
        ["replay", "lost-wakeup", "--schedule"],
        "{report}"
    );
    assert!(d.join(&replay[3]).exists(), "{}", replay[3]);
    let replay: Vec<&str> = replay.iter().map(String::as_str).collect();
    let replayed = stdout(&run_in(d, &replay, 1));
    assert_eq!(fingerprint(&replayed), fingerprint(&found.header));

    let fixed = [
        "fuzz",
        "lost-wakeup-fixed",
        "--strategy",
        "dfs:1",
        "--seeds-dir",
        "s",
    ];
    let report = stdout(&run_in(d, &fixed, 0));
    assert!(report.contains("complete"), "{report}");
}

#[test]
fn fuzz_bank_fixed_passes_ten_thousand_seeds() {
    let dir = tempdir();
    let out = run_in(
        dir.path(),
        &["fuzz", "bank-fixed", "--seeds", "10000", "--seeds-dir", "s"],
        0,
    );
    assert!(
        stdout(&out).contains("10000 runs, 10000 passed, 0 failed"),
        "{}",
        stdout(&out)
    );
    assert!(
        !dir.path().join("s/bank-fixed.seeds").exists(),
        "a passing campaign writes no seeds file"
    );
}

#[test]
fn fuzz_json_is_a_machine_readable_summary() {
    let dir = tempdir();
    let out = run_in(
        dir.path(),
        &["fuzz", "bank", "--json", "--seeds-dir", "s"],
        1,
    );
    let v = json(&out);
    assert!(v["runs"].as_u64().is_some_and(|n| n >= 1), "{v}");
    assert!(v["passes"].as_u64().is_some(), "{v}");
    assert_eq!(v["strategy"], "swarm", "the default strategy");
    assert_eq!(v["workers"], 4);
    let f = &v["failures"][0];
    let seed = f["seed"]
        .as_u64()
        .expect("failures[0].seed is a JSON number");
    assert_eq!(f["strategy"], "swarm");
    assert_eq!(f["workers"], 4);
    assert_eq!(f["kind"], "panic");
    assert!(
        f["message"]
            .as_str()
            .is_some_and(|m| m.contains("money was created or destroyed")),
        "{f}"
    );
    assert!(
        f["replay"]
            .as_str()
            .is_some_and(|r| r.contains(&format!("replay bank --seed {seed} "))),
        "{f}"
    );
    assert_eq!(v["failing_seeds"][0].as_u64(), Some(seed));
    // The human report goes to stderr, so stdout stays pure JSON.
    assert!(stderr(&out).contains("FAILED seed"), "{}", stderr(&out));
}

#[test]
fn shards_together_find_exactly_the_failing_seeds_of_one_campaign() {
    let dir = tempdir();
    let campaign = |shard: &str, seeds_dir: &str| {
        let out = run_in(
            dir.path(),
            &[
                "fuzz",
                "lost-wakeup",
                "--seeds",
                "600",
                "--shard",
                shard,
                "--keep-going",
                "100000",
                "--json",
                "--seeds-dir",
                seeds_dir,
            ],
            1,
        );
        let v = json(&out);
        let seeds: Vec<u64> = v["failing_seeds"]
            .as_array()
            .expect("failing_seeds")
            .iter()
            .map(|s| s.as_u64().expect("seeds are numbers"))
            .collect();
        (v["runs"].as_u64().expect("runs"), seeds)
    };
    let (all_runs, all) = campaign("1/1", "whole");
    assert_eq!(all_runs, 600);
    assert!(!all.is_empty(), "lost-wakeup fails for some seeds");
    let mut union = Vec::new();
    let mut runs = 0;
    for k in 1..=3 {
        let (n, seeds) = campaign(&format!("{k}/3"), &format!("shard{k}"));
        assert!(
            seeds.iter().all(|s| s % 3 == k - 1),
            "shard {k}/3 ran a seed of another shard: {seeds:?}"
        );
        runs += n;
        union.extend(seeds);
    }
    union.sort_unstable();
    assert_eq!(runs, 600);
    assert_eq!(union, all);
}

/// `detsim merge` of the 4 shards of a campaign gives the unsharded campaign's report
/// (every key: failures, counts, stop reason, replay lines), for a campaign that stops at
/// its first failure and for one that runs every seed; the merged seeds file holds every
/// shard's cases (a superset of the unsharded file's: shards stop independently), once
/// each, in seed order.
#[test]
fn merging_four_shards_gives_the_unsharded_campaign() {
    let dir = tempdir();
    let d = dir.path();
    for (name, keep_going) in [("first", "1"), ("all", "100000")] {
        let fuzz = |shard: &str, seeds_dir: &str| {
            let args = [
                "fuzz",
                "lost-wakeup",
                "--seeds",
                "600",
                "--keep-going",
                keep_going,
                "--shard",
                shard,
                "--json",
                "--seeds-dir",
                seeds_dir,
            ];
            let out = run_in(d, &args, 1);
            let path = d.join(format!("{name}-{}.json", shard.replace('/', "-of-")));
            std::fs::write(&path, &out.stdout).unwrap();
            (json(&out), path)
        };
        let (mut whole, _) = fuzz("1/1", &format!("{name}-whole"));
        let mut reports = Vec::new();
        let mut seeds_files = Vec::new();
        for k in 1..=4 {
            let seeds_dir = format!("{name}-shard{k}");
            let (part, path) = fuzz(&format!("{k}/4"), &seeds_dir);
            assert_eq!(part["shard"], format!("{k}/4"));
            reports.push(path.display().to_string());
            seeds_files.push(format!("{seeds_dir}/lost-wakeup.seeds"));
        }
        let merged_dir = format!("{name}-merged");
        let mut args = vec!["merge", "--json", "--seeds-dir", &merged_dir];
        args.extend(reports.iter().rev().map(String::as_str)); // any order
        args.push("--seeds-files");
        args.extend(seeds_files.iter().map(String::as_str));
        let out = run_in(d, &args, 1);
        let mut merged = json(&out);
        for v in [&mut whole, &mut merged] {
            v.as_object_mut().unwrap().remove("seeds_file");
        }
        assert_eq!(merged, whole, "{name}: merged vs unsharded");
        assert!(stderr(&out).contains("FAILED seed"), "{}", stderr(&out));
        let seeds_of = |path: &Path| -> Vec<u64> {
            detsim::harness::SeedsFile::load(path)
                .unwrap()
                .cases
                .iter()
                .map(|c| c.seed)
                .collect()
        };
        let merged_seeds = seeds_of(&d.join(&merged_dir).join("lost-wakeup.seeds"));
        let mut sorted = merged_seeds.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(merged_seeds, sorted, "{name}: in seed order, each once");
        let mut shards: Vec<u64> = seeds_files
            .iter()
            .flat_map(|f| seeds_of(&d.join(f)))
            .collect();
        shards.sort_unstable();
        assert_eq!(merged_seeds, shards, "{name}: every shard's case");
        let whole_seeds = seeds_of(&d.join(format!("{name}-whole/lost-wakeup.seeds")));
        assert!(
            whole_seeds.iter().all(|s| merged_seeds.contains(s)),
            "{name}: {whole_seeds:?} in {merged_seeds:?}"
        );
    }
    // Shards that do not make one campaign: exit 2, one line naming the files.
    let report = |k: u64| d.join(format!("first-{k}-of-4.json")).display().to_string();
    let (r1, r2, r4) = (report(1), report(2), report(4));
    let out = run_in(d, &["merge", &r1, &r2, &r4], 2);
    assert!(
        stderr(&out).contains("missing shard 3/4: the reports cover 3 of 4"),
        "{}",
        stderr(&out)
    );
    let out = run_in(d, &["merge", &r1, &r1, &r2], 2);
    assert!(
        stderr(&out).contains("shard 1/4 is in both"),
        "{}",
        stderr(&out)
    );
    let other = d.join("all-1-of-4.json").display().to_string();
    let out = run_in(d, &["merge", &r1, &other], 2);
    assert!(
        stderr(&out).contains("are not shards of one campaign: keep_going 1 in"),
        "{}",
        stderr(&out)
    );
    let out = run_in(
        d,
        &["merge", path_str(&d.join("first-merged/lost-wakeup.seeds"))],
        2,
    );
    assert!(
        stderr(&out).contains("not a `fuzz --json` report"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
}

#[test]
fn exit_codes_say_pass_fail_or_bad_input() {
    let dir = tempdir();
    let d = dir.path();
    run_in(d, &["list"], 0);
    run_in(d, &["--help"], 0);
    run_in(d, &["run", "bank-fixed", "--seed", "1"], 0);
    run_in(d, &["check-determinism", "bank-fixed", "--seeds", "5"], 0);
    let seed = failing_seed(d, "bank").to_string();
    run_in(d, &["run", "bank", "--seed", &seed], 1);
    run_in(d, &["replay", "bank", "--seed", &seed], 1);
    run_in(d, &["run", "bank", "--seed", "0x10"], 1);
    run_in(d, &[], 2);
    run_in(d, &["run", "bank"], 2);
}

/// One bad input: exit 2, nothing on stdout, a message naming the culprit.
fn bad_input(dir: &Path, args: &[&str], names: &[&str]) {
    let out = run_in(dir, args, 2);
    assert_eq!(stdout(&out), "", "detsim {args:?}: stdout must stay empty");
    let err = stderr(&out);
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "detsim {args:?}: {err}"
    );
    let first = err.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("detsim: error: "),
        "detsim {args:?}: {err}"
    );
    assert_eq!(err.lines().count(), 1, "detsim {args:?}: one line: {err}");
    for name in names {
        assert!(
            first.contains(name),
            "detsim {args:?}: '{first}' does not name {name}"
        );
    }
}

#[test]
fn bad_arguments_exit_2_with_a_message_naming_them() {
    let dir = tempdir();
    let d = dir.path();
    for command in [
        vec!["fuzz", "nope"],
        vec!["run", "nope", "--seed", "1"],
        vec!["replay", "nope", "--seed", "1"],
        vec!["shrink", "nope", "--seed", "1", "--out", "x.schedule"],
        vec!["check-determinism", "nope"],
    ] {
        bad_input(d, &command, &["'nope'", "bank-fixed"]);
    }
    bad_input(d, &["fuzz", "bank", "--shard", "3/2"], &["--shard", "3/2"]);
    bad_input(d, &["fuzz", "bank", "--shard", "0/2"], &["--shard", "0/2"]);
    bad_input(d, &["fuzz", "bank", "--seeds", "0"], &["--seeds"]);
    bad_input(
        d,
        &["check-determinism", "bank", "--seeds", "0"],
        &["--seeds"],
    );
    bad_input(
        d,
        &["fuzz", "bank", "--strategy", "bogus"],
        &["--strategy", "bogus"],
    );
    bad_input(d, &["fuzz", "bank", "--strategy", "pct:0"], &["pct:0"]);
    bad_input(
        d,
        &["run", "bank", "--seed", "1", "--strategy", "dfs:2"],
        &["dfs"],
    );
    bad_input(d, &["run", "bank", "--seed", "abc"], &["--seed", "abc"]);
    bad_input(d, &["fuzz", "bank", "--time", "10x"], &["--time", "10x"]);
    bad_input(d, &["fuzz", "bank", "--workers", "0"], &["--workers"]);
    bad_input(d, &["fuzz", "bank", "--keep-going", "0"], &["--keep-going"]);
    bad_input(
        d,
        &["run", "bank", "--seed", "1", "--trace", "svg"],
        &["svg"],
    );
    bad_input(
        d,
        &["replay", "bank", "--seed", "1", "--schedule", "a.schedule"],
        &["--seed", "--schedule"],
    );
    bad_input(
        d,
        &["shrink", "bank-fixed", "--seed", "1", "--out", "x.schedule"],
        &["bank-fixed", "seed 1", "passes"],
    );
    assert!(
        !d.join("seeds").exists(),
        "no bad command wrote a seeds file"
    );
}

#[test]
fn a_malformed_seeds_file_is_named_with_its_line() {
    let dir = tempdir();
    let seeds = dir.path().join("seeds");
    std::fs::create_dir_all(&seeds).unwrap();
    let file = seeds.join("bank.seeds");
    std::fs::write(
        &file,
        "# my corpus\nseed=1 workers=2\nseed=12abc strategy=random\n",
    )
    .unwrap();
    bad_input(dir.path(), &["fuzz", "bank"], &["bank.seeds:3", "12abc"]);
    std::fs::write(&file, "seed=1\nseed=2 strategy=warp\n").unwrap();
    bad_input(dir.path(), &["fuzz", "bank"], &["bank.seeds:2", "warp"]);
    std::fs::write(&file, b"seed=1\n\xff\xfe\n").unwrap();
    bad_input(dir.path(), &["fuzz", "bank"], &["bank.seeds:2", "UTF-8"]);
    // The file is left as it was: an input error writes nothing.
    assert_eq!(std::fs::read(&file).unwrap(), b"seed=1\n\xff\xfe\n");
}

/// Records a schedule of `scenario` seed `seed` with `run --schedule-out`.
fn record(dir: &Path, scenario: &str, seed: &str, code: i32) -> (PathBuf, String) {
    let path = dir.join(format!("{scenario}-{seed}.schedule"));
    let out = run_in(
        dir,
        &[
            "run",
            scenario,
            "--seed",
            seed,
            "--schedule-out",
            path_str(&path),
        ],
        code,
    );
    assert!(path.exists(), "--schedule-out wrote {}", path.display());
    (path, fingerprint(&stdout(&out)))
}

#[test]
fn bad_schedule_files_exit_2_naming_the_file() {
    let dir = tempdir();
    let d = dir.path();
    let (good, _) = record(d, "bank", "3", 0);
    let bytes = std::fs::read(&good).unwrap();

    // Recorded from another scenario.
    bad_input(
        d,
        &["replay", "bank-fixed", "--schedule", path_str(&good)],
        &["bank-3.schedule", "'bank'", "'bank-fixed'"],
    );
    bad_input(
        d,
        &[
            "shrink",
            "bank-fixed",
            "--schedule",
            path_str(&good),
            "--out",
            "o.schedule",
        ],
        &["bank-3.schedule", "'bank-fixed'"],
    );

    let damaged: Vec<(&str, Vec<u8>)> = vec![
        ("truncated-header", bytes[..bytes.len() / 4].to_vec()),
        ("truncated-body", bytes[..bytes.len() - 10].to_vec()),
        ("empty", Vec::new()),
        ("not-a-schedule", b"hello\n".to_vec()),
        ("flipped", {
            let mut b = bytes.clone();
            let last = b.len() - 3;
            b[last] ^= 0x01;
            b
        }),
    ];
    for (name, content) in damaged {
        let path = d.join(format!("{name}.schedule"));
        std::fs::write(&path, content).unwrap();
        let file = format!("{name}.schedule");
        bad_input(
            d,
            &["replay", "bank", "--schedule", path_str(&path)],
            &[&file],
        );
        bad_input(
            d,
            &[
                "shrink",
                "bank",
                "--schedule",
                path_str(&path),
                "--out",
                "o.schedule",
            ],
            &[&file],
        );
    }
    bad_input(
        d,
        &["replay", "bank", "--schedule", "missing.schedule"],
        &["missing.schedule"],
    );
    assert!(
        !d.join("o.schedule").exists(),
        "no shrink output from bad input"
    );
}

#[test]
fn run_schedule_out_then_replay_schedule_reproduces_the_run() {
    let dir = tempdir();
    let d = dir.path();
    let seed = failing_seed(d, "bank").to_string();
    for (scenario, seed, code) in [("bank", seed.as_str(), 1), ("bank-fixed", "5", 0)] {
        let (path, recorded) = record(d, scenario, seed, code);
        let out = run_in(
            d,
            &["replay", scenario, "--schedule", path_str(&path)],
            code,
        );
        assert_eq!(
            fingerprint(&stdout(&out)),
            recorded,
            "{scenario} seed {seed}: the replayed schedule is another run"
        );
        assert!(
            !stderr(&out).contains("warning"),
            "same build, no warning: {}",
            stderr(&out)
        );
    }
}

/// `steps A -> B` (or another measure) from a shrink report.
fn before_after(report: &str, measure: &str) -> (u64, u64) {
    let at = report
        .find(&format!("{measure} "))
        .unwrap_or_else(|| panic!("no '{measure}' in:\n{report}"));
    let mut words = report[at + measure.len()..].split_whitespace();
    let before = words.next().and_then(|w| w.trim_matches(',').parse().ok());
    assert_eq!(words.next(), Some("->"), "{report}");
    let after = words.next().and_then(|w| w.trim_matches(',').parse().ok());
    match (before, after) {
        (Some(b), Some(a)) => (b, a),
        _ => panic!("no '{measure} A -> B' in:\n{report}"),
    }
}

#[test]
fn shrink_writes_a_smaller_schedule_that_replays_to_the_same_failure() {
    let dir = tempdir();
    let d = dir.path();
    for (scenario, kind) in [("bank", "panic"), ("lost-wakeup", "deadlock")] {
        let seed = failing_seed(d, scenario).to_string();
        let original = stdout(&run_in(d, &["run", scenario, "--seed", &seed], 1));
        let out_file = d.join(format!("{scenario}.min.schedule"));
        let shrunk = run_in(
            d,
            &[
                "shrink",
                scenario,
                "--seed",
                &seed,
                "--out",
                path_str(&out_file),
            ],
            1,
        );
        let report = stdout(&shrunk);
        let (steps_before, steps_after) = before_after(&report, "steps");
        let (choices_before, choices_after) = before_after(&report, "choices");
        assert!(steps_after <= steps_before, "{report}");
        assert!(choices_after <= choices_before, "{report}");
        assert!(report.contains(&format!("failure ({kind})")), "{report}");
        assert!(out_file.exists(), "{report}");

        // The printed replay command is the one to use.
        let replay_line = report
            .lines()
            .find(|l| l.contains(&format!(" replay {scenario} --schedule ")))
            .unwrap_or_else(|| panic!("no replay command in:\n{report}"));
        let args = command_args(replay_line);
        assert_eq!(
            args[..4],
            ["replay", scenario, "--schedule", path_str(&out_file)]
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let replayed = stdout(&run_in(d, &args, 1));
        match kind {
            "panic" => assert_eq!(panic_location(&replayed), panic_location(&original)),
            _ => assert!(replayed.contains("deadlock:"), "{replayed}"),
        }
        // The shrunk run is the one the report measured.
        let summary = replayed
            .lines()
            .find(|l| l.contains(": FAILED (steps "))
            .unwrap_or_else(|| panic!("{replayed}"));
        assert!(
            summary.contains(&format!("(steps {steps_after},")),
            "{summary}\n{report}"
        );

        // Shrinking the shrunk schedule again works from the file too.
        let again = d.join(format!("{scenario}.min2.schedule"));
        run_in(
            d,
            &[
                "shrink",
                scenario,
                "--schedule",
                path_str(&out_file),
                "--out",
                path_str(&again),
            ],
            1,
        );
    }
}

#[test]
fn traces_are_written_in_each_format() {
    let dir = tempdir();
    let d = dir.path();
    let trace = |format: &str, file: &str| -> String {
        let path = d.join(file);
        let args = [
            "run",
            "bank-fixed",
            "--seed",
            "2",
            "--trace",
            format,
            "--out",
            path_str(&path),
        ];
        let out = run_in(d, &args, 0);
        assert!(
            stderr(&out).contains("trace written to"),
            "{}",
            stderr(&out)
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"))
    };
    let seed = failing_seed(d, "bank").to_string();

    let lines = trace("json", "t.jsonl");
    let values: Vec<Value> = lines
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect();
    assert!(values.len() > 3, "{lines}");
    assert!(values.iter().all(Value::is_object));

    let chrome: Value = serde_json::from_str(&trace("chrome", "t.json")).expect("chrome JSON");
    assert!(
        chrome["traceEvents"]
            .as_array()
            .is_some_and(|e| !e.is_empty()),
        "{chrome}"
    );

    let html = trace("html", "sub/dir/t.html");
    assert!(html.trim_start().starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.trim_end().ends_with("</html>"), "{html}");

    // Text to stdout, for a failing run too.
    let out = run_in(d, &["run", "bank", "--seed", &seed, "--trace", "text"], 1);
    assert!(
        stdout(&out).starts_with("# detsim trace v1"),
        "{}",
        stdout(&out)
    );
}

/// `--trace text|json --out FILE` streams the trace to the file as the run goes; the
/// file is exactly what `--trace` prints (here for a failing run), for `run` and for a
/// `replay --schedule`.
#[test]
fn a_trace_written_to_a_file_is_streamed_and_is_the_printed_trace() {
    let dir = tempdir();
    let d = dir.path();
    let seed = failing_seed(d, "bank").to_string();
    let printed = stdout(&run_in(
        d,
        &["run", "bank", "--seed", &seed, "--trace", "text"],
        1,
    ));
    let file = d.join("t.trace");
    let args = [
        "run",
        "bank",
        "--seed",
        &seed,
        "--trace",
        "text",
        "--out",
        path_str(&file),
    ];
    let out = run_in(d, &args, 1);
    assert!(stderr(&out).contains(" events)"), "{}", stderr(&out));
    let streamed = std::fs::read_to_string(&file).expect("trace file");
    assert!(streamed.contains("FAILURE"), "{streamed}");
    assert!(printed.starts_with(&streamed), "{printed}\n---\n{streamed}");

    let schedule = d.join("s.schedule");
    let save = [
        "run",
        "bank",
        "--seed",
        &seed,
        "--schedule-out",
        path_str(&schedule),
    ];
    run_in(d, &save, 1);
    let jsonl = d.join("r.jsonl");
    let args = [
        "replay",
        "bank",
        "--schedule",
        path_str(&schedule),
        "--trace",
        "json",
        "--out",
        path_str(&jsonl),
    ];
    run_in(d, &args, 1);
    let lines = std::fs::read_to_string(&jsonl).expect("json trace file");
    let values: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect();
    let events = values.iter().filter(|v| v.get("kind").is_some()).count();
    assert_eq!(
        events,
        streamed.lines().filter(|l| !l.starts_with('#')).count()
    );
}

#[test]
fn check_determinism_passes_on_bank() {
    let dir = tempdir();
    let out = run_in(
        dir.path(),
        &["check-determinism", "bank", "--seeds", "20"],
        0,
    );
    assert!(
        stdout(&out).contains("deterministic: 20 seeds"),
        "{}",
        stdout(&out)
    );
}

/// `--isolate`: every seed in two fresh child processes (a deterministic scenario passes,
/// failing seeds included; the failing case is in `guards-tests/`).
#[test]
fn check_determinism_isolate_runs_each_seed_in_two_processes() {
    let dir = tempdir();
    let args = [
        "check-determinism",
        "lost-wakeup",
        "--isolate",
        "--seeds",
        "6",
    ];
    let out = run_in(dir.path(), &args, 0);
    assert!(
        stdout(&out).contains("deterministic: 6 seeds, each run in two fresh processes"),
        "{}",
        stdout(&out)
    );
}

/// Ctrl-C stops a campaign cleanly: the report is printed, and the exit status is the
/// verdict of the runs that ran.
#[cfg(unix)]
#[test]
fn an_interrupted_campaign_reports_what_it_ran() {
    let dir = tempdir();
    let d = dir.path();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("detsim"))
        .current_dir(d)
        .args([
            "fuzz",
            "bank-fixed",
            "--seeds",
            "1000000000",
            "--json",
            "--jobs",
            "1",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("detsim starts");
    // The in-flight log appears once the campaign (and its Ctrl-C handler) is running.
    let inflight = d.join("seeds/bank-fixed.inflight");
    #[allow(clippy::disallowed_methods)] // waiting on a real child process
    let started = std::time::Instant::now();
    while !inflight.exists() && started.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    if !sent.is_ok_and(|s| s.success()) {
        let _ = child.kill();
        let _ = child.wait();
        eprintln!("skipped: cannot send SIGINT with `kill`");
        return;
    }
    let out = child.wait_with_output().expect("detsim exits");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_no_panic(&stderr(&out), &["fuzz"]);
    let v = json(&out);
    assert_eq!(v["stopped"], "interrupted", "{v}");
    let runs = v["runs"].as_u64().expect("runs");
    assert!(runs > 0 && runs < 1_000_000_000, "{v}");
    assert_eq!(v["passes"].as_u64(), Some(runs));
}

/// `examples/user_cli.rs`: a user's scenarios on the same command line.
#[test]
fn the_user_cli_example_lists_and_fuzzes_its_own_scenarios() {
    let manifest = env!("CARGO_MANIFEST_DIR");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let profile: &[&str] = if cfg!(debug_assertions) {
        &[]
    } else {
        &["--release"]
    };
    let example = |args: &[&str]| -> Output {
        std::process::Command::new(&cargo)
            .current_dir(manifest)
            .args(["run", "--quiet"])
            .args(profile)
            .args(["--example", "user_cli", "--"])
            .args(args)
            .env_remove("RUST_BACKTRACE")
            .output()
            .expect("cargo runs")
    };
    let list = example(&["list"]);
    assert_eq!(list.status.code(), Some(0), "{}", stderr(&list));
    let listing = stdout(&list);
    let names: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names, ["my-cache", "my-cache-fixed"], "{listing}");

    let dir = tempdir();
    let seeds_dir = path_str(dir.path());
    let fuzz = example(&["fuzz", "my-cache", "--seeds-dir", seeds_dir]);
    assert_eq!(fuzz.status.code(), Some(1), "{}", stderr(&fuzz));
    assert_no_panic(&stderr(&fuzz), &["fuzz", "my-cache"]);
    let found = first_failure(&stdout(&fuzz));
    assert!(found.message.contains("stale read"), "{}", found.message);
    // The seeds file names the user's command, not `detsim`.
    let seeds = std::fs::read_to_string(dir.path().join("my-cache.seeds")).unwrap();
    let header = seeds.lines().next().unwrap_or_default();
    assert!(
        header.starts_with("# detsim seeds v1 — scenario my-cache")
            && header.contains("`user_cli fuzz my-cache`"),
        "{header}"
    );
    let bad = example(&["run", "nope", "--seed", "1"]);
    assert!(
        stderr(&bad).starts_with("user_cli: error: unknown scenario 'nope'"),
        "{}",
        stderr(&bad)
    );
    assert!(
        found
            .replay
            .contains("--example user_cli -- replay my-cache --seed"),
        "{}",
        found.replay
    );
    let replay = example(
        &command_args(&found.replay)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(replay.status.code(), Some(1), "{}", stderr(&replay));
    assert_eq!(fingerprint(&stdout(&replay)), fingerprint(&found.header));

    let fixed = example(&[
        "fuzz",
        "my-cache-fixed",
        "--seeds",
        "2000",
        "--seeds-dir",
        seeds_dir,
    ]);
    assert_eq!(fixed.status.code(), Some(0), "{}", stdout(&fixed));
}

#[test]
fn shard_auto_reads_the_batch_engine_s_shard() {
    let dir = tempdir();
    let fuzz = |vars: &[(&str, &str)]| {
        let mut cmd = detsim(dir.path());
        for var in ["DETSIM_SHARD", "DETSIM_SHARD_COUNT", "JOB_COMPLETION_INDEX"] {
            cmd.env_remove(var);
        }
        for var in [
            "SLURM_ARRAY_TASK_ID",
            "SLURM_ARRAY_TASK_COUNT",
            "SLURM_ARRAY_TASK_MIN",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(vars.iter().copied());
        cmd.args([
            "fuzz",
            "bank-fixed",
            "--seeds",
            "100",
            "--shard",
            "auto",
            "--json",
        ]);
        cmd.output().expect("detsim runs")
    };
    // A Kubernetes Indexed Job's pod 1 of 4 (0-based) runs shard 2/4: every 4th seed.
    let out = fuzz(&[("JOB_COMPLETION_INDEX", "1"), ("DETSIM_SHARD_COUNT", "4")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        (v["shard"].as_str(), v["runs"].as_u64()),
        (Some("2/4"), Some(25))
    );
    // A Slurm array task 3 of --array=1-3 runs shard 3/3.
    let slurm = [
        ("SLURM_ARRAY_TASK_ID", "3"),
        ("SLURM_ARRAY_TASK_MIN", "1"),
        ("SLURM_ARRAY_TASK_COUNT", "3"),
    ];
    let v: serde_json::Value = serde_json::from_slice(&fuzz(&slurm).stdout).expect("json");
    assert_eq!(
        (v["shard"].as_str(), v["runs"].as_u64()),
        (Some("3/3"), Some(33))
    );
    // No count for the Indexed Job, or no batch engine at all: a one-line input error.
    for vars in [&[("JOB_COMPLETION_INDEX", "1")][..], &[]] {
        let out = fuzz(vars);
        assert_eq!(out.status.code(), Some(2), "{vars:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains("--shard auto") && err.lines().count() == 1,
            "{err}"
        );
    }
}
