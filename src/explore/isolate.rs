//! Isolate mode: each seed runs in a child process.
//!
//! A child process is the only boundary that also survives what no in-process guard can:
//! `panic = "abort"`, `std::process::abort`, stack overflows, segfaults in FFI code, and
//! synchronous infinite loops (the child is killed at the time limit, where a thread could
//! only be abandoned). It costs a process spawn per seed, so it is a mode for programs
//! that need it, not the default.
//!
//! Protocol: the child is `program args… --seed N --strategy S --workers W`, and prints
//! one [`RunSummary`] as a JSON line on stdout (the `detsim run --json` command does).

// Waiting for a child process is measured in real time; the child's run is not.
#![allow(clippy::disallowed_methods)]

use super::report::FoundFailure;
use super::StrategySpec;
use crate::{Failure, Outcome};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How to start the child process for one seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Isolate {
    /// The executable.
    pub program: PathBuf,
    /// Arguments before `--seed N --strategy S --workers W`.
    pub args: Vec<String>,
}

/// What a child reports about its run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The seed.
    pub seed: u64,
    /// The run's fingerprint, 16 hex digits.
    pub fingerprint: String,
    /// The failure, if any: kind, message, signature.
    pub failure: Option<(String, String, String)>,
}

impl RunSummary {
    /// The summary of an in-process outcome.
    pub fn of(outcome: &Outcome<()>) -> Self {
        RunSummary {
            seed: outcome.seed,
            fingerprint: format!("{:016x}", outcome.fingerprint),
            failure: outcome
                .failure()
                .map(|f: &Failure| (f.kind().to_string(), f.to_string(), f.signature())),
        }
    }
}

/// Runs `seed` in a child; `None` if it passed. A child that dies without a summary is a
/// `crash` failure, one that outlives `limit` is killed and is a `hang` failure.
pub(crate) fn run_isolated(
    iso: &Isolate,
    seed: u64,
    spec: &StrategySpec,
    workers: usize,
    limit: Option<Duration>,
) -> Option<FoundFailure> {
    let failure = |kind: &str, message: String| {
        Some(FoundFailure {
            seed,
            strategy: spec.to_string(),
            workers,
            kind: kind.to_string(),
            signature: kind.to_string(),
            message,
            fingerprint: String::new(),
            schedule: None,
        })
    };
    let mut child = match Command::new(&iso.program)
        .args(&iso.args)
        .args([
            "--seed",
            &seed.to_string(),
            "--strategy",
            &spec.to_string(),
            "--workers",
            &workers.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            return failure(
                "crash",
                format!("cannot start {}: {e}", iso.program.display()),
            )
        }
    };
    if let Some(limit) = limit {
        if !wait_until(&mut child, limit) {
            let _ = child.kill();
            let _ = child.wait();
            return failure(
                "hang",
                format!(
                    "seed {seed}: the child process ran past the {limit:?} watchdog and was killed"
                ),
            );
        }
    }
    let output = match child.wait_with_output() {
        Ok(o) => o,
        Err(e) => return failure("crash", format!("seed {seed}: lost the child process: {e}")),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout
        .lines()
        .find_map(|l| serde_json::from_str::<RunSummary>(l).ok());
    match summary {
        Some(s) => s.failure.map(|(kind, message, signature)| FoundFailure {
            seed,
            strategy: spec.to_string(),
            workers,
            kind,
            message,
            signature,
            fingerprint: s.fingerprint,
            schedule: None,
        }),
        None => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let last = stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            failure("crash", format!("seed {seed}: the child process died ({}) without a result; last stderr line: {last}", output.status))
        }
    }
}

/// Waits for the child up to `limit`; false if it is still running.
fn wait_until(child: &mut std::process::Child, limit: Duration) -> bool {
    let start = Instant::now();
    let mut pause = Duration::from_micros(100);
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return true,
            Ok(None) if start.elapsed() >= limit => return false,
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
        }
    }
}
