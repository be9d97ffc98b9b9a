//! tokio's task API on detsim: JoinSet, AbortHandle, JoinError payloads, task_local!,
//! Builder names, task::id, spawn_blocking.

use detsim::task::{self, JoinSet};
use detsim::{Config, Sim};
use std::time::Duration;

#[test]
fn join_set_yields_in_completion_order_and_aborts_on_drop() {
    let out = Sim::new(Config::default().seed(3).workers(2)).run(async {
        let mut set = JoinSet::new();
        for ms in [30u64, 10, 20] {
            set.spawn(async move {
                detsim::time::sleep(Duration::from_millis(ms)).await;
                ms
            });
        }
        assert_eq!(set.len(), 3);
        let mut order = Vec::new();
        while let Some(r) = set.join_next_with_id().await {
            let (id, v) = r.unwrap();
            assert!(id.as_u32() > 0);
            order.push(v);
        }
        assert!(set.is_empty());
        let forever = {
            let mut set = JoinSet::new();
            let h = set.spawn(std::future::pending::<()>());
            detsim::task::yield_now().await;
            assert!(!h.is_finished());
            h
        }; // the set is dropped: its task is aborted
        assert!(forever.is_finished());
        let mut set: JoinSet<()> = (0..3).map(|_| std::future::pending()).collect();
        set.abort_all();
        let mut cancelled = 0;
        while let Some(r) = set.join_next().await {
            cancelled += u32::from(r.unwrap_err().is_cancelled());
        }
        (order, cancelled)
    });
    assert_eq!(out.result.unwrap(), (vec![10, 20, 30], 3));
}

#[test]
fn join_set_order_is_deterministic_and_varies_with_the_seed() {
    let run = |seed| {
        Sim::new(Config::default().seed(seed).workers(2))
            .run(async {
                let mut set = JoinSet::new();
                for i in 0..5u32 {
                    set.spawn(async move {
                        detsim::task::yield_now().await;
                        i
                    });
                }
                let mut order = Vec::new();
                while let Some(r) = set.join_next().await {
                    order.push(r.unwrap());
                }
                assert_eq!(set.try_join_next().map(|r| r.is_ok()), None);
                order
            })
            .result
            .unwrap()
    };
    let orders: Vec<_> = (0..20).map(run).collect();
    assert_eq!(
        orders,
        (0..20).map(run).collect::<Vec<_>>(),
        "same seeds, same orders"
    );
    assert!(orders.iter().all(|o| o.len() == 5));
    assert!(
        orders.iter().any(|o| o != &orders[0]),
        "the order depends on the schedule"
    );
}

#[test]
fn join_error_carries_the_panic_payload() {
    let out = Sim::new(Config::default().panic_is_failure(false)).run(async {
        let h = detsim::spawn(async { std::panic::panic_any(42u64) });
        let err = h.await.unwrap_err();
        assert!(err.is_panic() && !err.is_cancelled());
        let id = err.id();
        (id.as_u32(), *err.into_panic().downcast::<u64>().unwrap())
    });
    assert_eq!(out.result.unwrap(), (1, 42));
}

#[test]
fn abort_handle_cancels_without_the_join_handle() {
    let out = Sim::new(Config::default()).run(async {
        let h = detsim::spawn(async {
            detsim::time::sleep(Duration::from_secs(10)).await;
        });
        let abort = h.abort_handle();
        assert_eq!(abort.id(), h.id());
        assert!(!abort.is_finished());
        abort.abort();
        let err = h.await.unwrap_err();
        (err.is_cancelled(), abort.is_finished(), err.to_string())
    });
    assert_eq!(
        out.result.unwrap(),
        (true, true, "task 1 was cancelled".to_string())
    );
}

/// Records on which thread, and whether, it was dropped.
struct DropProbe {
    dropped: std::sync::Arc<std::sync::Mutex<Option<std::thread::ThreadId>>>,
}

impl Drop for DropProbe {
    fn drop(&mut self) {
        *self.dropped.lock().unwrap() = Some(std::thread::current().id());
    }
}

fn probe() -> (
    DropProbe,
    std::sync::Arc<std::sync::Mutex<Option<std::thread::ThreadId>>>,
) {
    let dropped = std::sync::Arc::new(std::sync::Mutex::new(None));
    (
        DropProbe {
            dropped: dropped.clone(),
        },
        dropped,
    )
}

// A task's future and its join state share one allocation: the future must still be
// dropped when the task finishes (its resources released then), not when the last
// join handle goes.
#[test]
fn a_finished_task_drops_its_future_while_its_handle_lives() {
    let out = Sim::new(Config::default().seed(5)).run(async {
        let (guard, dropped) = probe();
        let rc = std::rc::Rc::new(7u32); // a !Send future
        let h = detsim::spawn(async move {
            let _guard = guard;
            detsim::task::yield_now().await;
            *rc * 6
        });
        while !h.is_finished() {
            detsim::task::yield_now().await;
        }
        let dropped_before_join = dropped.lock().unwrap().is_some();
        (dropped_before_join, h.await.unwrap())
    });
    assert_eq!(out.result.unwrap(), (true, 42));
}

