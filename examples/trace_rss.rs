//! Peak memory of a big run by trace mode (issue 8's "full traces at scale"):
//! `cargo run --release --example trace_rss -- TASKS off|full|stream [FILE]`.
//!
//! TASKS tasks each sleep once (1..=1,000 ms, as the peers' W7) and are joined in spawn
//! order: about 7 events per task, so 1,430,000 tasks make a 10-million-event run.
//! `off` keeps only the fingerprint, `full` keeps the trace in memory, `stream` writes it
//! to FILE (text) while the run goes. Prints the event count, the wall time and the peak
//! resident set (`VmHWM` from `/proc/self/status`, Linux only).

// A measurement tool, outside any simulation: it reads the host's /proc and clock.
#![allow(clippy::disallowed_methods)]

use detsim::trace::TraceStream;
use detsim::{Config, Sim, TraceMode};
use std::time::Duration;

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn sleepers(tasks: u64) {
    let handles: Vec<_> = (0..tasks)
        .map(|i| {
            detsim::spawn(async move {
                detsim::time::sleep(Duration::from_millis(i % 1000 + 1)).await;
            })
        })
        .collect();
    for h in handles {
        h.await.expect("a sleeper failed");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tasks: u64 = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_430_000);
    let mode = args.get(1).map_or("off", String::as_str);
    let file = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "trace_rss.trace".into());
    let config = Config::default().seed(1);
    let sim = match mode {
        "off" => Sim::new(config.trace(TraceMode::Off)),
        "full" => Sim::new(config.trace(TraceMode::Full)),
        "stream" => Sim::new(config.trace(TraceMode::Full)).stream_trace(TraceStream::text(&file)),
        other => {
            eprintln!("trace_rss: mode must be off, full or stream, not {other:?}");
            std::process::exit(2);
        }
    };
    let t0 = std::time::Instant::now();
    let out = sim.run(sleepers(tasks));
    let wall = t0.elapsed();
    if let Err(f) = &out.result {
        eprintln!("trace_rss: the run failed: {f}");
        std::process::exit(1);
    }
    let events = match mode {
        "full" => out.trace.len().to_string(),
        _ => "-".into(),
    };
    println!(
        "{tasks} tasks, trace {mode}: {} steps, {events} events kept, {:.2} s, peak RSS {} MiB",
        out.stats.steps,
        wall.as_secs_f64(),
        peak_rss_kib().unwrap_or(0) / 1024
    );
}
