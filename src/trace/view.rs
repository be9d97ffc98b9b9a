//! [`TraceView`]: a filtered text form of a trace, so a snapshot shows what its test is
//! about (the network and faults of a distributed test, or one node) instead of every
//! poll.

use super::{text, EventKind, Trace};
use std::fmt;

/// A filtered view of a [`Trace`]; `Display` renders it in the text form.
///
/// ```
/// use detsim::{Config, Sim};
/// let out = Sim::new(Config::default().seed(1)).run(async {
///     detsim::node::Builder::new("peer").build(|| async {});
///     detsim::time::sleep(std::time::Duration::from_millis(1)).await;
/// });
/// let view = out.trace.view().world_only();
/// assert!(!view.to_string().contains(" poll"));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct TraceView<'a> {
    trace: &'a Trace,
    world_only: bool,
    node: Option<u32>,
}

impl Trace {
    /// A view of every event; narrow it with [`TraceView::world_only`] and
    /// [`TraceView::node`].
    pub fn view(&self) -> TraceView<'_> {
        TraceView {
            trace: self,
            world_only: false,
            node: None,
        }
    }
}

impl<'a> TraceView<'a> {
    /// Only network events (send, deliver, drop, duplicate), node events (crash,
    /// restart, pause, resume), partitions, heals, other faults, and the failure.
    pub fn world_only(mut self) -> Self {
        self.world_only = true;
        self
    }

    /// Only events on node `n` (its tasks' events, and world events it sends or
    /// receives or that affect it), and the failure.
    pub fn node(mut self, n: u32) -> Self {
        self.node = Some(n);
        self
    }

    fn keeps(&self, e: &super::Event) -> bool {
        if matches!(e.kind, EventKind::Failure { .. }) {
            return true;
        }
        if self.world_only && !is_world(&e.kind) {
            return false;
        }
        match self.node {
            Some(n) => self.trace.event_node(e) == Some(n) || involves(&e.kind, n),
            None => true,
        }
    }
}

/// True for the events of the simulated world.
pub(super) fn is_world(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::NetSend { .. }
            | EventKind::NetDeliver { .. }
            | EventKind::NetDrop { .. }
            | EventKind::NetDuplicate { .. }
            | EventKind::NodeCrash { .. }
            | EventKind::NodeRestart { .. }
            | EventKind::NodePause { .. }
            | EventKind::NodeResume { .. }
            | EventKind::Partition { .. }
            | EventKind::Heal { .. }
            | EventKind::Fault { .. }
            | EventKind::Disk { .. }
    )
}

/// True if a world event names node `n` as either end.
fn involves(kind: &EventKind, n: u32) -> bool {
    match kind {
        EventKind::NetSend { from, to, .. }
        | EventKind::NetDeliver { from, to, .. }
        | EventKind::NetDrop { from, to, .. }
        | EventKind::NetDuplicate { from, to, .. }
        | EventKind::Partition { from, to }
        | EventKind::Heal { from, to } => *from == n || *to == n,
        _ => false,
    }
}

impl fmt::Display for TraceView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.trace;
        let mut filter = Vec::new();
        if self.world_only {
            filter.push("world".to_string());
        }
        if let Some(n) = self.node {
            filter.push(format!("node=n{n}"));
        }
        writeln!(
            f,
            "# detsim trace v1 seed={} fingerprint={:016x} view={}",
            t.seed,
            t.fingerprint,
            if filter.is_empty() {
                "all".into()
            } else {
                filter.join(",")
            }
        )?;
        for n in &t.nodes {
            writeln!(f, "# node n{} {} {}", n.id, n.name, n.ip)?;
        }
        let mut line = String::new();
        for e in t.events().filter(|e| self.keeps(e)) {
            line.clear();
            text::write_event(&mut line, t, &e);
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}
