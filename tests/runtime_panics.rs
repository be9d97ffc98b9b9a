//! Panics detsim cannot turn into a failure are still printed, never swallowed.
//!
//! Each case runs in a child process (this test binary, re-run on one test with
//! `DETSIM_PANIC_CHILD` set), because the process aborts or exits with the panic.

use detsim::explore::{Candidates, Strategy};
use detsim::{Config, Sim, StrategyRng};
use std::process::Command;

const CHILD: &str = "DETSIM_PANIC_CHILD";

/// Runs this test binary's test `name` as a child with `CHILD` set; its stderr.
fn child(name: &str) -> (Option<i32>, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

struct PanicsInDrop(&'static str);

impl Drop for PanicsInDrop {
    fn drop(&mut self) {
        panic!("{}", self.0);
    }
}

#[test]
fn child_drop_panics_while_task_panics() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    // The process aborts inside the run: there is no Outcome to look at.
    let _ = Sim::new(Config::default().seed(1)).run(async {
        detsim::spawn(async {
            let _guard = PanicsInDrop("the guard's drop panicked too");
            detsim::task::yield_now().await;
            panic!("the task panicked first");
        })
        .await
        .unwrap();
    });
}

#[test]
fn a_panic_during_unwinding_prints_both_messages_before_the_abort() {
    let (code, stderr) = child("child_drop_panics_while_task_panics");
    assert_ne!(code, Some(0), "{stderr}");
    let first = stderr.find("the task panicked first");
    let second = stderr.find("the guard's drop panicked too");
    assert!(
        first.is_some() && second.is_some() && first < second,
        "both panics, in order:\n{stderr}"
    );
    assert!(stderr.contains("tests/runtime_panics.rs:"), "{stderr}");
}

#[test]
fn child_drop_panics_while_main_unwinds_through_nested_frames() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    // The process aborts inside the run: there is no Outcome to look at.
    let _ = Sim::new(Config::default().seed(2)).run(async {
        let _outer = PanicsInDrop("outer drop");
        let v: Vec<u8> = Vec::new();
        let _ = v[3]; // index out of bounds in the main task
    });
}

#[test]
fn a_panicking_drop_in_the_main_task_is_reported_too() {
    let (code, stderr) = child("child_drop_panics_while_main_unwinds_through_nested_frames");
    assert_ne!(code, Some(0), "{stderr}");
    assert!(stderr.contains("index out of bounds"), "{stderr}");
    assert!(stderr.contains("outer drop"), "{stderr}");
}

/// A strategy that panics: a panic outside any task, which no `Failure` can hold.
#[derive(Debug)]
struct Broken;

impl Strategy for Broken {
    fn pick(&mut self, _: &Candidates<'_>, _: &mut StrategyRng) -> usize {
        panic!("the strategy is broken")
    }
}

#[test]
fn child_strategy_panics() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    // The strategy's panic ends the process: there is no Outcome to look at.
    let _ = Sim::new(Config::default().seed(3))
        .strategy(Box::new(Broken))
        .run(async {
            let a = detsim::spawn(async {});
            let b = detsim::spawn(async {});
            let _ = (a.await, b.await);
        });
}

#[test]
fn a_panic_outside_every_task_is_printed() {
    let (code, stderr) = child("child_strategy_panics");
    assert_eq!(code, Some(101), "{stderr}");
    assert!(
        stderr.contains("a panic outside any task ended the run")
            && stderr.contains("the strategy is broken")
            && stderr.contains("tests/runtime_panics.rs:"),
        "{stderr}"
    );
}
