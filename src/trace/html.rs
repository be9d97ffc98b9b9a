//! A self-contained HTML timeline: one lane per worker, one box per poll (x = step),
//! colour per task, hover for details; the text trace below it.

use super::{text::fmt_time, EventKind, Trace};
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
    let workers = trace
        .events()
        .filter_map(|e| e.worker)
        .max()
        .map_or(1, |w| w as u64 + 1);
    let steps = trace.events().last().map_or(1, |e| e.step + 1);
    let (lane, cell) = (28u64, 8u64);
    let width = 80 + steps * cell;
    let height = workers * lane + 20;
    let mut svg = String::new();
    for w in 0..workers {
        let _ = write!(
            svg,
            r#"<text x="2" y="{}" font-size="12">worker {w}</text>"#,
            w * lane + 18
        );
    }
    for e in trace.events() {
        let (Some(task), Some(w)) = (e.task, e.worker) else {
            continue;
        };
        let (x, y) = (80 + e.step * cell, w as u64 * lane + 4);
        let label = format!(
            "step {} at {}: t{task}:{}",
            e.step,
            fmt_time(e.time_ns),
            trace.task_name(task)
        );
        match &e.kind {
            EventKind::Poll => {
                let _ = write!(
                    svg,
                    r#"<rect x="{x}" y="{y}" width="{}" height="20" fill="{}"><title>{}</title></rect>"#,
                    cell - 1,
                    colour(task),
                    escape(&label)
                );
            }
            EventKind::Failure { message } => {
                let _ = write!(
                    svg,
                    r#"<rect x="{x}" y="0" width="3" height="{height}" fill="red"><title>{}</title></rect>"#,
                    escape(message)
                );
            }
            _ => {}
        }
    }
    let legend: String = trace
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
        .collect();
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>detsim trace seed {seed}</title></head>\n<body style=\"font-family:monospace\">\n<h3>detsim trace — seed {seed}, fingerprint {fp:016x}</h3>\n<div>{legend}</div>\n<div style=\"overflow-x:auto\"><svg width=\"{width}\" height=\"{height}\">{svg}</svg></div>\n<pre>{text}</pre>\n</body></html>\n",
        seed = trace.seed,
        fp = trace.fingerprint,
        text = escape(&trace.to_string()),
    )
}
