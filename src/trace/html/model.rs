//! The timeline's model: what the page draws, computed here so that tests can check it
//! and the script only has to render and react.
//!
//! - *lanes*: one per worker, then (in runs with nodes) one per node, `n0` first;
//! - *bars*: a poll (zero virtual time: drawn a few pixels wide) or a burn (its virtual
//!   duration) in its worker's lane and, with nodes, in its task's node lane;
//! - *marks*: world events (send, deliver, drop, duplicate, crash, restart, pause,
//!   resume, partition, heal, fault) in the lane of the node they concern;
//! - *arrows*: a wake (the waking event to the woken task's next poll), a timer (where
//!   it was armed to the poll its firing caused, with the firing marked on the way) and
//!   a message (send to its delivery, or to its drop);
//! - *regions*: a node down (crash to restart), paused, or partitioned from a peer;
//! - the failure (its event, message and task).
//!
//! Events carry no message id, so a delivery is paired with the oldest undelivered send
//! of the same protocol, endpoints and size (FIFO); a delivery with no send (the reset
//! a crash sends its peers) starts at the sender's crash. That is exact for one stream per node
//! pair (segments arrive in order); reordered datagrams of equal size are drawn as if
//! delivered in order. Everything refers to events by their index in `ev`, whose
//! columns give step, time, worker, task and node.

use super::super::{text, view::is_world, Event, EventKind, Proto, TaskInfo, Trace};
use serde::Serialize;
use std::collections::BTreeMap;

/// At most this many events (the last ones: the failure is at the end) go into a page.
pub(crate) const MAX_EVENTS: usize = 300_000;

/// Mark kinds (indices into the script's `MARKS` table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Mark {
    Send = 0,
    Deliver = 1,
    Drop = 2,
    Duplicate = 3,
    Crash = 4,
    Restart = 5,
    Pause = 6,
    Resume = 7,
    Partition = 8,
    Heal = 9,
    Fault = 10,
    /// A disk operation that succeeded.
    Disk = 11,
    /// A disk operation that returned an error.
    DiskError = 12,
}

/// Arrow kinds (indices into the script's `ARROWS` table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Arrow {
    Wake = 0,
    Message = 1,
    Dropped = 2,
    /// A timer: armed by a task (`timer set`), to the poll its firing caused; `via` is
    /// the `timer fire` event.
    Timer = 3,
}

/// Region kinds (indices into the script's `REGIONS` table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Region {
    Down = 0,
    Paused = 1,
    Partitioned = 2,
}

#[derive(Serialize, Debug)]
pub(crate) struct Lane {
    pub kind: &'static str,
    pub id: u32,
    pub label: String,
}

#[derive(Serialize, Debug)]
pub(crate) struct NodeRow {
    pub id: u32,
    pub name: String,
    pub ip: String,
}

/// The events, by column.
#[derive(Serialize, Default, Debug)]
pub(crate) struct Events {
    pub step: Vec<u64>,
    pub t: Vec<u64>,
    /// Worker, or -1.
    pub w: Vec<i32>,
    /// Task, or -1.
    pub task: Vec<i64>,
    /// Node, or -1.
    pub node: Vec<i64>,
    /// The text form of each event (the event list).
    pub lines: Vec<String>,
}

#[derive(Serialize, Default, Debug)]
pub(crate) struct Bars {
    pub lane: Vec<u32>,
    pub ev: Vec<u32>,
    /// End time: the poll's own time, or the end of a burn.
    pub end: Vec<u64>,
    pub task: Vec<u32>,
    /// 1 for a burn.
    pub burn: Vec<u8>,
}

#[derive(Serialize, Default, Debug)]
pub(crate) struct Marks {
    pub lane: Vec<u32>,
    pub ev: Vec<u32>,
    pub kind: Vec<u8>,
}

