//! # tokio, on detsim
//!
//! This crate is named `tokio` and mirrors tokio's public paths, but every task, timer
//! and channel runs on detsim's deterministic simulation: tasks are scheduled by the
//! run's recorded choices, time is virtual, and `select!` picks its first branch with
//! a recorded choice. A program written for tokio compiles against it unchanged and can
//! then be explored seed by seed, replayed and shrunk.
//!
//! Select it in place of tokio in one crate (`tokio = { package = "tokio", path = ... }`)
//! or for a whole dependency tree (`[patch.crates-io] tokio = { path = ... }`); see
//! `README.md` beside this crate.
//!
//! ## What maps to what
//! - `spawn`, [`task`] — detsim tasks ([`detsim::task`]); `spawn_blocking` runs its
//!   closure as a task (see [`detsim::task::spawn_blocking`]).
//! - [`time`] — detsim's virtual time.
//! - [`sync`] — [`detsim::sync`], tokio's semantics, deterministic wake order.
//! - [`select!`] — tokio's syntax; the first branch polled is a recorded choice.
//! - [`runtime`], [`main`], [`test`] — `block_on` runs one simulation; `#[tokio::test]`
//!   runs a campaign of seeds (100 by default, `DETSIM_SEEDS` etc. apply).
//! - [`net`] — detsim's simulated network (host names are node names).
//! - [`io`] — tokio's io traits, extension traits, buffered wrappers, `split`, `copy`.
//! - [`fs`] — the node's simulated disk (only synced data survives a crash).
//! - Not here: `process`, `signal` — using them is a compile error naming the path.
//!
//! Modules: `runtime.rs` (Builder, Runtime, Handle), `task.rs`, `time.rs`, `sync.rs`,
//! `macros.rs` (select!, pin!, join!, try_join!), `net/`, `io/`, `fs/`.

#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

pub mod fs;
pub mod io;
mod macros;
pub mod net;
pub mod runtime;
pub mod sync;
pub mod task;
pub mod time;

pub use detsim::task_local;
pub use detsim_macros::{tokio_main as main, tokio_test as test};
pub use futures::{join, try_join};
pub use task::spawn;

/// What the facade's macros expand to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use detsim;
    pub use detsim_macros::select_impl;

    /// The branch `select!` polls first: a recorded choice inside a simulation, the
    /// first branch outside one.
    pub fn select_start(branches: usize) -> usize {
        detsim::rand::try_choose(branches).unwrap_or(0)
    }
}
