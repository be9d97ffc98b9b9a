//! The simulated world: nodes, network, fault plans — state the runtime owns per run.
//!
//! - `ctx.rs` — the narrow interface to the runtime (now, arm, choose, emit, spawn).
//! - `node.rs` — nodes: create, crash, restart, pause, resume, `current()`.
//! - `clock.rs` — per-node wall clocks ([`clock::SystemTime`]) with skew and drift.
//! - `link.rs` — per-link configuration, latency models, partitions and clogs.
//! - `net/` — `TcpListener`, `TcpStream`, `UdpSocket`.
//! - `fault/` — `FaultPlan`, its executor, `buggify!`, injected delays, liveness.
//! - `fs/` — one simulated disk per node: page cache, durability, crash, disk faults.
//!
//! Rules (after FoundationDB's sim2 and madsim):
//! 1. **A node is a tag, not a thread.** Each task carries a node id inherited from its
//!    spawner; the world keeps one [`node::NodeState`] per node.
//! 2. **World events are timers without wakers.** A delivery or a fault is a closure
//!    armed in the run's timer structure (`context::arm_world`), so virtual time,
//!    same-instant ordering (the `Timer` choice) and replay need nothing new.
//! 3. **Fault choices are encoded so that 0 is benign** (`ctx::fault`, `ctx::extra`).
//! 4. **Crash bumps the incarnation**: deliveries and repairs addressed to an older
//!    incarnation are ignored rather than tracked down.
//! 5. No `RefCell` of the world is borrowed while a waker is called or a task spawned.
//! 6. The world reaches the runtime only through `runtime::context` (`ctx.rs` wraps
//!    it); the run owns the [`World`] and lends it out with `context::world`.

pub(crate) mod clock;
pub(crate) mod ctx;
pub mod fault;
pub mod fs;
pub(crate) mod link;
pub mod net;
pub mod node;

use crate::config::Config;
use std::cell::{Cell, RefCell};
use std::fmt;

/// The world of one run.
pub(crate) struct World {
    pub(crate) nodes: RefCell<node::Nodes>,
    /// Number of paused nodes (the step loop's fast path checks it every step).
    paused: Cell<usize>,
    /// The node the next spawned task belongs to, if not its spawner's.
    spawn_node: Cell<Option<u32>>,
    pub(crate) links: RefCell<link::Links>,
    pub(crate) net: RefCell<net::Net>,
    pub(crate) faults: RefCell<fault::FaultState>,
    /// Faults injected so far (`Stats::faults`).
    pub(crate) faults_injected: Cell<u64>,
    /// The profile's injected-delay probability while faults are active, else 0
    /// (checked on every wake, so it is a `Cell`, not behind the `faults` borrow).
    pub(crate) delay_p: Cell<f64>,
    /// Every node's simulated disk.
    pub(crate) disks: RefCell<fs::Disks>,
}

impl fmt::Debug for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("World")
            .field("nodes", &self.nodes.borrow().len())
            .finish()
    }
}

impl World {
    pub(crate) fn new(config: &Config) -> Self {
        World {
            nodes: RefCell::new(node::Nodes::new()),
            paused: Cell::new(0),
            spawn_node: Cell::new(None),
            links: RefCell::new(link::Links::default()),
            net: RefCell::new(net::Net::default()),
            faults: RefCell::new(fault::FaultState::new(config.faults.clone())),
            faults_injected: Cell::new(0),
            delay_p: Cell::new(0.0),
            disks: RefCell::new(fs::Disks::default()),
        }
    }

    /// True if some node is paused.
    #[inline(always)]
    pub(crate) fn any_paused(&self) -> bool {
        self.paused.get() != 0
    }

    /// True if `node` is paused (the step loop keeps its tasks out of the candidates).
    pub(crate) fn is_paused(&self, node: u32) -> bool {
        self.nodes.borrow().is_paused(node)
    }

    /// True while the fault plan injects delays into wake-ups.
    #[inline(always)]
    pub(crate) fn delays_on(&self) -> bool {
        self.delay_p.get() > 0.0
    }

    fn count_fault(&self) {
        self.faults_injected.set(self.faults_injected.get() + 1);
    }

    pub(crate) fn take_spawn_node(&self) -> Option<u32> {
        self.spawn_node.take()
    }

    pub(crate) fn set_spawn_node(&self, node: u32) {
        self.spawn_node.set(Some(node));
    }

    pub(crate) fn faults_injected(&self) -> u64 {
        self.faults_injected.get()
    }

    fn set_paused_count(&self, n: usize) {
        self.paused.set(n);
    }
}

/// Sets up the world when a run starts: nodes given to `Sim::node`, then the fault plan.
pub(crate) fn start(nodes: Vec<node::NodeSpec>) {
    crate::runtime::context::world(|w| {
        for spec in nodes {
            spec.create(w);
        }
        fault::exec::start(w);
    });
}
