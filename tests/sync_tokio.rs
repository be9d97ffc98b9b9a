//! The tokio-compatible sync primitives inside simulations: RwLock, watch, broadcast,
//! Barrier, OnceCell, mpsc permits — their guarantees hold on every explored schedule,
//! and the classic misuse of each is found by exploring seeds.

use detsim::sync::{broadcast, mpsc, watch, Barrier, OnceCell, RwLock};
use detsim::{Config, Sim};
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// The first seed in `0..n` whose run fails, if any.
fn first_failing<F: Future<Output = ()> + 'static>(n: u64, program: impl Fn() -> F) -> Option<u64> {
    (0..n).find(|&seed| {
        Sim::new(Config::default().seed(seed).workers(2))
            .run(program())
            .failure()
            .is_some()
    })
}

/// Increment through a read lock, then a write lock: the check-then-act race.
async fn rwlock_counter(hold_write: bool) {
    let lock = Arc::new(RwLock::new(0u32));
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let lock = lock.clone();
            detsim::spawn(async move {
                if hold_write {
                    let mut w = lock.write().await;
                    let v = *w;
                    detsim::task::yield_now().await;
                    *w = v + 1;
                } else {
                    let v = *lock.read().await; // read guard dropped here
                    detsim::task::yield_now().await;
                    *lock.write().await = v + 1;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*lock.read().await, 3, "lost update");
}

#[test]
fn rwlock_read_then_write_race_is_found_and_holding_the_write_lock_fixes_it() {
    assert!(first_failing(300, || rwlock_counter(false)).is_some());
    assert_eq!(first_failing(300, || rwlock_counter(true)), None);
}

#[test]
fn rwlock_excludes_writers_from_readers_on_every_schedule() {
    let program = || async {
        let lock = Arc::new(RwLock::new((0u32, 0u32))); // (a, b) written together
        let mut tasks = Vec::new();
        for i in 0..3 {
            let writer = lock.clone();
            tasks.push(detsim::spawn(async move {
                let mut w = writer.write().await;
                w.0 = i;
                detsim::task::yield_now().await;
                w.1 = i;
            }));
            let reader = lock.clone();
            tasks.push(detsim::spawn(async move {
                let r = reader.read().await;
                detsim::task::yield_now().await;
                assert_eq!(r.0, r.1, "a reader saw a half-done write");
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    };
    assert_eq!(first_failing(300, program), None);
}

#[test]
fn watch_receivers_converge_on_the_last_value() {
    let program = || async {
        let (tx, rx) = watch::channel(0u32);
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let mut rx = rx.clone();
                detsim::spawn(async move {
                    let mut seen = vec![*rx.borrow_and_update()];
                    while rx.changed().await.is_ok() {
                        seen.push(*rx.borrow_and_update());
                    }
                    seen
                })
            })
            .collect();
        drop(rx);
        for v in 1..=5 {
            tx.send(v).unwrap();
            detsim::task::yield_now().await;
        }
        drop(tx);
        for r in readers {
            let seen = r.await.unwrap();
            assert_eq!(seen.last(), Some(&5), "the last value is always seen");
            assert!(seen.windows(2).all(|w| w[0] < w[1]), "in order, no repeats");
        }
    };
    assert_eq!(first_failing(200, program), None);
}

#[test]
fn a_slow_broadcast_receiver_lags_on_some_schedules_and_recovers() {
    let lagged = Rc::new(std::cell::Cell::new(0u32));
    let program = {
        let lagged = lagged.clone();
        move || {
            let lagged = lagged.clone();
            async move {
                let (tx, mut rx) = broadcast::channel(2);
                let consumer = detsim::spawn(async move {
                    let mut got = Vec::new();
                    loop {
                        match rx.recv().await {
                            Ok(v) => got.push(v),
                            Err(broadcast::error::RecvError::Lagged(n)) => {
                                lagged.set(lagged.get() + 1);
                                assert!(n > 0);
                            }
                            Err(broadcast::error::RecvError::Closed) => return got,
                        }
                    }
                });
                for v in 0..8 {
                    tx.send(v).unwrap();
                    if detsim::rand::gen_bool(0.5) {
                        detsim::task::yield_now().await;
                    }
                }
                drop(tx);
                let got = consumer.await.unwrap();
                assert_eq!(got.last(), Some(&7), "the newest value survives");
                assert!(got.windows(2).all(|w| w[0] < w[1]));
            }
        }
    };
    assert_eq!(first_failing(100, program), None);
    assert!(lagged.get() > 0, "some schedule made the receiver lag");
}

#[test]
fn barrier_releases_everyone_once_per_round_with_one_leader() {
    let program = || async {
        let barrier = Arc::new(Barrier::new(3));
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let b = barrier.clone();
                detsim::spawn(async move { b.wait().await.is_leader() })
            })
            .collect();
        let mut leaders = 0;
        for t in tasks {
            leaders += u32::from(t.await.unwrap());
        }
        assert_eq!(leaders, 2, "two rounds of three");
    };
    assert_eq!(first_failing(200, program), None);
}

#[test]
fn once_cell_initialises_once_and_a_racy_check_then_set_is_found() {
    let once = || async {
        let cell = Arc::new(OnceCell::new());
        let inits = Rc::new(std::cell::Cell::new(0));
        let tasks: Vec<_> = (0..3)
            .map(|i| {
                let (cell, inits) = (cell.clone(), inits.clone());
                detsim::spawn(async move {
                    *cell
                        .get_or_init(|| async move {
                            inits.set(inits.get() + 1);
                            detsim::time::sleep(Duration::from_millis(1)).await;
                            i
                        })
                        .await
                })
            })
            .collect();
        let mut values = Vec::new();
        for t in tasks {
            values.push(t.await.unwrap());
        }
        assert_eq!(inits.get(), 1);
        assert!(values.iter().all(|v| *v == values[0]));
    };
    assert_eq!(first_failing(200, once), None);
    let racy = || async {
        let cell = Arc::new(OnceCell::new());
        let tasks: Vec<_> = (0..2)
            .map(|i| {
                let cell = cell.clone();
                detsim::spawn(async move {
                    if !cell.initialized() {
                        detsim::task::yield_now().await;
                        cell.set(i).expect("checked it was empty");
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    };
    assert!(first_failing(300, racy).is_some());
}

#[test]
fn send_timeout_uses_virtual_time_and_permits_keep_order() {
    let out = Sim::new(Config::default().seed(1)).run(async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.send(1).await.unwrap();
        let start = detsim::time::Instant::now();
        let r = tx.send_timeout(2, Duration::from_secs(5)).await;
        assert!(matches!(r, Err(mpsc::error::SendTimeoutError::Timeout(2))));
        assert_eq!(start.elapsed(), Duration::from_secs(5));
        let permit_task = {
            let tx = tx.clone();
            detsim::spawn(async move { tx.reserve().await.unwrap().send(3) })
        };
        assert_eq!(rx.recv().await, Some(1));
        permit_task.await.unwrap();
        assert_eq!(rx.recv().await, Some(3));
    });
    out.result.unwrap();
}
