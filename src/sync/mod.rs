//! Async synchronisation primitives for simulated tasks.
//!
//! Runtime-agnostic: built only on `std::task::Waker`, with FIFO waiter
//! queues and wakes issued after internal locks are released, so the order
//! of wakes (and thus the simulated schedule) is deterministic.
//!
//! - `batch`: FIFO permit queue shared by `Semaphore`, `Mutex` and bounded `mpsc`.
//! - `mutex`: [`Mutex`] and its guards, built on a one-permit semaphore.
//! - `notify`: [`Notify`] and its [`Notified`] future (tokio permit semantics).
//! - `semaphore`: [`Semaphore`] and its permits.
//! - [`mpsc`]: bounded and unbounded multi-producer channels.
//! - [`oneshot`]: single-value channel.

mod batch;
mod mutex;
mod notify;
mod semaphore;

pub mod mpsc;
pub mod oneshot;
#[cfg(test)]
mod test_util;

pub use mutex::{Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use notify::{Notified, Notify};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
