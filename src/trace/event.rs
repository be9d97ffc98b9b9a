//! Trace events: one per scheduling decision or observable effect.

use serde::{Serialize, Serializer};
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A task as the trace knows it.
///
/// A full trace keeps one per task, so a run of a million tasks keeps a million: the
/// name is borrowed when it was given as a `&'static str` (every unnamed task is
/// `"task"`), and the spawn site is shared by every task spawned there (rendered once
/// per site), so an entry costs no allocation of its own (see [`SharedStr`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaskInfo {
    /// Task id (`t0` is the main task).
    pub id: u32,
    /// The name given at spawn (or `"task"`).
    pub name: SharedStr,
    /// `file:line:column` of the spawn call (shared by the tasks spawned there).
    pub spawned_at: SharedStr,
    /// The task that spawned it (`None` for main).
    pub parent: Option<u32>,
    /// The node it runs on (`0`: the main node; omitted from JSON when 0).
    #[serde(skip_serializing_if = "is_zero")]
    pub node: u32,
}

/// An immutable string that is borrowed for the program's life or shared, so that
/// copies cost no allocation: [`TaskInfo`]'s name and spawn site. Reads as a `str`
/// (`Deref`, `as_str`, `Display`, comparisons with `&str` and `String`), prints and
/// serialises as one.
///
/// ```
/// use detsim::trace::SharedStr;
/// let name = SharedStr::from("worker");
/// assert_eq!(name, "worker");
/// assert_eq!(name.as_str().len(), 6);
/// assert_eq!(format!("{name} {name:?}"), r#"worker "worker""#);
/// ```
#[derive(Clone)]
pub struct SharedStr(Repr);

#[derive(Clone)]
enum Repr {
    Static(&'static str),
    Shared(Arc<str>),
}

impl SharedStr {
    /// The string.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(s) => s,
            Repr::Shared(s) => s,
        }
    }
}

