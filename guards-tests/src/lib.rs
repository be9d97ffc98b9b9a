//! Programs whose schedule depends on std's entropy or clocks, read through std or
//! through real crates nobody here wrote. `tests/std_guards.rs` checks them with
//! detsim's std guards off (the determinism check catches each) and on (feature
//! `guards`).
//!
//! Each is a [`Scenario`], so the harness runs it the way a user's test is run.

// These programs read std's hasher and clocks on purpose.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use detsim::Scenario;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

/// Spawns workers and sends them messages in the iteration order of a std `HashMap`, so
/// the schedule follows the map's hash seed.
pub fn hashmap_fanout() -> Scenario {
    Scenario::new(
        "hashmap-fanout",
        "spawns and sends in HashMap order",
        || async {
            let workers: HashMap<String, u32> = (0..12).map(|i| (format!("w{i}"), i)).collect();
            let mut handles = Vec::new();
            for (name, &n) in &workers {
                let (tx, mut rx) = detsim::sync::mpsc::channel::<u32>(4);
                let h = detsim::spawn_named(name.clone(), async move {
                    let mut sum = 0;
                    while let Some(v) = rx.recv().await {
                        sum += v;
                        detsim::task::yield_now().await;
                    }
                    sum
                });
                for k in 0..n % 3 + 1 {
                    tx.send(k).await.unwrap();
                }
                handles.push(h);
            }
            for h in handles {
                h.await.unwrap();
            }
        },
    )
}

/// Real CPU work the length of about `iterations` loop turns (not virtual time).
fn spin(iterations: u64) {
    let mut x = 0u64;
    for i in 0..iterations {
        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
    }
    std::hint::black_box(x);
}

/// Loop turns of [`spin`] that take about `micros` of real time on this machine
/// (measured outside any run, where the clock is the real one).
pub fn spin_turns_for(micros: u64) -> u64 {
    let turns = 100_000;
    let started = std::time::Instant::now();
    spin(turns);
    let ns = started.elapsed().as_nanos().max(1) as u64;
    (turns * micros * 1_000 / ns).max(1)
}

/// Tasks contend for an `async_lock::Mutex` (version 3.5), each holding it across a
/// virtual sleep and some real CPU work. A waiter that has waited more than 500 µs by
/// `Instant::now()` switches the lock to its fair "starved" mode, which changes who is
/// woken and when: real time in the real world, virtual time under the guards.
pub fn async_lock_contention(turns: u64) -> Scenario {
    Scenario::new(
        "async-lock",
        "async_lock::Mutex under contention",
        move || async move {
            let lock = Rc::new(async_lock::Mutex::new(Vec::new()));
            let tasks: Vec<_> = (0..4u64)
                .map(|i| {
                    let lock = lock.clone();
                    detsim::spawn(async move {
                        for round in 0..6 {
                            let mut held = lock.lock().await;
                            spin(turns * (i + 1));
                            detsim::time::sleep(Duration::from_micros(120 + 40 * i)).await;
                            held.push((i, round));
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(lock.lock().await.len(), 24);
        },
    )
}

/// Receivers wait on the real tokio's `watch` (its `rt` feature on: each `changed()`
/// picks one of eight notify shards from tokio's per-thread RNG), and every send wakes
/// them shard by shard — so the wake order, and the schedule, follow that RNG.
pub fn tokio_watch_fanout() -> Scenario {
    Scenario::new(
        "tokio-watch",
        "the real tokio::sync::watch, 8 receivers",
        || async {
            let (tx, rx) = tokio::sync::watch::channel(0u32);
            let seen = Rc::new(RefCell::new(Vec::new()));
            let receivers: Vec<_> = (0..8)
                .map(|i| {
                    let (mut rx, seen) = (rx.clone(), seen.clone());
                    detsim::spawn(async move {
                        while rx.changed().await.is_ok() {
                            let v = *rx.borrow_and_update();
                            seen.borrow_mut().push((i, v));
                        }
                    })
                })
                .collect();
            for v in 1..=4 {
                detsim::task::yield_now().await;
                tx.send(v).unwrap();
                detsim::time::sleep(Duration::from_millis(1)).await;
            }
            drop(tx);
            for r in receivers {
                r.await.unwrap();
            }
        },
    )
}
