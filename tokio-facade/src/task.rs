//! tokio's `task` module: detsim tasks under tokio's names.
//!
//! Tasks never need `Send` here (a simulation runs on one OS thread), so `spawn_local`
//! and [`LocalSet`] are the same as `spawn`.

use std::future::Future;

pub use detsim::task::{
    block_in_place, id, spawn_blocking, spawn_local, try_id, yield_now, AbortHandle, Builder, Id,
    JoinError, JoinHandle, JoinSet, LocalKey,
};

/// tokio's futures of this module.
pub mod futures {
    pub use detsim::task::TaskLocalFuture;
}

/// Spawns a task on the running simulation (panics outside one).
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    detsim::spawn(future)
}

/// Runs `future` without cooperative budgeting: detsim has none, so this is `future`.
pub fn unconstrained<F: Future>(future: F) -> F {
    future
}

/// A cooperative yield point; detsim has no task budget, so this returns at once.
pub async fn consume_budget() {}

/// tokio's set of `!Send` tasks; in a simulation every task may be `!Send`, so this
/// simply spawns onto the simulation.
#[derive(Debug, Default)]
pub struct LocalSet(());

impl LocalSet {
    /// A local set.
    pub fn new() -> Self {
        LocalSet(())
    }

    /// Spawns a task on the running simulation.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        detsim::spawn(future)
    }

    /// Runs `future` (tasks spawned on the set run on the simulation meanwhile).
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        future.await
    }

    /// Runs `future` on `rt` (a new simulation).
    #[track_caller]
    pub fn block_on<F: Future>(&self, rt: &crate::runtime::Runtime, future: F) -> F::Output {
        rt.block_on(future)
    }
}
