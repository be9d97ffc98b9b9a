//! One run of the W5 workload (`benches/world.rs`): a client and a server node, 10,000
//! request/response round trips of 64 bytes over simulated TCP, 1 ms one-way latency.
//! For instruction counts, which are stable on a shared machine:
//!
//! ```sh
//! cargo build --release --example w5_once
//! valgrind --tool=callgrind target/release/examples/w5_once        # trace off
//! valgrind --tool=callgrind target/release/examples/w5_once full   # full trace
//! ```
//!
//! `W5_RUNS=N` runs it N times in one process and prints the median wall time of a run
//! and the round trips per second (the unit of `../shared/bench-peers`' W5).

use detsim::net::{TcpListener, TcpStream};
use detsim::{node, Config, Sim, TraceMode};
use futures::{AsyncReadExt, AsyncWriteExt};
fn main() {
    let runs: usize = std::env::var("W5_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if runs == 0 {
        return w5();
    }
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            // Wall clock outside the simulation: this measures the run, it is not in it.
            #[allow(clippy::disallowed_methods)]
            let start = std::time::Instant::now();
            w5();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let median = times[runs / 2];
    println!(
        "W5: median {:.2} ms over {runs} runs, {:.0} round trips/s",
        median * 1e3,
        10_000.0 / median
    );
}

fn w5() {
    let trace = if std::env::args().nth(1).as_deref() == Some("full") {
        TraceMode::Full
    } else {
        TraceMode::Off
    };
    let out = Sim::new(Config::default().seed(1).trace(trace)).run(async {
        node::Builder::new("server").build(|| async {
            let listener = TcpListener::bind("0.0.0.0:80").await.unwrap();
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 64];
            while s.read_exact(&mut buf).await.is_ok() {
                s.write_all(&buf).await.unwrap();
            }
        });
        let mut s = TcpStream::connect("server:80").await.unwrap();
        let mut buf = [7u8; 64];
        for _ in 0..10_000 {
            s.write_all(&buf).await.unwrap();
            s.read_exact(&mut buf).await.unwrap();
        }
    });
    out.result.unwrap();
}
