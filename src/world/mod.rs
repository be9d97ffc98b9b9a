//! The simulated world: nodes, network, fault plans — state the runtime owns per run.
//!
//! - `ctx.rs` — the narrow interface to the runtime (now, arm, choose, emit, spawn).
//! - `node.rs` — nodes: create, crash, restart, pause, resume, `current()`.
//! - `clock.rs` — per-node wall clocks ([`clock::SystemTime`]) with skew and drift.
//! - `link.rs` — per-link configuration, latency models, partitions and clogs.
//! - `net/` — `TcpListener`, `TcpStream`, `UdpSocket`.
//! - `fault/` — `FaultPlan`, its executor, `buggify!`, injected delays, liveness.
//!
//! Rules (after FoundationDB's sim2 and madsim):
//! 1. **A node is a tag, not a thread.** Each task carries a node id inherited from its
//!    spawner; the world keeps one [`node::NodeState`] per node.
//! 2. **World events are timers without wakers.** A delivery or a fault is an [`Action`]
//!    in a slab, armed in the run's timer structure as `TimerWaker::World(token)`, so
//!    virtual time, same-instant ordering (the `Timer` choice) and replay need nothing new.
//! 3. **Fault choices are encoded so that 0 is benign** (`ctx::fault`, `ctx::extra`).
//! 4. **Crash bumps the incarnation**: deliveries and repairs addressed to an older
//!    incarnation are ignored rather than tracked down.
//! 5. No `RefCell` of the world is borrowed while a waker is called or a task spawned.

pub(crate) mod clock;
pub(crate) mod ctx;
pub mod fault;
pub(crate) mod link;
pub mod net;
pub mod node;

use crate::config::Config;
use crate::runtime::core::{Core, Sched};
use std::cell::{Cell, RefCell};
use std::fmt;

/// Something the world does at a virtual instant.
pub(crate) enum Action {
    /// A stream segment (or control message) arrives at one end of a connection.
    Segment(net::tcp::Segment),
    /// A stream's held segments time out unless the partition healed meanwhile.
    Stall { conn: u32, end: u8, since: u64 },
    /// A datagram arrives.
    Datagram(net::udp::Datagram),
    /// Anything else (faults, repairs): a closure.
    Call(Box<dyn FnOnce(&Core)>),
}

/// Pending world events, by token.
#[derive(Default)]
pub(crate) struct Actions {
    slots: Vec<Option<Action>>,
    free: Vec<u32>,
}

impl Actions {
    fn insert(&mut self, action: Action) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(action);
                i
            }
            None => {
                self.slots.push(Some(action));
                self.slots.len() as u32 - 1
            }
        }
    }

    fn take(&mut self, token: u32) -> Option<Action> {
        let a = self.slots.get_mut(token as usize)?.take();
        if a.is_some() {
            self.free.push(token);
        }
        a
    }
}

/// The world of one run.
pub(crate) struct World {
    pub(crate) nodes: RefCell<node::Nodes>,
    /// Number of paused nodes (the step loop's fast path checks it every step).
    paused: Cell<usize>,
    /// The node the next spawned task belongs to, if not its spawner's.
    spawn_node: Cell<Option<u32>>,
    actions: RefCell<Actions>,
    pub(crate) links: RefCell<link::Links>,
    pub(crate) net: RefCell<net::Net>,
    pub(crate) faults: RefCell<fault::FaultState>,
    /// Faults injected so far (`Stats::faults`).
    pub(crate) faults_injected: Cell<u64>,
    /// The profile's injected-delay probability while faults are active, else 0
    /// (checked on every wake, so it is a `Cell`, not behind the `faults` borrow).
    pub(crate) delay_p: Cell<f64>,
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
            actions: RefCell::new(Actions::default()),
            links: RefCell::new(link::Links::default()),
            net: RefCell::new(net::Net::default()),
            faults: RefCell::new(fault::FaultState::new(config.faults.clone())),
            faults_injected: Cell::new(0),
            delay_p: Cell::new(0.0),
        }
    }

    /// True if some node is paused.
    #[inline(always)]
    pub(crate) fn any_paused(&self) -> bool {
        self.paused.get() != 0
    }

    /// `candidates` (indices into the ready list) without tasks of paused nodes.
    pub(crate) fn unpaused(&self, sched: &Sched, candidates: Vec<u32>) -> Vec<u32> {
        if !self.any_paused() {
            return candidates;
        }
        let nodes = self.nodes.borrow();
        let mut candidates = candidates;
        candidates.retain(|&i| {
            let task = sched.ready[i as usize].task;
            !nodes.is_paused(sched.tasks[task as usize].node)
        });
        candidates
    }

    pub(crate) fn take_spawn_node(&self) -> Option<u32> {
        self.spawn_node.take()
    }

    fn set_spawn_node(&self, node: u32) {
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
pub(crate) fn start(core: &Core, nodes: Vec<node::NodeSpec>) {
    for spec in nodes {
        spec.create(core);
    }
    fault::exec::start(core);
}

/// Runs the world event `token` (called by the step loop when its timer fires).
pub(crate) fn fire(core: &Core, token: u32) {
    let action = core.world.actions.borrow_mut().take(token);
    let Some(action) = action else { return };
    if ctx::closed(core) {
        return;
    }
    match action {
        Action::Segment(s) => net::tcp::deliver(core, s),
        Action::Stall { conn, end, since } => net::tcp::stall_timeout(core, conn, end, since),
        Action::Datagram(d) => net::udp::deliver(core, d),
        Action::Call(f) => f(core),
    }
}
