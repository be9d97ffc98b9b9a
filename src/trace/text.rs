//! The text form of a trace: one line per event, stable across versions so snapshots
//! diff cleanly. Format: `step time worker task event`.

use super::{Event, EventKind, TaskInfo, Trace};
use std::fmt::{self, Write};

/// What rendering an event needs to know about tasks: the in-memory [`Trace`], or a
/// trace being streamed to a file (which keeps names only).
pub(super) trait TaskNames {
    /// The name of task `id`, or `"?"`.
    fn name(&self, id: u32) -> &str;
    /// Where task `id` was spawned, if known (asked only right after its spawn).
    fn spawned_at(&self, id: u32) -> &str;
    /// True if the run created nodes (the text form then has a node column).
    fn has_nodes(&self) -> bool {
        false
    }
    /// The node an event happened on.
    fn event_node(&self, _e: &Event) -> Option<u32> {
        None
    }
    /// The name of node `id`, or `"?"`.
    fn node_name(&self, _id: u32) -> &str {
        "?"
    }
}

impl TaskNames for Trace {
    fn name(&self, id: u32) -> &str {
        self.task_name(id)
    }

    fn spawned_at(&self, id: u32) -> &str {
        self.tasks.site(id).unwrap_or("?")
    }

    fn has_nodes(&self) -> bool {
        !self.nodes.is_empty()
    }

    fn event_node(&self, e: &Event) -> Option<u32> {
        Trace::event_node(self, e)
    }

    fn node_name(&self, id: u32) -> &str {
        Trace::node_name(self, id)
    }
}

/// The header line of the text form.
pub(super) fn write_header(out: &mut impl fmt::Write, seed: u64, fingerprint: u64) -> fmt::Result {
    writeln!(
        out,
        "# detsim trace v1 seed={seed} fingerprint={fingerprint:016x}"
    )
}

/// The line of one task in the text form's task table.
pub(super) fn write_task(out: &mut impl fmt::Write, t: &TaskInfo) -> fmt::Result {
    let parent = t.parent.map_or("-".to_string(), |p| format!("t{p}"));
    writeln!(
        out,
        "# task t{} {} parent={parent} at {}",
        t.id, t.name, t.spawned_at
    )
}

/// Formats virtual nanoseconds as seconds with nanosecond precision, e.g. `1.500000000s`.
pub(crate) fn fmt_time(ns: u64) -> String {
    format!("{}.{:09}s", ns / 1_000_000_000, ns % 1_000_000_000)
}

pub(super) fn write_event(out: &mut String, trace: &impl TaskNames, e: &Event) {
    let worker = e.worker.map_or("--".to_string(), |w| format!("w{w}"));
    let task = e
        .task
        .map_or("--".to_string(), |t| format!("t{t}:{}", trace.name(t)));
    let _ = write!(
        out,
        "{:>6} {:>16} {:>3} ",
        e.step,
        fmt_time(e.time_ns),
        worker
    );
    // The node column appears only in runs that created nodes, so single-process traces
    // (and their snapshots) keep their form.
    if trace.has_nodes() {
        let node = trace
            .event_node(e)
            .map_or("--".to_string(), |n| format!("n{n}"));
        let _ = write!(out, "{node:>4} ");
    }
    let _ = write!(out, "{task:<20} ");
    let name = |t: &u32| format!("t{t}:{}", trace.name(*t));
    let node = |n: &u32| format!("n{n}:{}", trace.node_name(*n));
    let _ = match &e.kind {
        EventKind::Spawn { child } => {
            let at = trace.spawned_at(*child);
            write!(out, "spawn {} at {at}", name(child))
        }
        EventKind::Poll => write!(out, "poll"),
        EventKind::Ready => write!(out, "-> ready"),
        EventKind::Pending => write!(out, "-> pending"),
        EventKind::Yield => write!(out, "-> pending, runnable again"),
        EventKind::Wake { target } => write!(out, "wake {}", name(target)),
        EventKind::Steal { from: Some(w) } => write!(out, "steal from w{w}"),
        EventKind::Steal { from: None } => write!(out, "take from global queue"),
        EventKind::TimerSet { deadline_ns } => write!(out, "timer set {}", fmt_time(*deadline_ns)),
        EventKind::TimerFire { deadline_ns } => {
            write!(out, "timer fire {}", fmt_time(*deadline_ns))
        }
        EventKind::Advance { to_ns } => write!(out, "advance to {}", fmt_time(*to_ns)),
        EventKind::Burn { duration_ns } => write!(out, "burn {}", fmt_time(*duration_ns)),
        EventKind::Abort { target } => write!(out, "abort {}", name(target)),
        EventKind::Choice { what, value } => write!(out, "choice {what} = {value}"),
        EventKind::Log { message } => write!(out, "log {}", message.replace('\n', " | ")),
        // One event per line, even for multi-line panic messages.
        EventKind::Failure { message } => write!(out, "FAILURE {}", message.replace('\n', " | ")),
        EventKind::NetSend {
            proto,
            from,
            to,
            bytes,
        } => net(out, "send", *proto, &node(from), &node(to), *bytes),
        EventKind::NetDeliver {
            proto,
            from,
            to,
            bytes,
        } => net(out, "deliver", *proto, &node(from), &node(to), *bytes),
        EventKind::NetDrop {
            proto,
            from,
            to,
            bytes,
        } => net(out, "DROP", *proto, &node(from), &node(to), *bytes),
        EventKind::NetDuplicate {
            proto,
            from,
            to,
            bytes,
        } => net(out, "DUPLICATE", *proto, &node(from), &node(to), *bytes),
        EventKind::NodeCrash { node: n } => write!(out, "CRASH {}", node(n)),
        EventKind::NodeRestart { node: n } => write!(out, "RESTART {}", node(n)),
        EventKind::NodePause { node: n } => write!(out, "PAUSE {}", node(n)),
        EventKind::NodeResume { node: n } => write!(out, "RESUME {}", node(n)),
        EventKind::Partition { from, to } => {
            write!(out, "PARTITION {} -x-> {}", node(from), node(to))
        }
        EventKind::Heal { from, to } => write!(out, "HEAL {} ---> {}", node(from), node(to)),
        EventKind::Fault {
            what,
            node: n,
            value,
        } => write!(out, "FAULT {what} {} {value}", node(n)),
        EventKind::Disk {
            node: n,
            op,
            path,
            offset,
            len,
            result,
        } => write!(
            out,
            "disk {} {} {path} @{offset}+{len} -> {}",
            op.name(),
            node(n),
            result.name()
        ),
    };
}

fn net(
    out: &mut String,
    verb: &str,
    proto: super::Proto,
    from: &str,
    to: &str,
    bytes: u32,
) -> fmt::Result {
    write!(out, "{verb} {} {from} -> {to} {bytes}B", proto.name())
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_header(f, self.seed, self.fingerprint)?;
        for n in &self.nodes {
            writeln!(f, "# node n{} {} {}", n.id, n.name, n.ip)?;
        }
        for t in &self.tasks {
            write_task(f, t)?;
        }
        let mut line = String::new();
        for e in self.events() {
            line.clear();
            write_event(&mut line, self, &e);
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}
