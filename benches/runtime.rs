//! Throughput of the detsim runtime, against a plain executor measured in the same run.
//!
//! Run with `cargo bench --bench runtime` (about 1½ minutes). The machine these run on is
//! shared and noisy, so read the numbers as ratios within one run — trace full vs trace
//! off, detsim vs the baseline — not as absolute rates. `benches/README.md` has a script
//! that prints those ratios from criterion's output.
//!
//! # Workloads
//!
//! Every detsim run uses `Config::default()` (4 workers, the [`detsim::explore::Random`]
//! strategy) with a fixed seed, once with [`TraceMode::Off`] (the fuzzing mode: only the
//! fingerprint is kept) and once with [`TraceMode::Full`] (every event kept in memory).
//! One criterion iteration is one whole workload, including building and dropping the
//! [`Sim`] and its [`detsim::Outcome`] (so freeing a full trace is counted).
//!
//! - **W1 — yields.** The main task spawns 1,000 tasks that each await
//!   `detsim::task::yield_now()` 100 times, then awaits their join handles in spawn
//!   order. Rate: polls/s, where polls = `stats.steps` of the run (fixed for the seed).
//! - **W2 — sleeps.** The main task spawns 1,000 tasks; task `i`'s `j`-th of 100 sleeps is
//!   `detsim::time::sleep` of `(i*7 + j) % 10 + 1` ms; main awaits the join handles.
//!   Rate: timer events/s, where timer events = `stats.timers_fired` (100,000).
//! - **W3 — channel round trips.** Two spawned tasks exchange 100,000 round trips over two
//!   **unbounded** `futures::channel::mpsc` channels (ping: `a → b`, pong: `b → a`; `a`
//!   sends, then awaits the reply before sending the next); main awaits both. Rate:
//!   round trips/s.
//! - **W4 — many seeds.** 10,000 seeds (0..10,000), a fresh [`Sim`] per seed, of a tiny
//!   scenario: main spawns 10 tasks that each yield 10 times and then send one message on
//!   a `futures::channel::mpsc::unbounded` channel to main, which receives the 10
//!   messages. Rate: seeds/s.
//! - **W6 — live tasks at scale.** W1's program with 10 yields per task, at 1,000 and at
//!   100,000 tasks (trace off). Rate: polls/s; the two rates should be close (the cost of
//!   a step should not grow with the number of live tasks).
//! - **W7 — 1,000,000 sleeping tasks.** Task `i` sleeps `i % 1000 + 1` ms once; main
//!   awaits the handles in order (trace off). Rate: timers fired/s. Takes ~1 s an
//!   iteration, so this group runs 10 samples.
//!
//! # Baselines (same run, same program text where possible)
//!
//! - W1, W3, W4 run the *same* generic program (see [`Exec`]) on
//!   `futures::executor::LocalPool` with `spawn_local_with_handle`: a plain FIFO executor
//!   that makes no choices and records nothing. Its yield is the same wake-and-return-
//!   `Pending` future as `yield_now`. For W4 a new `LocalPool` is built per "seed". The
//!   baseline reports the same element count as detsim (for W1: detsim's `stats.steps`),
//!   so the rate ratio is the inverse of the time ratio.
//! - W2 has no LocalPool counterpart (LocalPool has no timers). Its baseline,
//!   `heap_only_baseline`, is **not an executor**: it is the raw cost of a timer heap —
//!   a `std::collections::BinaryHeap` discrete-event loop over the same 100,000 deadlines
//!   (each task's first deadline pushed, then pop the earliest and push that task's next
//!   deadline), with the same entry type `(deadline, seq, slot, generation)` as detsim's
//!   timer heap, so the heap holds at most 1,000 entries as in the simulation.

// Benchmarks time the runs from outside.
#![allow(clippy::disallowed_methods)]

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode, Throughput,
};
use detsim::{Config, JoinError, Sim, TraceMode};
use futures::channel::mpsc;
use futures::executor::{LocalPool, LocalSpawner};
use futures::future::{FutureExt, Map, RemoteHandle};
use futures::task::LocalSpawnExt;
use futures::StreamExt;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Seed of the single-run workloads (W1–W3).
const SEED: u64 = 1;

