//! Peak RSS of the disk benchmark's workload: `cargo run --release --example disk_rss --
//! BATCHES [truncate] [full]`. Prints the file length, the trace length and the peak
//! resident set (`VmHWM` from `/proc/self/status`, Linux only).

// A measurement tool, outside any simulation: it reads the host's /proc.
#![allow(clippy::disallowed_methods)]

mod disk_workload;

use detsim::{Config, TraceMode};

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let batches: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(1);
    let truncate = args.iter().any(|a| a == "truncate");
    let mode = match args.iter().any(|a| a == "full") {
        true => TraceMode::Full,
        false => TraceMode::Off,
    };
    let before = peak_rss_kib().unwrap_or(0);
    let t0 = std::time::Instant::now();
    let (len, events) =
        disk_workload::append(Config::default().seed(1).trace(mode), batches, truncate);
    let wall = t0.elapsed();
    let ops =
        batches * (disk_workload::RECORDS + disk_workload::RECORDS / disk_workload::SYNC_EVERY);
    println!(
        "batches={batches} truncate={truncate} trace={mode:?}: file {len} B, {events} events, {ops} ops in {wall:?} ({:.0} ops/s), peak RSS {} KiB (at start {before} KiB)",
        ops as f64 / wall.as_secs_f64(),
        peak_rss_kib().map_or("?".into(), |k| k.to_string()),
    );
}
