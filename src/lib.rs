//! # detsim — deterministic simulation testing for async Rust
//!
//! detsim runs an async program on a seeded, virtual-time, multi-worker runtime. Every
//! source of nondeterminism — which task runs next, on which worker, the order of timers
//! due at the same instant, what [`rand`] returns — is one recorded *choice* drawn from
//! one ChaCha stream. A seed therefore reproduces a run exactly, and a recorded
//! [`Schedule`] replays it even without the seed.
//!
//! ```
//! use detsim::{Config, Sim, Failure};
//! use std::time::Duration;
//!
//! let out = Sim::new(Config::default().seed(1)).run(async {
//!     let (tx, rx) = detsim::sync::oneshot::channel::<u32>();
//!     detsim::spawn(async move {
//!         detsim::time::sleep(Duration::from_secs(60)).await;
//!         tx.send(7).unwrap();
//!     });
//!     rx.await.unwrap()
//! });
//! assert_eq!(out.result.unwrap(), 7);
//! assert_eq!(out.stats.elapsed, Duration::from_secs(60)); // virtual, took microseconds
//! ```
//!
//! ## Debugging a failed run
//! 1. Note the seed in the failure report and re-run with the same [`Config`]: the
//!    trace ([`Outcome::trace`], `Display`) is identical.
//! 2. Or replay the [`Outcome::schedule`] with [`Sim::replay`]: it stops with
//!    [`Failure::Divergence`] at the first choice the changed program no longer makes.

#![warn(missing_docs, unreachable_pub, missing_debug_implementations)]

mod choice;
#[cfg(feature = "cli")]
pub mod cli;
mod config;
pub mod env;
pub mod explore;
pub mod guards;
pub mod harness;
mod hash;
mod quote;
pub mod rand;
mod runtime;
mod scenario;
pub mod scenarios;
mod seed;
#[cfg(feature = "snapshot")]
pub mod snapshot;
mod spare;
mod spec;
mod store;
mod strategy;
pub mod sync;
pub mod task;
mod task_id;
pub mod time;
pub mod trace;
mod tracing_layer;
mod world;

pub use world::{fault, fs, net, node};

pub use detsim_macros::{main, test};

pub use choice::{
    Choice, ChoiceKind, Chooser, Divergence, RecordedSchedule, Schedule, StrategyRng,
};
pub use config::{Config, ConfigError, TraceMode};
pub use harness::{check, Check};
pub use runtime::{
    spawn, spawn_named, AbortHandle, Failure, JoinError, JoinHandle, Outcome, Sim, Stats, TaskId,
    TaskRef,
};
pub use scenario::Scenario;
pub use seed::{Seed, SeedError};
pub use trace::Trace;