const W1_TASKS: usize = 1_000;
const W1_YIELDS: usize = 100;

const W2_TASKS: usize = 1_000;
const W2_SLEEPS: usize = 100;

const W3_ROUND_TRIPS: u64 = 100_000;

const W4_SEEDS: u64 = 10_000;
const W4_TASKS: u64 = 10;
const W4_YIELDS: usize = 10;

const W6_SIZES: [usize; 2] = [1_000, 100_000];
const W6_YIELDS: usize = 10;

const W7_TASKS: usize = 1_000_000;

const MODES: [(&str, TraceMode); 2] = [
    ("detsim_trace_off", TraceMode::Off),
    ("detsim_trace_full", TraceMode::Full),
];

fn config(seed: u64, trace: TraceMode) -> Config {
    Config::default().seed(seed).trace(trace)
}

// ---------------------------------------------------------------------------------------
// One program text for both executors.

/// What a workload needs from an executor: spawning with a join handle, and a yield.
trait Exec: Clone + 'static {
    type Handle<T: 'static>: Future<Output = T> + 'static;
    type Yield: Future<Output = ()>;

    fn spawn<F>(&self, future: F) -> Self::Handle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static;

    fn yield_now(&self) -> Self::Yield;
}

/// detsim: `detsim::spawn` and `detsim::task::yield_now`.
#[derive(Clone, Copy)]
struct Detsim;

fn joined<T>(result: Result<T, JoinError>) -> T {
    result.expect("benchmark task failed")
}

impl Exec for Detsim {
    type Handle<T: 'static> = Map<detsim::JoinHandle<T>, fn(Result<T, JoinError>) -> T>;
    type Yield = detsim::task::YieldNow;

    fn spawn<F>(&self, future: F) -> Self::Handle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        detsim::spawn(future).map(joined as fn(_) -> _)
    }

    fn yield_now(&self) -> Self::Yield {
        detsim::task::yield_now()
    }
}

/// The baseline: `futures::executor::LocalPool`.
#[derive(Clone)]
struct Local(LocalSpawner);

impl Exec for Local {
    type Handle<T: 'static> = RemoteHandle<T>;
    type Yield = YieldOnce;

    fn spawn<F>(&self, future: F) -> Self::Handle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.0
            .spawn_local_with_handle(future)
            .expect("the pool outlives its tasks")
    }

    fn yield_now(&self) -> Self::Yield {
        YieldOnce(false)
    }
}

/// The same future as `detsim::task::yield_now`: wake self, return `Pending` once.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

fn on_local_pool<T>(program: impl FnOnce(Local) -> T) -> T::Output
where
    T: Future,
{
    let mut pool = LocalPool::new();
    let exec = Local(pool.spawner());
    pool.run_until(program(exec))
}

// ---------------------------------------------------------------------------------------
// The workloads.

/// W1: 1,000 tasks × 100 yields.
async fn w1<E: Exec>(exec: E) {
    let handles: Vec<_> = (0..W1_TASKS)
        .map(|_| {
            let e = exec.clone();
            exec.spawn(async move {
                for _ in 0..W1_YIELDS {
                    e.yield_now().await;
                }
            })
        })
        .collect();
    for h in handles {
        h.await;
    }
}

/// W2: task `i`'s `j`-th sleep, in ms.
fn w2_sleep_ms(i: usize, j: usize) -> u64 {
    ((i * 7 + j) % 10 + 1) as u64
}

