//! The scoped thread-local through which tasks reach the [`Core`] of the run polling them.
//!
//! Set only for the duration of [`crate::Sim::run`] on the thread running it, so parallel
//! runs on different threads never meet, and nothing survives a run.

use super::core::Core;

scoped_tls::scoped_thread_local!(static CORE: Core);

/// Runs `f` with `core` installed as the current simulation.
pub(crate) fn enter<R>(core: &Core, f: impl FnOnce() -> R) -> R {
    CORE.set(core, f)
}

/// Calls `f` with the current simulation; panics with a clear message outside one.
#[track_caller]
#[inline]
pub(crate) fn with<R>(f: impl FnOnce(&Core) -> R) -> R {
    if !CORE.is_set() {
        panic!("detsim: this must be called from inside a simulation (Sim::run); no simulation is running on this thread");
    }
    CORE.with(f)
}

/// Calls `f` with the current simulation, if any.
#[inline]
pub(crate) fn try_with<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    CORE.is_set().then(|| CORE.with(f))
}
