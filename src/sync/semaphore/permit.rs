//! Permits handed out by a [`Semaphore`]; they return themselves on drop.

use super::Semaphore;
use std::sync::Arc;

/// Permits borrowed from a [`Semaphore`]; returned to it on drop.
#[must_use = "permits are released immediately when dropped"]
#[derive(Debug)]
pub struct SemaphorePermit<'a> {
    pub(super) sem: &'a Semaphore,
    pub(super) permits: u32,
}

impl SemaphorePermit<'_> {
    /// Number of permits held.
    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }

    /// Keeps the permits out of the semaphore forever (e.g. to shrink it).
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        if self.permits > 0 {
            self.sem.add_permits(self.permits as usize);
        }
    }
}

/// Permits from an `Arc<Semaphore>`; returned to it on drop.
#[must_use = "permits are released immediately when dropped"]
#[derive(Debug)]
pub struct OwnedSemaphorePermit {
    pub(super) sem: Arc<Semaphore>,
    pub(super) permits: u32,
}

impl OwnedSemaphorePermit {
    /// Number of permits held.
    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }

    /// The semaphore these permits belong to.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// Keeps the permits out of the semaphore forever (e.g. to shrink it).
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        if self.permits > 0 {
            self.sem.add_permits(self.permits as usize);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    #[test]
    fn borrowed_permit_releases_on_drop_unless_forgotten() {
        let sem = Semaphore::new(3);
        let two = sem.try_acquire_many(2).unwrap();
        assert_eq!(two.num_permits(), 2);
        drop(two);
        assert_eq!(sem.available_permits(), 3);
        sem.try_acquire().unwrap().forget();
        assert_eq!(sem.available_permits(), 2, "forgotten permit stays out");
    }

    #[test]
    fn owned_permits_release_on_drop_and_forget() {
        let sem = Arc::new(Semaphore::new(2));
        let p = block_on(sem.clone().acquire_owned()).unwrap();
        assert_eq!(p.num_permits(), 1);
        assert!(Arc::ptr_eq(p.semaphore(), &sem));
        p.forget();
        assert_eq!(sem.available_permits(), 1);
        let q = sem.clone().try_acquire_many_owned(1).unwrap();
        assert_eq!(sem.available_permits(), 0);
        drop(q);
        assert_eq!(sem.available_permits(), 1);
    }
}
