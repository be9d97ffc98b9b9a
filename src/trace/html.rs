//! A self-contained HTML timeline: one lane per worker, one box per poll (x = step),
//! colour per task, a grey bar while a worker is busy with a `burn`, a coloured line
//! across the lanes at each node crash, restart, pause, partition and heal, hover for
//! details; below the workers, a lane per node with a disk, one box per disk operation
//! (red when it failed); the text trace below it.

use super::{text::fmt_time, Event, EventKind, Trace};
use std::fmt::Write;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn colour(task: u32) -> String {
    format!("hsl({}, 65%, 55%)", (task.wrapping_mul(137)) % 360)
}

/// The trace as an HTML page.
///
/// ```
/// let out = detsim::Sim::new(detsim::Config::default()).run(async { detsim::task::yield_now().await });
/// assert!(detsim::trace::to_html(&out.trace).starts_with("<!DOCTYPE html>"));
/// ```
pub fn to_html(trace: &Trace) -> String {
    let layout = Layout::of(trace);
    let mut svg = lane_labels(&layout);
    svg += &event_marks(trace, &layout);
    svg += &disk_lanes(trace, &layout);
    page(trace, &layout, &legend(trace), &svg)
}

/// Lane height, cell width and left margin (for the lane labels) of the timeline, in px.
const LANE: u64 = 28;
const CELL: u64 = 8;
const MARGIN: u64 = 80;

/// The timeline's size: a lane per worker, a cell per step.
struct Layout {
    workers: u64,
    /// Nodes with disk operations, in id order (each gets a lane below the workers).
    disk_nodes: Vec<u32>,
    width: u64,
    height: u64,
}

impl Layout {
    fn of(trace: &Trace) -> Self {
        let workers = trace
            .events()
            .filter_map(|e| e.worker)
            .max()
            .map_or(1, |w| w as u64 + 1);
        let steps = trace.events().last().map_or(1, |e| e.step + 1);
        let mut disk_nodes: Vec<u32> = trace
            .events()
            .filter_map(|e| match e.kind {
                EventKind::Disk { node, .. } => Some(node),
                _ => None,
            })
            .collect();
        disk_nodes.sort_unstable();
        disk_nodes.dedup();
        Layout {
            workers,
            width: MARGIN + steps * CELL,
            height: (workers + disk_nodes.len() as u64) * LANE + 20,
            disk_nodes,
        }
    }
}

/// The "worker N" label at the start of each lane.
fn lane_labels(layout: &Layout) -> String {
    let mut svg = String::new();
    for w in 0..layout.workers {
        let _ = write!(
            svg,
            r#"<text x="2" y="{}" font-size="12">worker {w}</text>"#,
            w * LANE + 18
        );
    }
    svg
}

/// A box per poll in its worker's lane, a bar per burn, and a red line per failure.
fn event_marks(trace: &Trace, layout: &Layout) -> String {
    let mut svg = String::new();
    // Per worker: the burn in progress (step it started, its duration), drawn when the
    // worker polls again — that poll is where the busy stretch ends, in step terms.
    let mut burning: Vec<Option<(u64, u64)>> = vec![None; layout.workers as usize];
    for e in trace.events() {
        if let Some((colour, what)) = world_mark(trace, &e.kind) {
            marker_line(&mut svg, &e, colour, &what, layout);
        }
        let (Some(task), Some(w)) = (e.task, e.worker) else {
            continue;
        };
        match &e.kind {
            EventKind::Poll => {
                if let Some((from, ns)) = burning[w as usize].take() {
                    burn_bar(&mut svg, w, from, e.step, ns);
                }
                poll_box(&mut svg, trace, &e, task, w);
            }
            EventKind::Burn { duration_ns } => burning[w as usize] = Some((e.step, *duration_ns)),
            EventKind::Failure { message } => failure_line(&mut svg, &e, message, layout),
            _ => {}
        }
    }
    svg
}

fn burn_bar(svg: &mut String, worker: u16, from: u64, to: u64, ns: u64) {
    let (x, y) = (MARGIN + (from + 1) * CELL, worker as u64 * LANE + 10);
    let width = (to.saturating_sub(from + 1) * CELL).max(1);
    let _ = write!(
        svg,
        r#"<rect x="{x}" y="{y}" width="{width}" height="8" fill="grey"><title>worker {worker} busy: burn {}</title></rect>"#,
        fmt_time(ns)
    );
}