// Join handles are `Send` (for `T: Send`) even when the task's future is not: one may
// outlive its run and be inspected, awaited and dropped on another thread; the future
// is dropped by the run's thread when the run ends, the result where the handle goes.
#[test]
fn join_handles_outlive_their_run_on_other_threads() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    let (result_probe, result_dropped) = probe();
    let (future_probe, future_dropped) = probe();
    let out = Sim::new(Config::default().seed(9)).run(async move {
        let done = detsim::spawn(async move {
            let rc = std::rc::Rc::new(());
            detsim::task::yield_now().await;
            drop(rc);
            result_probe
        });
        let pending = detsim::spawn(async move {
            let _guard = future_probe;
            let _rc = std::rc::Rc::new(());
            std::future::pending::<()>().await;
        });
        while !done.is_finished() {
            detsim::task::yield_now().await;
        }
        assert!(!pending.is_finished());
        (done, pending)
    });
    let (done, pending) = out.result.unwrap();
    assert_send_sync(&done);
    let run_thread = std::thread::current().id();
    assert_eq!(*future_dropped.lock().unwrap(), Some(run_thread));
    let other = std::thread::spawn(move || {
        assert!(done.is_finished() && pending.is_finished());
        let cancelled = futures::executor::block_on(pending).unwrap_err();
        assert!(cancelled.is_cancelled());
        drop(done); // the result, never awaited, is dropped here
        std::thread::current().id()
    })
    .join()
    .unwrap();
    assert_eq!(*result_dropped.lock().unwrap(), Some(other));
}

detsim::task_local! {
    static REQUEST_ID: u32;
}

#[test]
fn task_locals_stay_with_their_task_across_interleavings() {
    for seed in 0..50 {
        let out = Sim::new(Config::default().seed(seed).workers(2)).run(async {
            let tasks: Vec<_> = (0..4u32)
                .map(|i| {
                    detsim::spawn(REQUEST_ID.scope(i, async move {
                        for _ in 0..3 {
                            detsim::task::yield_now().await;
                            assert_eq!(REQUEST_ID.get(), i);
                        }
                        REQUEST_ID.get()
                    }))
                })
                .collect();
            let mut got = Vec::new();
            for t in tasks {
                got.push(t.await.unwrap());
            }
            (got, REQUEST_ID.try_with(|_| ()).is_err())
        });
        assert_eq!(out.result.unwrap(), (vec![0, 1, 2, 3], true), "seed {seed}");
    }
}

#[test]
fn builder_names_ids_and_spawn_blocking_show_in_the_trace() {
    let out = Sim::new(Config::default().trace(detsim::TraceMode::Full)).run(async {
        let named = task::Builder::new()
            .name("indexer")
            .spawn(async { task::id() })
            .unwrap();
        let id = named.id();
        let blocking = task::spawn_blocking(|| 6 * 7);
        let root = detsim::spawn_named("root-level", async { task::try_id().is_some() });
        (
            id == named.await.unwrap(),
            blocking.await.unwrap(),
            root.await.unwrap(),
        )
    });
    assert_eq!(out.result.unwrap(), (true, 42, true));
    let names: Vec<_> = out.trace.tasks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["main", "indexer", "blocking", "root-level"]);
    assert_eq!(task::try_id(), None, "outside a run");
}

/// The task table of a full trace: names given as `&'static str` are borrowed and a
/// spawn site is shared by every task spawned there (no allocation per task), while
/// the table still prints, serialises and compares as the strings it holds.
#[test]
fn the_task_table_shares_names_and_sites_and_prints_them_unchanged() {
    let out = Sim::new(Config::default().seed(5).trace(detsim::TraceMode::Full)).run(async {
        let mut handles = Vec::new();
        for i in 0..6u32 {
            handles.push(detsim::spawn(async move { i }));
            let name = format!("owned-{i}");
            handles.push(detsim::spawn_named(name, async move { i }));
        }
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(out.result.unwrap(), 30);
    let tasks = &out.trace.tasks;
    assert_eq!(tasks.len(), 13);
    let plain: Vec<_> = tasks.iter().filter(|t| t.name == "task").collect();
    let owned: Vec<_> = tasks
        .iter()
        .filter(|t| t.name.starts_with("owned-"))
        .collect();
    assert_eq!((plain.len(), owned.len()), (6, 6));
    // One spawn site, one string: every task spawned there points at the same bytes.
    for group in [&plain, &owned] {
        let first = group[0].spawned_at.as_str();
        assert!(first.starts_with("tests/task_api.rs:"), "{first}");
        for t in group.iter() {
            assert_eq!(t.spawned_at, first);
            assert!(
                std::ptr::eq(t.spawned_at.as_str(), first),
                "t{} copies its site",
                t.id
            );
        }
    }
    assert_ne!(plain[0].spawned_at, owned[0].spawned_at);
    // A `&'static str` name is borrowed, not copied.
    assert!(std::ptr::eq(plain[0].name.as_str(), plain[5].name.as_str()));
    for (i, t) in owned.iter().enumerate() {
        assert_eq!(t.name.to_string(), format!("owned-{i}"));
    }
    // The table prints and serialises as strings, as it did when the fields were `String`s.
    let t = owned[2];
    let json = serde_json::to_string(t).unwrap();
    assert_eq!(
        json,
        format!(
            r#"{{"id":{},"name":"owned-2","spawned_at":"{}","parent":0}}"#,
            t.id, t.spawned_at
        )
    );
    let text = out.trace.to_string();
    let line = format!("# task t{} owned-2 parent=t0 at {}\n", t.id, t.spawned_at);
    assert!(text.contains(&line), "{text}");
    assert!(format!("{t:?}").contains(&format!(
        "name: \"owned-2\", spawned_at: {:?}",
        t.spawned_at.as_str()
    )));
}