impl PartialEq for SharedStr {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SharedStr {}

impl PartialOrd for SharedStr {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SharedStr {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for SharedStr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl Deref for SharedStr {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SharedStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for SharedStr {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for SharedStr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl From<&'static str> for SharedStr {
    fn from(s: &'static str) -> Self {
        SharedStr(Repr::Static(s))
    }
}

impl From<Arc<str>> for SharedStr {
    fn from(s: Arc<str>) -> Self {
        SharedStr(Repr::Shared(s))
    }
}

impl From<String> for SharedStr {
    fn from(s: String) -> Self {
        SharedStr(Repr::Shared(s.into()))
    }
}

impl From<std::borrow::Cow<'static, str>> for SharedStr {
    fn from(s: std::borrow::Cow<'static, str>) -> Self {
        match s {
            std::borrow::Cow::Borrowed(s) => s.into(),
            std::borrow::Cow::Owned(s) => s.into(),
        }
    }
}

impl PartialEq<str> for SharedStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SharedStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SharedStr {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<SharedStr> for &str {
    fn eq(&self, other: &SharedStr) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<SharedStr> for String {
    fn eq(&self, other: &SharedStr) -> bool {
        self.as_str() == other.as_str()
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A node of the simulated world as the trace knows it (`n0` is the main node).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeInfo {
    /// Node id.
    pub id: u32,
    /// The name given when it was created.
    pub name: String,
    /// Its IP address.
    pub ip: String,
}

/// One thing that happened, at a step and a virtual time, on a worker, by a task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Scheduling step (number of polls before this event).
    pub step: u64,
    /// Virtual time in nanoseconds since the start of the run.
    pub time_ns: u64,
    /// Worker the event happened on, if any.
    pub worker: Option<u16>,
    /// Task that caused the event, if any.
    pub task: Option<u32>,
    /// What happened.
    pub kind: EventKind,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// A task was spawned.
    Spawn {
        /// The new task.
        child: u32,
    },
    /// A task was polled.
    Poll,
    /// The poll returned `Ready`: the task finished.
    Ready,
    /// The poll returned `Pending`.
    Pending,
    /// The poll returned `Pending`, but the task was woken during it (by itself, as
    /// `yield_now` does, or by another party) and is runnable again.
    Yield,
    /// A task was made runnable.
    Wake {
        /// The woken task.
        target: u32,
    },
    /// A task was taken by a worker other than its home worker.
    Steal {
        /// The worker it was queued on (`None`: the global queue).
        from: Option<u16>,
    },
    /// A timer was armed.
    TimerSet {
        /// Deadline, in virtual nanoseconds.
        deadline_ns: u64,
    },
    /// A timer fired; the event's task is the task it woke, if any.
    TimerFire {
        /// Its deadline.
        deadline_ns: u64,
    },
    /// The clock jumped forward because nothing could run.
    Advance {
        /// The new time.
        to_ns: u64,
    },
    /// The task's worker is busy with CPU work for a while.
    Burn {
        /// How long, in virtual nanoseconds.
        duration_ns: u64,
    },
    /// A task was aborted.
    Abort {
        /// The aborted task.
        target: u32,
    },
    /// A user-visible randomness draw or fault decision.
    Choice {
        /// What the draw was for.
        what: &'static str,
        /// The value.
        value: u64,
    },
    /// A log line from `tracing` (not fingerprinted).
    Log {
        /// Level and message.
        message: String,
    },
    /// The run failed.
    Failure {
        /// The failure, rendered.
        message: String,
    },
    /// A message (stream segment or datagram) left node `from` for node `to`.
    NetSend {
        /// Transport.
        proto: Proto,
        /// Sending node.
        from: u32,
        /// Receiving node.
        to: u32,
        /// Payload size.
        bytes: u32,
    },
    /// A message arrived (the receiver can read it).
    NetDeliver {
        /// Transport.
        proto: Proto,
        /// Sending node.
        from: u32,
        /// Receiving node.
        to: u32,
        /// Payload size.
        bytes: u32,
    },
    /// A message was lost (loss, a partition, a crashed or absent receiver).
    NetDrop {
        /// Transport.
        proto: Proto,
        /// Sending node.
        from: u32,
        /// Receiving node.
        to: u32,
        /// Payload size.
        bytes: u32,
    },
    /// A datagram was duplicated in the network (each copy is delivered separately).
    NetDuplicate {
        /// Transport.
        proto: Proto,
        /// Sending node.
        from: u32,
        /// Receiving node.
        to: u32,
        /// Payload size.
        bytes: u32,
    },
    /// A node crashed: its tasks were dropped, its connections reset.
    NodeCrash {
        /// The node.
        node: u32,
    },
    /// A node's init future was spawned again.
    NodeRestart {
        /// The node.
        node: u32,
    },
    /// A node was paused: its tasks are not polled until it resumes.
    NodePause {
        /// The node.
        node: u32,
    },
    /// A paused node resumed.
    NodeResume {
        /// The node.
        node: u32,
    },
    /// Traffic from `from` to `to` is blocked (one way; both ways is two events).
    Partition {
        /// Sending side.
        from: u32,
        /// Receiving side.
        to: u32,
    },
    /// Traffic from `from` to `to` flows again.
    Heal {
        /// Sending side.
        from: u32,
        /// Receiving side.
        to: u32,
    },
    /// Another fault or injected delay (`what`: its name), affecting `node`.
    Fault {
        /// What happened, e.g. `"clock_jump"`, `"loss_burst"`, `"delay"`, `"buggify"`.
        what: &'static str,
        /// The node it affects (`0` when it is not node-specific).
        node: u32,
        /// Its parameter (nanoseconds, a rate in ppm, a call-site id); at most 48 bits.
        value: u64,
    },
    /// An operation on a node's simulated disk (`detsim::fs`), with its result.
    Disk {
        /// The node whose disk it is.
        node: u32,
        /// The operation.
        op: DiskOp,
        /// The path (relative to the node's root; `from -> to` for a rename).
        #[serde(serialize_with = "serialize_path")]
        path: Arc<str>,
        /// Byte offset (reads, writes; the new length for `set_len`; the durable length
        /// kept for `lose`).
        offset: u64,
        /// Bytes asked for or moved (the length before the crash for `lose`).
        len: u64,
        /// What the operation returned.
        result: DiskResult,
    },
}

fn serialize_path<S: Serializer>(path: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(path)
}

/// An operation of the simulated disk (see `detsim::fs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DiskOp {
    /// A file opened (`File::open`, `OpenOptions::open`).
    Open,
    /// Bytes read.
    Read,
    /// Bytes written (into the page cache).
    Write,
    /// A file's length set.
    SetLen,
    /// `sync_data`: the file's data and length made durable.
    SyncData,
    /// `sync_all`: the same, plus its metadata.
    SyncAll,
    /// `sync_dir`: a directory's entries made durable.
    SyncDir,
    /// A length or kind looked up.
    Metadata,
    /// A file or directory renamed.
    Rename,
    /// A file removed.
    Remove,
    /// An empty directory removed.
    RemoveDir,
    /// A directory created.
    CreateDir,
    /// A directory listed.
    ReadDir,
    /// A crash dropped the file's unsynced state (offset: durable length kept).
    Lose,
}

impl DiskOp {
    /// Its name in the text form.
    pub fn name(self) -> &'static str {
        match self {
            DiskOp::Open => "open",
            DiskOp::Read => "read",
            DiskOp::Write => "write",
            DiskOp::SetLen => "set_len",
            DiskOp::SyncData => "sync_data",
            DiskOp::SyncAll => "sync_all",
            DiskOp::SyncDir => "sync_dir",
            DiskOp::Metadata => "metadata",
            DiskOp::Rename => "rename",
            DiskOp::Remove => "remove",
            DiskOp::RemoveDir => "remove_dir",
            DiskOp::CreateDir => "create_dir",
            DiskOp::ReadDir => "read_dir",
            DiskOp::Lose => "LOSE",
        }
    }
}

/// The result of a disk operation: success or the error's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DiskResult {
    /// Success.
    Ok,
    /// `NotFound`.
    NotFound,
    /// `AlreadyExists`.
    AlreadyExists,
    /// An I/O error (`EIO`, injected by the fault plan).
    Eio,
    /// Out of space (`ENOSPC`: the node's quota).
    NoSpace,
    /// A bad path or argument, or a file not opened for this.
    Invalid,
    /// A file was expected and a directory found, or the reverse.
    WrongKind,
    /// A directory to remove is not empty.
    NotEmpty,
    /// A handle opened before its node crashed.
    Stale,
}

impl DiskResult {
    /// Its name in the text form.
    pub fn name(self) -> &'static str {
        match self {
            DiskResult::Ok => "ok",
            DiskResult::NotFound => "not_found",
            DiskResult::AlreadyExists => "already_exists",
            DiskResult::Eio => "EIO",
            DiskResult::NoSpace => "ENOSPC",
            DiskResult::Invalid => "invalid",
            DiskResult::WrongKind => "wrong_kind",
            DiskResult::NotEmpty => "not_empty",
            DiskResult::Stale => "stale",
        }
    }
}

/// The transport of a network event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Proto {
    /// A stream segment (`net::TcpStream`), or a connection's control message.
    Tcp,
    /// A datagram (`net::UdpSocket`).
    Udp,
}

impl Proto {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// Packs a network event's fields into one word: from (16 bits), to (16), bytes (32).
#[inline(always)]
pub(crate) fn pack_net(from: u32, to: u32, bytes: u32) -> u64 {
    (from as u64 & 0xffff) << 48 | (to as u64 & 0xffff) << 32 | bytes as u64
}

/// Inverse of [`pack_net`].
pub(crate) fn unpack_net(w: u64) -> (u32, u32, u32) {
    ((w >> 48) as u32, (w >> 32 & 0xffff) as u32, w as u32)
}

impl EventKind {
    /// The kind as two numbers: a tag (its variant) and its one argument.
    #[inline(always)]
    pub(crate) fn words(&self) -> (u64, u64) {
        match self {
            EventKind::Spawn { child } => (1, *child as u64),
            EventKind::Poll => (2, 0),
            EventKind::Ready => (3, 0),
            EventKind::Pending => (4, 0),
            EventKind::Yield => (15, 0),
            EventKind::Wake { target } => (5, *target as u64),
            EventKind::Steal { from } => (6, from.map_or(u64::MAX, |w| w as u64)),
            EventKind::TimerSet { deadline_ns } => (7, *deadline_ns),
            EventKind::TimerFire { deadline_ns } => (8, *deadline_ns),
            EventKind::Advance { to_ns } => (9, *to_ns),
            EventKind::Burn { duration_ns } => (10, *duration_ns),
            EventKind::Abort { target } => (11, *target as u64),
            EventKind::Choice { what, value } => {
                (12 ^ (crate::hash::fnv1a(what.as_bytes()) << 8), *value)
            }
            EventKind::Log { .. } => (13, 0),
            EventKind::Failure { message } => (14, crate::hash::fnv1a(message.as_bytes())),
            EventKind::NetSend {
                proto,
                from,
                to,
                bytes,
            } => (16 | (*proto as u64) << 8, pack_net(*from, *to, *bytes)),
            EventKind::NetDeliver {
                proto,
                from,
                to,
                bytes,
            } => (17 | (*proto as u64) << 8, pack_net(*from, *to, *bytes)),
            EventKind::NetDrop {
                proto,
                from,
                to,
                bytes,
            } => (18 | (*proto as u64) << 8, pack_net(*from, *to, *bytes)),
            EventKind::NetDuplicate {
                proto,
                from,
                to,
                bytes,
            } => (19 | (*proto as u64) << 8, pack_net(*from, *to, *bytes)),
            EventKind::NodeCrash { node } => (20, *node as u64),
            EventKind::NodeRestart { node } => (21, *node as u64),
            EventKind::NodePause { node } => (22, *node as u64),
            EventKind::NodeResume { node } => (23, *node as u64),
            EventKind::Partition { from, to } => (24, (*from as u64) << 32 | *to as u64),
            EventKind::Heal { from, to } => (25, (*from as u64) << 32 | *to as u64),
            EventKind::Fault { what, node, value } => (
                26 ^ (crate::hash::fnv1a(what.as_bytes()) << 8),
                (*node as u64) << 48 | (value & 0xffff_ffff_ffff),
            ),
            EventKind::Disk {
                node,
                op,
                path,
                offset,
                len,
                result,
            } => (
                27 ^ (*op as u64) << 8
                    ^ (*result as u64) << 16
                    ^ crate::hash::fnv1a(path.as_bytes()) << 24,
                super::mix(super::mix(*offset, *len), *node as u64),
            ),
        }
    }
}

/// The fingerprint step for one event (no `Event` needs to exist), the task and
/// worker given as one word, `task << 16 | worker` (`u32::MAX` / `u16::MAX` for none):
/// the form the runtime keeps them in.
#[inline(always)]
pub(crate) fn mix_who(h: u64, time_ns: u64, who: u64, (tag, arg): (u64, u64)) -> u64 {
    // Fields are combined with independent multiplies (they run in parallel), then
    // chained once: a quarter of the latency of chaining each field.
    let word = tag
        .wrapping_mul(0xff51_afd7_ed55_8ccd)
        .wrapping_add(arg.wrapping_mul(0xc4ce_b9fe_1a85_ec53))
        .wrapping_add(who.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .wrapping_add(time_ns.wrapping_mul(0xd6e8_feb8_6659_fd93));
    super::mix(h, word)
}
