//! Counting semaphore with FIFO fairness, tokio-compatible API.

mod permit;

use super::batch::{Batch, MAX_PERMITS};
pub use permit::{OwnedSemaphorePermit, SemaphorePermit};
use std::fmt;
use std::sync::Arc;

/// A counting semaphore: tasks wait (FIFO) until enough permits are free.
///
/// Fairness follows tokio: a request for many permits at the head of the
/// queue blocks later, smaller requests even if they could be served, and
/// `try_acquire*` never overtakes queued waiters. Dropping a pending
/// `acquire()` future gives any permits already set aside for it to the next
/// waiter.
///
/// ```rust
/// use detsim::sync::Semaphore;
/// futures::executor::block_on(async {
///     let sem = Semaphore::new(2);
///     let a = sem.acquire().await.unwrap();
///     let _b = sem.acquire().await.unwrap();
///     assert!(sem.try_acquire().is_err());
///     drop(a);
///     assert_eq!(sem.available_permits(), 1);
/// });
/// ```
pub struct Semaphore {
    batch: Batch,
}

/// Returned by `acquire*` when the semaphore was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("semaphore closed")]
pub struct AcquireError(());

/// Returned by `try_acquire*` when permits cannot be taken right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TryAcquireError {
    /// The semaphore was closed with [`Semaphore::close`].
    #[error("semaphore closed")]
    Closed,
    /// Not enough permits are free (or other tasks are queued first).
    #[error("no permits available")]
    NoPermits,
}

impl Semaphore {
    /// Largest number of permits a semaphore can hold; exceeding it panics.
    pub const MAX_PERMITS: usize = MAX_PERMITS;

    /// Creates a semaphore holding `permits` permits.
    ///
    /// Panics if `permits > Semaphore::MAX_PERMITS`.
    pub fn new(permits: usize) -> Self {
        assert!(
            permits <= MAX_PERMITS,
            "a semaphore cannot hold more than {MAX_PERMITS} permits"
        );
        Semaphore {
            batch: Batch::new(permits),
        }
    }

    /// Number of permits that can be taken right now without waiting.
    pub fn available_permits(&self) -> usize {
        self.batch.available()
    }

    /// Adds `n` permits, waking queued waiters in FIFO order.
    ///
    /// Panics if the total would exceed [`Semaphore::MAX_PERMITS`].
    pub fn add_permits(&self, n: usize) {
        self.batch.release(n);
    }

    /// Closes the semaphore: pending and future `acquire*` calls fail with
    /// [`AcquireError`]; permits already handed out stay valid.
    pub fn close(&self) {
        self.batch.close();
    }

