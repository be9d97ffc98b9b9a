//! Core runtime behaviour: determinism, exploration, failures, burn, time.

use detsim::sync::{oneshot, Mutex};
use detsim::task::{burn, yield_now};
use detsim::time::{sleep, timeout, Instant};
use detsim::{Config, Failure, Sim, TraceMode};
use std::cell::Cell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// Ten tasks with yields, timers and shared state: a program with many schedules.
async fn busy_program() -> u64 {
    let state = Rc::new(Cell::new(0u64));
    let mut handles = Vec::new();
    for i in 0..10u64 {
        let s = state.clone();
        handles.push(detsim::task::spawn_named(
            format!("worker-{i}"),
            async move {
                for j in 0..3 {
                    let v = s.get();
                    yield_now().await;
                    s.set(v.wrapping_mul(31).wrapping_add(i * 7 + j));
                    if j == 1 {
                        sleep(Duration::from_millis(1 + i % 3)).await;
                    }
                }
            },
        ));
    }
    for h in handles {
        h.await.unwrap();
    }
    state.get()
}

fn run_busy(seed: u64) -> (String, u64) {
    let out = Sim::new(Config::default().seed(seed)).run(busy_program());
    assert!(out.is_ok(), "{:?}", out.result.err());
    (out.trace.to_string(), out.fingerprint)
}

#[test]
fn same_seed_gives_byte_identical_trace_in_one_process() {
    let (a, fa) = run_busy(17);
    let (b, fb) = run_busy(17);
    assert_eq!(fa, fb);
    assert_eq!(a, b);
    assert!(a.lines().count() > 100, "trace should hold the whole run");
}

#[test]
fn same_seed_gives_identical_trace_on_parallel_threads() {
    let here = run_busy(23);
    let threads: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(|| run_busy(23)))
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), here);
    }
}

#[test]
fn different_seeds_explore_different_schedules() {
    let fingerprints: BTreeSet<u64> = (0..100).map(|s| run_busy(s).1).collect();
    assert!(
        fingerprints.len() >= 90,
        "only {} distinct schedules",
        fingerprints.len()
    );
}

#[test]
fn trace_off_keeps_the_same_fingerprint() {
    for seed in 0..20 {
        let full = Sim::new(Config::default().seed(seed)).run(busy_program());
        let off = Sim::new(Config::default().seed(seed).trace(TraceMode::Off)).run(busy_program());
        assert_eq!(full.fingerprint, off.fingerprint, "seed {seed}");
        assert!(off.trace.is_empty());
        assert_eq!(full.result.unwrap(), off.result.unwrap());
    }
}

#[test]
fn a_seed_alone_and_after_a_thousand_others_gives_the_same_trace() {
    let alone = run_busy(4242);
    for s in 0..1000 {
        let out = Sim::new(Config::default().seed(s).trace(TraceMode::Off)).run(busy_program());
        assert!(out.is_ok(), "seed {s}: {:?}", out.failure());
    }
    assert_eq!(run_busy(4242), alone);
}

#[test]
fn recorded_schedule_replays_under_another_seed() {
    let run = |sim: Sim| sim.run(busy_program());
    let out = run(Sim::new(Config::default().seed(9)));
    let replayed = run(Sim::new(Config::default().seed(1234)).replay(out.schedule.clone()));
    assert!(replayed.is_ok(), "{:?}", replayed.failure());
    assert_eq!(out.trace.first_difference(&replayed.trace), None);
    assert_eq!(replayed.fingerprint, out.fingerprint);
    assert_eq!(
        replayed
            .trace
            .to_string()
            .lines()
            .skip(1)
            .collect::<Vec<_>>(),
        out.trace.to_string().lines().skip(1).collect::<Vec<_>>()
    );
}

