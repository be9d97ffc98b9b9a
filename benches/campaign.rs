//! Campaign throughput (runs/s) with one and two threads.
//!
//! Workload: a 10-task scenario (each task yields 10 times around a shared counter update
//! and sends one message to main over `detsim::sync::mpsc`), trace off, 4 simulated
//! workers, random strategy, 20,000 seeds per campaign, no seeds file. The issue asks for
//! J = 2 to reach ≥ 1.8× the J = 1 rate on a 2-core machine; criterion's output gives
//! both rates, and their ratio is the number to read (the machine is shared and noisy).
//!
//! `dfs_10_tasks`: the same scenario under `dfs:1`, 5,000 runs (the run cap) of one
//! search, J = 1 and J = 2: DFS plans run on J threads and commit in depth-first order,
//! and the issue asks J = 2 ≥ 1.8× J = 1 for DFS too.
//!
//! `check_one_seed`: `detsim::check` on a one-seed campaign of a trivial program (its
//! default 10 s watchdog on): the fixed cost every `#[test]` using `check` pays. A campaign
//! must end as soon as its work ends, so this is microseconds, not a watchdog tick.
//!
//! Run: `cargo bench --bench campaign` (one group: `cargo bench --bench campaign -- check_`).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use detsim::explore::Campaign;
use detsim::{Config, Scenario};

const SEEDS: u64 = 20_000;

fn ten_tasks() -> Scenario {
    Scenario::new("ten-tasks", "10 tasks x 10 yields + 1 message", || async {
        let (tx, mut rx) = detsim::sync::mpsc::unbounded_channel::<u32>();
        let counter = std::rc::Rc::new(std::cell::Cell::new(0u32));
        for i in 0..10 {
            let (tx, counter) = (tx.clone(), counter.clone());
            detsim::spawn(async move {
                for _ in 0..10 {
                    counter.set(counter.get() + 1);
                    detsim::task::yield_now().await;
                }
                tx.send(i).expect("main receives");
            });
        }
        for _ in 0..10 {
            rx.recv().await.expect("a message");
        }
        assert_eq!(counter.get(), 100);
    })
}

fn campaign(c: &mut Criterion) {
    let mut group = c.benchmark_group("campaign_10_tasks");
    group
        .sample_size(10)
        .throughput(Throughput::Elements(SEEDS));
    for jobs in [1usize, 2] {
        group.bench_function(format!("jobs_{jobs}"), |b| {
            b.iter(|| {
                let report = Campaign::new(ten_tasks(), Config::default())
                    .seeds(SEEDS)
                    .jobs(jobs)
                    .run()
                    .expect("campaign runs");
                assert_eq!(report.passes, SEEDS);
            })
        });
    }
    group.finish();
}

const DFS_RUNS: u64 = 5_000;

fn dfs_campaign(c: &mut Criterion) {
    let mut group = c.benchmark_group("dfs_10_tasks");
    group
        .sample_size(10)
        .throughput(Throughput::Elements(DFS_RUNS));
    for jobs in [1usize, 2] {
        group.bench_function(format!("jobs_{jobs}"), |b| {
            b.iter(|| {
                let report = Campaign::new(ten_tasks(), Config::default())
                    .strategy("dfs:1".parse().expect("a strategy"))
                    .seeds(DFS_RUNS)
                    .jobs(jobs)
                    .run()
                    .expect("campaign runs");
                assert_eq!(report.runs, DFS_RUNS);
            })
        });
    }
    group.finish();
}

fn check_one_seed(c: &mut Criterion) {
    c.bench_function("check_one_seed", |b| {
        b.iter(|| {
            detsim::check(detsim::Check::new().seeds(1).jobs(1), || async {
                detsim::task::yield_now().await;
            })
        })
    });
}

criterion_group!(benches, campaign, dfs_campaign, check_one_seed);
criterion_main!(benches);