#[derive(Serialize, Default, Debug)]
pub(crate) struct Arrows {
    pub kind: Vec<u8>,
    pub from_lane: Vec<u32>,
    pub from_ev: Vec<u32>,
    pub to_lane: Vec<u32>,
    pub to_ev: Vec<u32>,
    /// An event on the way (a timer's firing), or -1.
    pub via: Vec<i64>,
}

#[derive(Serialize, Default, Debug)]
pub(crate) struct Regions {
    pub lane: Vec<u32>,
    pub kind: Vec<u8>,
    pub from_ev: Vec<u32>,
    /// Ending event, or -1: until the end of the trace.
    pub to_ev: Vec<i64>,
    pub label: Vec<String>,
}

#[derive(Serialize, Debug)]
pub(crate) struct FailureMark {
    pub ev: u32,
    pub message: String,
    pub task: Option<u32>,
}

/// Everything the page draws.
#[derive(Serialize, Debug)]
pub(crate) struct Model {
    pub seed: String,
    pub fingerprint: String,
    pub workers: u32,
    pub lanes: Vec<Lane>,
    pub nodes: Vec<NodeRow>,
    pub tasks: Vec<TaskInfo>,
    pub ev: Events,
    pub bars: Bars,
    pub marks: Marks,
    pub arrows: Arrows,
    pub regions: Regions,
    pub failure: Option<FailureMark>,
    /// Events left out at the start (over [`MAX_EVENTS`]).
    pub skipped: usize,
    pub total: usize,
}

impl Model {
    pub(crate) fn of(trace: &Trace) -> Model {
        let skipped = trace.len().saturating_sub(MAX_EVENTS);
        let events: Vec<Event> = trace.events().skip(skipped).collect();
        let workers = events
            .iter()
            .filter_map(|e| e.worker)
            .max()
            .map_or(1, |w| w as u32 + 1);
        let nodes: Vec<NodeRow> = std::iter::once(NodeRow {
            id: 0,
            name: "main".into(),
            ip: String::new(),
        })
        .chain(trace.nodes.iter().map(|n| NodeRow {
            id: n.id,
            name: n.name.clone(),
            ip: n.ip.clone(),
        }))
        .collect();
        let with_nodes = !trace.nodes.is_empty();
        let mut lanes: Vec<Lane> = (0..workers)
            .map(|w| Lane {
                kind: "worker",
                id: w,
                label: format!("worker {w}"),
            })
            .collect();
        if with_nodes {
            lanes.extend(nodes.iter().map(|n| Lane {
                kind: "node",
                id: n.id,
                label: format!("n{} {}", n.id, n.name),
            }));
        }
        let mut b = Builder {
            trace,
            events: &events,
            workers,
            node_ids: nodes.iter().map(|n| n.id).collect(),
            with_nodes,
            bars: Bars::default(),
            marks: Marks::default(),
            arrows: Arrows::default(),
            regions: Regions::default(),
        };
        b.bars();
        b.wakes();
        if with_nodes {
            b.world();
        }
        let failure = events.iter().enumerate().find_map(|(i, e)| match &e.kind {
            EventKind::Failure { message } => Some(FailureMark {
                ev: i as u32,
                message: message.clone(),
                task: e.task,
            }),
            _ => None,
        });
        let (bars, marks, arrows, regions) = (b.bars, b.marks, b.arrows, b.regions);
        Model {
            seed: trace.seed.to_string(),
            fingerprint: format!("{:016x}", trace.fingerprint),
            workers,
            lanes,
            nodes,
            tasks: trace.tasks.to_vec(),
            ev: columns(trace, &events),
            bars,
            marks,
            arrows,
            regions,
            failure,
            skipped,
            total: trace.len(),
        }
    }
}

