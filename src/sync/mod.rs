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
//! - `rwlock`: [`RwLock`] (fair, FIFO, on a semaphore) and its guards.
//! - [`watch`]: latest-value channel; [`broadcast`]: every receiver sees every value,
//!   with lagging receivers.
//! - `barrier`: [`Barrier`]; `once_cell`: [`OnceCell`] with async initialisation.
//!
//! Together with `Mutex`, `Notify`, `Semaphore`, `mpsc` and `oneshot`, this is tokio's
//! whole `sync` module, with tokio's semantics; the `tokio` facade crate re-exports it.

mod barrier;
mod batch;
mod mutex;
mod notify;
mod once_cell;
mod rwlock;
mod semaphore;

pub mod broadcast;
pub mod mpsc;
pub mod oneshot;
#[cfg(test)]
mod test_util;
pub mod watch;

pub use barrier::{Barrier, BarrierWaitResult};
pub use mutex::{Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use notify::{Notified, Notify};
pub use once_cell::{OnceCell, SetError};
pub use rwlock::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
