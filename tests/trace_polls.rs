//! A poll's events keep the poll's step and time however the poll ends: a full trace
//! holds a `Poll` with the first few one-word events of its task (wakes, timers set,
//! spawns) and writes them at once when the poll ends; a poll that ends without an end
//! event (it aborted itself) must still be written with its own step, not the next one.
//!
//! Checked on the decoded trace: every step polls one task, so the `Poll` events' steps
//! are 0, 1, 2, … with no gap and no repeat, and the events after a `Poll` by its task
//! share its step and time.

use detsim::task::{spawn, yield_now, AbortHandle};
use detsim::time::sleep;
use detsim::trace::{Event, EventKind};
use detsim::{Config, Sim};
use futures::channel::mpsc;
use futures::StreamExt;
use std::time::Duration;

/// Tasks whose polls have many events before they end, or end without an end event.
async fn program() {
    let (tx, mut rx) = mpsc::unbounded::<u32>();
    // A poll that wakes a waiting task, arms a timer, and then aborts itself.
    let (own_tx, own_rx) = detsim::sync::oneshot::channel::<AbortHandle>();
    let aborting = {
        let tx = tx.clone();
        spawn(async move {
            let own = own_rx.await.expect("its own abort handle");
            tx.unbounded_send(1).unwrap();
            let timer = sleep(Duration::from_millis(3));
            futures::pin_mut!(timer);
            let _ = futures::poll!(timer.as_mut());
            own.abort();
            yield_now().await;
            unreachable!("aborted at the end of the poll before");
        })
    };
    assert!(own_tx.send(aborting.abort_handle()).is_ok());
    // Polls that wake more tasks than a poll holds events, then yield or finish.
    let (wake_txs, wake_rxs): (Vec<_>, Vec<_>) = (0..7)
        .map(|_| detsim::sync::oneshot::channel::<u32>())
        .unzip();
    let waiters: Vec<_> = wake_rxs
        .into_iter()
        .map(|rx| spawn(async move { rx.await.expect("sent") }))
        .collect();
    let waker = spawn(async move {
        yield_now().await;
        for (i, tx) in wake_txs.into_iter().enumerate() {
            assert!(tx.send(i as u32).is_ok());
        }
        sleep(Duration::from_millis(1)).await;
    });
    // Nobody waits for the aborting task when it aborts (so nothing else is recorded
    // in its step after its poll) unless it is scheduled last.
    waker.await.unwrap();
    for (i, w) in waiters.into_iter().enumerate() {
        assert_eq!(w.await.unwrap(), i as u32);
    }
    assert!(aborting.await.unwrap_err().is_cancelled());
    drop(tx);
    assert_eq!(rx.next().await, Some(1));
    assert_eq!(rx.next().await, None);
}

fn check(events: &[Event], seed: u64) {
    let mut polls = 0u64;
    let mut aborts = 0;
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            let before = &events[i - 1];
            assert!(
                (before.step, before.time_ns) <= (e.step, e.time_ns),
                "seed {seed}: event {i} goes back in step or time: {before:?} then {e:?}"
            );
        }
        if e.kind != EventKind::Poll {
            continue;
        }
        assert_eq!(
            e.step, polls,
            "seed {seed}: event {i}, the poll of step {polls}"
        );
        polls += 1;
        // The poll's own events: by its task on its worker, up to the next poll.
        let own = events[i + 1..]
            .iter()
            .take_while(|n| n.kind != EventKind::Poll)
            .filter(|n| (n.task, n.worker) == (e.task, e.worker));
        for n in own {
            assert_eq!(
                (n.step, n.time_ns),
                (e.step, e.time_ns),
                "seed {seed}: {n:?} after {e:?}"
            );
            aborts += usize::from(matches!(n.kind, EventKind::Abort { .. }));
        }
    }
    assert!(polls > 10, "seed {seed}: {polls} polls");
    assert_eq!(aborts, 1, "seed {seed}: the task that aborts itself");
}

#[test]
fn a_polls_events_keep_its_step_and_time_however_it_ends() {
    let mut many_wakes = 0;
    for seed in 0..40 {
        let out = Sim::new(Config::default().seed(seed)).run(program());
        out.result.as_ref().expect("the program passes");
        let events: Vec<Event> = out.trace.events().collect();
        check(&events, seed);
        // Wakes of more tasks than a poll holds (4), in one poll: when the waiters
        // were polled before the waker sends.
        many_wakes += usize::from(
            events
                .windows(5)
                .any(|w| w.iter().all(|e| matches!(e.kind, EventKind::Wake { .. }))),
        );
    }
    assert!(
        many_wakes >= 10,
        "{many_wakes} seeds wake 5 tasks in one poll"
    );
}
