//! Per-step cost against the number of live tasks (issue 8's flatness target): `tasks`
//! tasks × 10 `yield_now` (`YIELDS=N` for N), trace off, best of 5 runs, printed as ns
//! per poll.
//!
//! ```sh
//! cargo run --release --example scale_probe -- 1000 10000 100000
//! perf stat -e cycles,instructions,cache-misses target/release/examples/scale_probe 100000
//! ```

use detsim::{Config, Sim, TraceMode};

async fn yielders(tasks: usize) {
    let yields = yields();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            detsim::spawn(async move {
                for _ in 0..yields {
                    detsim::task::yield_now().await;
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("yielder failed");
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("a task count"))
        .collect();
    for tasks in sizes {
        let mut best = f64::MAX;
        let mut steps = 0;
        for _ in 0..5 {
            // Wall clock outside the simulation: this measures the run, it is not in it.
            #[allow(clippy::disallowed_methods)]
            let start = std::time::Instant::now();
            let out = Sim::new(config()).run(yielders(tasks));
            let took = start.elapsed().as_secs_f64();
            out.result.expect("the run passes");
            steps = out.stats.steps;
            best = best.min(took);
        }
        println!(
            "{tasks:>8} tasks: {steps:>9} polls, {:.1} ns/poll",
            best * 1e9 / steps as f64
        );
    }
}

fn config() -> Config {
    Config::default()
        .seed(1)
        .trace(TraceMode::Off)
        .steps_max(u64::MAX / 2)
}

/// Yields per task: `YIELDS` (default 10). More yields per task weigh the per-task
/// costs (spawn, join, free) less against the per-poll ones.
fn yields() -> usize {
    std::env::var("YIELDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}
