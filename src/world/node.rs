//! Nodes: named hosts with an IP address, each a tag on the tasks that run on it.
//!
//! `n0` is the main node: the test body and whatever it spawns run there. Other nodes are
//! created with an *init* future factory ([`Builder::build`], [`crate::Sim::node`]); the
//! init task and every task it spawns belong to the node.
//!
//! Operations, from the test body or any task:
//! 1. [`crash`]: the node's tasks are dropped at once in id order (their timers are
//!    released with them), its connections reset, its sockets closed, and its
//!    incarnation bumped so that deliveries and repairs aimed at the old incarnation are
//!    ignored; its disk keeps only its durable state (`fs`).
//! 2. [`restart`]: the init future is spawned again (a running node is crashed first).
//! 3. [`pause`] / [`resume`]: a paused node's tasks stay out of the step loop's candidates
//!    (timers that fire meanwhile only queue them), as a stopped process would.

use super::ctx;
use crate::runtime::context;
use crate::trace::{EventKind, NodeInfo};
use crate::world::World;
use futures::future::LocalBoxFuture;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::panic::Location;
use std::rc::Rc;

/// Identifies a node within its run (`n0` is the main node).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    /// The main node, where the test body runs.
    pub const MAIN: NodeId = NodeId(0);

    /// The numeric id.
    pub fn as_u32(self) -> u32 {
        self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

/// Whether a node's tasks run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeStatus {
    /// Running.
    Up,
    /// Running, but its tasks are not polled until [`resume`].
    Paused,
    /// Crashed: no tasks until [`restart`].
    Crashed,
}

pub(crate) type Init = Rc<dyn Fn() -> LocalBoxFuture<'static, ()>>;

/// One node's state.
pub(crate) struct NodeState {
    pub(crate) name: String,
    pub(crate) ip: IpAddr,
    pub(crate) status: NodeStatus,
    // invariant: bumped by every crash; world events carry the incarnation they target.
    pub(crate) incarnation: u32,
    /// Wall clock: offset from virtual time, in ns (skew plus clock jumps).
    pub(crate) clock_offset_ns: i64,
    /// Wall clock drift, in parts per million of elapsed virtual time.
    pub(crate) clock_drift_ppm: i64,
    init: Option<Init>,
    location: &'static Location<'static>,
    /// Next ephemeral port.
    pub(crate) next_port: u16,
}

/// Every node of a run, by id, with indexes by IP and name (lookups are per message,
/// so they must not cost O(nodes)).
pub(crate) struct Nodes {
    list: Vec<NodeState>,
    // invariant: the indexes hold every node but the main node `n0`, which the lookups
    // answer first (it is the first node with its name and IP): every run has it, and
    // most runs create no other, so building two maps for it would be per-run cost.
    by_ip: BTreeMap<IpAddr, u32>,
    // invariant: the first node with each name (names should be unique).
    by_name: BTreeMap<String, u32>,
}

impl Nodes {
    pub(crate) fn new() -> Self {
        Nodes {
            list: vec![NodeState {
                name: "main".into(),
                ip: ip_of(0),
                status: NodeStatus::Up,
                incarnation: 0,
                clock_offset_ns: 0,
                clock_drift_ppm: 0,
                init: None,
                location: Location::caller(),
                next_port: 49152,
            }],
            by_ip: BTreeMap::new(),
            by_name: BTreeMap::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    #[inline]
    pub(crate) fn is_paused(&self, node: u32) -> bool {
        self.list[node as usize].status == NodeStatus::Paused
    }

    pub(crate) fn get(&self, node: u32) -> &NodeState {
        &self.list[node as usize]
    }

    pub(crate) fn get_mut(&mut self, node: u32) -> &mut NodeState {
        &mut self.list[node as usize]
    }

    pub(crate) fn is_up(&self, node: u32) -> bool {
        self.list[node as usize].status != NodeStatus::Crashed
    }

    /// The node with this IP (loopback is the asking node).
    pub(crate) fn by_ip(&self, ip: IpAddr, asking: u32) -> Option<u32> {
        if ip.is_loopback() {
            return Some(asking);
        }
        if ip == self.list[0].ip {
            return Some(0);
        }
        self.by_ip.get(&ip).copied()
    }

    pub(crate) fn by_name(&self, name: &str) -> Option<u32> {
        if name == self.list[0].name {
            return Some(0);
        }
        self.by_name.get(name).copied()
    }

    fn push(&mut self, state: NodeState) -> u32 {
        let id = self.list.len() as u32;
        self.by_ip.entry(state.ip).or_insert(id);
        self.by_name.entry(state.name.clone()).or_insert(id);
        self.list.push(state);
        id
    }

    fn paused_count(&self) -> usize {
        self.list
            .iter()
            .filter(|n| n.status == NodeStatus::Paused)
            .count()
    }

    /// Ids of all nodes but main.
    pub(crate) fn ids(&self) -> impl Iterator<Item = u32> {
        1..self.list.len() as u32
    }
}

/// The default IP of node `id`: `10.0.0.1 + id` (main is `10.0.0.1`).
fn ip_of(id: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 0, 0, 1)) + id))
}

