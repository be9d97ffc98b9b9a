//! Async fair reader-writer lock (tokio's semantics).
//!
//! Design (tokio's): a FIFO [`Semaphore`] with `max_reads` permits decides access. A
//! reader takes one permit, a writer takes all of them. Because the permit queue is FIFO
//! and a large request at its head blocks smaller ones behind it, a waiting writer is not
//! starved by a stream of readers, and the order of access is deterministic.
//!
//! Invariants:
//! 1. A read guard exists only while its holder owns one permit; a write guard only
//!    while its holder owns all `max_reads` permits. Hence a `&mut T` never coexists
//!    with another reference to the value.
//! 2. Guards return their permits in `Drop`, after their last use of the value.
//!
//! - `guards.rs`: the four guard types, their `Deref`s and `downgrade`.

mod guards;

use super::Semaphore;
pub use guards::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLockReadGuard, RwLockWriteGuard};
use std::cell::UnsafeCell;
use std::fmt;
use std::sync::Arc;

use super::mutex::TryLockError;

/// Permits of the lock by default: a reader holds 1, a writer all (tokio's value).
const MAX_READS: u32 = u32::MAX >> 3;

/// An async reader-writer lock; readers and writers are served in FIFO order.
///
/// ```rust
/// use detsim::sync::RwLock;
/// futures::executor::block_on(async {
///     let lock = RwLock::new(5);
///     {
///         let r1 = lock.read().await;
///         let r2 = lock.read().await; // many readers at once
///         assert_eq!(*r1 + *r2, 10);
///         assert!(lock.try_write().is_err());
///     }
///     *lock.write().await += 1;
///     assert_eq!(*lock.read().await, 6);
/// });
/// ```
pub struct RwLock<T: ?Sized> {
    sem: Semaphore,
    /// Permits a writer takes; fixed at construction.
    max_reads: u32,
    value: UnsafeCell<T>,
}

