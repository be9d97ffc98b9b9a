//! Per-step cost against the number of live tasks (issue 8's flatness target): `tasks`
//! tasks × 10 `yield_now` (`YIELDS=N` for N), trace off, best of 5 rounds (`ROUNDS=N`)
//! with the sizes interleaved, printed as ns per poll and as a ratio to the first size.
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
    // Sizes interleaved (every size once per round), so that a noisy minute of a shared
    // machine weighs on all of them alike and their ratio stays fair.
    let mut best = vec![f64::MAX; sizes.len()];
    let mut steps = vec![0; sizes.len()];
    for _ in 0..rounds() {
        for (i, &tasks) in sizes.iter().enumerate() {
            // Wall clock outside the simulation: this measures the run, it is not in it.
            #[allow(clippy::disallowed_methods)]
            let start = std::time::Instant::now();
            let out = Sim::new(config()).run(yielders(tasks));
            let took = start.elapsed().as_secs_f64();
            out.result.expect("the run passes");
            steps[i] = out.stats.steps;
            best[i] = best[i].min(took);
        }
    }
    for (i, tasks) in sizes.iter().enumerate() {
        let ns = best[i] * 1e9 / steps[i] as f64;
        let ratio = ns * steps[0] as f64 / (best[0] * 1e9);
        println!(
            "{tasks:>8} tasks: {:>9} polls, {ns:.1} ns/poll ({ratio:.2}x the first size)",
            steps[i]
        );
    }
}

fn config() -> Config {
    Config::default()
        .seed(1)
        .trace(TraceMode::Off)
        .steps_max(u64::MAX / 2)
}

/// Rounds (`ROUNDS`, default 5): each size's best of this many runs.
fn rounds() -> usize {
    std::env::var("ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
}

/// Yields per task: `YIELDS` (default 10). More yields per task weigh the per-task
/// costs (spawn, join, free) less against the per-poll ones.
fn yields() -> usize {
    std::env::var("YIELDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}
