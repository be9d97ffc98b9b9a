//! Async FIFO mutex whose guard can be held across `.await`.
//!
//! Design (no `unsafe`): a one-permit [`Semaphore`] decides who holds the
//! lock, and the value itself lives in a `std::sync::Mutex<Option<T>>`. The
//! guard *moves the value out* while it is held and puts it back on drop, so
//! the guard owns `T` and `Deref` needs no raw pointers. The std mutex is only
//! locked for the instant of the move, never across an await or a wake.

use super::Semaphore;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex as StdMutex, PoisonError};

/// An async mutual-exclusion lock; waiters acquire it in FIFO order.
///
/// ```rust
/// use detsim::sync::Mutex;
/// futures::executor::block_on(async {
///     let m = Mutex::new(1);
///     *m.lock().await += 1;
///     let guard = m.lock().await;
///     assert!(m.try_lock().is_err());
///     assert_eq!(*guard, 2);
/// });
/// ```
pub struct Mutex<T> {
    sem: Semaphore,
    slot: StdMutex<Option<T>>,
}

/// Returned by `try_lock*` when the mutex is held or others are queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("operation would block")]
pub struct TryLockError(());

impl TryLockError {
    pub(crate) fn new() -> Self {
        TryLockError(())
    }
}

impl<T> Mutex<T> {
    /// Creates an unlocked mutex holding `value`.
    pub fn new(value: T) -> Self {
        Mutex {
            sem: Semaphore::new(1),
            slot: StdMutex::new(Some(value)),
        }
    }

    /// Waits (FIFO) for the lock. Cancel safe: a dropped `lock()` future
    /// that was already handed the lock passes it to the next waiter.
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        let permit = self.sem.acquire().await.expect("mutex never closes");
        permit.forget(); // the guard gives it back in `Drop`
        MutexGuard::new(self)
    }

    /// Takes the lock if it is free and nobody is queued.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        let permit = self.sem.try_acquire().map_err(|_| TryLockError(()))?;
        permit.forget();
        Ok(MutexGuard::new(self))
    }

    /// Like [`Mutex::lock`], but the guard keeps the mutex alive (`'static`).
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        let permit = self.sem.acquire().await.expect("mutex never closes");
        permit.forget();
        OwnedMutexGuard::new(self)
    }

    /// Like [`Mutex::try_lock`], returning an owned guard.
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        let permit = self.sem.try_acquire().map_err(|_| TryLockError(()))?;
        permit.forget();
        Ok(OwnedMutexGuard::new(self))
    }

    /// Mutable access without locking; `&mut self` proves no guard exists.
    ///
    /// Panics if a guard was leaked with `mem::forget` (the value left with it).
    pub fn get_mut(&mut self) -> &mut T {
        let slot = self.slot.get_mut().unwrap_or_else(PoisonError::into_inner);
        slot.as_mut().expect("a leaked guard still holds the value")
    }

    /// Consumes the mutex, returning the value.
    ///
    /// Panics if a guard was leaked with `mem::forget` (the value left with it).
    pub fn into_inner(self) -> T {
        let slot = self
            .slot
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        slot.expect("a leaked guard still holds the value")
    }

    /// Moves the value out of the slot; only called by the permit holder.
    fn take(&self) -> T {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        slot.take()
            .expect("the lock holder finds the value in place")
    }

    /// Puts the value back, then releases the lock (in that order, so the
    /// next holder finds the value in place).
    fn unlock(&self, value: T) {
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(value);
        self.sem.add_permits(1);
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.slot.try_lock().as_deref() {
            Ok(Some(value)) => d.field("data", value),
            _ => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Exclusive access to the value of a [`Mutex`]; unlocks on drop.
#[must_use = "the mutex is unlocked immediately when the guard is dropped"]
pub struct MutexGuard<'a, T> {
    lock: &'a Mutex<T>,
    /// `Some` for the guard's whole life; taken only in `Drop`.
    value: Option<T>,
}

/// Exclusive access to the value of an `Arc<Mutex<T>>`; unlocks on drop.
#[must_use = "the mutex is unlocked immediately when the guard is dropped"]
pub struct OwnedMutexGuard<T> {
    lock: Arc<Mutex<T>>,
    /// `Some` for the guard's whole life; taken only in `Drop`.
    value: Option<T>,
}

impl<'a, T> MutexGuard<'a, T> {
    fn new(lock: &'a Mutex<T>) -> Self {
        let value = Some(lock.take());
        MutexGuard { lock, value }
    }
}

impl<T> OwnedMutexGuard<T> {
    fn new(lock: Arc<Mutex<T>>) -> Self {
        let value = Some(lock.take());
        OwnedMutexGuard { lock, value }
    }

    /// The mutex this guard locks.
    pub fn mutex(&self) -> &Arc<Mutex<T>> {
        &self.lock
    }
}

// Both guards share these impls; only the type of `lock` differs.

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value
            .as_ref()
            .expect("guard holds the value until dropped")
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value
            .as_mut()
            .expect("guard holds the value until dropped")
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take() {
            self.lock.unlock(value);
        }
    }
}