async fn bank(fixed: bool) {
    let balance = Arc::new(Mutex::new(100i64));
    let racy = Rc::new(Cell::new(100i64));
    let mut handles = Vec::new();
    for _ in 0..2 {
        let (balance, racy) = (balance.clone(), racy.clone());
        handles.push(detsim::spawn(async move {
            if fixed {
                let mut b = balance.lock().await;
                let v = *b;
                yield_now().await;
                *b = v + 10;
            } else {
                let v = racy.get();
                yield_now().await;
                racy.set(v + 10);
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let total = if fixed {
        *balance.lock().await
    } else {
        racy.get()
    };
    assert_eq!(total, 120, "lost update: balance is {total}");
}

#[test]
fn lost_update_is_found_and_the_fixed_version_passes() {
    let first_bad = (0..1000).find(|&s| {
        Sim::new(Config::default().seed(s))
            .run(bank(false))
            .failure()
            .is_some()
    });
    let seed = first_bad.expect("a lost update should be found within 1,000 seeds");
    let out = Sim::new(Config::default().seed(seed)).run(bank(false));
    match out.failure() {
        Some(Failure::Panic { message, task, .. }) => {
            assert!(message.contains("lost update"), "{message}");
            assert_eq!(task.name, "main");
        }
        other => panic!("expected a panic, got {other:?}"),
    }
    for s in 0..1000 {
        let out = Sim::new(Config::default().seed(s).trace(TraceMode::Off)).run(bank(true));
        assert!(out.is_ok(), "seed {s}: {:?}", out.failure());
    }
}

#[test]
fn mutual_oneshot_wait_is_a_deadlock_naming_both_tasks() {
    let out = Sim::new(Config::default()).run(async {
        let (tx_a, rx_a) = oneshot::channel::<()>();
        let (tx_b, rx_b) = oneshot::channel::<()>();
        let a = detsim::task::spawn_named("alice", async move {
            rx_b.await.ok();
            drop(tx_a);
        });
        let b = detsim::task::spawn_named("bob", async move {
            let _keep = tx_b;
            rx_a.await.ok();
        });
        a.await.unwrap();
        b.await.unwrap();
    });
    match out.failure() {
        Some(Failure::Deadlock { blocked }) => {
            let names: Vec<&str> = blocked.iter().map(|t| t.name.as_str()).collect();
            assert_eq!(names, ["main", "alice", "bob"]);
            assert!(blocked[1].spawned_at.contains("runtime_core.rs"));
        }
        other => panic!("expected deadlock, got {other:?}"),
    }
}

#[test]
fn a_panicking_task_is_reported_with_message_and_location() {
    let out = Sim::new(Config::default()).run(async {
        let h = detsim::task::spawn_named("doomed", async {
            yield_now().await;
            panic!("invariant broken: {}", 42);
        });
        h.await.ok();
    });
    match out.failure() {
        Some(Failure::Panic {
            task,
            message,
            location,
        }) => {
            assert_eq!(task.name, "doomed");
            assert_eq!(message, "invariant broken: 42");
            assert!(location.contains("runtime_core.rs"), "{location}");
        }
        other => panic!("expected panic failure, got {other:?}"),
    }
}

#[test]
fn panic_can_surface_as_join_error_instead() {
    let out = Sim::new(Config::default().panic_is_failure(false)).run(async {
        let h = detsim::spawn(async { panic!("boom") });
        h.await.unwrap_err()
    });
    let err = out.result.unwrap();
    assert!(err.is_panic());
}

#[test]
fn infinite_yield_loop_ends_at_step_limit() {
    let out = Sim::new(Config::default().steps_max(10_000)).run(async {
        loop {
            yield_now().await;
        }
    });
    match out.failure() {
        Some(Failure::StepLimit { steps, last }) => {
            assert_eq!(*steps, 10_000);
            assert!(last.contains("main"), "{last}");
        }
        other => panic!("expected step limit, got {other:?}"),
    }
}

#[test]
fn virtual_time_limit_stops_an_endless_timer_loop() {
    let out = Sim::new(Config::default().time_max(Duration::from_secs(10))).run(async {
        loop {
            sleep(Duration::from_secs(1)).await;
        }
    });
    assert!(
        matches!(out.failure(), Some(Failure::TimeLimit { .. })),
        "{:?}",
        out.failure()
    );
    assert_eq!(out.stats.elapsed, Duration::from_secs(10));
}

fn burn_four(workers: usize) -> Duration {
    let out = Sim::new(Config::default().workers(workers)).run(async {
        let hs: Vec<_> = (0..4)
            .map(|_| detsim::spawn(burn(Duration::from_millis(10))))
            .collect();
        for h in hs {
            h.await.unwrap();
        }
        Instant::now().as_nanos()
    });
    Duration::from_nanos(out.result.unwrap())
}

#[test]
fn burn_shows_parallelism_across_workers() {
    assert_eq!(burn_four(4), Duration::from_millis(10));
    assert_eq!(burn_four(2), Duration::from_millis(20));
    assert_eq!(burn_four(1), Duration::from_millis(40));
}

// A burn declared by a poll that then returns `Ready` (the other branch of a select won)
// is dropped with that poll: it is charged to no task, neither this one nor the next.
#[test]
fn a_burn_in_a_poll_that_finishes_is_charged_to_nobody() {
    let out = Sim::new(Config::default().seed(2).trace(TraceMode::Full)).run(async {
        let racer = detsim::spawn(async {
            let burn = Box::pin(burn(Duration::from_secs(5)));
            futures::future::select(burn, futures::future::ready(())).await;
        });
        racer.await.unwrap();
        yield_now().await;
        // A burn that does run afterwards is charged in full, once.
        burn(Duration::from_millis(3)).await;
        Instant::now().as_nanos()
    });
    assert_eq!(out.result.unwrap(), 3_000_000);
    let burns: Vec<_> = out
        .trace
        .events()
        .filter(|e| matches!(e.kind, detsim::trace::EventKind::Burn { .. }))
        .map(|e| (e.task, format!("{:?}", e.kind)))
        .collect();
    assert_eq!(
        burns,
        vec![(Some(0), "Burn { duration_ns: 3000000 }".to_string())]
    );
}

/// `Random` in all but name: the step loop must call it through the trait object.
#[derive(Debug)]
struct ViaTraitObject(detsim::explore::Random);

impl detsim::explore::Strategy for ViaTraitObject {
    fn pick(
        &mut self,
        candidates: &detsim::explore::Candidates<'_>,
        rng: &mut detsim::StrategyRng,
    ) -> usize {
        self.0.pick(candidates, rng)
    }

    fn hint(&mut self, n: usize, ahead: usize, rng: &mut detsim::StrategyRng) -> Option<usize> {
        self.0.hint(n, ahead, rng)
    }
}

/// Many tasks (past the prefetch threshold) that yield, sleep, burn on a busy worker
/// (filtered candidates) and draw randomness.
async fn mixed_crowd() -> u64 {
    let hs: Vec<_> = (0..3000u64)
        .map(|i| {
            detsim::spawn(async move {
                for j in 0..4 {
                    match (i + j) % 4 {
                        0 => yield_now().await,
                        1 => sleep(Duration::from_micros(1 + (i * 7 + j) % 5)).await,
                        2 if i % 50 == 0 => burn(Duration::from_micros(3)).await,
                        _ => {
                            let _: u64 = detsim::rand::random();
                        }
                    }
                }
                i
            })
        })
        .collect();
    let mut sum = 0;
    for h in hs {
        sum += h.await.unwrap();
    }
    sum
}

// The step loop draws `Random`'s picks and guesses itself (no call through the trait
// object per step): the runs must be the ones the strategy itself would make.
#[test]
fn the_uniform_fast_path_draws_what_random_would() {
    for seed in 0..6 {
        for workers in [1, 3] {
            let config = Config::default()
                .seed(seed)
                .workers(workers)
                .trace(TraceMode::Full);
            let fast = Sim::new(config.clone()).run(mixed_crowd());
            let slow = Sim::new(config)
                .strategy(Box::new(ViaTraitObject(detsim::explore::Random)))
                .run(mixed_crowd());
            assert_eq!(fast.result.unwrap(), slow.result.unwrap());
            assert_eq!(
                fast.fingerprint, slow.fingerprint,
                "seed {seed} workers {workers}"
            );
            // (Not the text: the main task's site is each `run` call's line.)
            let events =
                |t: &detsim::Trace| t.events().map(|e| format!("{e:?}")).collect::<Vec<_>>();
            let (f, s) = (events(&fast.trace), events(&slow.trace));
            let first = f.iter().zip(&s).position(|(a, b)| a != b);
            assert!(
                first.is_none() && f.len() == s.len(),
                "events differ at {first:?}"
            );
            assert!(fast.schedule.len() > 10_000, "{}", fast.schedule.len());
            assert_eq!(fast.schedule.into_schedule(), slow.schedule.into_schedule());
        }
    }
}

#[test]
fn ten_thousand_sleepers_with_an_hour_timeout() {
    let out = Sim::new(Config::default().trace(TraceMode::Off)).run(async {
        let hs: Vec<_> = (0..10_000u64)
            .map(|i| {
                detsim::spawn(async move {
                    timeout(
                        Duration::from_secs(3600),
                        sleep(Duration::from_secs(7200 + i)),
                    )
                    .await
                })
            })
            .collect();
        let mut elapsed = 0;
        for h in hs {
            elapsed += h.await.unwrap().is_err() as u32;
        }
        elapsed
    });
    assert_eq!(out.result.unwrap(), 10_000);
    assert_eq!(out.stats.elapsed, Duration::from_secs(3600));
    assert_eq!(out.stats.timers_fired, 10_000);
}

#[test]
fn abort_cancels_and_join_reports_it() {
    let out = Sim::new(Config::default()).run(async {
        let h = detsim::spawn(async {
            sleep(Duration::from_secs(10)).await;
            1
        });
        yield_now().await;
        h.abort();
        let r = h.await;
        (r.unwrap_err().is_cancelled(), Instant::now().as_nanos())
    });
    assert_eq!(out.result.unwrap(), (true, 0));
}

#[test]
fn foreign_thread_wake_is_a_determinism_leak() {
    let out = Sim::new(Config::default()).run(async {
        let waker = std::future::poll_fn(|cx| std::task::Poll::Ready(cx.waker().clone())).await;
        std::thread::Builder::new()
            .name("rogue".into())
            .spawn(move || waker.wake())
            .unwrap()
            .join()
            .unwrap();
        yield_now().await;
    });
    match out.failure() {
        Some(Failure::ForeignWake { thread, task }) => {
            assert_eq!(thread, "rogue");
            assert_eq!(task.name, "main");
        }
        other => panic!("expected foreign wake, got {other:?}"),
    }
}

struct PanicOnDrop;
impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("drop exploded");
    }
}

#[test]
fn panic_in_drop_at_teardown_is_a_failure() {
    let out = Sim::new(Config::default()).run(async {
        detsim::task::spawn_named("leaky", async {
            let _guard = PanicOnDrop;
            sleep(Duration::from_secs(1_000)).await;
        });
        sleep(Duration::from_secs(1)).await;
    });
    match out.failure() {
        Some(Failure::TeardownPanic { task, message, .. }) => {
            assert_eq!(task.name, "leaky");
            assert_eq!(message, "drop exploded");
        }
        other => panic!("expected teardown panic, got {other:?}"),
    }
}

#[test]
fn futures_combinators_work_inside_the_simulation() {
    use futures::stream::{FuturesUnordered, StreamExt};
    let out = Sim::new(Config::default().seed(3)).run(async {
        let (mut tx, mut rx) = futures::channel::mpsc::channel::<u32>(1);
        let producer = detsim::spawn(async move {
            use futures::SinkExt;
            for i in 0..10 {
                tx.send(i).await.unwrap();
            }
        });
        let mut sum = 0;
        while let Some(v) = rx.next().await {
            sum += v;
        }
        producer.await.unwrap();
        let mut set: FuturesUnordered<_> = (1..=3u64)
            .map(|i| async move {
                sleep(Duration::from_millis(i)).await;
                i
            })
            .collect();
        let mut order = Vec::new();
        while let Some(i) = set.next().await {
            order.push(i);
        }
        let picked = futures::select! {
            _ = futures::FutureExt::fuse(sleep(Duration::from_millis(5))) => "sleep",
            _ = futures::future::ready(1) => "ready",
        };
        let (x, y) = futures::join!(async { 1 }, async {
            yield_now().await;
            2
        });
        (sum, order, picked, x + y)
    });
    assert_eq!(out.result.unwrap(), (45, vec![1, 2, 3], "ready", 3));
}

#[test]
fn same_instant_timers_fire_in_a_chosen_order() {
    let orders: BTreeSet<Vec<u32>> = (0..50)
        .map(|seed| {
            Sim::new(Config::default().seed(seed))
                .run(async {
                    let log = Rc::new(std::cell::RefCell::new(Vec::new()));
                    let hs: Vec<_> = (0..4u32)
                        .map(|i| {
                            let log = log.clone();
                            detsim::spawn(async move {
                                sleep(Duration::from_millis(5)).await;
                                log.borrow_mut().push(i);
                            })
                        })
                        .collect();
                    for h in hs {
                        h.await.unwrap();
                    }
                    let v = log.borrow().clone();
                    v
                })
                .result
                .unwrap()
        })
        .collect();
    assert!(orders.len() > 10, "timer order barely varies: {orders:?}");
}

#[test]
fn an_unusable_config_is_a_failure_not_a_panic() {
    for workers in [0, 1025, 65_536, 100_000, 4_000_000_000, usize::MAX] {
        let mut config = Config::default().seed(1);
        config.workers = workers; // the public field, not only the builder
        let out = Sim::new(config.clone()).run(async { 7 });
        match out.failure() {
            Some(f @ detsim::Failure::InvalidConfig { .. }) => {
                assert_eq!(f.kind(), "invalid_config");
                assert!(
                    f.to_string().contains(&format!("workers = {workers}")),
                    "{f}"
                );
            }
            other => panic!("workers {workers}: {other:?}"),
        }
        assert_eq!(out.stats.steps, 0, "nothing ran");
        let campaign = detsim::explore::Campaign::new(
            detsim::Scenario::new("s", "", || async {}),
            config.clone(),
        )
        .seeds(3)
        .jobs(1);
        let err = campaign.run().expect_err("a campaign refuses it up front");
        assert!(err.to_string().contains("workers"), "{err}");
        assert!(config.validate().is_err());
    }
    assert!(Config::default().workers(1024).validate().is_ok());
}

/// A task that aborts itself mid-poll (through its own `AbortHandle`): the abort is
/// deferred to the end of that poll — the code after its next await never runs, its
/// locals are dropped then, its join handle reports a cancellation — while a sibling
/// woken in the same poll still runs. Across 40 seeds × 1 and 3 workers, with other
/// tasks queued around it, and whether it aborts after yielding (requeued) or not.
#[test]
fn a_task_that_aborts_itself_stops_at_the_end_of_that_poll() {
    struct Flag(Rc<Cell<u32>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    for workers in [1, 3] {
        for seed in 0..40 {
            let out = Sim::new(Config::default().seed(seed).workers(workers)).run(async move {
                let dropped = Rc::new(Cell::new(0u32));
                let after = Rc::new(Cell::new(false));
                let slot: Rc<Cell<Option<detsim::task::AbortHandle>>> = Rc::new(Cell::new(None));
                let (tx, rx) = oneshot::channel::<u32>();
                let others: Vec<_> = (0..4)
                    .map(|_| detsim::spawn(async { yield_now().await }))
                    .collect();
                let (d, a, s) = (dropped.clone(), after.clone(), slot.clone());
                let me = detsim::spawn(async move {
                    let _flag = Flag(d);
                    yield_now().await;
                    let handle = loop {
                        match s.take() {
                            Some(h) => break h,
                            None => yield_now().await,
                        }
                    };
                    handle.abort();
                    // Woken in the aborting poll: the receiver must still get it.
                    let _ = tx.send(7);
                    if seed % 2 == 0 {
                        yield_now().await;
                    } else {
                        sleep(Duration::from_millis(1)).await;
                    }
                    a.set(true);
                });
                slot.set(Some(me.abort_handle()));
                let sent = rx.await.unwrap();
                let joined = me.await;
                for o in others {
                    o.await.unwrap();
                }
                (
                    joined.unwrap_err().is_cancelled(),
                    dropped.get(),
                    after.get(),
                    sent,
                )
            });
            assert_eq!(
                out.result.unwrap(),
                (true, 1, false, 7),
                "seed {seed}, {workers} workers"
            );
        }
    }
}

/// 300 tasks × 200 yields with sleeps between: ~60,000 polls, so the trace and the
/// choice log each fill several chunks.
async fn long_program() -> u64 {
    let state = Rc::new(Cell::new(0u64));
    let handles: Vec<_> = (0..300u64)
        .map(|i| {
            let s = state.clone();
            detsim::spawn(async move {
                for j in 0..200 {
                    yield_now().await;
                    s.set(s.get().wrapping_mul(31).wrapping_add(i ^ j));
                    if j % 50 == i % 50 {
                        sleep(Duration::from_micros(1 + i % 7)).await;
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    state.get()
}

fn run_long(seed: u64) -> (String, u64, detsim::Schedule, u64) {
    let out = Sim::new(Config::default().seed(seed)).run(long_program());
    let value = *out.result.as_ref().expect("the run passes");
    assert!(out.trace.len() > 100_000, "{} events", out.trace.len());
    (
        out.trace.to_string(),
        out.fingerprint,
        out.schedule.clone().into(),
        value,
    )
}

/// A run's trace and choice log are written into buffers earlier runs on the thread
/// gave back (`src/spare.rs`), and its per-task vectors are theirs too
/// (`src/runtime/reuse.rs`): the run must not depend on them. The same seed after
/// other runs on this thread (whose buffers it reuses) and on a fresh thread (which
/// has none) gives the same trace, fingerprint, schedule and result.
#[test]
fn runs_after_other_runs_on_the_thread_are_unchanged() {
    let fresh = std::thread::spawn(|| run_long(5)).join().unwrap();
    let _other = run_long(6); // leaves its chunks behind, full of another run's words
    let after_other = run_long(5);
    let again = run_long(5);
    assert!(fresh.2.len() > 10_000, "{} choices", fresh.2.len());
    assert!(
        fresh == after_other,
        "a run after another differs from a fresh one"
    );
    assert!(
        fresh == again,
        "a run after itself differs from a fresh one"
    );
}
