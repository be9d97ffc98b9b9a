//! tokio's `sync` module: [`detsim::sync`], which implements all of it with tokio's
//! semantics (FIFO fairness, permits, lagging broadcast receivers, ...) and a
//! deterministic wake order.

pub use detsim::sync::*;

/// tokio's path for the `Notified` future.
pub mod futures {
    pub use detsim::sync::Notified;
}
