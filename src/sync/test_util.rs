//! Test helpers: manual polling, a waker that records wake order, yield_now.

use futures::task::{noop_waker_ref, waker, ArcWake};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// Polls once with a waker that does nothing.
pub(crate) fn poll<F: Future + ?Sized>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(noop_waker_ref()))
}

/// Polls once with the given waker.
pub(crate) fn poll_with<F: Future + ?Sized>(f: Pin<&mut F>, w: &Waker) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(w))
}

/// Records which labelled wakers were woken, in order.
#[derive(Clone, Default)]
pub(crate) struct WakeLog(Arc<Mutex<Vec<usize>>>);

struct Labelled {
    label: usize,
    log: WakeLog,
}

impl ArcWake for Labelled {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.log.0.lock().unwrap().push(arc_self.label);
    }
}

impl WakeLog {
    /// A waker that appends `label` to the log each time it is woken.
    pub(crate) fn waker(&self, label: usize) -> Waker {
        let log = self.clone();
        waker(Arc::new(Labelled { label, log }))
    }

    /// Returns and clears the labels woken so far.
    pub(crate) fn take(&self) -> Vec<usize> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// Yields to the executor once, so other tasks get to run.
pub(crate) async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}