/// W2: 1,000 tasks × 100 sleeps (detsim only: LocalPool has no timers).
async fn w2() {
    let handles: Vec<_> = (0..W2_TASKS)
        .map(|i| {
            detsim::spawn(async move {
                for j in 0..W2_SLEEPS {
                    detsim::time::sleep(Duration::from_millis(w2_sleep_ms(i, j))).await;
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("sleeper failed");
    }
}

/// W2 baseline: the same 100,000 deadlines through a bare `BinaryHeap`, in event order.
/// Returns the number of pops (100,000).
fn w2_heap_only() -> u64 {
    let mut heap = BinaryHeap::with_capacity(W2_TASKS);
    let mut seq = 0u64;
    for i in 0..W2_TASKS {
        heap.push(Reverse((
            w2_sleep_ms(i, 0) * 1_000_000,
            seq,
            i as u32,
            0u32,
        )));
        seq += 1;
    }
    let mut fired = 0;
    while let Some(Reverse((deadline, _, i, j))) = heap.pop() {
        fired += 1;
        let next = j as usize + 1;
        if next < W2_SLEEPS {
            let deadline = deadline + w2_sleep_ms(i as usize, next) * 1_000_000;
            heap.push(Reverse((deadline, seq, i, next as u32)));
            seq += 1;
        }
    }
    fired
}

/// W3: 100,000 ping-pong round trips between two tasks over unbounded channels.
/// Returns the number of round trips.
async fn w3<E: Exec>(exec: E) -> u64 {
    let (ping_tx, mut ping_rx) = mpsc::unbounded::<u64>();
    let (pong_tx, mut pong_rx) = mpsc::unbounded::<u64>();
    let pong = exec.spawn(async move {
        while let Some(x) = ping_rx.next().await {
            pong_tx.unbounded_send(x + 1).expect("ping side alive");
        }
    });
    let ping = exec.spawn(async move {
        let mut x = 0;
        for _ in 0..W3_ROUND_TRIPS {
            ping_tx.unbounded_send(x).expect("pong side alive");
            x = pong_rx.next().await.expect("pong side alive");
        }
        x // dropping ping_tx ends the pong loop
    });
    let trips = ping.await;
    pong.await;
    trips
}

/// W4: 10 tasks × (10 yields + 1 message to main). Returns the sum of the messages (45).
async fn w4<E: Exec>(exec: E) -> u64 {
    let (tx, mut rx) = mpsc::unbounded::<u64>();
    // Kept, not awaited: each task finishes in the poll that sends its message. (Dropping
    // a LocalPool `RemoteHandle` would cancel its task.)
    let _handles: Vec<_> = (0..W4_TASKS)
        .map(|i| {
            let (e, tx) = (exec.clone(), tx.clone());
            exec.spawn(async move {
                for _ in 0..W4_YIELDS {
                    e.yield_now().await;
                }
                tx.unbounded_send(i).expect("main alive");
            })
        })
        .collect();
    let mut sum = 0;
    for _ in 0..W4_TASKS {
        sum += rx.next().await.expect("a sender alive");
    }
    sum
}

const W4_SUM: u64 = W4_TASKS * (W4_TASKS - 1) / 2;

/// W6: `tasks` tasks × 10 yields.
async fn w6(tasks: usize) {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            detsim::spawn(async {
                for _ in 0..W6_YIELDS {
                    detsim::task::yield_now().await;
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("yielder failed");
    }
}

/// W7: 1,000,000 tasks, each sleeping once for `i % 1000 + 1` ms.
async fn w7() {
    let handles: Vec<_> = (0..W7_TASKS)
        .map(|i| {
            detsim::spawn(async move {
                detsim::time::sleep(Duration::from_millis((i % 1000 + 1) as u64)).await;
            })
        })
        .collect();
    for h in handles {
        h.await.expect("sleeper failed");
    }
}

fn w4_detsim_seeds(trace: TraceMode) -> u64 {
    let mut steps = 0;
    for seed in 0..W4_SEEDS {
        let out = Sim::new(config(seed, trace)).run(w4(Detsim));
        assert_eq!(out.result, Ok(W4_SUM));
        steps += out.stats.steps;
    }
    steps
}

fn w4_local_pool_seeds() -> u64 {
    let mut sum = 0;
    for _ in 0..W4_SEEDS {
        sum += on_local_pool(w4);
    }
    assert_eq!(sum, W4_SUM * W4_SEEDS);
    sum
}

// ---------------------------------------------------------------------------------------
// Criterion wiring.

/// Every workload is large (tens of ms to seconds per iteration): 10 flat samples.
fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    g
}

fn bench_w1(c: &mut Criterion) {
    let check = Sim::new(config(SEED, TraceMode::Off)).run(w1(Detsim));
    assert!(check.is_ok(), "{:?}", check.result);
    let polls = check.stats.steps;
    assert!(polls > (W1_TASKS * (W1_YIELDS + 1)) as u64);

    let mut g = group(c, "w1_yield_1000x100");
    g.throughput(Throughput::Elements(polls));
    for (name, trace) in MODES {
        g.bench_function(name, |b| {
            b.iter(|| {
                let out = Sim::new(config(SEED, trace)).run(w1(Detsim));
                assert_eq!(out.stats.steps, polls);
                black_box(out)
            })
        });
    }
    g.bench_function("localpool_baseline", |b| b.iter(|| on_local_pool(w1)));
    g.finish();
}

fn bench_w2(c: &mut Criterion) {
    let check = Sim::new(config(SEED, TraceMode::Off)).run(w2());
    assert!(check.is_ok(), "{:?}", check.result);
    let fired = check.stats.timers_fired;
    assert_eq!(fired, (W2_TASKS * W2_SLEEPS) as u64);
    assert_eq!(w2_heap_only(), fired);

    let mut g = group(c, "w2_sleep_1000x100");
    g.throughput(Throughput::Elements(fired));
    for (name, trace) in MODES {
        g.bench_function(name, |b| {
            b.iter(|| {
                let out = Sim::new(config(SEED, trace)).run(w2());
                assert_eq!(out.stats.timers_fired, fired);
                black_box(out)
            })
        });
    }
    g.bench_function("heap_only_baseline", |b| {
        b.iter(|| black_box(w2_heap_only()))
    });
    g.finish();
}

fn bench_w3(c: &mut Criterion) {
    let check = Sim::new(config(SEED, TraceMode::Off)).run(w3(Detsim));
    assert_eq!(check.result, Ok(W3_ROUND_TRIPS));
    assert_eq!(on_local_pool(w3), W3_ROUND_TRIPS);

    let mut g = group(c, "w3_mpsc_unbounded_roundtrip_100k");
    g.throughput(Throughput::Elements(W3_ROUND_TRIPS));
    for (name, trace) in MODES {
        g.bench_function(name, |b| {
            b.iter(|| {
                let out = Sim::new(config(SEED, trace)).run(w3(Detsim));
                assert_eq!(out.result, Ok(W3_ROUND_TRIPS));
                black_box(out)
            })
        });
    }
    g.bench_function("localpool_baseline", |b| b.iter(|| on_local_pool(w3)));
    g.finish();
}

fn bench_w4(c: &mut Criterion) {
    let mut g = group(c, "w4_seeds_10k_tiny");
    g.throughput(Throughput::Elements(W4_SEEDS));
    for (name, trace) in MODES {
        g.bench_function(name, |b| b.iter(|| black_box(w4_detsim_seeds(trace))));
    }
    g.bench_function("localpool_baseline", |b| {
        b.iter(|| black_box(w4_local_pool_seeds()))
    });
    g.finish();
}

fn bench_w6(c: &mut Criterion) {
    let mut g = group(c, "w6_live_tasks_x10_yields");
    for tasks in W6_SIZES {
        let check = Sim::new(config(SEED, TraceMode::Off)).run(w6(tasks));
        assert!(check.is_ok(), "{:?}", check.result);
        let polls = check.stats.steps;
        g.throughput(Throughput::Elements(polls));
        g.bench_function(format!("detsim_trace_off_{tasks}_tasks"), |b| {
            b.iter(|| {
                let out = Sim::new(config(SEED, TraceMode::Off)).run(w6(tasks));
                assert_eq!(out.stats.steps, polls);
                black_box(out)
            })
        });
    }
    g.finish();
}

fn bench_w7(c: &mut Criterion) {
    let mut g = group(c, "w7_sleep_1m_tasks");
    g.throughput(Throughput::Elements(W7_TASKS as u64));
    g.bench_function("detsim_trace_off", |b| {
        b.iter(|| {
            let out = Sim::new(config(SEED, TraceMode::Off)).run(w7());
            assert_eq!(out.stats.timers_fired, W7_TASKS as u64);
            black_box(out)
        })
    });
    g.finish();
}

criterion_group!(benches, bench_w1, bench_w2, bench_w3, bench_w4, bench_w6, bench_w7);
criterion_main!(benches);
