//! How a full trace stores its events: 32 bytes each, strings in a side table.
//!
//! A full trace of a busy run holds millions of events, so their size is most of the
//! cost of tracing (page faults and memory bandwidth, not instructions): the public
//! [`Event`] (with `Option`s and an enum holding strings) takes 64 bytes; this packed
//! form takes half, and decodes back to `Event` losslessly. Events with more fields
//! than fit (disk operations) keep their kind in a side table, [`Side::wide`].

use super::{Event, EventKind, Proto};

/// Names a `Choice` event may carry; stored as an index.
const CHOICE_NAMES: &[&str] = &["rand", "fault", "buggify", "?"];

/// Names a `Fault` event may carry; stored as an index.
pub(crate) const FAULT_NAMES: &[&str] = &[
    "clock_jump",
    "loss_burst",
    "loss_burst_end",
    "delay",
    "buggify",
    "liveness",
    "faults_on",
    "clog",
    "torn_write",
    "fsync_lie",
    "?",
];

/// Tag of a `Disk` event (its kind lives in [`Side::wide`]).
const DISK: u8 = 27;

/// What packed events refer to: strings (log lines, failure messages) and the kinds of
/// events too wide to pack (disk operations).
#[derive(Clone, Debug, Default)]
pub(super) struct Side {
    texts: Vec<String>,
    wide: Vec<EventKind>,
}
/// Tag of a `Fault` (its fingerprint tag also hashes the name).
const FAULT: u8 = 26;

const NONE_TASK: u32 = u32::MAX;
/// Tag of a `Choice` (its fingerprint tag also hashes the name, so it is not a `u8`).
const CHOICE: u8 = 12;
const NONE_WORKER: u16 = u16::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct RawEvent {
    step: u64,
    time_ns: u64,
    /// The kind's one number (a task id, a time, a value, or a text index).
    arg: u64,
    task: u32,
    worker: u16,
    tag: u8,
    /// A second small field (the name index of a `Choice`).
    extra: u8,
}

impl RawEvent {
    /// Packs an event whose kind's `(tag, arg)` words are already known (they are
    /// computed once for the fingerprint); strings go to `texts`.
    #[inline(always)]
    pub(super) fn encode(
        step: u64,
        time_ns: u64,
        worker: Option<u16>,
        task: Option<u32>,
        words: (u64, u64),
        kind: EventKind,
        side: &mut Side,
    ) -> Self {
        let (tag, arg, extra) = match kind {
            EventKind::Choice { what, value } => {
                let index = CHOICE_NAMES
                    .iter()
                    .position(|n| *n == what)
                    .unwrap_or(CHOICE_NAMES.len() - 1);
                (CHOICE, value, index as u8)
            }
            EventKind::Fault { what, .. } => {
                let index = FAULT_NAMES
                    .iter()
                    .position(|n| *n == what)
                    .unwrap_or(FAULT_NAMES.len() - 1);
                (FAULT, words.1, index as u8)
            }
            EventKind::Log { message } | EventKind::Failure { message } => {
                side.texts.push(message);
                (words.0 as u8, side.texts.len() as u64 - 1, 0)
            }
            kind @ EventKind::Disk { .. } => {
                side.wide.push(kind);
                (DISK, side.wide.len() as u64 - 1, 0)
            }
            _ => (words.0 as u8, words.1, (words.0 >> 8) as u8),
        };
        RawEvent {
            step,
            time_ns,
            arg,
            task: task.unwrap_or(NONE_TASK),
            worker: worker.unwrap_or(NONE_WORKER),
            tag,
            extra,
        }
    }

    /// Packs an already built [`Event`].
    pub(super) fn from_event(e: Event, side: &mut Side) -> Self {
        let words = e.kind.words();
        Self::encode(e.step, e.time_ns, e.worker, e.task, words, e.kind, side)
    }