fn columns(trace: &Trace, events: &[Event]) -> Events {
    let mut c = Events::default();
    for e in events {
        c.step.push(e.step);
        c.t.push(e.time_ns);
        c.w.push(e.worker.map_or(-1, i32::from));
        c.task.push(e.task.map_or(-1, i64::from));
        c.node.push(trace.event_node(e).map_or(-1, i64::from));
        let mut line = String::new();
        text::write_event(&mut line, trace, e);
        c.lines.push(line.trim_end().to_string());
    }
    c
}

struct Builder<'a> {
    trace: &'a Trace,
    events: &'a [Event],
    workers: u32,
    node_ids: Vec<u32>,
    with_nodes: bool,
    bars: Bars,
    marks: Marks,
    arrows: Arrows,
    regions: Regions,
}

impl Builder<'_> {
    /// The lane of node `n` (nodes follow the workers).
    fn node_lane(&self, n: u32) -> Option<u32> {
        let i = self.node_ids.iter().position(|&id| id == n)?;
        self.with_nodes.then_some(self.workers + i as u32)
    }

    fn task_node(&self, task: u32) -> u32 {
        self.trace.tasks.get(task as usize).map_or(0, |t| t.node)
    }

    fn bar(&mut self, lane: u32, ev: usize, end: u64, task: u32, burn: bool) {
        self.bars.lane.push(lane);
        self.bars.ev.push(ev as u32);
        self.bars.end.push(end);
        self.bars.task.push(task);
        self.bars.burn.push(burn as u8);
    }

    /// A bar per poll and per burn, in the worker's lane and the task's node lane.
    fn bars(&mut self) {
        for (i, e) in self.events.iter().enumerate() {
            let (Some(task), Some(w)) = (e.task, e.worker) else {
                continue;
            };
            let (end, burn) = match e.kind {
                EventKind::Poll => (e.time_ns, false),
                EventKind::Burn { duration_ns } => (e.time_ns.saturating_add(duration_ns), true),
                _ => continue,
            };
            self.bar(w as u32, i, end, task, burn);
            if let Some(lane) = self.node_lane(self.task_node(task)) {
                self.bar(lane, i, end, task, burn);
            }
        }
    }

    fn arrow(&mut self, kind: Arrow, from: (u32, usize), to: (u32, usize)) {
        self.arrows.kind.push(kind as u8);
        self.arrows.from_lane.push(from.0);
        self.arrows.from_ev.push(from.1 as u32);
        self.arrows.to_lane.push(to.0);
        self.arrows.to_ev.push(to.1 as u32);
        self.arrows.via.push(-1);
    }

    /// The lane an event is drawn in: its worker's, else its node's.
    fn lane_of(&self, e: &Event) -> Option<u32> {
        match e.worker {
            Some(w) => Some(w as u32),
            None => self.node_lane(self.trace.event_node(e)?),
        }
    }

    /// A wake arrow from each wake to the woken task's next poll. A wake outside any
    /// worker (by a timer or a delivery) starts at the world event just before it in
    /// the same step, if any.
    fn wakes(&mut self) {
        let n = self.events.len();
        let mut next_poll: Vec<Option<usize>> = vec![None; self.trace.tasks.len()];
        let mut targets: Vec<Option<usize>> = vec![None; n];
        for i in (0..n).rev() {
            let e = &self.events[i];
            match e.kind {
                EventKind::TimerFire { .. } => {
                    targets[i] = e
                        .task
                        .and_then(|t| next_poll.get(t as usize).copied().flatten());
                }
                EventKind::Poll => {
                    if let Some(slot) = e.task.and_then(|t| next_poll.get_mut(t as usize)) {
                        *slot = Some(i);
                    }
                }
                EventKind::Wake { target } => {
                    targets[i] = next_poll.get(target as usize).copied().flatten();
                }
                _ => {}
            }
        }
        // Armed timers by (task, deadline): the latest set is the one that fires.
        let mut armed: BTreeMap<(u32, u64), Vec<usize>> = BTreeMap::new();
        for (i, to) in targets.into_iter().enumerate() {
            match (&self.events[i].kind, self.events[i].task) {
                (EventKind::TimerSet { deadline_ns }, Some(t)) => {
                    armed.entry((t, *deadline_ns)).or_default().push(i)
                }
                (EventKind::TimerFire { deadline_ns }, Some(t)) => {
                    let set = armed.get_mut(&(t, *deadline_ns)).and_then(|v| v.pop());
                    if let (Some(set), Some(to)) = (set, to) {
                        self.timer(set, i, to);
                    }
                    continue;
                }
                _ => {}
            }
            let Some(to) = to else { continue };
            let source = match self.events[i].worker {
                Some(_) => Some(i),
                None => (i > 0 && self.events[i - 1].step == self.events[i].step)
                    .then(|| i - 1)
                    .filter(|&p| {
                        is_world(&self.events[p].kind)
                            || matches!(self.events[p].kind, EventKind::TimerFire { .. })
                    }),
            };
            let from = source.and_then(|s| Some((self.lane_of(&self.events[s])?, s)));
            let to_lane = self.events[to].worker.map(u32::from);
            if let (Some(from), Some(to_lane)) = (from, to_lane) {
                self.arrow(Arrow::Wake, from, (to_lane, to));
            }
        }
    }

    /// A timer arrow from `set` (on its worker) to the poll `to`, via the firing `fire`.
    fn timer(&mut self, set: usize, fire: usize, to: usize) {
        let (Some(a), Some(b)) = (self.events[set].worker, self.events[to].worker) else {
            return;
        };
        self.arrow(Arrow::Timer, (a as u32, set), (b as u32, to));
        *self.arrows.via.last_mut().expect("just pushed") = fire as i64;
    }

    fn mark(&mut self, node: u32, ev: usize, kind: Mark) {
        if let Some(lane) = self.node_lane(node) {
            self.marks.lane.push(lane);
            self.marks.ev.push(ev as u32);
            self.marks.kind.push(kind as u8);
        }
    }

    fn region(&mut self, node: u32, kind: Region, from: usize, to: Option<usize>, label: String) {
        if let Some(lane) = self.node_lane(node) {
            self.regions.lane.push(lane);
            self.regions.kind.push(kind as u8);
            self.regions.from_ev.push(from as u32);
            self.regions.to_ev.push(to.map_or(-1, |t| t as i64));
            self.regions.label.push(label);
        }
    }

    /// Marks, message arrows and regions for the world events.
    fn world(&mut self) {
        for m in pair_messages(self.events) {
            let kind = if m.dropped {
                Arrow::Dropped
            } else {
                Arrow::Message
            };
            self.message(kind, m.from_ev, m.from_node, m.to_ev, m.to_node);
        }
        // Open regions: (node, kind, peer, from event).
        let mut open: Vec<(u32, Region, u32, usize)> = Vec::new();
        for (i, e) in self.events.iter().enumerate() {
            match e.kind {
                EventKind::NetSend { from, .. } => self.mark(from, i, Mark::Send),
                EventKind::NetDuplicate { to, .. } => self.mark(to, i, Mark::Duplicate),
                EventKind::NetDeliver { to, .. } => self.mark(to, i, Mark::Deliver),
                EventKind::NetDrop { to, .. } => self.mark(to, i, Mark::Drop),
                EventKind::NodeCrash { node } => {
                    self.mark(node, i, Mark::Crash);
                    open.push((node, Region::Down, 0, i));
                }
                EventKind::NodeRestart { node } => {
                    self.mark(node, i, Mark::Restart);
                    self.close(&mut open, node, Region::Down, 0, i, "down".into());
                }
                EventKind::NodePause { node } => {
                    self.mark(node, i, Mark::Pause);
                    open.push((node, Region::Paused, 0, i));
                }
                EventKind::NodeResume { node } => {
                    self.mark(node, i, Mark::Resume);
                    self.close(&mut open, node, Region::Paused, 0, i, "paused".into());
                }
                EventKind::Partition { from, to } => {
                    self.mark(from, i, Mark::Partition);
                    open.push((from, Region::Partitioned, to, i));
                }
                EventKind::Heal { from, to } => {
                    self.mark(from, i, Mark::Heal);
                    let label = self.cut_label(to);
                    self.close(&mut open, from, Region::Partitioned, to, i, label);
                }
                EventKind::Fault { node, .. } => self.mark(node, i, Mark::Fault),
                EventKind::Disk { node, result, .. } => {
                    let mark = match result {
                        crate::trace::DiskResult::Ok => Mark::Disk,
                        _ => Mark::DiskError,
                    };
                    self.mark(node, i, mark);
                }
                _ => {}
            }
        }
        for (node, kind, peer, from) in open {
            let label = match kind {
                Region::Down => "down".into(),
                Region::Paused => "paused".into(),
                Region::Partitioned => self.cut_label(peer),
            };
            self.region(node, kind, from, None, label);
        }
    }

    fn cut_label(&self, peer: u32) -> String {
        format!("cut off from n{peer}:{}", self.trace.node_name(peer))
    }

    #[allow(clippy::too_many_arguments)]
    fn close(
        &mut self,
        open: &mut Vec<(u32, Region, u32, usize)>,
        node: u32,
        kind: Region,
        peer: u32,
        at: usize,
        label: String,
    ) {
        if let Some(p) = open
            .iter()
            .position(|o| o.0 == node && o.1 == kind && o.2 == peer)
        {
            let from = open.remove(p).3;
            self.region(node, kind, from, Some(at), label);
        }
    }

    fn message(&mut self, kind: Arrow, send: usize, from: u32, at: usize, to: u32) {
        if let (Some(a), Some(b)) = (self.node_lane(from), self.node_lane(to)) {
            self.arrow(kind, (a, send), (b, at));
        }
    }
}

