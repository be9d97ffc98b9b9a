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
}

impl TaskNames for Trace {
    fn name(&self, id: u32) -> &str {
        self.task_name(id)
    }

    fn spawned_at(&self, id: u32) -> &str {
        self.tasks
            .get(id as usize)
            .map_or("?", |t| t.spawned_at.as_str())
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
        "{:>6} {:>16} {:>3} {:<20} ",
        e.step,
        fmt_time(e.time_ns),
        worker,
        task
    );
    let name = |t: &u32| format!("t{t}:{}", trace.name(*t));
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
    };
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_header(f, self.seed, self.fingerprint)?;
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
