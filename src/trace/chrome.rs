//! Chrome trace-event JSON (opens in Perfetto / `chrome://tracing`): one track per worker
//! (process 1) and, in runs with nodes, one track per node (process 2) carrying the
//! node's network and fault events as 1 ns slices with their endpoints and sizes, and
//! each message as a flow arrow from its send to its delivery or drop (paired as the
//! HTML timeline pairs them: `html::pair_messages`).
//!
//! Polls take no virtual time, so each poll is drawn as a 1 µs slice at its virtual
//! time plus its step (in ns) — enough to keep polls at the same instant apart and in
//! order. `burn`s are drawn with their real virtual duration.

use super::{Event, EventKind, Trace};
use serde_json::{json, Value};

/// The trace as a Chrome trace-event JSON document.
///
/// ```
/// let out = detsim::Sim::new(detsim::Config::default()).run(async { detsim::task::yield_now().await });
/// let json = detsim::trace::to_chrome_json(&out.trace);
/// assert!(json.contains("\"traceEvents\""));
/// ```
pub fn to_chrome_json(trace: &Trace) -> String {
    let mut events: Vec<Value> = Vec::new();
    let workers = trace
        .events()
        .filter_map(|e| e.worker)
        .max()
        .map_or(0, |w| w + 1);
    for w in 0..workers {
        events.push(json!({"ph": "M", "name": "thread_name", "pid": 1, "tid": w, "args": {"name": format!("worker {w}")}}));
    }
    events.push(json!({"ph": "M", "name": "process_name", "pid": 1, "args": {"name": format!("detsim seed {}", trace.seed)}}));
    if !trace.nodes.is_empty() {
        events
            .push(json!({"ph": "M", "name": "process_name", "pid": 2, "args": {"name": "nodes"}}));
        events.push(json!({"ph": "M", "name": "thread_name", "pid": 2, "tid": 0, "args": {"name": "n0 main"}}));
        for n in &trace.nodes {
            events.push(json!({"ph": "M", "name": "thread_name", "pid": 2, "tid": n.id, "args": {"name": format!("n{} {}", n.id, n.name)}}));
        }
    }
    let all: Vec<Event> = trace.events().collect();
    let ts_of = |e: &Event| e.time_ns as f64 / 1000.0 + e.step as f64 / 1000.0;
    for e in &all {
        let ts = ts_of(e);
        let tid = e.worker.map_or(workers as u64, u64::from);
        let task = e
            .task
            .map_or("-".to_string(), |t| format!("t{t}:{}", trace.task_name(t)));
        match &e.kind {
            EventKind::Poll => events.push(json!({"ph": "X", "name": task, "pid": 1, "tid": tid, "ts": ts, "dur": 1.0, "args": {"step": e.step}})),
            EventKind::Burn { duration_ns } => events.push(json!({"ph": "X", "name": format!("burn {task}"), "pid": 1, "tid": tid, "ts": ts, "dur": *duration_ns as f64 / 1000.0})),
            EventKind::Failure { message } => events.push(json!({"ph": "i", "s": "g", "name": "FAILURE", "pid": 1, "tid": tid, "ts": ts, "args": {"message": message}})),
            EventKind::TimerFire { .. } | EventKind::Log { .. } | EventKind::Choice { .. } => {
                events.push(json!({"ph": "i", "s": "t", "name": format!("{:?}", e.kind), "pid": 1, "tid": tid, "ts": ts}))
            }
            kind if super::view::is_world(kind) => {
                let node = trace.event_node(e).unwrap_or(0);
                let args = serde_json::to_value(kind).expect("EventKind serialises");
                let name = args["event"].as_str().unwrap_or("world").to_string();
                events.push(json!({"ph": "X", "name": name, "pid": 2, "tid": node, "ts": ts, "dur": 0.001, "args": args}));
            }
            _ => {}
        }
    }
    if !trace.nodes.is_empty() {
        for (id, m) in super::html::pair_messages(&all).iter().enumerate() {
            let name = if m.dropped { "dropped" } else { "message" };
            let (a, b) = (&all[m.from_ev], &all[m.to_ev]);
            events.push(json!({"ph": "s", "cat": "net", "name": name, "id": id, "pid": 2, "tid": m.from_node, "ts": ts_of(a)}));
            events.push(json!({"ph": "f", "bp": "e", "cat": "net", "name": name, "id": id, "pid": 2, "tid": m.to_node, "ts": ts_of(b)}));
        }
    }
    serde_json::to_string(&json!({"traceEvents": events, "displayTimeUnit": "ns"}))
        .expect("JSON values serialise")
}