/// A message as the timeline draws it: from its send (or, for a crash's reset, the
/// crash) to its delivery or drop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Message {
    pub from_ev: usize,
    pub to_ev: usize,
    pub from_node: u32,
    pub to_node: u32,
    pub dropped: bool,
}

/// A send still in flight, for pairing: its event and key.
struct InFlight {
    ev: usize,
    key: (Proto, u32, u32, u32),
    step: u64,
}

/// Pairs each delivery and drop with its send (see the module doc for the rule).
/// A stream segment lost as it is sent is retransmitted (still in flight); a datagram
/// lost then is gone; a duplicate adds a second copy in flight.
pub(crate) fn pair_messages(events: &[Event]) -> Vec<Message> {
    let mut out = Vec::new();
    let mut flight: Vec<InFlight> = Vec::new();
    let mut crashed: Vec<(u32, usize)> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let (proto, from, to, bytes, dropped) = match e.kind {
            EventKind::NetSend {
                proto,
                from,
                to,
                bytes,
            } => {
                let key = (proto, from, to, bytes);
                flight.push(InFlight {
                    ev: i,
                    key,
                    step: e.step,
                });
                continue;
            }
            EventKind::NetDuplicate {
                proto,
                from,
                to,
                bytes,
            } => {
                let key = (proto, from, to, bytes);
                if let Some(f) = flight.iter().rev().find(|f| f.key == key) {
                    let (ev, step) = (f.ev, f.step);
                    flight.push(InFlight { ev, key, step });
                }
                continue;
            }
            EventKind::NodeCrash { node } => {
                crashed.push((node, i));
                continue;
            }
            EventKind::NetDeliver {
                proto,
                from,
                to,
                bytes,
            } => (proto, from, to, bytes, false),
            EventKind::NetDrop {
                proto,
                from,
                to,
                bytes,
            } => (proto, from, to, bytes, true),
            _ => continue,
        };
        let key = (proto, from, to, bytes);
        let taken = if dropped {
            // Dropped as it is sent: the latest send of this step.
            let latest = flight
                .iter()
                .rposition(|f| f.key == key && f.step == e.step);
            match (latest, proto) {
                (Some(_), Proto::Tcp) => None,
                (Some(p), Proto::Udp) => Some(p),
                (None, _) => flight.iter().position(|f| f.key == key),
            }
        } else {
            flight.iter().position(|f| f.key == key)
        };
        let from_ev = match taken {
            Some(p) => Some(flight.remove(p).ev),
            // A crash resets its connections without a send: the reset comes from
            // the crash.
            None if !dropped => crashed.iter().rev().find(|c| c.0 == from).map(|c| c.1),
            None => None,
        };
        if let Some(from_ev) = from_ev {
            out.push(Message {
                from_ev,
                to_ev: i,
                from_node: from,
                to_node: to,
                dropped,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(step: u64, kind: EventKind) -> Event {
        Event {
            step,
            time_ns: step * 1000,
            worker: None,
            task: None,
            kind,
        }
    }

    fn net(f: fn(Proto, u32, u32, u32) -> EventKind, proto: Proto, bytes: u32) -> EventKind {
        f(proto, 1, 2, bytes)
    }

    fn send(p: Proto, from: u32, to: u32, bytes: u32) -> EventKind {
        EventKind::NetSend {
            proto: p,
            from,
            to,
            bytes,
        }
    }
    fn deliver(p: Proto, from: u32, to: u32, bytes: u32) -> EventKind {
        EventKind::NetDeliver {
            proto: p,
            from,
            to,
            bytes,
        }
    }
    fn drop_(p: Proto, from: u32, to: u32, bytes: u32) -> EventKind {
        EventKind::NetDrop {
            proto: p,
            from,
            to,
            bytes,
        }
    }
    fn dup(p: Proto, from: u32, to: u32, bytes: u32) -> EventKind {
        EventKind::NetDuplicate {
            proto: p,
            from,
            to,
            bytes,
        }
    }

    fn pairs(events: &[Event]) -> Vec<(usize, usize, bool)> {
        pair_messages(events)
            .iter()
            .map(|m| (m.from_ev, m.to_ev, m.dropped))
            .collect()
    }

    #[test]
    fn a_duplicated_datagram_is_two_deliveries_of_one_send() {
        let (u, t) = (Proto::Udp, Proto::Tcp);
        let events = [
            ev(1, net(send, u, 8)),
            ev(1, net(dup, u, 8)),
            ev(2, net(send, t, 8)), // same endpoints and size, other protocol
            ev(3, net(deliver, u, 8)),
            ev(4, net(deliver, t, 8)),
            ev(5, net(deliver, u, 8)),
        ];
        assert_eq!(
            pairs(&events),
            [(0, 3, false), (2, 4, false), (0, 5, false)]
        );
    }

    #[test]
    fn a_lost_segment_stays_in_flight_and_a_lost_datagram_is_gone() {
        let (u, t) = (Proto::Udp, Proto::Tcp);
        let events = [
            ev(1, net(send, t, 4)),
            ev(1, net(drop_, t, 4)), // lost once, retransmitted
            ev(2, net(send, u, 4)),
            ev(2, net(drop_, u, 4)), // lost for good
            ev(3, net(deliver, t, 4)),
            ev(4, net(send, u, 4)),
            ev(5, net(drop_, u, 4)), // lost on arrival (no socket)
        ];
        assert_eq!(pairs(&events), [(2, 3, true), (0, 4, false), (5, 6, true)]);
    }

    #[test]
    fn a_reset_without_a_send_comes_from_the_crash() {
        let events = [
            ev(1, EventKind::NodeCrash { node: 1 }),
            ev(2, net(deliver, Proto::Tcp, 0)),
            ev(3, deliver(Proto::Tcp, 3, 2, 0)), // no send, no crash: no arrow
        ];
        assert_eq!(pairs(&events), [(0, 1, false)]);
    }
}
