//! Blocking code inside a simulation: [`spawn_blocking`] and [`block_in_place`].
//!
//! A simulation has no thread pool for blocking work (threads would break determinism),
//! so `spawn_blocking(f)` spawns a task named `blocking` whose first poll calls `f`
//! to the end. It is scheduled, traced and replayed like any task and takes no virtual
//! time; call [`crate::task::burn`] around it to model the work's duration. Code in `f`
//! that really blocks (waits on a std channel fed by another task, sleeps on the OS
//! clock) blocks the whole simulation, as it would block a tokio worker.

use super::{spawn_named, JoinHandle};

/// Runs `f` as a task (see the module docs) and returns its handle.
///
/// ```
/// use detsim::{Config, Sim};
/// let out = Sim::new(Config::default()).run(async {
///     detsim::task::spawn_blocking(|| (1..=10).sum::<u32>()).await.unwrap()
/// });
/// assert_eq!(out.result.unwrap(), 55);
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + 'static,
    R: 'static,
{
    spawn_named("blocking", async move { f() })
}

/// Runs `f` right here, in the current task's poll (as tokio does on a multi-thread
/// runtime, minus moving other tasks away: the simulated worker is simply busy).
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    f()
}
