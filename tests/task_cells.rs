//! Task cells (`src/runtime/cell.rs`, `src/runtime/pool.rs`) through the public API: a
//! task's future and its output are each dropped exactly once, on every path a task can
//! end by — finished with the handle awaited, detached, dropped before or after the
//! task, after the run, on another thread; aborted while queued or idle or by itself;
//! panicking (with `panic_is_failure` off); never polled when the run ends — and again
//! over many runs on one thread, whose cells and vectors the thread keeps and reuses.

use detsim::task::{spawn, yield_now, AbortHandle, JoinHandle};
use detsim::time::sleep;
use detsim::{Config, Sim, TraceMode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Counts drops of the values made from it, by kind.
#[derive(Debug, Default)]
struct Drops {
    futures: AtomicUsize,
    outputs: AtomicUsize,
}

/// Held by a task's future (dropped with it) or returned as its output.
#[derive(Debug)]
struct Counted {
    drops: Arc<Drops>,
    output: bool,
}

impl Drop for Counted {
    fn drop(&mut self) {
        let counter = match self.output {
            true => &self.drops.outputs,
            false => &self.drops.futures,
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

fn counted(drops: &Arc<Drops>, output: bool) -> Counted {
    Counted {
        drops: drops.clone(),
        output,
    }
}

/// A task that holds a counted value while it runs for `yields` yields, then returns a
/// counted output (or panics instead, if told to).
fn task(drops: &Arc<Drops>, yields: usize, panics: bool) -> JoinHandle<Counted> {
    let held = counted(drops, false);
    let output = counted(drops, true);
    spawn(async move {
        let _held = held;
        for _ in 0..yields {
            yield_now().await;
        }
        if panics {
            panic!("task panics on purpose");
        }
        output
    })
}

/// A task that holds a counted value while it sleeps for a second, then returns a
/// counted output.
fn sleeper(drops: &Arc<Drops>) -> JoinHandle<Counted> {
    let (held, output) = (counted(drops, false), counted(drops, true));
    spawn(async move {
        let _held = held;
        sleep(Duration::from_secs(1)).await;
        output
    })
}

/// Every way a task can end, in one run; returns the handles still alive at its end.
async fn program(drops: Arc<Drops>) -> Vec<JoinHandle<Counted>> {
    let mut kept = Vec::new();
    // Awaited: the output goes to the caller and is dropped there.
    for yields in [0, 1, 5] {
        drop(task(&drops, yields, false).await.unwrap());
    }
    // Detached before it finishes: its output is dropped with its cell.
    drop(task(&drops, 3, false));
    // The handle dropped after the task finished, its output never taken.
    let late = task(&drops, 0, false);
    sleep(Duration::from_millis(1)).await;
    assert!(late.is_finished());
    drop(late);
    // Aborted while queued, and while idle (sleeping).
    let queued = task(&drops, 2, false);
    queued.abort();
    assert!(queued.await.unwrap_err().is_cancelled());
    let idle = sleeper(&drops);
    yield_now().await;
    idle.abort();
    assert!(idle.await.unwrap_err().is_cancelled());
    // Aborted by itself during its poll (deferred until the poll returns).
    let (tx, rx) = detsim::sync::oneshot::channel::<AbortHandle>();
    let own = {
        let (held, output) = (counted(&drops, false), counted(&drops, true));
        spawn(async move {
            let _held = held;
            rx.await.expect("its own abort handle").abort();
            yield_now().await;
            output
        })
    };
    assert!(tx.send(own.abort_handle()).is_ok(), "the task waits for it");
    assert!(own.await.unwrap_err().is_cancelled());
    // Panicking (a failure only for this task: `panic_is_failure` is off).
    assert!(task(&drops, 1, true).await.unwrap_err().is_panic());
    // Outliving the run: finished with its output untaken, still running (dropped by
    // the teardown), and never polled.
    kept.push(task(&drops, 0, false));
    kept.push(sleeper(&drops));
    sleep(Duration::from_millis(1)).await;
    kept.push(task(&drops, 0, false));
    kept
}

/// Futures and outputs made by [`program`]: 12 tasks, each with one held value and one
/// output value.
const TASKS: usize = 12;

fn run_once(drops: &Arc<Drops>) -> Vec<JoinHandle<Counted>> {
    let config = Config::default()
        .seed(11)
        .panic_is_failure(false)
        .trace(TraceMode::Off);
    let out = Sim::new(config).run(program(drops.clone()));
    out.result.expect("the run passes")
}

#[test]
fn every_way_a_task_ends_drops_its_future_and_output_once() {
    let drops = Arc::new(Drops::default());
    let kept = run_once(&drops);
    assert_eq!(kept.len(), 3);
    // Every future is gone with the run (finished, aborted, torn down) ...
    assert_eq!(drops.futures.load(Ordering::SeqCst), TASKS);
    // ... and every output but the one a live handle's cell still holds (the finished
    // task's in `kept[0]`; the torn-down and never-polled tasks dropped theirs unmade,
    // with their futures, so their handles hold none).
    assert_eq!(drops.outputs.load(Ordering::SeqCst), TASKS - 1);
    assert!(kept.iter().all(|h| h.is_finished()));
    // The last handles go on another thread: the cells are freed there, once.
    std::thread::spawn(move || drop(kept)).join().unwrap();
    assert_eq!(drops.futures.load(Ordering::SeqCst), TASKS);
    assert_eq!(drops.outputs.load(Ordering::SeqCst), TASKS);
}

#[test]
fn runs_reuse_their_cells_and_drop_everything_each_time() {
    std::thread::spawn(|| {
        let drops = Arc::new(Drops::default());
        for round in 1..=50 {
            drop(run_once(&drops));
            assert_eq!(drops.futures.load(Ordering::SeqCst), TASKS * round);
            assert_eq!(drops.outputs.load(Ordering::SeqCst), TASKS * round);
        }
    })
    .join()
    .unwrap();
}

#[test]
fn releasing_the_threads_memory_frees_what_runs_kept_and_changes_no_run() {
    std::thread::spawn(|| {
        let run = || {
            let out = Sim::new(Config::default().seed(5)).run(async {
                let tasks: Vec<_> = (0..5_000u64)
                    .map(|i| {
                        spawn(async move {
                            yield_now().await;
                            i
                        })
                    })
                    .collect();
                let mut sum = 0;
                for t in tasks {
                    sum += t.await.unwrap();
                }
                sum
            });
            assert_eq!(*out.result.as_ref().unwrap(), 12_497_500);
            (out.trace.to_string(), out.fingerprint)
        };
        assert_eq!(
            Sim::release_thread_memory(),
            0,
            "a fresh thread keeps nothing"
        );
        let first = run();
        // At least the cells (5,001 of 16 bytes or more) and the vectors (5,001 tasks of
        // 8-byte slab entries and 16-byte ready entries).
        let freed = Sim::release_thread_memory();
        assert!(freed > 5_001 * (16 + 8 + 16), "{freed} bytes");
        assert_eq!(Sim::release_thread_memory(), 0);
        assert_eq!(run(), first, "a run after the release is the same run");
        assert!(Sim::release_thread_memory() > 0);
    })
    .join()
    .unwrap();
}
