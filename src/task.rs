//! Tasks: spawning, joining, yielding, and declaring CPU work.

pub use crate::runtime::{
    burn, current_id, spawn, spawn_named, yield_now, Burn, JoinError, JoinHandle, TaskId, YieldNow,
};
