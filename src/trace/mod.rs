//! What a run did, in order: [`Trace`], its [`Event`]s, and the running fingerprint.
//!
//! - `event.rs` — the event types (serde-able).
//! - `text.rs` — the stable, diff-friendly text form used by snapshots.
//! - `chrome.rs` — Chrome trace-event JSON (Perfetto), one track per worker.
//! - `html.rs` — a self-contained HTML timeline.
//! - `tracing_layer.rs` — copies `tracing` log lines into the trace.
//!
//! Invariant: the fingerprint mixes every scheduling event in order, whatever the
//! [`crate::TraceMode`], so a fast trace-off run and its full-trace replay agree. Log lines
//! from `tracing` are kept in a full trace but never mixed in: turning logging up or down
//! must not change a run's identity.

mod chrome;
mod event;
mod html;
mod text;
mod tracing_layer;

pub use chrome::to_chrome_json;
pub use event::{Event, EventKind, TaskInfo};
pub use html::to_html;
pub use tracing_layer::{layer, SimLayer};

use crate::config::TraceMode;
use serde::Serialize;

/// The events of one run plus the table of tasks they refer to.
#[derive(Clone, Debug, Serialize)]
pub struct Trace {
    /// The seed of the run (shown in the text header).
    pub seed: u64,
    /// Every task spawned in the run, indexed by task id.
    pub tasks: Vec<TaskInfo>,
    /// The events, in order (empty with [`TraceMode::Off`]).
    pub events: Vec<Event>,
    /// The fingerprint of all scheduling events.
    pub fingerprint: u64,
    #[serde(skip)]
    mode: TraceMode,
}

impl Trace {
    pub(crate) fn new(seed: u64, mode: TraceMode) -> Self {
        Trace {
            seed,
            tasks: Vec::new(),
            events: Vec::new(),
            fingerprint: FP_SEED,
            mode,
        }
    }

    /// True if events are kept.
    pub fn is_full(&self) -> bool {
        self.mode == TraceMode::Full
    }

    /// Records an event from its fields; builds an [`Event`] only when events are kept.
    #[inline(always)]
    pub(crate) fn record(
        &mut self,
        step: u64,
        time_ns: u64,
        worker: Option<u16>,
        task: Option<u32>,
        kind: EventKind,
    ) {
        self.fingerprint = event::mix_fields(self.fingerprint, time_ns, worker, task, &kind);
        if self.mode == TraceMode::Full {
            self.keep(Event {
                step,
                time_ns,
                worker,
                task,
                kind,
            });
        }
    }

    #[inline(never)]
    fn keep(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Mixes a word that identifies something about the run into the fingerprint.
    #[inline]
    pub(crate) fn mix(&mut self, word: u64) {
        self.fingerprint = mix(self.fingerprint, word);
    }

    /// Adds an event that is kept but not fingerprinted (log lines).
    pub(crate) fn push_unhashed(&mut self, event: Event) {
        if self.mode == TraceMode::Full {
            self.events.push(event);
        }
    }

    /// The name of a task, or `"?"`.
    pub fn task_name(&self, id: u32) -> &str {
        self.tasks.get(id as usize).map_or("?", |t| t.name.as_str())
    }

    /// The last `n` events rendered as text (for failure reports).
    pub fn tail(&self, n: usize) -> String {
        let start = self.events.len().saturating_sub(n);
        let mut out = String::new();
        for e in &self.events[start..] {
            text::write_event(&mut out, self, e);
            out.push('\n');
        }
        out
    }

    /// One JSON object per line: first the task table, then each event.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        for t in &self.tasks {
            out.push_str(&serde_json::to_string(t).expect("TaskInfo serialises"));
            out.push('\n');
        }
        for e in &self.events {
            out.push_str(&serde_json::to_string(e).expect("Event serialises"));
            out.push('\n');
        }
        out
    }

    /// Index of the first event where two traces differ, with both events rendered.
    pub fn first_difference(&self, other: &Trace) -> Option<(usize, String, String)> {
        let n = self.events.len().max(other.events.len());
        (0..n).find_map(|i| {
            let a = self.events.get(i);
            let b = other.events.get(i);
            let render = |t: &Trace, e: Option<&Event>| {
                e.map_or("<end of trace>".to_string(), |e| {
                    let mut s = String::new();
                    text::write_event(&mut s, t, e);
                    s
                })
            };
            let (ra, rb) = (render(self, a), render(other, b));
            (ra != rb).then_some((i, ra, rb))
        })
    }
}

const FP_SEED: u64 = 0xcbf2_9ce4_8422_2325;

/// Mixes one word into a fingerprint (a multiply-rotate hash: fast, order-sensitive).
#[inline]
pub(crate) fn mix(h: u64, x: u64) -> u64 {
    (h ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29)
}

/// FNV-1a over bytes, for digests of configs and files.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FP_SEED, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