    /// Whether [`Semaphore::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.batch.is_closed()
    }

    /// Waits for one permit. Cancel safe: dropping the future loses nothing.
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_many(1).await
    }

    /// Waits for `n` permits at once, queueing FIFO behind earlier waiters.
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        match self.batch.acquire(n as usize).await {
            true => Ok(SemaphorePermit {
                sem: self,
                permits: n,
            }),
            false => Err(AcquireError(())),
        }
    }

    /// Takes one permit if free and nobody is queued.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if free and nobody is queued.
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.batch.try_acquire(n as usize)?;
        Ok(SemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// Like [`Semaphore::acquire`], but the permit keeps the semaphore alive.
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// Like [`Semaphore::acquire_many`], returning an owned permit.
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        if !self.batch.acquire(n as usize).await {
            return Err(AcquireError(()));
        }
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// Like [`Semaphore::try_acquire`], returning an owned permit.
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// Like [`Semaphore::try_acquire_many`], returning an owned permit.
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.batch.try_acquire(n as usize)?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n,
        })
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("permits", &self.available_permits())
            .field("closed", &self.is_closed())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_util::{poll, poll_with, yield_now, WakeLog};
    use futures::executor::{block_on, LocalPool};
    use futures::task::LocalSpawnExt;
    use futures::FutureExt;
    use std::pin::pin;
    use std::sync::Mutex as StdMutex;

    fn assert_send_sync<X: Send + Sync>(_: &X) {}

    #[test]
    fn semaphore_and_futures_are_send_sync() {
        let sem = Arc::new(Semaphore::new(1));
        assert_send_sync(&sem);
        assert_send_sync(&sem.acquire_many(1));
        assert_send_sync(&sem.clone().acquire_owned());
        assert_send_sync(&sem.try_acquire().unwrap());
    }

    #[test]
    fn waiters_are_woken_in_fifo_order() {
        let sem = Semaphore::new(0);
        let log = WakeLog::default();
        let mut a = pin!(sem.acquire());
        let mut b = pin!(sem.acquire());
        assert!(poll_with(a.as_mut(), &log.waker(0)).is_pending());
        assert!(poll_with(b.as_mut(), &log.waker(1)).is_pending());
        sem.add_permits(1);
        assert_eq!(log.take(), vec![0]);
        assert!(poll_with(b.as_mut(), &log.waker(1)).is_pending());
        let permit_a = match poll(a.as_mut()) {
            std::task::Poll::Ready(p) => p.unwrap(),
            std::task::Poll::Pending => panic!("a was granted"),
        };
        drop(permit_a);
        assert_eq!(log.take(), vec![1]);
        assert!(poll(b.as_mut()).is_ready());
    }

    #[test]
    fn big_waiter_at_head_blocks_small_ones() {
        let sem = Semaphore::new(1);
        let mut big = pin!(sem.acquire_many(3));
        let mut small = pin!(sem.acquire());
        assert!(poll(big.as_mut()).is_pending());
        assert!(poll(small.as_mut()).is_pending());
        // The free permit went to the head waiter, so nothing can barge.
        assert_eq!(sem.available_permits(), 0);
        assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
        sem.add_permits(1);
        assert!(poll(small.as_mut()).is_pending());
        sem.add_permits(1);
        let big_permit = block_on(big).unwrap();
        assert_eq!(big_permit.num_permits(), 3);
        assert!(poll(small.as_mut()).is_pending());
        drop(big_permit);
        let small_permit = block_on(small).unwrap();
        assert_eq!(sem.available_permits(), 2);
        drop(small_permit);
        assert_eq!(sem.available_permits(), 3);
    }

    #[test]
    fn dropping_granted_unpolled_acquire_passes_permit_on() {
        let sem = Semaphore::new(0);
        let log = WakeLog::default();
        let mut a = Box::pin(sem.acquire());
        let mut b = pin!(sem.acquire());
        assert!(poll_with(a.as_mut(), &log.waker(0)).is_pending());
        assert!(poll_with(b.as_mut(), &log.waker(1)).is_pending());
        sem.add_permits(1); // granted to `a`, which never observes it
        drop(a);
        assert_eq!(log.take(), vec![0, 1]);
        assert!(poll(b.as_mut()).is_ready());
    }

    #[test]
    fn select_loser_does_not_leak_permits() {
        let sem = Semaphore::new(1);
        let held = sem.try_acquire().unwrap();
        block_on(async {
            futures::select_biased! {
                _ = sem.acquire().fuse() => panic!("no permit is free"),
                _ = futures::future::ready(()).fuse() => {}
            }
        });
        drop(held);
        assert_eq!(sem.available_permits(), 1);
        assert!(sem.try_acquire().is_ok());
    }

    #[test]
    fn close_fails_waiters_but_keeps_issued_permits() {
        let sem = Semaphore::new(1);
        let held = sem.try_acquire().unwrap();
        let mut waiter = pin!(sem.acquire());
        assert!(poll(waiter.as_mut()).is_pending());
        sem.close();
        assert!(sem.is_closed());
        assert_eq!(block_on(waiter).unwrap_err(), AcquireError(()));
        assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
        assert!(block_on(sem.acquire()).is_err());
        drop(held);
        assert_eq!(sem.available_permits(), 1);
    }

    #[test]
    #[should_panic(expected = "cannot hold more than")]
    fn add_permits_beyond_max_panics() {
        Semaphore::new(Semaphore::MAX_PERMITS).add_permits(1);
    }

    #[test]
    fn limits_concurrency_and_serves_tasks_in_order() {
        let sem = Arc::new(Semaphore::new(2));
        let stats = Arc::new(StdMutex::new((0usize, 0usize, Vec::new())));
        let mut pool = LocalPool::new();
        for id in 0..5 {
            let (sem, stats) = (sem.clone(), stats.clone());
            let task = async move {
                let _permit = sem.acquire().await.unwrap();
                {
                    let mut s = stats.lock().unwrap();
                    s.0 += 1;
                    s.1 = s.1.max(s.0);
                    s.2.push(id);
                }
                yield_now().await;
                stats.lock().unwrap().0 -= 1;
            };
            pool.spawner().spawn_local(task).unwrap();
        }
        pool.run();
        let s = stats.lock().unwrap();
        assert_eq!(s.1, 2, "max concurrency");
        assert_eq!(s.2, vec![0, 1, 2, 3, 4]);
        assert_eq!(sem.available_permits(), 2);
    }
}