fn poll_box(svg: &mut String, trace: &Trace, e: &Event, task: u32, worker: u16) {
    let (x, y) = (MARGIN + e.step * CELL, worker as u64 * LANE + 4);
    let label = format!(
        "step {} at {}: t{task}:{}",
        e.step,
        fmt_time(e.time_ns),
        trace.task_name(task)
    );
    let _ = write!(
        svg,
        r#"<rect x="{x}" y="{y}" width="{}" height="20" fill="{}"><title>{}</title></rect>"#,
        CELL - 1,
        colour(task),
        escape(&label)
    );
}

/// A lane per node with a disk: its label, and a box per disk operation at its step.
fn disk_lanes(trace: &Trace, layout: &Layout) -> String {
    let mut svg = String::new();
    let lane_of = |node: u32| layout.disk_nodes.binary_search(&node).ok();
    for (i, n) in layout.disk_nodes.iter().enumerate() {
        let y = (layout.workers + i as u64) * LANE + 18;
        let label = format!("n{n} {} disk", trace.node_name(*n));
        let _ = write!(
            svg,
            r#"<text x="2" y="{y}" font-size="12">{}</text>"#,
            escape(&label)
        );
    }
    for e in trace.events() {
        let EventKind::Disk { node, result, .. } = &e.kind else {
            continue;
        };
        let Some(lane) = lane_of(*node) else { continue };
        let (x, y) = (
            MARGIN + e.step * CELL,
            (layout.workers + lane as u64) * LANE + 4,
        );
        let fill = match result {
            super::DiskResult::Ok => "steelblue",
            _ => "crimson",
        };
        let mut line = String::new();
        super::text::write_event(&mut line, trace, &e);
        let _ = write!(
            svg,
            r#"<rect class="disk" x="{x}" y="{y}" width="{}" height="20" fill="{fill}"><title>{}</title></rect>"#,
            CELL - 1,
            escape(line.trim())
        );
    }
    svg
}

/// Node crashes, restarts, pauses and partitions are marked across the lanes.
fn world_mark(trace: &Trace, kind: &EventKind) -> Option<(&'static str, String)> {
    let name = |n: &u32| format!("n{n} {}", trace.node_name(*n));
    Some(match kind {
        EventKind::NodeCrash { node } => ("darkred", format!("CRASH {}", name(node))),
        EventKind::NodeRestart { node } => ("green", format!("RESTART {}", name(node))),
        EventKind::NodePause { node } => ("purple", format!("PAUSE {}", name(node))),
        EventKind::Partition { from, to } => (
            "orange",
            format!("PARTITION {} -x-> {}", name(from), name(to)),
        ),
        EventKind::Heal { from, to } => ("teal", format!("HEAL {} ---> {}", name(from), name(to))),
        _ => return None,
    })
}

fn marker_line(svg: &mut String, e: &Event, colour: &str, what: &str, layout: &Layout) {
    let x = MARGIN + e.step * CELL;
    let _ = write!(
        svg,
        r#"<rect class="world" x="{x}" y="0" width="2" height="{}" fill="{colour}"><title>{} at {}</title></rect>"#,
        layout.height,
        escape(what),
        fmt_time(e.time_ns)
    );
}

fn failure_line(svg: &mut String, e: &Event, message: &str, layout: &Layout) {
    let x = MARGIN + e.step * CELL;
    let _ = write!(
        svg,
        r#"<rect x="{x}" y="0" width="3" height="{}" fill="red"><title>{}</title></rect>"#,
        layout.height,
        escape(message)
    );
}

/// A coloured chip per task: its id and name.
fn legend(trace: &Trace) -> String {
    trace
        .tasks
        .iter()
        .map(|t| {
            format!(
                r#"<span style="background:{};padding:0 4px;margin:2px">t{} {}</span>"#,
                colour(t.id),
                t.id,
                escape(&t.name)
            )
        })
        .collect()
}

/// The page: heading, legend, the timeline's `svg`, then the text trace.
fn page(trace: &Trace, layout: &Layout, legend: &str, svg: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>detsim trace seed {seed}</title></head>\n<body style=\"font-family:monospace\">\n<h3>detsim trace — seed {seed}, fingerprint {fp:016x}</h3>\n<div>{legend}</div>\n<div style=\"overflow-x:auto\"><svg width=\"{width}\" height=\"{height}\">{svg}</svg></div>\n<pre>{text}</pre>\n</body></html>\n",
        seed = trace.seed,
        fp = trace.fingerprint,
        width = layout.width,
        height = layout.height,
        text = escape(&trace.to_string()),
    )
}
