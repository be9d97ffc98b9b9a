//! The floor of the peers' W3 (`futures::mpsc` ping-pong, 100,000 round trips): the same
//! two tasks polled by a bare loop — no runtime, no scheduling, no recorded choice, a
//! no-op waker — so what it measures is the channel's own cost (a queue node allocated
//! and freed per message, its atomics, its `AtomicWaker`), which every runtime pays on W3.
//!
//! Why: issue 8 asks for detsim at half the fastest peer's time on W3. That leaves a
//! runtime only this floor's complement: with tokio at T per round trip and this loop at
//! F, a runtime at T/2 has T/2 − F for its two polls and two wakes.
//!
//! ```sh
//! cargo run --release --example w3_floor
//! ```

use futures::task::noop_waker_ref;
use futures::{channel::mpsc, StreamExt};
use std::future::Future;
use std::task::Context;

const ROUND_TRIPS: u64 = 100_000;

/// One W3 run, the two tasks polled in turn until both finish; returns seconds.
fn once() -> f64 {
    let (tx_a, mut rx_a) = mpsc::unbounded::<u64>();
    let (tx_b, mut rx_b) = mpsc::unbounded::<u64>();
    let mut ping = Box::pin(async move {
        for i in 0..ROUND_TRIPS {
            tx_a.unbounded_send(i).unwrap();
            assert_eq!(rx_b.next().await, Some(i));
        }
    });
    let mut pong = Box::pin(async move {
        while let Some(v) = rx_a.next().await {
            tx_b.unbounded_send(v).unwrap();
        }
    });
    let cx = &mut Context::from_waker(noop_waker_ref());
    // Wall clock outside any simulation: this measures the loop, it is not in a run.
    #[allow(clippy::disallowed_methods)]
    let start = std::time::Instant::now();
    let (mut ping_done, mut pong_done) = (false, false);
    while !(ping_done && pong_done) {
        ping_done = ping_done || ping.as_mut().poll(cx).is_ready();
        pong_done = pong_done || pong.as_mut().poll(cx).is_ready();
    }
    start.elapsed().as_secs_f64()
}

fn main() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let best = (0..runs.max(1)).map(|_| once()).fold(f64::MAX, f64::min);
    println!(
        "W3 without a runtime: best of {runs} runs {:.3} ms per {ROUND_TRIPS} round trips ({:.1} ns each)",
        best * 1e3,
        best * 1e9 / ROUND_TRIPS as f64
    );
}
