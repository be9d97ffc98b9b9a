//! The guards of [`RwLock`]: shared and exclusive, borrowed and owned.

use super::RwLock;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// Shared access to the value of a [`RwLock`]; releases its permit on drop.
#[must_use = "the lock is released immediately when the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

/// Exclusive access to the value of a [`RwLock`]; releases its permits on drop.
#[must_use = "the lock is released immediately when the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

/// Shared access to the value of an `Arc<RwLock<T>>`.
#[must_use = "the lock is released immediately when the guard is dropped"]
pub struct OwnedRwLockReadGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
}

/// Exclusive access to the value of an `Arc<RwLock<T>>`.
#[must_use = "the lock is released immediately when the guard is dropped"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    /// `Some` for the guard's whole life; taken only by `downgrade` and `Drop`.
    lock: Option<Arc<RwLock<T>>>,
}

// SAFETY (all four): a guard only exists while its holder owns the permits of invariant 1
// (module docs of `rwlock`), so the references handed out below never alias a `&mut T`.
// A read guard is shareable across threads like `&T` (T: Sync); a write guard is like
// `&mut T` (moving it needs T: Send + Sync as in tokio, since it can be downgraded).
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockWriteGuard<'_, T> {}
// SAFETY: see above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockWriteGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    pub(super) fn new(lock: &'a RwLock<T>) -> Self {
        RwLockReadGuard { lock }
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    pub(super) fn new(lock: &'a RwLock<T>) -> Self {
        RwLockWriteGuard { lock }
    }

    /// Turns exclusive access into shared access without letting a writer in between.
    pub fn downgrade(this: Self) -> RwLockReadGuard<'a, T> {
        let lock = this.lock;
        std::mem::forget(this);
        lock.release(lock.max_reads - 1); // keep one permit: the read guard's
        RwLockReadGuard::new(lock)
    }
}

impl<T: ?Sized> OwnedRwLockReadGuard<T> {
    pub(super) fn new(lock: Arc<RwLock<T>>) -> Self {
        OwnedRwLockReadGuard { lock }
    }

    /// The lock this guard reads.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    pub(super) fn new(lock: Arc<RwLock<T>>) -> Self {
        OwnedRwLockWriteGuard { lock: Some(lock) }
    }

    fn lock(&self) -> &Arc<RwLock<T>> {
        self.lock
            .as_ref()
            .expect("guard holds its lock until dropped")
    }

    /// Turns exclusive access into shared access without letting a writer in between.
    pub fn downgrade(mut self) -> OwnedRwLockReadGuard<T> {
        let lock = self
            .lock
            .take()
            .expect("guard holds its lock until dropped");
        lock.release(lock.max_reads - 1); // keep one permit: the read guard's
        OwnedRwLockReadGuard::new(lock)
    }

    /// The lock this guard writes.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        this.lock()
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds a read permit, so no `&mut T` exists (invariant 1).
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> Deref for OwnedRwLockReadGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds a read permit, so no `&mut T` exists (invariant 1).
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds every permit: no other reference exists (invariant 1).
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds every permit: no other reference exists (invariant 1).
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds every permit: no other reference exists (invariant 1).
        unsafe { &*self.lock().value.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds every permit: no other reference exists (invariant 1).
        unsafe { &mut *self.lock().value.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.release(1);
    }
}

impl<T: ?Sized> Drop for OwnedRwLockReadGuard<T> {
    fn drop(&mut self) {
        self.lock.release(1);
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.release(self.lock.max_reads);
    }
}

impl<T: ?Sized> Drop for OwnedRwLockWriteGuard<T> {
    fn drop(&mut self) {
        if let Some(lock) = self.lock.take() {
            lock.release(lock.max_reads);
        }
    }
}

macro_rules! fmt_impls {
    ($($guard:ty),*) => {$(
        impl<T: ?Sized + fmt::Debug> fmt::Debug for $guard {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }
        impl<T: ?Sized + fmt::Display> fmt::Display for $guard {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&**self, f)
            }
        }
    )*};
}

fmt_impls!(
    RwLockReadGuard<'_, T>,
    RwLockWriteGuard<'_, T>,
    OwnedRwLockReadGuard<T>,
    OwnedRwLockWriteGuard<T>
);
