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

use super::found::{FailureKind, Fingerprint, FoundFailure};
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

/// What a child reports about its run (`detsim run --json`, one line):
/// `{"seed":N,"fingerprint":"16 hex digits","failure":null}` or, for a failing run,
/// `"failure":{"kind":"panic","message":"…","signature":"…"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The seed.
    pub seed: u64,
    /// The run's fingerprint.
    pub fingerprint: Fingerprint,
    /// The failure, if any.
    pub failure: Option<RunFailure>,
}

/// The failure of a [`RunSummary`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFailure {
    /// How the run failed.
    pub kind: FailureKind,
    /// The failure message.
    pub message: String,
    /// Kind + location ([`Failure::signature`]).
    pub signature: String,
}

impl RunSummary {
    /// The summary of an in-process outcome.
    pub fn of(outcome: &Outcome<()>) -> Self {
        RunSummary {
            seed: outcome.seed,
            fingerprint: Fingerprint(outcome.fingerprint),
            failure: outcome.failure().map(|f: &Failure| RunFailure {
                kind: FailureKind::of(f),
                message: f.to_string(),
                signature: f.signature(),
            }),
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
    match run_child(iso, seed, spec, workers, limit) {
        Ok(s) => s.failure.map(|f| FoundFailure {
            seed,
            strategy: *spec,
            workers,
            kind: f.kind,
            message: f.message,
            signature: f.signature,
            fingerprint: Some(s.fingerprint),
            schedule: None,
        }),
        Err((kind, message)) => Some(FoundFailure::outside(seed, spec, workers, kind, message)),
    }
}

/// The summary a child prints for `seed`, or why it printed none (`crash`: it could not
/// start or died; `hang`: it outlived `limit` and was killed).
pub(crate) fn run_child(
    iso: &Isolate,
    seed: u64,
    spec: &StrategySpec,
    workers: usize,
    limit: Option<Duration>,
) -> Result<RunSummary, (FailureKind, String)> {
    let output = child_output(iso, seed, spec, workers, limit)?;
    summary_of(&output.stdout).ok_or_else(|| (FailureKind::Crash, crash_message(seed, &output)))
}

/// Runs the child for `seed` to its end (or kills it at `limit`) and returns its output.
pub(crate) fn child_output(
    iso: &Isolate,
    seed: u64,
    spec: &StrategySpec,
    workers: usize,
    limit: Option<Duration>,
) -> Result<std::process::Output, (FailureKind, String)> {
    let mut child = spawn_child(iso, seed, spec, workers).map_err(|e| {
        let message = format!("cannot start {}: {e}", iso.program.display());
        (FailureKind::Crash, message)
    })?;
    if let Some(limit) = limit {
        if !wait_until(&mut child, limit) {
            let _ = child.kill();
            let _ = child.wait();
            let message = format!(
                "seed {seed}: the child process ran past the {limit:?} watchdog and was killed"
            );
            return Err((FailureKind::Hang, message));
        }
    }
    child.wait_with_output().map_err(|e| {
        let message = format!("seed {seed}: lost the child process: {e}");
        (FailureKind::Crash, message)
    })
}

fn spawn_child(
    iso: &Isolate,
    seed: u64,
    spec: &StrategySpec,
    workers: usize,
) -> std::io::Result<std::process::Child> {
    let (seed, spec, workers) = (seed.to_string(), spec.to_string(), workers.to_string());
    Command::new(&iso.program)
        .args(&iso.args)
        .args(["--seed", &seed, "--strategy", &spec, "--workers", &workers])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
}

/// The child's one-line JSON summary, if it printed one.
fn summary_of(stdout: &[u8]) -> Option<RunSummary> {
    String::from_utf8_lossy(stdout)
        .lines()
        .find_map(|l| serde_json::from_str(l).ok())
}

/// What is known of a child that died without a summary: its status and last words.
fn crash_message(seed: u64, output: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    format!(
        "seed {seed}: the child process died ({}) without a result; last stderr line: {last}",
        output.status
    )
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