/// Configures a node before creating it with [`Builder::build`].
///
/// ```
/// use detsim::{Config, Sim, node};
/// let out = Sim::new(Config::default()).run(async {
///     let n = node::Builder::new("server").build(|| async {
///         assert_eq!(node::current().name(), "server");
///     });
///     detsim::time::sleep(std::time::Duration::from_millis(1)).await;
///     n.ip()
/// });
/// assert_eq!(out.result.unwrap().to_string(), "10.0.0.2");
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    name: String,
    ip: Option<IpAddr>,
    skew_ns: i64,
    drift_ppm: i64,
}

impl Builder {
    /// A node called `name` (names should be unique: `net` resolves `"name:port"`).
    pub fn new(name: impl Into<String>) -> Self {
        Builder {
            name: name.into(),
            ip: None,
            skew_ns: 0,
            drift_ppm: 0,
        }
    }

    /// Its IP address (default `10.0.0.1 + id`).
    pub fn ip(mut self, ip: IpAddr) -> Self {
        self.ip = Some(ip);
        self
    }

    /// Its wall clock's offset from true time, in nanoseconds (negative: behind).
    pub fn clock_skew_ns(mut self, ns: i64) -> Self {
        self.skew_ns = ns;
        self
    }

    /// Its wall clock's drift, in parts per million (100: gains 100 µs per second).
    pub fn clock_drift_ppm(mut self, ppm: i64) -> Self {
        self.drift_ppm = ppm;
        self
    }

    /// Creates the node and spawns `init()` on it; `init` runs again on each restart.
    #[track_caller]
    pub fn build<F, Fut>(self, init: F) -> Node
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let location = Location::caller();
        let init: Init = Rc::new(move || Box::pin(init()));
        context::world(|w| Node(create(w, self, init, location)))
    }
}

/// Creates a node (in the run of `core`) and spawns its init task.
pub(crate) fn create(
    w: &World,
    b: Builder,
    init: Init,
    location: &'static Location<'static>,
) -> NodeId {
    let id = {
        let mut nodes = w.nodes.borrow_mut();
        let id = nodes.len() as u32;
        nodes.push(NodeState {
            name: b.name.clone(),
            ip: b.ip.unwrap_or_else(|| ip_of(id)),
            status: NodeStatus::Up,
            incarnation: 0,
            clock_offset_ns: b.skew_ns,
            clock_drift_ppm: b.drift_ppm,
            init: Some(init),
            location,
            next_port: 49152,
        });
        id
    };
    let ip = w.nodes.borrow().get(id).ip.to_string();
    ctx::record_node(NodeInfo {
        id,
        name: b.name,
        ip,
    });
    spawn_init(w, id);
    NodeId(id)
}

fn spawn_init(w: &World, id: u32) {
    let (init, name, location) = {
        let nodes = w.nodes.borrow();
        let n = nodes.get(id);
        (n.init.clone(), n.name.clone(), n.location)
    };
    if let Some(init) = init {
        ctx::spawn_on(id, name.into(), location, init());
    }
}

/// A node given to `Sim::node`, created when the run starts.
pub(crate) struct NodeSpec {
    builder: Builder,
    init: std::sync::Arc<dyn Fn() -> LocalBoxFuture<'static, ()> + Send + Sync>,
    location: &'static Location<'static>,
}

impl fmt::Debug for NodeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeSpec")
            .field("name", &self.builder.name)
            .finish()
    }
}

impl NodeSpec {
    pub(crate) fn new<F, Fut>(
        builder: Builder,
        init: F,
        location: &'static Location<'static>,
    ) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let init = std::sync::Arc::new(move || -> LocalBoxFuture<'static, ()> { Box::pin(init()) });
        NodeSpec {
            builder,
            init,
            location,
        }
    }

