//! `select!`'s rules, as tokio documents them: preconditions, refutable patterns that
//! disable their branch, `else`, `biased;`, handlers that use `break`/`?`, and futures
//! dropped before the handler runs.

use detsim::{Config, Sim};
use std::time::Duration;

fn sim<F: std::future::Future + 'static>(seed: u64, f: F) -> F::Output
where
    F::Output: 'static,
{
    Sim::new(Config::default().seed(seed))
        .run(f)
        .result
        .unwrap()
}

#[test]
fn a_false_precondition_disables_its_branch_and_else_runs_when_all_are_disabled() {
    for seed in 0..20 {
        let got = sim(seed, async {
            let ready = std::future::ready(1);
            let never = std::future::pending::<u32>();
            let picked = tokio::select! {
                v = ready, if false => v,
                v = never => v,
                _ = tokio::time::sleep(Duration::from_secs(1)) => 7,
            };
            let fallback = tokio::select! {
                v = std::future::ready(1), if false => v,
                else => 9,
            };
            (picked, fallback)
        });
        assert_eq!(got, (7, 9), "seed {seed}");
    }
}

#[test]
fn a_value_that_does_not_match_disables_the_branch_and_the_loop_goes_on() {
    for seed in 0..20 {
        let got = sim(seed, async {
            let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(4);
            tx.send(1).await.unwrap();
            drop(tx);
            let mut seen = Vec::new();
            loop {
                tokio::select! {
                    Some(v) = rx.recv() => seen.push(v),
                    // `None` does not match `Some(v)`: that branch is disabled, this runs.
                    _ = tokio::time::sleep(Duration::from_millis(5)) => break,
                }
            }
            seen
        });
        assert_eq!(got, vec![1], "seed {seed}");
    }
}

#[test]
#[should_panic(expected = "all branches are disabled and there is no else branch")]
fn no_branch_and_no_else_panics() {
    let out = Sim::new(Config::default()).run(async {
        tokio::select! {
            v = std::future::ready(1), if false => v,
        }
    });
    // The main task's panic is the run's failure; re-raise it for `should_panic`.
    panic!("{}", out.failure().unwrap());
}

#[test]
fn biased_polls_in_order_and_handlers_may_use_question_mark() {
    async fn first() -> Result<&'static str, String> {
        let out = tokio::select! {
            biased;
            v = std::future::ready(Err::<u8, String>("boom".into())) => v.map(|_| "a")?,
            _ = std::future::ready(()) => "b",
        };
        Ok(out)
    }
    for seed in 0..10 {
        assert_eq!(sim(seed, first()), Err("boom".to_string()));
    }
}

#[test]
fn futures_are_dropped_before_the_handler_runs() {
    let got = sim(1, async {
        let lock = std::sync::Arc::new(tokio::sync::Mutex::new(0));
        let guard = lock.clone().lock_owned().await;
        tokio::select! {
            // The pending `lock()` future holds a queue slot until it is dropped.
            _ = lock.lock() => unreachable!("locked"),
            _ = std::future::ready(()) => {
                drop(guard);
                *lock.try_lock().expect("no waiter left behind") += 1;
            }
        }
        let v = *lock.lock().await;
        v
    });
    assert_eq!(got, 1);
}
