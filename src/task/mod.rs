//! Tasks: spawning, joining, yielding, and declaring CPU work — with tokio's `task` API.
//!
//! - `join_set.rs` — [`JoinSet`]: a set of tasks joined in completion order.
//! - `local.rs` — [`task_local!`](crate::task_local) and [`LocalKey`]: per-task values.
//! - `builder.rs` — [`Builder`]: spawning with a name.
//! - `blocking.rs` — [`spawn_blocking`], [`block_in_place`]: blocking code as a task.
//!
//! Spawning, joining and aborting themselves live in the runtime (`runtime/task.rs`).

mod blocking;
mod builder;
mod join_set;
mod local;

pub use crate::runtime::{
    burn, current_id, spawn, spawn_named, yield_now, AbortHandle, Burn, JoinError, JoinHandle,
    TaskId, YieldNow,
};
pub use blocking::{block_in_place, spawn_blocking};
pub use builder::Builder;
pub use join_set::JoinSet;
pub use local::{AccessError, LocalKey, TaskLocalFuture};

/// tokio's name for a task id.
pub type Id = TaskId;

/// The id of the running task (tokio's `task::id`).
///
/// Panics outside a task of a simulation; see [`try_id`].
#[track_caller]
pub fn id() -> Id {
    try_id().expect("detsim: task::id() called outside a task")
}

/// The id of the running task, if called from one.
pub fn try_id() -> Option<Id> {
    current_id()
}

/// Spawns a task; the same as [`spawn`] (detsim tasks never need `Send`), for
/// tokio's `spawn_local`.
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: std::future::Future + 'static,
    F::Output: 'static,
{
    spawn(future)
}
