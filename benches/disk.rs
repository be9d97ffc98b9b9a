//! Throughput of the simulated disk (`detsim::fs`).
//!
//! Run with `cargo bench --bench disk -- --warm-up-time 1 --measurement-time 3`.
//!
//! **Append.** One node appends 100,000 records of 100 bytes to one file through
//! `futures::io::AsyncWriteExt::write_all`, with `sync_data` every 100 records (1,000
//! syncs), no fault plan. `Config::default()` (4 workers, random strategy), seed 1,
//! trace off and full. Rate: disk operations (writes + syncs) per second of wall time,
//! including building and dropping the `Sim`. Peak RSS is measured by
//! `examples/disk_rss.rs` (see `benches/README.md`).

// Benchmarks time the runs from outside.
#![allow(clippy::disallowed_methods)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use detsim::{Config, TraceMode};

#[path = "../examples/disk_workload.rs"]
mod disk_workload;

fn bench_append(c: &mut Criterion) {
    let mut g = c.benchmark_group("disk_append_100k_sync_every_100");
    g.sample_size(10);
    let ops = disk_workload::RECORDS + disk_workload::RECORDS / disk_workload::SYNC_EVERY;
    g.throughput(Throughput::Elements(ops));
    for (name, mode) in [
        ("trace_off", TraceMode::Off),
        ("trace_full", TraceMode::Full),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let config = Config::default().seed(1).trace(mode);
                disk_workload::append(config, 1, false)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_append);
criterion_main!(benches);
