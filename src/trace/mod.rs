//! What a run did, in order: [`Trace`], its [`Event`]s, and the running fingerprint.
//!
//! - `event.rs` — the event types (serde-able).
//! - `compact.rs` — how a full trace stores them (a few bytes each, decoded on demand).
//! - `text.rs` — the stable, diff-friendly text form used by snapshots.
//! - `chrome.rs` — Chrome trace-event JSON (Perfetto): a track per worker and per node,
//!   messages as flow arrows.
//! - `html/` — a self-contained HTML timeline (canvas, zoom, lanes per worker and node,
//!   wake and message arrows, the failure marked, an event list).
//! - `view.rs` — [`TraceView`]: filtered text views (world events, one node) for snapshots.
//! - `site.rs` — source locations normalised so they are the same in every checkout.
//! - `stream.rs` — [`TraceStream`]: a full trace written to a file as the run goes.
//! - `tasks.rs` — [`TaskTable`]: the task table, 16 bytes per task, its [`TaskInfo`]s
//!   built when read.
//! - [`layer`] — copies `tracing` log lines into the trace (defined above the runtime,
//!   in `src/tracing_layer.rs`, and re-exported here: `trace/` itself imports nothing
//!   from the runtime).
//!
//! Invariant: the fingerprint mixes every scheduling event in order, whatever the
//! [`crate::TraceMode`], so a fast trace-off run and its full-trace replay agree. Log lines
//! from `tracing` are kept in a full trace but never mixed in: turning logging up or down
//! must not change a run's identity.

mod chrome;
mod compact;
mod event;
mod html;
mod site;
mod stream;
mod tasks;
mod text;
mod view;

pub use crate::tracing_layer::{layer, SimLayer};
pub use chrome::to_chrome_json;
pub(crate) use compact::{end_code, short_word, who, MID_MAX};
pub(crate) use event::mix_who;
pub use event::{DiskOp, DiskResult, Event, EventKind, NodeInfo, Proto, SharedStr, TaskInfo};
pub use html::to_html;
pub(crate) use site::fmt_location;
pub use site::source_path;
pub use stream::{StreamFormat, TraceStream};
pub use tasks::TaskTable;
pub use view::TraceView;

use crate::config::TraceMode;
use compact::Packed;
use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;
use stream::Sink;

/// The events of one run plus the table of tasks they refer to.
#[derive(Clone, Debug)]
pub struct Trace {
    /// The seed of the run (shown in the text header).
    pub seed: u64,
    /// Every task spawned in the run, indexed by task id (empty for a streamed trace:
    /// the table is in the file). Reads as a `[TaskInfo]`, built on first use.
    pub tasks: TaskTable,
    /// Every node created in the run besides the main node `n0`, in creation order.
    pub nodes: Vec<NodeInfo>,
    /// The fingerprint of all scheduling events.
    pub fingerprint: u64,
    // invariant: empty unless mode is Full; see `events()`.
    packed: Packed,
    /// What the packed events refer to (log lines, failure messages, disk operations).
    side: compact::Side,
    mode: TraceMode,
    /// Where events go instead of `packed` when the trace is streamed to a file.
    stream: Stream,
    /// Spawn sites rendered so far.
    sites: site::SiteCache,
}

/// The optional stream of a trace; a clone of a trace does not share its file.
#[derive(Debug, Default)]
struct Stream {
    sink: Option<Box<Sink>>,
    /// What the finished stream reports: events written, target, first I/O error.
    done: Option<(u64, TraceStream, Option<String>)>,
}

impl Clone for Stream {
    fn clone(&self) -> Self {
        Stream {
            sink: None,
            done: self.done.clone(),
        }
    }
}

impl Serialize for Trace {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Trace", 5)?;
        st.serialize_field("seed", &self.seed)?;
        st.serialize_field("tasks", &*self.tasks)?;
        st.serialize_field("nodes", &self.nodes)?;
        st.serialize_field("events", &self.events().collect::<Vec<_>>())?;
        st.serialize_field("fingerprint", &self.fingerprint)?;
        st.end()
    }
}

