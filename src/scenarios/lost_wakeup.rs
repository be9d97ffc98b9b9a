//! A work queue whose consumer sleeps on a `Notify` when the queue is empty.
//!
//! Bug: the consumer checks the queue, then reports itself idle (an await), then creates
//! its `notified()` future. If the producer pushes and calls `notify_waiters()` in that
//! window, the wakeup is lost (`notify_waiters` stores no permit); the producer then
//! waits for an acknowledgement that never comes, and both wait forever: a deadlock.
//! Fix: `notify_one`, which stores a permit when nobody is waiting yet.

use crate::sync::Notify;
use crate::task::yield_now;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

const ITEMS: u32 = 3;

struct Queue {
    items: RefCell<VecDeque<u32>>,
    ready: Notify,
    acked: Notify,
    fixed: bool,
}

impl Queue {
    fn signal(&self, n: &Notify) {
        if self.fixed {
            n.notify_one();
        } else {
            n.notify_waiters();
        }
    }

    async fn consume(&self) {
        let mut seen = 0;
        while seen < ITEMS {
            let next = self.items.borrow_mut().pop_front();
            if let Some(item) = next {
                seen += 1;
                assert_eq!(item, seen, "items arrive in order");
                self.acked.notify_one();
                continue;
            }
            yield_now().await; // report "idle" to a metrics service
            self.ready.notified().await;
        }
    }

    async fn produce(&self) {
        for item in 1..=ITEMS {
            self.items.borrow_mut().push_back(item);
            self.signal(&self.ready);
            self.acked.notified().await;
        }
    }
}

pub(super) async fn run(fixed: bool) {
    let q = Rc::new(Queue {
        items: RefCell::new(VecDeque::new()),
        ready: Notify::new(),
        acked: Notify::new(),
        fixed,
    });
    let consumer = {
        let q = q.clone();
        crate::task::spawn_named("consumer", async move { q.consume().await })
    };
    let producer = {
        let q = q.clone();
        crate::task::spawn_named("producer", async move { q.produce().await })
    };
    producer.await.expect("producer does not panic");
    consumer.await.expect("consumer does not panic");
}