    pub(crate) fn create(self, w: &World) -> NodeId {
        let init = self.init;
        let init: Init = Rc::new(move || init());
        create(w, self.builder, init, self.location)
    }
}

/// A handle to a node: its id and operations on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Node(NodeId);

impl Node {
    /// Its id.
    pub fn id(&self) -> NodeId {
        self.0
    }

    /// Its name.
    pub fn name(&self) -> String {
        context::world(|w| w.nodes.borrow().get(self.0 .0).name.clone())
    }

    /// Its IP address.
    pub fn ip(&self) -> IpAddr {
        context::world(|w| w.nodes.borrow().get(self.0 .0).ip)
    }

    /// Up, paused or crashed.
    pub fn status(&self) -> NodeStatus {
        context::world(|w| w.nodes.borrow().get(self.0 .0).status)
    }

    /// How many times it crashed.
    pub fn incarnation(&self) -> u32 {
        context::world(|w| w.nodes.borrow().get(self.0 .0).incarnation)
    }
}

/// The node of the calling task.
pub fn current() -> Node {
    Node(NodeId(ctx::current_node()))
}

/// The node called `name`, if any.
pub fn lookup(name: &str) -> Option<Node> {
    context::world(|w| w.nodes.borrow().by_name(name).map(|i| Node(NodeId(i))))
}

fn check(w: &World, node: NodeId, what: &str) -> u32 {
    let n = node.0;
    assert!(
        n != 0,
        "detsim::node::{what}: the main node n0 (the test body) cannot be {what}ed"
    );
    assert!(
        (n as usize) < w.nodes.borrow().len(),
        "detsim::node::{what}: no node {node} in this run"
    );
    n
}

/// Crashes `node` (see the module docs). A no-op on a crashed node.
pub fn crash(node: impl Into<NodeId>) {
    let node = node.into();
    context::world(|w| {
        let n = check(w, node, "crash");
        crash_in(w, n);
    });
}

pub(crate) fn crash_in(w: &World, n: u32) {
    {
        let mut nodes = w.nodes.borrow_mut();
        let state = nodes.get_mut(n);
        if state.status == NodeStatus::Crashed {
            return;
        }
        state.status = NodeStatus::Crashed;
        state.incarnation += 1;
        let paused = nodes.paused_count();
        w.set_paused_count(paused);
    }
    ctx::emit(EventKind::NodeCrash { node: n });
    super::net::crash(w, n);
    super::fs::crash(w, n);
    ctx::drop_tasks(n);
}

/// Restarts `node`: crashes it if it is running, then spawns its init future again.
pub fn restart(node: impl Into<NodeId>) {
    let node = node.into();
    context::world(|w| {
        let n = check(w, node, "restart");
        restart_in(w, n);
    });
}

pub(crate) fn restart_in(w: &World, n: u32) {
    crash_in(w, n);
    w.nodes.borrow_mut().get_mut(n).status = NodeStatus::Up;
    ctx::emit(EventKind::NodeRestart { node: n });
    spawn_init(w, n);
}

/// Pauses `node`: its tasks are not polled until [`resume`]. A no-op unless it is up.
pub fn pause(node: impl Into<NodeId>) {
    let node = node.into();
    context::world(|w| {
        let n = check(w, node, "pause");
        set_paused(w, n, true);
    });
}

/// Resumes a paused `node`.
pub fn resume(node: impl Into<NodeId>) {
    let node = node.into();
    context::world(|w| {
        let n = check(w, node, "resume");
        set_paused(w, n, false);
    });
}

pub(crate) fn set_paused(w: &World, n: u32, pause: bool) {
    let changed = {
        let mut nodes = w.nodes.borrow_mut();
        let state = nodes.get_mut(n);
        let (from, to) = match pause {
            true => (NodeStatus::Up, NodeStatus::Paused),
            false => (NodeStatus::Paused, NodeStatus::Up),
        };
        let changed = state.status == from;
        if changed {
            state.status = to;
        }
        let paused = nodes.paused_count();
        w.set_paused_count(paused);
        changed
    };
    if changed {
        let kind = match pause {
            true => EventKind::NodePause { node: n },
            false => EventKind::NodeResume { node: n },
        };
        ctx::emit(kind);
    }
}

impl From<Node> for NodeId {
    fn from(n: Node) -> NodeId {
        n.0
    }
}

impl From<&Node> for NodeId {
    fn from(n: &Node) -> NodeId {
        n.0
    }
}