impl Trace {
    pub(crate) fn new(seed: u64, mode: TraceMode) -> Self {
        Trace {
            seed,
            tasks: TaskTable::default(),
            nodes: Vec::new(),
            fingerprint: FP_SEED,
            packed: Packed::default(),
            side: compact::Side::default(),
            mode,
            stream: Stream::default(),
            sites: site::SiteCache::default(),
        }
    }

    /// Streams the events to a file instead of keeping them (a full trace).
    pub(crate) fn stream_to(&mut self, stream: TraceStream) {
        self.mode = TraceMode::Full;
        self.stream.sink = Some(Box::new(Sink::open(stream)));
    }

    /// Ends a streamed trace: writes the file (header, tasks, events) into place.
    pub(crate) fn finish_stream(&mut self) {
        if let Some(mut sink) = self.stream.sink.take() {
            sink.finish(self.seed, self.fingerprint);
            let error = sink.error().map(str::to_string);
            self.stream.done = Some((sink.events(), sink.stream().clone(), error));
        }
    }

    /// For a streamed trace: the first I/O error writing its file, if any.
    pub fn stream_error(&self) -> Option<&str> {
        self.stream.done.as_ref().and_then(|(_, _, e)| e.as_deref())
    }

    /// For a streamed trace: the file and the number of events written to it.
    pub fn streamed(&self) -> Option<(&std::path::Path, u64)> {
        let (events, stream, _) = self.stream.done.as_ref()?;
        Some((stream.path(), *events))
    }

    /// Adds a spawned task to the task table (or to the streamed file's) from its spawn
    /// site (rendered once per site, not once per task).
    pub(crate) fn add_spawned(
        &mut self,
        id: u32,
        name: std::borrow::Cow<'static, str>,
        site: &'static std::panic::Location<'static>,
        parent: Option<u32>,
        node: u32,
    ) {
        match self.stream.sink.as_deref_mut() {
            Some(sink) => sink.add_task(TaskInfo {
                id,
                name: name.into(),
                spawned_at: self.sites.render(site).into(),
                parent,
                node,
            }),
            None => self.tasks.push(id, name, site, parent, node),
        }
    }

    /// True if events are kept.
    pub fn is_full(&self) -> bool {
        self.mode == TraceMode::Full
    }

    /// Keeps an event in a full trace without fingerprinting it: for a caller that keeps
    /// the fingerprint itself ([`mix_who`], then [`Trace::set_fingerprint`]) and the task
    /// and worker as one word, `task << 16 | worker` (`u32::MAX` / `u16::MAX` for none).
    #[inline(always)]
    pub(crate) fn keep_who(
        &mut self,
        step: u64,
        time_ns: u64,
        who: u64,
        words: (u64, u64),
        kind: EventKind,
    ) {
        // Most kinds are fully described by their words: kept from them alone without
        // moving `kind` (for a constant kind, the test folds away), and in the common
        // case without a call (`Packed::try_push`).
        if Packed::plain(words.0) {
            if !self.packed.try_push(step, time_ns, who, words.0, words.1) {
                self.keep_words(step, time_ns, who, words.0, words.1);
            }
        } else {
            let (worker, task) = compact::unwho(who);
            self.keep_fields(step, time_ns, worker, task, words, kind);
        }
    }

    /// Keeps a `Poll` by `who` and, if `end` is not 0, its end event (the event whose
    /// [`end_code`] is `end`, in the same context), as [`Trace::keep_who`] would one
    /// after the other: the runtime holds a poll's `Poll` until its next event, and in
    /// the common case both are one record.
    #[inline(always)]
    pub(crate) fn keep_poll(&mut self, step: u64, time_ns: u64, who: u64, end: u32) {
        if !self.packed.try_push_polled(step, time_ns, who, end) {
            self.keep_poll_slow(step, time_ns, who, end);
        }
    }