// SAFETY: the semaphore hands out either one `&mut T` or shared `&T`s (invariant 1), so
// the lock is `Send`/`Sync` under the same bounds as `std::sync::RwLock`. Exercised by the
// unit tests below and by `tests/sync_tokio.rs` (readers and writers across tasks).
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: as above; shared readers need `T: Sync`, handing `&mut T` between threads `T: Send`.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    /// Creates an unlocked lock holding `value`.
    pub fn new(value: T) -> Self {
        Self::with_max_readers(value, MAX_READS)
    }

    /// Creates a lock that admits at most `max_reads` readers at once.
    ///
    /// Panics if `max_reads` is 0 or larger than tokio's limit (`u32::MAX >> 3`).
    pub fn with_max_readers(value: T, max_reads: u32) -> Self {
        assert!(
            (1..=MAX_READS).contains(&max_reads),
            "a RwLock admits 1..={MAX_READS} readers, not {max_reads}"
        );
        RwLock {
            sem: Semaphore::new(max_reads as usize),
            max_reads,
            value: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock, returning the value.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits (FIFO) for shared access. Cancel safe.
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        let permit = self.sem.acquire().await.expect("a RwLock never closes");
        permit.forget(); // the guard gives it back in `Drop`
        RwLockReadGuard::new(self)
    }

    /// Shared access if no writer holds or waits for the lock.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        let permit = self.sem.try_acquire().map_err(|_| TryLockError::new())?;
        permit.forget();
        Ok(RwLockReadGuard::new(self))
    }

    /// Waits (FIFO) for exclusive access. Cancel safe.
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        let permit = self.sem.acquire_many(self.max_reads).await;
        permit.expect("a RwLock never closes").forget();
        RwLockWriteGuard::new(self)
    }

    /// Exclusive access if the lock is free and nobody waits.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        let permit = self.sem.try_acquire_many(self.max_reads);
        permit.map_err(|_| TryLockError::new())?.forget();
        Ok(RwLockWriteGuard::new(self))
    }

    /// Like [`RwLock::read`], but the guard keeps the lock alive (`'static`).
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        let permit = self.sem.acquire().await.expect("a RwLock never closes");
        permit.forget();
        OwnedRwLockReadGuard::new(self)
    }

    /// Like [`RwLock::try_read`], returning an owned guard.
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        let permit = self.sem.try_acquire().map_err(|_| TryLockError::new())?;
        permit.forget();
        Ok(OwnedRwLockReadGuard::new(self))
    }

    /// Like [`RwLock::write`], but the guard keeps the lock alive (`'static`).
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        let permit = self.sem.acquire_many(self.max_reads).await;
        permit.expect("a RwLock never closes").forget();
        OwnedRwLockWriteGuard::new(self)
    }

    /// Like [`RwLock::try_write`], returning an owned guard.
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        let permit = self.sem.try_acquire_many(self.max_reads);
        permit.map_err(|_| TryLockError::new())?.forget();
        Ok(OwnedRwLockWriteGuard::new(self))
    }

    /// Mutable access without locking; `&mut self` proves no guard exists.
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// Returns `n` permits (a guard's release).
    fn release(&self, n: u32) {
        self.sem.add_permits(n as usize);
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_util::{poll, poll_with, WakeLog};
    use futures::executor::block_on;
    use std::pin::pin;
    use std::task::Poll;

    fn assert_send_sync<X: Send + Sync>() {}
    fn assert_future_send<F: std::future::Future + Send>(_: F) {}

    #[test]
    fn guards_and_futures_are_send_and_sync() {
        assert_send_sync::<RwLock<Vec<u8>>>();
        assert_send_sync::<RwLockReadGuard<'static, Vec<u8>>>();
        assert_send_sync::<RwLockWriteGuard<'static, Vec<u8>>>();
        assert_send_sync::<OwnedRwLockReadGuard<Vec<u8>>>();
        assert_send_sync::<OwnedRwLockWriteGuard<Vec<u8>>>();
        let l = Arc::new(RwLock::new(0u8));
        assert_future_send(l.read());
        assert_future_send(l.clone().write_owned());
    }

    #[test]
    fn a_queued_writer_blocks_later_readers_and_is_served_in_fifo_order() {
        let lock = RwLock::new(Vec::new());
        let log = WakeLog::default();
        let reader = lock.try_read().unwrap();
        let mut w = pin!(async { lock.write().await.push('w') });
        let mut r = pin!(async { lock.read().await.len() });
        assert!(poll_with(w.as_mut(), &log.waker(0)).is_pending());
        assert!(
            poll_with(r.as_mut(), &log.waker(1)).is_pending(),
            "writer queued first"
        );
        assert!(
            lock.try_read().is_err(),
            "try_read does not barge past the writer"
        );
        drop(reader);
        assert_eq!(log.take(), vec![0]);
        assert_eq!(poll(w.as_mut()), Poll::Ready(()));
        assert_eq!(log.take(), vec![1]);
        assert_eq!(
            poll(r.as_mut()),
            Poll::Ready(1),
            "the reader sees the write"
        );
    }

    #[test]
    fn readers_share_and_writers_exclude() {
        let lock = RwLock::with_max_readers(1, 2);
        let a = lock.try_read().unwrap();
        let b = lock.try_read().unwrap();
        assert!(lock.try_read().is_err(), "max_reads = 2");
        assert!(lock.try_write().is_err());
        drop((a, b));
        let mut w = lock.try_write().unwrap();
        *w = 2;
        assert!(lock.try_read().is_err());
        let r = RwLockWriteGuard::downgrade(w);
        assert_eq!(*r, 2);
        assert!(lock.try_read().is_ok(), "a downgraded guard admits readers");
        assert!(lock.try_write().is_err());
    }

    #[test]
    fn owned_guards_debug_get_mut_and_into_inner() {
        let lock = Arc::new(RwLock::new(String::from("a")));
        {
            let mut w = lock.clone().try_write_owned().unwrap();
            w.push('b');
            assert_eq!(format!("{lock:?}"), "RwLock { data: <locked> }");
        }
        let r = block_on(lock.clone().read_owned());
        assert_eq!(format!("{r} {r:?}"), "ab \"ab\"");
        drop(r);
        let mut lock = Arc::try_unwrap(lock).unwrap();
        lock.get_mut().push('c');
        assert_eq!(lock.into_inner(), "abc");
    }
}