impl<T> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value
            .as_ref()
            .expect("guard holds the value until dropped")
    }
}

impl<T> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value
            .as_mut()
            .expect("guard holds the value until dropped")
    }
}

impl<T> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take() {
            self.lock.unlock(value);
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_util::{poll, poll_with, yield_now, WakeLog};
    use futures::executor::{block_on, LocalPool};
    use futures::task::LocalSpawnExt;
    use std::pin::pin;
    use std::task::Poll;

    fn assert_send_sync<X: Send + Sync>() {}

    fn assert_future_send<F: std::future::Future + Send>(_: F) {}

    #[test]
    fn mutex_guards_and_futures_are_send_and_sync() {
        assert_send_sync::<Mutex<Vec<u8>>>();
        assert_send_sync::<MutexGuard<'static, Vec<u8>>>();
        assert_send_sync::<OwnedMutexGuard<Vec<u8>>>();
        let m = Arc::new(Mutex::new(0u8));
        assert_future_send(m.lock());
        assert_future_send(m.clone().lock_owned());
    }

    #[test]
    fn lock_is_granted_in_fifo_order() {
        let m = Mutex::new(Vec::new());
        let log = WakeLog::default();
        let first = m.try_lock().unwrap();
        let mut a = pin!(async { m.lock().await.push('a') });
        let mut b = pin!(async { m.lock().await.push('b') });
        assert!(poll_with(b.as_mut(), &log.waker(1)).is_pending());
        assert!(poll_with(a.as_mut(), &log.waker(0)).is_pending());
        assert!(m.try_lock().is_err(), "queued waiters block try_lock");
        drop(first);
        assert_eq!(log.take(), vec![1], "b queued first, so b is woken first");
        assert!(poll(a.as_mut()).is_pending());
        assert_eq!(poll(b.as_mut()), Poll::Ready(()));
        assert_eq!(poll(a.as_mut()), Poll::Ready(()));
        assert_eq!(*m.try_lock().unwrap(), vec!['b', 'a']);
    }

    #[test]
    fn dropped_lock_future_passes_the_lock_on() {
        let m = Mutex::new(0);
        let guard = m.try_lock().unwrap();
        let mut a = Box::pin(m.lock());
        let mut b = pin!(m.lock());
        assert!(poll(a.as_mut()).is_pending());
        assert!(poll(b.as_mut()).is_pending());
        drop(guard); // lock handed to `a`, which is cancelled unobserved
        drop(a);
        match poll(b.as_mut()) {
            Poll::Ready(mut g) => *g = 7,
            Poll::Pending => panic!("lock was lost with the dropped future"),
        }
        assert_eq!(*m.try_lock().unwrap(), 7);
    }

    #[test]
    fn guard_held_across_await_excludes_others() {
        let m = Arc::new(Mutex::new((0u32, 0u32))); // (inside, max inside)
        let mut pool = LocalPool::new();
        for _ in 0..4 {
            let m = m.clone();
            let task = async move {
                let mut g = m.lock_owned().await;
                g.0 += 1;
                g.1 = g.1.max(g.0);
                yield_now().await;
                g.0 -= 1;
            };
            pool.spawner().spawn_local(task).unwrap();
        }
        pool.run();
        assert_eq!(*block_on(m.lock()), (0, 1));
    }

    #[test]
    fn get_mut_into_inner_and_debug() {
        let mut m = Mutex::new(String::from("a"));
        m.get_mut().push('b');
        {
            let g = m.try_lock().unwrap();
            assert_eq!(format!("{g} {g:?}"), "ab \"ab\"");
            let arc = Arc::new(Mutex::new(1));
            let owned = arc.clone().try_lock_owned().unwrap();
            assert!(Arc::ptr_eq(owned.mutex(), &arc));
            assert!(arc.clone().try_lock_owned().is_err());
        }
        assert_eq!(format!("{m:?}"), "Mutex { data: \"ab\" }");
        assert_eq!(m.into_inner(), "ab");
    }
}