    /// Unpacks an event.
    pub(super) fn decode(&self, side: &Side) -> Event {
        let text = || {
            side.texts
                .get(self.arg as usize)
                .cloned()
                .unwrap_or_default()
        };
        let id = self.arg as u32;
        // Tags are those of `EventKind::words`, except `CHOICE`.
        let kind = match self.tag {
            1 => EventKind::Spawn { child: id },
            2 => EventKind::Poll,
            3 => EventKind::Ready,
            4 => EventKind::Pending,
            5 => EventKind::Wake { target: id },
            6 => EventKind::Steal {
                from: (self.arg != u64::MAX).then_some(self.arg as u16),
            },
            7 => EventKind::TimerSet {
                deadline_ns: self.arg,
            },
            8 => EventKind::TimerFire {
                deadline_ns: self.arg,
            },
            9 => EventKind::Advance { to_ns: self.arg },
            10 => EventKind::Burn {
                duration_ns: self.arg,
            },
            11 => EventKind::Abort { target: id },
            CHOICE => EventKind::Choice {
                what: CHOICE_NAMES[(self.extra as usize).min(CHOICE_NAMES.len() - 1)],
                value: self.arg,
            },
            13 => EventKind::Log { message: text() },
            14 => EventKind::Failure { message: text() },
            16..=19 => net_event(self.tag, self.extra, self.arg),
            20 => EventKind::NodeCrash { node: id },
            21 => EventKind::NodeRestart { node: id },
            22 => EventKind::NodePause { node: id },
            23 => EventKind::NodeResume { node: id },
            24 => EventKind::Partition {
                from: (self.arg >> 32) as u32,
                to: id,
            },
            25 => EventKind::Heal {
                from: (self.arg >> 32) as u32,
                to: id,
            },
            FAULT => EventKind::Fault {
                what: FAULT_NAMES[(self.extra as usize).min(FAULT_NAMES.len() - 1)],
                node: (self.arg >> 48) as u32,
                value: self.arg & 0xffff_ffff_ffff,
            },
            DISK => side.wide[self.arg as usize].clone(),
            _ => EventKind::Yield,
        };
        Event {
            step: self.step,
            time_ns: self.time_ns,
            worker: (self.worker != NONE_WORKER).then_some(self.worker),
            task: (self.task != NONE_TASK).then_some(self.task),
            kind,
        }
    }
}

/// Decodes the network events (tags 16..=19; `extra` is the protocol).
fn net_event(tag: u8, extra: u8, arg: u64) -> EventKind {
    let proto = if extra == Proto::Udp as u8 {
        Proto::Udp
    } else {
        Proto::Tcp
    };
    let (from, to, bytes) = super::event::unpack_net(arg);
    match tag {
        16 => EventKind::NetSend {
            proto,
            from,
            to,
            bytes,
        },
        17 => EventKind::NetDeliver {
            proto,
            from,
            to,
            bytes,
        },
        18 => EventKind::NetDrop {
            proto,
            from,
            to,
            bytes,
        },
        _ => EventKind::NetDuplicate {
            proto,
            from,
            to,
            bytes,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_events_are_32_bytes_and_decode_losslessly() {
        assert_eq!(std::mem::size_of::<RawEvent>(), 32);
        let kinds = vec![
            EventKind::Spawn { child: 7 },
            EventKind::Poll,
            EventKind::Ready,
            EventKind::Pending,
            EventKind::Yield,
            EventKind::Wake { target: 3 },
            EventKind::Steal { from: Some(2) },
            EventKind::Steal { from: None },
            EventKind::TimerSet { deadline_ns: 12 },
            EventKind::TimerFire { deadline_ns: 13 },
            EventKind::Advance { to_ns: 14 },
            EventKind::Burn { duration_ns: 15 },
            EventKind::Abort { target: 4 },
            EventKind::Choice {
                what: "rand",
                value: u64::MAX,
            },
            EventKind::Log {
                message: "INFO hello".into(),
            },
            EventKind::Failure {
                message: "boom\nline 2".into(),
            },
            EventKind::NetSend {
                proto: Proto::Udp,
                from: 1,
                to: 65535,
                bytes: u32::MAX,
            },
            EventKind::NetDeliver {
                proto: Proto::Tcp,
                from: 2,
                to: 1,
                bytes: 64,
            },
            EventKind::NetDrop {
                proto: Proto::Tcp,
                from: 0,
                to: 3,
                bytes: 0,
            },
            EventKind::NetDuplicate {
                proto: Proto::Udp,
                from: 3,
                to: 4,
                bytes: 9,
            },
            EventKind::NodeCrash { node: 2 },
            EventKind::NodeRestart { node: 2 },
            EventKind::NodePause { node: 3 },
            EventKind::NodeResume { node: 3 },
            EventKind::Partition { from: 1, to: 2 },
            EventKind::Heal { from: 2, to: 1 },
            EventKind::Fault {
                what: "clock_jump",
                node: 5,
                value: 1 << 40,
            },
            EventKind::Disk {
                node: 3,
                op: super::super::DiskOp::Write,
                path: "data/wal.log".into(),
                offset: 1 << 40,
                len: 100,
                result: super::super::DiskResult::Eio,
            },
        ];
        let mut texts = Side::default();
        for (i, kind) in kinds.into_iter().enumerate() {
            let e = Event {
                step: i as u64,
                time_ns: 99,
                worker: (i % 2 == 0).then_some(1),
                task: (i % 3 == 0).then_some(5),
                kind,
            };
            let raw = RawEvent::from_event(e.clone(), &mut texts);
            assert_eq!(raw.decode(&texts), e);
        }
    }
}
