//! A DFS campaign's throughput on J threads: the `dfs_10_tasks` workload of
//! `benches/campaign.rs` (10 tasks × 10 yields + a message each, `dfs:1`, a cap of RUNS
//! runs, default 5,000), JOBS threads (default 1). Prints runs/s.
//!
//! `JOBS=2 cargo run --release --example dfs_probe`

// A probe measures wall time by design.
#![allow(clippy::disallowed_methods)]

use detsim::explore::Campaign;
use detsim::{Config, Scenario};
use std::time::Instant;

fn ten_tasks() -> Scenario {
    Scenario::new("ten-tasks", "10 tasks x 10 yields + 1 message", || async {
        let (tx, mut rx) = detsim::sync::mpsc::unbounded_channel::<u32>();
        for i in 0..10 {
            let tx = tx.clone();
            detsim::spawn(async move {
                for _ in 0..10 {
                    detsim::task::yield_now().await;
                }
                tx.send(i).expect("main receives");
            });
        }
        for _ in 0..10 {
            rx.recv().await.expect("a message");
        }
    })
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let (jobs, runs) = (env("JOBS", 1) as usize, env("RUNS", 5_000));
    let started = Instant::now();
    let report = Campaign::new(ten_tasks(), Config::default())
        .strategy("dfs:1".parse().expect("a strategy"))
        .seeds(runs)
        .jobs(jobs)
        .run()
        .expect("campaign runs");
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} runs on {jobs} threads in {secs:.3} s: {:.0} runs/s",
        report.runs,
        report.runs as f64 / secs
    );
}