    /// Keeps a `Poll` by `who`, the one-word events of its task that followed it
    /// (`mid`: [`compact::short_word`]s at `time_ns`, at most [`compact::MID_MAX`]) and,
    /// if `end` is not 0, its end event, as [`Trace::keep_who`] would one after the
    /// other: the runtime holds a poll's first events (`Core::keep`), and in the common
    /// case they are written at once.
    #[inline(always)]
    pub(crate) fn keep_poll_mid(
        &mut self,
        step: u64,
        time_ns: u64,
        who: u64,
        mid: &[u32; compact::MID_MAX],
        len: usize,
        end: u32,
    ) {
        if !self
            .packed
            .try_push_polled_mid(step, time_ns, who, mid, len, end)
        {
            self.keep_poll_mid_slow(step, time_ns, who, &mid[..len], end);
        }
    }

    /// [`Trace::keep_poll_mid`] when `Packed::try_push_polled_mid` could not.
    #[inline(never)]
    fn keep_poll_mid_slow(&mut self, step: u64, time_ns: u64, who: u64, mid: &[u32], end: u32) {
        if mid.is_empty() {
            return self.keep_poll_slow(step, time_ns, who, end);
        }
        self.keep_poll_slow(step, time_ns, who, 0);
        for &word in mid {
            let (tag, arg) = compact::unshort(word, time_ns);
            self.keep_words(step, time_ns, who, tag, arg);
        }
        if end != 0 {
            let tag = compact::POLL_ENDS[end as usize] as u64;
            self.keep_words(step, time_ns, who, tag, 0);
        }
    }

    /// [`Trace::keep_poll`] when `Packed::try_push_polled` could not.
    #[inline(never)]
    fn keep_poll_slow(&mut self, step: u64, time_ns: u64, who: u64, end: u32) {
        match self.stream.sink.as_deref_mut() {
            None => self.packed.push_polled(step, time_ns, who, end),
            Some(sink) => {
                let (poll, _) = EventKind::Poll.words();
                stream_words(sink, step, time_ns, who, poll, 0);
                if end != 0 {
                    let tag = compact::POLL_ENDS[end as usize] as u64;
                    stream_words(sink, step, time_ns, who, tag, 0);
                }
            }
        }
    }

    /// Sets the fingerprint a caller kept itself (see [`Trace::keep_who`]).
    pub(crate) fn set_fingerprint(&mut self, fingerprint: u64) {
        self.fingerprint = fingerprint;
    }

    /// Keeps an event whose kind its words describe (see `Packed::plain`) when
    /// `Packed::try_push` could not: a new chunk, another context, or a stream.
    #[inline(never)]
    fn keep_words(&mut self, step: u64, time_ns: u64, who: u64, tag: u64, arg: u64) {
        match self.stream.sink.as_deref_mut() {
            None => self.packed.push_any(step, time_ns, who, tag, arg),
            Some(sink) => stream_words(sink, step, time_ns, who, tag, arg),
        }
    }

    /// Keeps any other event (full trace only): out of line, so that the trace-off path
    /// does not carry the encoding's code and stack.
    #[inline(never)]
    fn keep_fields(
        &mut self,
        step: u64,
        time_ns: u64,
        worker: Option<u16>,
        task: Option<u32>,
        words: (u64, u64),
        kind: EventKind,
    ) {
        match self.stream.sink.as_deref_mut() {
            None => {
                let who = compact::who(worker, task);
                self.packed
                    .push_kind(step, time_ns, who, words, kind, &mut self.side)
            }
            Some(sink) => sink.event(&stream::event(step, time_ns, worker, task, kind)),
        }
    }

    fn keep(&mut self, e: Event) {
        match self.stream.sink.as_deref_mut() {
            None => self.packed.push_event(e, &mut self.side),
            Some(sink) => sink.event(&e),
        }
    }

