//! W1–W4 of `benches/runtime.rs` written twice — with `detsim::` paths and with `tokio::`
//! paths through this facade — and measured in one criterion run (trace off, the fuzzing
//! mode). The facade re-exports detsim's types and wraps only `spawn`, so the two should
//! cost the same; the bound is +10 %.
//!
//! Run: `cargo bench -p tokio@1.99.0 --bench facade -- --warm-up-time 1 --measurement-time 3`.
//!
//! Differences from `benches/runtime.rs`: W3 and W4 use `sync::mpsc::unbounded_channel`
//! (tokio's channel, which both paths name) instead of `futures`' channel, and there are
//! no baselines here (see that bench).

// Benchmarks time the runs from outside.
#![allow(clippy::disallowed_methods)]

use criterion::{criterion_group, Criterion, SamplingMode, Throughput};
use detsim::{Config, Sim, TraceMode};
use std::hint::black_box;
use std::time::Duration;

const W1_TASKS: usize = 1_000;
const W1_YIELDS: usize = 100;
const W2_TASKS: usize = 1_000;
const W2_SLEEPS: usize = 100;
const W3_ROUND_TRIPS: u64 = 100_000;
const W4_SEEDS: u64 = 2_000;
const W4_TASKS: u64 = 10;
const W4_YIELDS: usize = 10;

fn w2_sleep_ms(i: usize, j: usize) -> u64 {
    ((i * 7 + j) % 10 + 1) as u64
}

/// The four workloads, with `rt` bound to `detsim` or to the facade (`tokio`).
macro_rules! workloads {
    ($module:ident, $rt:ident) => {
        mod $module {
            use super::*;
            use $rt as rt;

            pub(crate) async fn w1() {
                let handles: Vec<_> = (0..W1_TASKS)
                    .map(|_| {
                        rt::spawn(async {
                            for _ in 0..W1_YIELDS {
                                rt::task::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
            }

            pub(crate) async fn w2() {
                let handles: Vec<_> = (0..W2_TASKS)
                    .map(|i| {
                        rt::spawn(async move {
                            for j in 0..W2_SLEEPS {
                                let ms = w2_sleep_ms(i, j);
                                rt::time::sleep(Duration::from_millis(ms)).await;
                            }
                        })
                    })
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
            }

            pub(crate) async fn w3() -> u64 {
                let (ping_tx, mut ping_rx) = rt::sync::mpsc::unbounded_channel::<u64>();
                let (pong_tx, mut pong_rx) = rt::sync::mpsc::unbounded_channel::<u64>();
                let pong = rt::spawn(async move {
                    while let Some(x) = ping_rx.recv().await {
                        pong_tx.send(x + 1).unwrap();
                    }
                });
                let ping = rt::spawn(async move {
                    let mut x = 0;
                    for _ in 0..W3_ROUND_TRIPS {
                        ping_tx.send(x).unwrap();
                        x = pong_rx.recv().await.unwrap();
                    }
                    x
                });
                let trips = ping.await.unwrap();
                pong.await.unwrap();
                trips
            }

            pub(crate) async fn w4() -> u64 {
                let (tx, mut rx) = rt::sync::mpsc::unbounded_channel::<u64>();
                for i in 0..W4_TASKS {
                    let tx = tx.clone();
                    rt::spawn(async move {
                        for _ in 0..W4_YIELDS {
                            rt::task::yield_now().await;
                        }
                        tx.send(i).unwrap();
                    });
                }
                let mut sum = 0;
                for _ in 0..W4_TASKS {
                    sum += rx.recv().await.unwrap();
                }
                sum
            }
        }
    };
}

workloads!(direct, detsim);
workloads!(facade, tokio);

fn run<F: std::future::Future + 'static>(seed: u64, f: F) -> F::Output
where
    F::Output: 'static,
{
    let out = Sim::new(Config::default().seed(seed).trace(TraceMode::Off)).run(f);
    out.result.expect("benchmark run failed")
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("w1_yields");
    g.sampling_mode(SamplingMode::Flat).sample_size(10);
    g.throughput(Throughput::Elements((W1_TASKS * W1_YIELDS) as u64));
    g.bench_function("detsim", |b| b.iter(|| run(1, direct::w1())));
    g.bench_function("facade", |b| b.iter(|| run(1, facade::w1())));
    g.finish();

    let mut g = c.benchmark_group("w2_sleeps");
    g.sampling_mode(SamplingMode::Flat).sample_size(10);
    g.throughput(Throughput::Elements((W2_TASKS * W2_SLEEPS) as u64));
    g.bench_function("detsim", |b| b.iter(|| run(1, direct::w2())));
    g.bench_function("facade", |b| b.iter(|| run(1, facade::w2())));
    g.finish();

    let mut g = c.benchmark_group("w3_round_trips");
    g.sampling_mode(SamplingMode::Flat).sample_size(10);
    g.throughput(Throughput::Elements(W3_ROUND_TRIPS));
    g.bench_function("detsim", |b| b.iter(|| black_box(run(1, direct::w3()))));
    g.bench_function("facade", |b| b.iter(|| black_box(run(1, facade::w3()))));
    g.finish();

    let mut g = c.benchmark_group("w4_seeds");
    g.sampling_mode(SamplingMode::Flat).sample_size(10);
    g.throughput(Throughput::Elements(W4_SEEDS));
    let seeds = |program: fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = u64>>>| {
        (0..W4_SEEDS).map(|s| run(s, program())).sum::<u64>()
    };
    g.bench_function("detsim", |b| b.iter(|| seeds(|| Box::pin(direct::w4()))));
    g.bench_function("facade", |b| b.iter(|| seeds(|| Box::pin(facade::w4()))));
    g.finish();
}

/// One workload once, for instruction counts under callgrind (stable on a noisy machine):
/// `FACADE_BENCH_ONCE=w3/facade valgrind --tool=callgrind <bench binary>`.
fn once(which: &str) {
    let seeds = |program: fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = u64>>>| {
        (0..W4_SEEDS).map(|s| run(s, program())).sum::<u64>()
    };
    match which {
        "w1/detsim" => run(1, direct::w1()),
        "w1/facade" => run(1, facade::w1()),
        "w2/detsim" => run(1, direct::w2()),
        "w2/facade" => run(1, facade::w2()),
        "w3/detsim" => drop(black_box(run(1, direct::w3()))),
        "w3/facade" => drop(black_box(run(1, facade::w3()))),
        "w4/detsim" => drop(black_box(seeds(|| Box::pin(direct::w4())))),
        "w4/facade" => drop(black_box(seeds(|| Box::pin(facade::w4())))),
        other => panic!("FACADE_BENCH_ONCE={other:?}: expected w1..w4 / detsim|facade"),
    }
}

criterion_group!(benches, bench);

fn main() {
    if let Ok(which) = std::env::var("FACADE_BENCH_ONCE") {
        return once(&which);
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