    /// The events, in order (none unless the run used [`TraceMode::Full`]).
    pub fn events(&self) -> impl DoubleEndedIterator<Item = Event> + ExactSizeIterator + '_ {
        self.packed.iter(&self.side)
    }

    /// Number of events kept.
    pub fn len(&self) -> usize {
        self.packed.len()
    }

    /// True if no event was kept.
    pub fn is_empty(&self) -> bool {
        self.packed.len() == 0
    }

    /// Event `i`, if kept (decoded from the start of its chunk: iterate with
    /// [`Self::events`] to read many).
    pub fn event(&self, i: usize) -> Option<Event> {
        self.packed.get(i, &self.side)
    }

    /// Adds an event that is kept but not fingerprinted (log lines).
    pub(crate) fn push_unhashed(&mut self, event: Event) {
        if self.mode == TraceMode::Full {
            self.keep(event);
        }
    }

    /// The name of a task, or `"?"`.
    pub fn task_name(&self, id: u32) -> &str {
        self.tasks.name(id).unwrap_or("?")
    }

    /// The last `n` events rendered as text (for failure reports).
    pub fn tail(&self, n: usize) -> String {
        let start = self.len().saturating_sub(n);
        let mut out = String::new();
        for e in self.events().skip(start) {
            text::write_event(&mut out, self, &e);
            out.push('\n');
        }
        out
    }

    /// The name of a node (`main` for `n0`), or `"?"`.
    pub fn node_name(&self, id: u32) -> &str {
        if id == 0 {
            return "main";
        }
        self.nodes
            .iter()
            .find(|n| n.id == id)
            .map_or("?", |n| n.name.as_str())
    }

    /// The node an event happened on: its task's node, or the node a world event
    /// concerns (the receiver of a message).
    pub fn event_node(&self, e: &Event) -> Option<u32> {
        if let Some(t) = e.task {
            return self.tasks.node(t);
        }
        match &e.kind {
            EventKind::NetSend { from, .. } => Some(*from),
            EventKind::NetDeliver { to, .. }
            | EventKind::NetDrop { to, .. }
            | EventKind::NetDuplicate { to, .. } => Some(*to),
            EventKind::NodeCrash { node }
            | EventKind::NodeRestart { node }
            | EventKind::NodePause { node }
            | EventKind::NodeResume { node }
            | EventKind::Fault { node, .. }
            | EventKind::Disk { node, .. } => Some(*node),
            EventKind::Partition { from, .. } | EventKind::Heal { from, .. } => Some(*from),
            _ => None,
        }
    }

    /// One JSON object per line: first the task table (and node table, if any), then
    /// each event.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        for n in &self.nodes {
            let line = serde_json::json!({ "node": n.id, "name": n.name, "ip": n.ip });
            out.push_str(&line.to_string());
            out.push('\n');
        }
        for t in &self.tasks {
            out.push_str(&serde_json::to_string(t).expect("TaskInfo serialises"));
            out.push('\n');
        }
        for e in self.events() {
            // Keys in the struct's order (as a streamed trace writes them), the node last.
            let line = serde_json::to_string(&e).expect("Event serialises");
            match (self.nodes.is_empty(), self.event_node(&e)) {
                (false, Some(node)) => {
                    out.push_str(line.strip_suffix('}').unwrap_or(&line));
                    out.push_str(&format!(",\"node\":{node}}}"));
                }
                _ => out.push_str(&line),
            }
            out.push('\n');
        }
        out
    }

    /// Index of the first event where two traces differ, with both events rendered.
    pub fn first_difference(&self, other: &Trace) -> Option<(usize, String, String)> {
        let render = |t: &Trace, e: Option<Event>| {
            e.map_or("<end of trace>".to_string(), |e| {
                let mut s = String::new();
                text::write_event(&mut s, t, &e);
                s
            })
        };
        let (mut a, mut b) = (self.events(), other.events());
        (0..self.len().max(other.len())).find_map(|i| {
            let (ra, rb) = (render(self, a.next()), render(other, b.next()));
            (ra != rb).then_some((i, ra, rb))
        })
    }
}

/// Streams an event given by its words.
fn stream_words(sink: &mut Sink, step: u64, time_ns: u64, who: u64, tag: u64, arg: u64) {
    sink.event(&compact::from_words(step, time_ns, who, tag, arg));
}

const FP_SEED: u64 = crate::hash::FNV_OFFSET;

/// Mixes one word into a fingerprint (a multiply-rotate hash: fast, order-sensitive).
#[inline]
pub(crate) fn mix(h: u64, x: u64) -> u64 {
    (h ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29)
}
