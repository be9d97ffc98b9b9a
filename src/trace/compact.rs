//! How a full trace stores its events: a few bytes each, strings in a side table.
//!
//! A full trace of a busy run holds millions of events, so what each costs to keep is
//! most of the cost of tracing: the public [`Event`] (with `Option`s and an enum holding
//! strings) takes 64 bytes. [`Packed`] stores a stream of 32-bit words in chunks: one
//! word for most events, plus a context record when the step, time, worker or task
//! changes (about 4–8 bytes per event on average), and decodes back to `Event`
//! losslessly, forwards or from the back. Events the runtime records by their words
//! (`Trace::keep_who`) are stored from the words alone, without touching the kind;
//! strings (log lines, failure messages) and kinds too wide to pack (disk operations)
//! go to [`Side`].

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

/// Tags whose argument is a point in time: stored relative to the event's time (a
/// deadline a few milliseconds ahead fits the short form; the absolute time may not).
const TIME_ARGS: u64 = 1 << 7 | 1 << 8 | 1 << 9;
/// Tags whose kind carries what its words do not (a name, a string, a disk operation):
/// they go through [`Packed::push_kind`].
const KIND_TAGS: u64 = 1 << CHOICE | 1 << 13 | 1 << 14 | 1 << FAULT | 1 << DISK;

/// Low 6 bits of a word: the tag of an event, or [`CTX`] for a context record.
const TAG_BITS: u32 = 63;
/// Tag of a context record: the step, time, worker or task changed.
const CTX: u8 = 63;
/// Tag of a poll record: a context record in its short form (a step delta below 2^16,
/// the same time, a worker byte) that is also a `Poll` event, and may be its end event
/// too ([`POLL_ENDS`], in bits 6..8). Two words, `head, task`: a poll that yields is 8
/// bytes.
const POLLED: u8 = 62;
/// Tag of a fired record: a context record in its short form that is also a
/// `TimerFire` at the context's time (a timer firing at its deadline, as every timer
/// of the step loop does: the firing starts a new context, the timer's task with no
/// worker). Two words, `head, task`, like [`POLLED`]; a context record and the event's
/// word took three.
const FIRED: u8 = 61;
/// Tag of `EventKind::Poll` (see `EventKind::words`).
const POLL: u8 = 2;
/// Tag of `EventKind::TimerFire` (see `EventKind::words`).
const TIMER_FIRE: u8 = 8;
/// The end events a poll record may carry, by their 2-bit code (0: none): `Yield`,
/// `Pending`, `Ready` (their tags; none has an argument).
pub(super) const POLL_ENDS: [u8; 4] = [0, 15, 4, 3];
/// Event word flag: the argument (and `extra`) do not fit the word; two words follow.
const LONG: u32 = 1 << 6;
/// The code of `tag_word` in [`POLL_ENDS`] if it is an end event a poll record may
/// carry (its whole word: none has an argument), else 0.
#[inline(always)]
pub(crate) const fn end_code(tag_word: u64) -> u32 {
    match tag_word {
        15 => 1,
        4 => 2,
        3 => 3,
        _ => 0,
    }
}
/// The most one-word events after a `Poll` that the runtime holds with it
/// ([`Packed::try_push_polled_mid`]): with the poll record and an end event, within
/// [`MAX_RECORD`].
pub(crate) const MID_MAX: usize = 4;
const _: () = assert!(MID_MAX + 3 <= MAX_RECORD);

/// The one word that stores an event given by its words (see `EventKind::words`) at
/// time `time_ns` in the context of the event before it, if it has one: a kind its
/// words describe ([`Packed::plain`]), not a `Poll`, and a short argument (a point in
/// time relative to `time_ns`). What [`Packed::try_push`] writes after its context.
#[inline(always)]
pub(crate) fn short_word(tag_word: u64, arg: u64, time_ns: u64) -> Option<u32> {
    let (tag, extra) = (tag_word as u8, (tag_word >> 8) as u8);
    if !Packed::plain(tag_word) || tag == POLL || tag == POLLED || tag == CTX {
        return None;
    }
    let arg = if TIME_ARGS >> tag & 1 != 0 {
        arg.wrapping_sub(time_ns)
    } else {
        arg
    };
    (arg < 1 << 24 && extra == 0).then_some(tag as u32 | (arg as u32) << 8)
}

/// The words of the event a [`short_word`] at time `time_ns` stores.
pub(crate) fn unshort(word: u32, time_ns: u64) -> (u64, u64) {
    let tag = (word & TAG_BITS) as u8;
    let arg = (word >> 8) as u64;
    let arg = if TIME_ARGS >> tag & 1 != 0 {
        arg.wrapping_add(time_ns)
    } else {
        arg
    };
    (tag as u64, arg)
}

/// Context word flag: the time changed; its delta follows in two words.
const CTX_TIME: u32 = 1 << 6;
/// Context word flag: the step delta does not fit 16 bits; it follows in two words.
const CTX_STEP_LONG: u32 = 1 << 7;
/// Worker byte of a context word: no worker.
const WORKER_NONE: u32 = 0xfe;
/// Worker byte of a context word: the worker follows in a word.
const WORKER_WIDE: u32 = 0xff;
/// The most words one event takes: a context record (tag, task, worker, step, time:
/// 1 + 1 + 1 + 2 + 2) and a long event (3).
const MAX_RECORD: usize = 10;
/// Chunk capacities, in words: 256 KiB, then each four times the one before, up to 32
/// MiB. A chunk is allocated uninitialised, so its unused part costs address space, not
/// memory. Small chunks would cost page faults on every run: the allocator hands
/// memory back to the system on free unless a block as large was freed before (glibc's
/// dynamic mmap and trim thresholds), so a run that frees one large chunk lets the next
/// run reuse the memory, while one that frees many small ones does not (`perf stat`, 21
/// runs of W1 with the full trace: 21,075 page faults with chunks of at most 256 KiB,
/// 1,857 with these, 4,510 with the former growing `Vec`). The thresholds are process
/// wide, so other large blocks count too: the recorded choices (`choice/log.rs`) are
/// chunked the same way, since W2's former `Vec<Choice>`, grown by reallocation,
/// faulted in on every run.
const FIRST_CHUNK: usize = 1 << 16;
const LARGEST_CHUNK: usize = 1 << 23;

/// What an event happened in: its step, time, task and worker (`who`: the task in bits
/// 16..48, the worker in bits 0..16, as the fingerprint packs them). Consecutive events
/// of one poll share it, so it is stored only when it changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ctx {
    step: u64,
    time: u64,
    who: u64,
}

const START: Ctx = Ctx {
    step: 0,
    time: 0,
    who: who(None, None),
};

/// The task and worker of an event as one word (see [`Ctx`]); the runtime keeps the
/// current task in this form (`Core::cur`).
#[inline(always)]
pub(crate) const fn who(worker: Option<u16>, task: Option<u32>) -> u64 {
    let task = match task {
        Some(t) => t,
        None => NONE_TASK,
    };
    let worker = match worker {
        Some(w) => w,
        None => NONE_WORKER,
    };
    (task as u64) << 16 | worker as u64
}

/// The task and worker a [`who`] word names.
#[inline(always)]
pub(super) const fn unwho(who: u64) -> (Option<u16>, Option<u32>) {
    let (worker, task) = (who as u16, (who >> 16) as u32);
    let worker = if worker == NONE_WORKER {
        None
    } else {
        Some(worker)
    };
    let task = if task == NONE_TASK { None } else { Some(task) };
    (worker, task)
}

/// The event a plain kind's words (see [`Packed::plain`]) and [`who`] describe.
pub(super) fn from_words(step: u64, time_ns: u64, who: u64, tag: u64, arg: u64) -> Event {
    let (worker, task) = (who as u16, (who >> 16) as u32);
    Event {
        step,
        time_ns,
        worker: (worker != NONE_WORKER).then_some(worker),
        task: (task != NONE_TASK).then_some(task),
        kind: kind(tag as u8, arg, (tag >> 8) as u8, &Side::default()),
    }
}

/// A finished run of words and the context in force at its start.
#[derive(Clone, Debug)]
struct Chunk {
    words: Vec<u32>,
    start: Ctx,
    /// Index of its first event.
    first: usize,
}

/// The events of a full trace as a stream of 32-bit words, in chunks.
///
/// An event is one word — its tag (6 bits), a flag and a 24-bit argument — or, when its
/// argument does not fit (a random value, a network address pair) three words. When the
/// step, time, worker or task differ from the previous event's, a context record comes
/// first (two words for a new poll: the step delta and worker in one, the task in the
/// other). A `Poll` is its context record ([`POLLED`]), and its end event (`yield`,
/// `pending`, `ready`), when nothing came between, is two bits of that record (the
/// runtime holds a `Poll` until its next event says which: [`Self::try_push_polled`]).
/// A poll that yields is thus 8 bytes (the former fixed layout took 64: two events of
/// 32 bytes), and costs one write. A timer firing at its deadline in a new context is
/// one record too ([`FIRED`]). Chunks are never reallocated (no copy as the trace grows) and each
/// knows its starting context and first event, so decoding can start at any chunk.
///
/// The chunk being written (`cur`) is allocated at its full capacity, uninitialised, so
/// a large chunk costs only the pages it uses.
#[derive(Clone, Debug)]
pub(super) struct Packed {
    /// Finished chunks.
    chunks: Vec<Chunk>,
    // invariant: never grows past its capacity (an event is written only when
    // `MAX_RECORD` words are free, else into a new chunk); no capacity before the first
    // event, and never any in a streamed trace.
    cur: Vec<u32>,
    cur_start: Ctx,
    cur_first: usize,
    /// Context of the last event written.
    last: Ctx,
    len: usize,
}

impl Default for Packed {
    fn default() -> Self {
        Packed {
            chunks: Vec::new(),
            cur: Vec::new(),
            cur_start: START,
            cur_first: 0,
            last: START,
            len: 0,
        }
    }
}

/// Its chunks go back to this thread's spares (`crate::spare`) for the next run's trace
/// (a trace that kept nothing, as in every trace-off run, costs one test).
impl Drop for Packed {
    fn drop(&mut self) {
        if self.cur.capacity() == 0 {
            return; // nothing kept (trace off, or streamed): chunks come after `cur`
        }
        crate::spare::give(std::mem::take(&mut self.cur));
        self.chunks
            .drain(..)
            .for_each(|c| crate::spare::give(c.words));
    }
}

impl Packed {
    /// Number of events.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// True if an event of this tag (`words.0`) is fully described by its words, so
    /// that [`Self::push_words`] can store it.
    #[inline(always)]
    pub(super) fn plain(tag_word: u64) -> bool {
        let tag = tag_word as u8;
        tag < 64 && KIND_TAGS >> tag & 1 == 0
    }

    /// Stores an event given by its words (see [`Self::plain`]) and [`who`], as
    /// `Trace::keep_who` does.
    #[cfg(test)]
    fn push_words(&mut self, step: u64, time_ns: u64, who: u64, tag: u64, arg: u64) {
        if !self.try_push(step, time_ns, who, tag, arg) {
            self.push_any(step, time_ns, who, tag, arg);
        }
    }

    /// Stores an event given by its words in the common case — room in the chunk, and
    /// the same context or a new poll's (a small step delta, the same time, a worker
    /// below 254) — and returns false otherwise, storing nothing. Inlined where events
    /// are recorded: a constant kind's word folds to a constant, and the common case
    /// makes no call. A streamed trace never has room (its chunk stays empty).
    #[inline(always)]
    pub(super) fn try_push(
        &mut self,
        step: u64,
        time_ns: u64,
        who: u64,
        tag_word: u64,
        arg: u64,
    ) -> bool {
        let ctx = Ctx {
            step,
            time: time_ns,
            who,
        };
        let (tag, extra) = (tag_word as u8, (tag_word >> 8) as u8);
        if self.cur.capacity() - self.cur.len() < MAX_RECORD {
            return false;
        }
        if tag_word == POLL as u64 {
            return self.try_push_polled(step, time_ns, who, 0);
        }
        let last = self.last;
        let cur = &mut self.cur;
        if ctx != last {
            let Some(head) = short_ctx(last, ctx) else {
                return false;
            };
            self.last = ctx;
            if fired_at_deadline(tag, arg, extra, time_ns) {
                cur.extend_from_slice(&[FIRED as u32 | head, (who >> 16) as u32]);
                self.len += 1;
                return true;
            }
            cur.extend_from_slice(&[CTX as u32 | head, (who >> 16) as u32]);
        }
        let arg = if TIME_ARGS >> tag & 1 != 0 {
            arg.wrapping_sub(time_ns)
        } else {
            arg
        };
        if arg < 1 << 24 && extra == 0 {
            cur.push(tag as u32 | (arg as u32) << 8);
        } else {
            cur.extend_from_slice(&[
                tag as u32 | LONG | (extra as u32) << 8,
                arg as u32,
                (arg >> 32) as u32,
            ]);
        }
        self.len += 1;
        true
    }

    /// The context of an event of this step, time and `who`, and the bits of its short
    /// context form, if a record of up to [`MAX_RECORD`] words fits in the chunk and the
    /// short form does (see [`short_ctx`]).
    #[inline(always)]
    fn room_and_short_ctx(&self, step: u64, time_ns: u64, who: u64) -> Option<(Ctx, u32)> {
        let ctx = Ctx {
            step,
            time: time_ns,
            who,
        };
        if self.cur.capacity() - self.cur.len() < MAX_RECORD {
            return None;
        }
        Some((ctx, short_ctx(self.last, ctx)?))
    }

    /// Stores a `Poll` and the end event of code `end` (see [`end_code`]; 0: none) as
    /// one poll record in the common case — room in the chunk, a small step delta, the
    /// same time, a worker below 254 — and returns false otherwise, storing nothing.
    #[inline(always)]
    pub(super) fn try_push_polled(&mut self, step: u64, time_ns: u64, who: u64, end: u32) -> bool {
        let Some((ctx, head)) = self.room_and_short_ctx(step, time_ns, who) else {
            return false;
        };
        let head = POLLED as u32 | end << 6 | head;
        self.cur.extend_from_slice(&[head, (who >> 16) as u32]);
        self.last = ctx;
        self.len += 1 + (end != 0) as usize;
        true
    }

    /// Stores a `Poll`, the one-word events of its task that came next (`mid`, as
    /// [`short_word`] made them; at most [`MID_MAX`]) and the end event of code `end`
    /// (0: none), as [`Self::try_push_polled`] and [`Self::try_push`] would one after
    /// the other — the same words — with one test for room and one for the context:
    /// the runtime holds a poll's first few events (`Core::keep`). Returns false
    /// otherwise, storing nothing.
    #[inline(always)]
    pub(super) fn try_push_polled_mid(
        &mut self,
        step: u64,
        time_ns: u64,
        who: u64,
        mid: &[u32; MID_MAX],
        len: usize,
        end: u32,
    ) -> bool {
        if len == 0 {
            return self.try_push_polled(step, time_ns, who, end);
        }
        let Some((ctx, head)) = self.room_and_short_ctx(step, time_ns, who) else {
            return false;
        };
        let len = len.min(MID_MAX);
        // Every slot written, then the length set to the words that count: fixed-size
        // stores, no copy of a variable length (a `memcpy` call per poll otherwise).
        let spare = &mut self.cur.spare_capacity_mut()[..MID_MAX + 3];
        spare[0].write(POLLED as u32 | head);
        spare[1].write((who >> 16) as u32);
        for (slot, &word) in spare[2..2 + MID_MAX].iter_mut().zip(mid) {
            slot.write(word);
        }
        spare[2 + len].write(POLL_ENDS[end as usize & 3] as u32);
        let n = 2 + len + (end != 0) as usize;
        // SAFETY: `n <= MID_MAX + 3 <= MAX_RECORD` words past the length are within the
        // capacity (tested above), and the first `n` of them were all written just now
        // (slots 0 and 1, then `2..2 + len` from `mid`, then `2 + len` if `end != 0`).
        unsafe { self.cur.set_len(self.cur.len() + n) };
        self.last = ctx;
        self.len += 1 + len + (end != 0) as usize;
        true
    }

    /// Stores a `Poll` and the end event of code `end` (0: none): a poll record if its
    /// short form fits, else a context record and the events' words.
    pub(super) fn push_polled(&mut self, step: u64, time_ns: u64, who: u64, end: u32) {
        if self.cur.capacity() - self.cur.len() < MAX_RECORD {
            self.next_chunk();
        }
        if !self.try_push_polled(step, time_ns, who, end) {
            let ctx = Ctx {
                step,
                time: time_ns,
                who,
            };
            self.write(ctx, POLL, 0, 0);
            if end != 0 {
                self.write(ctx, POLL_ENDS[end as usize], 0, 0);
            }
        }
    }

    /// Stores any event; strings and wide kinds go to `side`.
    pub(super) fn push_kind(
        &mut self,
        step: u64,
        time_ns: u64,
        who: u64,
        words: (u64, u64),
        kind: EventKind,
        side: &mut Side,
    ) {
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
        let ctx = Ctx {
            step,
            time: time_ns,
            who,
        };
        self.push(ctx, tag, arg, extra);
    }

    /// Stores an already built [`Event`].
    pub(super) fn push_event(&mut self, e: Event, side: &mut Side) {
        let words = e.kind.words();
        let who = who(e.worker, e.task);
        self.push_kind(e.step, e.time_ns, who, words, e.kind, side);
    }

    /// [`Self::push`] with [`Self::push_words`]'s arguments.
    #[inline(never)]
    pub(super) fn push_any(&mut self, step: u64, time_ns: u64, who: u64, tag_word: u64, arg: u64) {
        let ctx = Ctx {
            step,
            time: time_ns,
            who,
        };
        self.push(ctx, tag_word as u8, arg, (tag_word >> 8) as u8);
    }

    /// Stores an event: the general form (any context change; a new chunk if needed).
    fn push(&mut self, ctx: Ctx, tag: u8, arg: u64, extra: u8) {
        if tag == POLL {
            // (a `Poll` has no argument)
            return self.push_polled(ctx.step, ctx.time, ctx.who, 0);
        }
        self.write(ctx, tag, arg, extra);
    }

    /// Writes an event as a plain word (or three), after a context record if the
    /// context changed.
    fn write(&mut self, ctx: Ctx, tag: u8, arg: u64, extra: u8) {
        if self.cur.capacity() - self.cur.len() < MAX_RECORD {
            self.next_chunk();
        }
        let mut out = [0; MAX_RECORD];
        let mut n = 0;
        if ctx != self.last {
            let short = short_ctx(self.last, ctx);
            if let Some(head) = short.filter(|_| fired_at_deadline(tag, arg, extra, ctx.time)) {
                // As `try_push` writes it.
                self.cur
                    .extend_from_slice(&[FIRED as u32 | head, (ctx.who >> 16) as u32]);
                self.last = ctx;
                self.len += 1;
                return;
            }
            n = push_ctx(&mut out, self.last, ctx);
            self.last = ctx;
        }
        let arg = if TIME_ARGS >> tag & 1 != 0 {
            arg.wrapping_sub(ctx.time)
        } else {
            arg
        };
        if arg < 1 << 24 && extra == 0 {
            out[n] = tag as u32 | (arg as u32) << 8;
            n += 1;
        } else {
            out[n] = tag as u32 | LONG | (extra as u32) << 8;
            out[n + 1] = arg as u32;
            out[n + 2] = (arg >> 32) as u32;
            n += 3;
        }
        self.cur.extend_from_slice(&out[..n]);
        self.len += 1;
    }

    /// Finishes the current chunk (if any) and starts the next, four times as large.
    #[cold]
    #[inline(never)]
    fn next_chunk(&mut self) {
        let size = match self.cur.capacity() {
            0 => FIRST_CHUNK,
            n => (n * 4).min(LARGEST_CHUNK),
        };
        let words = std::mem::replace(&mut self.cur, crate::spare::take(size));
        if words.capacity() > 0 {
            self.chunks.push(Chunk {
                words,
                start: self.cur_start,
                first: self.cur_first,
            });
        }
        self.cur_start = self.last;
        self.cur_first = self.len;
    }

    /// Chunk `i` (the current one last): its words, starting context and first event.
    fn chunk(&self, i: usize) -> (&[u32], Ctx, usize) {
        match self.chunks.get(i) {
            Some(c) => (&c.words, c.start, c.first),
            None => (&self.cur, self.cur_start, self.cur_first),
        }
    }

    /// All events, decoded in order.
    pub(super) fn iter<'a>(&'a self, side: &'a Side) -> Iter<'a> {
        Iter {
            packed: self,
            side,
            front: Cursor {
                chunk: 0,
                pos: 0,
                ctx: START,
                then: 0,
            },
            next: 0,
            end: self.len,
            back: Vec::new(),
        }
    }

    /// Event `i`, if stored (decodes from the start of its chunk).
    pub(super) fn get(&self, i: usize, side: &Side) -> Option<Event> {
        if i >= self.len() {
            return None;
        }
        let mut cursor = self.cursor_in_chunk_of(i);
        for _ in self.chunk(cursor.chunk).2..i {
            self.read(&mut cursor);
        }
        Some(self.event(&mut cursor, side))
    }

    /// A cursor at the start of the chunk holding event `i` (`i < len`).
    fn cursor_in_chunk_of(&self, i: usize) -> Cursor {
        let chunk = if i >= self.cur_first {
            self.chunks.len()
        } else {
            self.chunks.partition_point(|c| c.first <= i) - 1
        };
        Cursor {
            chunk,
            pos: 0,
            ctx: self.chunk(chunk).1,
            then: 0,
        }
    }

    /// Decodes the event at `cursor` and moves past it.
    fn event(&self, cursor: &mut Cursor, side: &Side) -> Event {
        let (tag, arg, extra) = self.read(cursor);
        let ctx = cursor.ctx;
        let (worker, task) = (ctx.who as u16, (ctx.who >> 16) as u32);
        Event {
            step: ctx.step,
            time_ns: ctx.time,
            worker: (worker != NONE_WORKER).then_some(worker),
            task: (task != NONE_TASK).then_some(task),
            kind: kind(tag, arg, extra, side),
        }
    }

    /// Reads the next event's `(tag, arg, extra)` (its context is then `cursor.ctx`).
    /// There must be one.
    fn read(&self, cursor: &mut Cursor) -> (u8, u64, u8) {
        if cursor.then != 0 {
            return (std::mem::take(&mut cursor.then), 0, 0);
        }
        loop {
            let words = self.chunk(cursor.chunk).0;
            if cursor.pos == words.len() {
                cursor.chunk += 1;
                cursor.pos = 0;
                continue;
            }
            let w = words[cursor.pos];
            cursor.pos += 1;
            let tag = (w & TAG_BITS) as u8;
            let wide = |c: &mut Cursor| {
                let v = words[c.pos] as u64 | (words[c.pos + 1] as u64) << 32;
                c.pos += 2;
                v
            };
            if tag == POLLED || tag == FIRED {
                // The short context form, and an event.
                let task = words[cursor.pos] as u64;
                cursor.pos += 1;
                let worker = match w >> 8 & 0xff {
                    WORKER_NONE => NONE_WORKER,
                    b => b as u16,
                };
                cursor.ctx.who = task << 16 | worker as u64;
                cursor.ctx.step = cursor.ctx.step.wrapping_add((w >> 16) as u64);
                if tag == FIRED {
                    return (TIMER_FIRE, cursor.ctx.time, 0);
                }
                cursor.then = POLL_ENDS[(w >> 6 & 3) as usize];
                return (POLL, 0, 0);
            }
            if tag == CTX {
                let task = words[cursor.pos] as u64;
                cursor.pos += 1;
                let worker = match w >> 8 & 0xff {
                    WORKER_NONE => NONE_WORKER,
                    WORKER_WIDE => {
                        cursor.pos += 1;
                        words[cursor.pos - 1] as u16
                    }
                    b => b as u16,
                };
                cursor.ctx.who = task << 16 | worker as u64;
                let step = if w & CTX_STEP_LONG != 0 {
                    wide(cursor)
                } else {
                    (w >> 16) as u64
                };
                cursor.ctx.step = cursor.ctx.step.wrapping_add(step);
                if w & CTX_TIME != 0 {
                    cursor.ctx.time = cursor.ctx.time.wrapping_add(wide(cursor));
                }
                continue;
            }
            let (arg, extra) = if w & LONG != 0 {
                (wide(cursor), (w >> 8) as u8)
            } else {
                ((w >> 8) as u64, 0)
            };
            let arg = if TIME_ARGS >> tag & 1 != 0 {
                arg.wrapping_add(cursor.ctx.time)
            } else {
                arg
            };
            return (tag, arg, extra);
        }
    }
}

/// True if an event given by its fields is a `TimerFire` at `time_ns` (its
/// deadline), which a fired record stores with its context ([`FIRED`]).
#[inline(always)]
fn fired_at_deadline(tag: u8, arg: u64, extra: u8, time_ns: u64) -> bool {
    tag == TIMER_FIRE && arg == time_ns && extra == 0
}

/// The worker byte and step delta of the short context form (bits 8..32 of a context
/// or poll record's head word) for a change from `last` to `ctx`, if it fits: a step
/// delta below 2^16, the same time, a worker byte (no worker is a byte too, as
/// [`push_ctx`] writes it; only a worker too wide for it needs the general form).
#[inline(always)]
fn short_ctx(last: Ctx, ctx: Ctx) -> Option<u32> {
    let delta = ctx.step.wrapping_sub(last.step);
    let w = ctx.who as u16;
    let worker = if w == NONE_WORKER {
        WORKER_NONE
    } else {
        w as u32
    };
    let wide = worker >= WORKER_NONE && w != NONE_WORKER;
    if delta >= 1 << 16 || ctx.time != last.time || wide {
        return None;
    }
    Some(worker << 8 | (delta as u32) << 16)
}

/// Writes the context record for a change from `last` to `ctx` (the general form:
/// any step delta, a time change, any worker); returns the words written.
fn push_ctx(out: &mut [u32], last: Ctx, ctx: Ctx) -> usize {
    let step = ctx.step.wrapping_sub(last.step);
    let long_step = step >= 1 << 16;
    let time = ctx.time.wrapping_sub(last.time);
    let worker = match ctx.who as u16 {
        NONE_WORKER => WORKER_NONE,
        w if (w as u32) < WORKER_NONE => w as u32,
        _ => WORKER_WIDE,
    };
    let mut head = CTX as u32 | worker << 8;
    if long_step {
        head |= CTX_STEP_LONG;
    } else {
        head |= (step as u32) << 16;
    }
    if time != 0 {
        head |= CTX_TIME;
    }
    out[0] = head;
    out[1] = (ctx.who >> 16) as u32;
    let mut n = 2;
    let mut put = |word: u64| {
        out[n] = word as u32;
        n += 1;
    };
    if worker == WORKER_WIDE {
        put(ctx.who & 0xffff);
    }
    if long_step {
        put(step);
        put(step >> 32);
    }
    if time != 0 {
        put(time);
        put(time >> 32);
    }
    n
}

/// A decoding position: chunk, word, and the context in force.
#[derive(Clone, Debug)]
struct Cursor {
    chunk: usize,
    pos: usize,
    ctx: Ctx,
    /// The tag of the end event of the poll record just read, still to be yielded (0:
    /// none).
    then: u8,
}

/// The events of a [`Packed`] store, decoded in order; from the back, a chunk at a time.
pub(super) struct Iter<'a> {
    packed: &'a Packed,
    side: &'a Side,
    /// Position of event `next`.
    front: Cursor,
    /// Events `next..end` are not yet yielded.
    next: usize,
    end: usize,
    /// Decoded events just before `end`, in order (filled by `next_back`).
    back: Vec<Event>,
}

impl Iterator for Iter<'_> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        if self.next == self.end {
            return None;
        }
        self.next += 1;
        Some(self.packed.event(&mut self.front, self.side))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.next;
        (n, Some(n))
    }

    fn nth(&mut self, n: usize) -> Option<Event> {
        let skip = n.min(self.end - self.next);
        for _ in 0..skip {
            self.packed.read(&mut self.front);
        }
        self.next += skip;
        self.next()
    }

    fn last(mut self) -> Option<Event> {
        self.next_back()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Event> {
        if self.next == self.end {
            return None;
        }
        if self.back.is_empty() {
            // Decode from the start of the last event's chunk (or from the front, if
            // that is later) up to `end`.
            let mut cursor = self.packed.cursor_in_chunk_of(self.end - 1);
            let mut at = self.packed.chunk(cursor.chunk).2;
            if self.next >= at {
                cursor = self.front.clone();
                at = self.next;
            }
            for _ in at..self.end {
                let e = self.packed.event(&mut cursor, self.side);
                self.back.push(e);
            }
        }
        self.end -= 1;
        self.back.pop()
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// An event kind from its packed fields (tags are those of `EventKind::words`, except
/// `CHOICE`).
fn kind(tag: u8, arg: u64, extra: u8, side: &Side) -> EventKind {
    let text = || side.texts.get(arg as usize).cloned().unwrap_or_default();
    let id = arg as u32;
    match tag {
        1 => EventKind::Spawn { child: id },
        2 => EventKind::Poll,
        3 => EventKind::Ready,
        4 => EventKind::Pending,
        5 => EventKind::Wake { target: id },
        6 => EventKind::Steal {
            from: (arg != u64::MAX).then_some(arg as u16),
        },
        7 => EventKind::TimerSet { deadline_ns: arg },
        8 => EventKind::TimerFire { deadline_ns: arg },
        9 => EventKind::Advance { to_ns: arg },
        10 => EventKind::Burn { duration_ns: arg },
        11 => EventKind::Abort { target: id },
        CHOICE => EventKind::Choice {
            what: CHOICE_NAMES[(extra as usize).min(CHOICE_NAMES.len() - 1)],
            value: arg,
        },
        13 => EventKind::Log { message: text() },
        14 => EventKind::Failure { message: text() },
        16..=19 => net_event(tag, extra, arg),
        20 => EventKind::NodeCrash { node: id },
        21 => EventKind::NodeRestart { node: id },
        22 => EventKind::NodePause { node: id },
        23 => EventKind::NodeResume { node: id },
        24 => EventKind::Partition {
            from: (arg >> 32) as u32,
            to: id,
        },
        25 => EventKind::Heal {
            from: (arg >> 32) as u32,
            to: id,
        },
        FAULT => EventKind::Fault {
            what: FAULT_NAMES[(extra as usize).min(FAULT_NAMES.len() - 1)],
            node: (arg >> 48) as u32,
            value: arg & 0xffff_ffff_ffff,
        },
        DISK => side.wide[arg as usize].clone(),
        _ => EventKind::Yield,
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
    fn poll_record_tags_are_the_event_tags() {
        assert_eq!(EventKind::Poll.words(), (POLL as u64, 0));
        for kind in [EventKind::Yield, EventKind::Pending, EventKind::Ready] {
            let (tag, arg) = kind.words();
            let code = end_code(tag);
            assert!(code != 0 && arg == 0, "{kind:?}");
            assert_eq!(POLL_ENDS[code as usize] as u64, tag, "{kind:?}");
        }
        assert_eq!(end_code(EventKind::Poll.words().0), 0);
        assert_eq!(end_code(EventKind::Wake { target: 3 }.words().0), 0);
    }

    #[test]
    fn every_kind_decodes_losslessly() {
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
        let mut side = Side::default();
        let mut packed = Packed::default();
        let mut events = Vec::new();
        for (i, kind) in kinds.into_iter().enumerate() {
            let e = Event {
                step: i as u64,
                time_ns: 99,
                worker: (i % 2 == 0).then_some(1),
                task: (i % 3 == 0).then_some(5),
                kind,
            };
            packed.push_event(e.clone(), &mut side);
            events.push(e);
        }
        assert_eq!(packed.iter(&side).collect::<Vec<_>>(), events);
    }

    /// Events with every context change the encoding distinguishes (a step or time
    /// going backwards, long deltas, wide and missing workers and tasks, time-relative
    /// arguments before the event's time), over many chunks.
    fn varied(n: usize) -> Vec<Event> {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let (mut step, mut time) = (0u64, 0u64);
        (0..n)
            .map(|_| {
                let r = next();
                match r % 8 {
                    0 => step += 1,
                    1 => step = step.wrapping_add(r >> 40),
                    2 => time += r >> 50,
                    3 => time = r >> 3,
                    4 => step = r,
                    _ => {}
                }
                let worker = match r >> 8 & 7 {
                    0 => None,
                    1 => Some(u16::MAX - 1),
                    2 => Some(300),
                    w => Some(w as u16),
                };
                let task = match r >> 11 & 3 {
                    0 => None,
                    1 => Some(u32::MAX - 1),
                    t => Some(t as u32 * 1000),
                };
                let arg = match r >> 13 & 3 {
                    0 => 0,
                    1 => r >> 20,
                    2 => r,
                    _ => time.wrapping_sub(r >> 60),
                };
                let kind = match r >> 16 & 15 {
                    0 | 8 | 9 => EventKind::Poll,
                    1 | 10 => EventKind::Yield,
                    11 => EventKind::Pending,
                    12 => EventKind::Ready,
                    2 => EventKind::Wake { target: arg as u32 },
                    3 => EventKind::TimerSet { deadline_ns: arg },
                    4 => EventKind::TimerFire { deadline_ns: arg },
                    5 => EventKind::Advance { to_ns: arg },
                    6 => EventKind::Choice {
                        what: "fault",
                        value: arg,
                    },
                    _ => EventKind::Steal {
                        from: worker.filter(|_| arg & 1 == 0),
                    },
                };
                Event {
                    step,
                    time_ns: time,
                    worker,
                    task,
                    kind,
                }
            })
            .collect()
    }

    #[test]
    fn varied_contexts_decode_losslessly_forwards_backwards_and_by_index() {
        let events = varied(200_000);
        let (mut packed, mut side) = (Packed::default(), Side::default());
        for (i, e) in events.iter().enumerate() {
            // Both entry points: by words (the runtime's) and by kind.
            let words = e.kind.words();
            if i % 2 == 0 && Packed::plain(words.0) {
                packed.push_words(e.step, e.time_ns, who(e.worker, e.task), words.0, words.1);
            } else {
                packed.push_event(e.clone(), &mut side);
            }
        }
        assert!(packed.chunks.len() >= 2, "several chunks");
        assert_eq!(packed.len(), events.len());
        assert!(packed.iter(&side).eq(events.iter().cloned()));
        let mut back: Vec<_> = packed.iter(&side).rev().collect();
        back.reverse();
        assert!(back == events, "decoded from the back");
        for i in [0, 1, 511, 512, 513, 100_000, 199_999] {
            assert_eq!(packed.get(i, &side).as_ref(), events.get(i), "event {i}");
            assert_eq!(packed.iter(&side).nth(i).as_ref(), events.get(i), "nth {i}");
        }
        assert_eq!(packed.get(events.len(), &side), None);
        // Both ends at once meet in the middle.
        let mut it = packed.iter(&side);
        let (mut front, mut tail) = (Vec::new(), Vec::new());
        while let Some(e) = it.next() {
            front.push(e);
            match it.next_back() {
                Some(e) => tail.push(e),
                None => break,
            }
        }
        tail.reverse();
        front.extend(tail);
        assert!(front == events, "interleaved ends");
        // Pushed as the runtime does (polls and their end events as one record).
        let (mut packed, mut side) = (Packed::default(), Side::default());
        push_as_runtime(&mut packed, &mut side, &events);
        assert!(packed.iter(&side).eq(events.iter().cloned()));
    }

    /// Pushes events as the runtime does (`Core::keep`, `Trace::keep_poll_mid`): a
    /// `Poll` is held with the one-word events of its context that follow it (up to
    /// `MID_MAX`), and stored with them — and with its end event, if that comes next
    /// in the same context — at once.
    fn push_as_runtime(packed: &mut Packed, side: &mut Side, events: &[Event]) {
        let polled = |p: &mut Packed, h: &Event, mid: &[u32], end: u32| {
            let who = who(h.worker, h.task);
            let mut held = [0; MID_MAX];
            held[..mid.len()].copy_from_slice(mid);
            if p.try_push_polled_mid(h.step, h.time_ns, who, &held, mid.len(), end) {
                return;
            }
            // `Trace::keep_poll_mid_slow` without a stream.
            p.push_polled(h.step, h.time_ns, who, if mid.is_empty() { end } else { 0 });
            if !mid.is_empty() {
                for &w in mid {
                    let (tag, arg) = unshort(w, h.time_ns);
                    p.push_any(h.step, h.time_ns, who, tag, arg);
                }
                if end != 0 {
                    p.push_any(h.step, h.time_ns, who, POLL_ENDS[end as usize] as u64, 0);
                }
            }
        };
        let mut held: Option<(&Event, Vec<u32>)> = None;
        for e in events {
            let (tag, arg) = e.kind.words();
            if let Some((h, mut mid)) = held.take() {
                let same =
                    (h.step, h.time_ns, h.worker, h.task) == (e.step, e.time_ns, e.worker, e.task);
                if same && end_code(tag) != 0 {
                    polled(packed, h, &mid, end_code(tag));
                    continue;
                }
                if same && mid.len() < MID_MAX {
                    if let Some(w) = short_word(tag, arg, e.time_ns) {
                        mid.push(w);
                        held = Some((h, mid));
                        continue;
                    }
                }
                polled(packed, h, &mid, 0);
            }
            if e.kind == EventKind::Poll {
                held = Some((e, Vec::new()));
            } else if Packed::plain(tag) {
                packed.push_words(e.step, e.time_ns, who(e.worker, e.task), tag, arg);
            } else {
                packed.push_event(e.clone(), side);
            }
        }
        if let Some((h, mid)) = held {
            polled(packed, h, &mid, 0);
        }
    }

    #[test]
    fn the_inline_path_writes_what_the_general_one_does() {
        // Timer firings (no worker) between polls, and the worker bytes at the edge of
        // the context word: the inline path (`try_push`) takes what it can and must
        // write the same words as `push`.
        let (mut inline, mut general) = (Packed::default(), Packed::default());
        let mut taken = 0;
        for step in 1..=3000u64 {
            let worker = match step % 5 {
                0 => None,
                1 => Some(0xfd),
                2 => Some(0xfe),
                3 => Some(0xff),
                _ => Some((step % 3) as u16),
            };
            let who = who(worker, Some(step as u32 % 700));
            let time = step / 100;
            // At its deadline (a fired record, when the context is short) or not.
            let deadline_ns = if step % 2 == 0 { time } else { 10 };
            let (tag, arg) = EventKind::TimerFire { deadline_ns }.words();
            if inline.cur.capacity() == 0 || !inline.try_push(step, time, who, tag, arg) {
                inline.push_any(step, time, who, tag, arg);
            } else {
                taken += 1;
            }
            general.push_any(step, time, who, tag, arg);
        }
        assert!(taken > 1000, "{taken} events took the inline path");
        let words = |p: &Packed| {
            let mut w: Vec<u32> = p.chunks.iter().flat_map(|c| c.words.clone()).collect();
            w.extend(&p.cur);
            w
        };
        assert_eq!(words(&inline), words(&general));
    }

    fn words_used(packed: &Packed) -> usize {
        packed.chunks.iter().map(|c| c.words.len()).sum::<usize>() + packed.cur.len()
    }

    #[test]
    fn a_poll_that_ends_at_once_takes_eight_bytes() {
        let (mut packed, mut side) = (Packed::default(), Side::default());
        let mut events = Vec::new();
        for step in 1..=1000u64 {
            let (worker, task) = (Some((step % 4) as u16), Some(step as u32 % 100));
            let end =
                [EventKind::Yield, EventKind::Pending, EventKind::Ready][step as usize % 3].clone();
            for kind in [EventKind::Poll, end] {
                events.push(Event {
                    step,
                    time_ns: 0,
                    worker,
                    task,
                    kind,
                });
            }
        }
        push_as_runtime(&mut packed, &mut side, &events);
        assert_eq!(words_used(&packed) * 4, 1000 * 8);
        assert!(packed.iter(&side).eq(events));
    }

    #[test]
    fn a_timer_fired_at_its_deadline_takes_eight_bytes() {
        // As the step loop records firings: an `advance` (a context with a new time: 4
        // words, and its word), then ten firings, each for its own task with no worker;
        // at the time of their deadline (a fired record), or not (a context record and
        // the event's word).
        for (off, bytes) in [(0, 8), (3, 12)] {
            let (mut packed, mut side) = (Packed::default(), Side::default());
            let mut events = Vec::new();
            for i in 0..1000u64 {
                let (step, time_ns) = (i / 10, i / 10 * 1000 + 5);
                if i % 10 == 0 {
                    let kind = EventKind::Advance { to_ns: time_ns };
                    let (worker, task) = (None, None);
                    events.push(Event {
                        step,
                        time_ns,
                        worker,
                        task,
                        kind,
                    });
                }
                let kind = EventKind::TimerFire {
                    deadline_ns: time_ns + off,
                };
                let (worker, task) = (None, Some(i as u32));
                events.push(Event {
                    step,
                    time_ns,
                    worker,
                    task,
                    kind,
                });
            }
            push_as_runtime(&mut packed, &mut side, &events);
            assert!(packed.iter(&side).eq(events.iter().cloned()), "off {off}");
            let advances = 100 * 5 * 4;
            assert_eq!(
                words_used(&packed) * 4,
                advances + 1000 * bytes,
                "off {off}"
            );
        }
    }

    /// A poll's `Poll` is held until the next event: whatever that is (an end event in
    /// another context, an event of the poll, a log line through the general path, a
    /// second `Poll`, the end of the trace, a full chunk), the events decode as pushed.
    #[test]
    fn a_poll_record_decodes_whatever_comes_next() {
        let log = EventKind::Log {
            message: "INFO x".into(),
        };
        let seqs: Vec<Vec<(u64, u64, EventKind)>> = vec![
            vec![(1, 0, EventKind::Poll), (1, 0, EventKind::Yield)],
            vec![(1, 0, EventKind::Poll), (1, 5, EventKind::Yield)], // time moved
            vec![(1, 0, EventKind::Poll), (2, 0, EventKind::Pending)], // step moved
            vec![
                (1, 0, EventKind::Poll),
                (1, 0, EventKind::Wake { target: 3 }),
            ],
            vec![
                (1, 0, EventKind::Poll),
                (1, 0, log.clone()),
                (1, 0, EventKind::Ready),
            ],
            vec![
                (1, 0, EventKind::Poll),
                (1, 0, EventKind::Poll),
                (1, 0, EventKind::Yield),
            ],
            vec![(1, 0, EventKind::Poll)],
            vec![
                (1, 0, EventKind::Poll),
                (1, 0, EventKind::Wake { target: 3 }),
                (1, 0, EventKind::Pending),
            ],
            vec![
                (1, 0, EventKind::Poll),
                (1, 0, EventKind::Wake { target: 3 }),
                (1, 0, EventKind::Wake { target: 4 }),
                (1, 0, EventKind::Yield),
            ],
            vec![
                (1, 0, EventKind::Poll),
                (1, 0, EventKind::Wake { target: 3 }),
                (2, 0, EventKind::Yield), // step moved
            ],
            vec![
                (1, 0, EventKind::Poll),
                (1, 0, EventKind::Wake { target: 3 }),
                (1, 0, log.clone()),
                (1, 0, EventKind::Pending),
            ],
            vec![
                (1, 0, EventKind::Poll),
                (1, 0, EventKind::Wake { target: 3 }),
            ],
            vec![
                (1, 4, EventKind::Poll),
                (1, 4, EventKind::TimerSet { deadline_ns: 9 }), // relative to the time
                (1, 4, EventKind::Pending),
            ],
            vec![
                (1, 0, EventKind::Poll),
                (1, 0, EventKind::Wake { target: 1 << 30 }), // does not fit a word
                (1, 0, EventKind::Ready),
            ],
            // More one-word events than a poll holds, of every sort, the long one
            // between them, and no end event.
            vec![
                (1, 4, EventKind::Poll),
                (1, 4, EventKind::Wake { target: 3 }),
                (1, 4, EventKind::TimerSet { deadline_ns: 9 }),
                (1, 4, EventKind::Spawn { child: 5 }),
                (1, 4, EventKind::Wake { target: 1 << 30 }),
                (1, 4, EventKind::Burn { duration_ns: 7 }),
                (1, 4, EventKind::Wake { target: 6 }),
                (1, 4, EventKind::Wake { target: 7 }),
                (1, 4, EventKind::Wake { target: 8 }),
                (1, 4, EventKind::Wake { target: 9 }),
                (1, 4, EventKind::Yield),
            ],
            vec![
                (1, 4, EventKind::Poll),
                (1, 4, EventKind::TimerSet { deadline_ns: 9 }),
                (1, 4, EventKind::TimerSet { deadline_ns: 4 }),
                (
                    1,
                    4,
                    EventKind::TimerSet {
                        deadline_ns: 5 << 30,
                    },
                ), // far: long
                (1, 4, EventKind::Wake { target: 2 }),
                (1, 4, EventKind::Pending),
            ],
            vec![
                (1, 0, EventKind::Poll),
                (1, 0, EventKind::Wake { target: 3 }),
                (1, 0, EventKind::Wake { target: 4 }),
                (1, 0, EventKind::Wake { target: 5 }),
                (1, 0, EventKind::Wake { target: 6 }), // exactly as many as it holds
                (1, 0, EventKind::Ready),
            ],
            // Timers firing at their deadline (a fired record when the context is new
            // and short) and late, after a poll.
            vec![
                (1, 4, EventKind::Poll),
                (1, 4, EventKind::Pending),
                (2, 4, EventKind::TimerFire { deadline_ns: 4 }),
                (2, 4, EventKind::TimerFire { deadline_ns: 4 }),
                (2, 4, EventKind::TimerFire { deadline_ns: 3 }),
                (3, 4, EventKind::TimerFire { deadline_ns: 2 }),
                (4, 4, EventKind::TimerFire { deadline_ns: 4 }),
            ],
            vec![(70_000, 0, EventKind::Poll), (70_000, 0, EventKind::Yield)], // long step
            vec![(1, 9, EventKind::Poll), (1, 9, EventKind::Ready)],           // time changed
        ];
        for (worker, task) in [
            (Some(1), Some(4)),
            (Some(300), Some(4)),
            (None, Some(7)),
            (Some(2), None),
        ] {
            for seq in &seqs {
                let mut events = Vec::new();
                // Enough rounds to cross chunk boundaries at every offset.
                for round in 0..40_000u64 {
                    for (step, time, kind) in seq {
                        let e = Event {
                            // Mostly the short form (a small step delta, the same
                            // time); the time moves every seventh round.
                            step: step + round * 10,
                            time_ns: time + round / 7 * 10,
                            worker,
                            task,
                            kind: kind.clone(),
                        };
                        events.push(e);
                    }
                }
                let (mut packed, mut side) = (Packed::default(), Side::default());
                push_as_runtime(&mut packed, &mut side, &events);
                assert_eq!(packed.len(), events.len(), "{seq:?}");
                assert!(
                    packed.iter(&side).eq(events.iter().cloned()),
                    "{seq:?} {worker:?}"
                );
                let mut back: Vec<_> = packed.iter(&side).rev().collect();
                back.reverse();
                assert!(back == events, "{seq:?} from the back");
                for i in [1, 2, 3, events.len() / 2, events.len() - 1] {
                    assert_eq!(packed.get(i, &side).as_ref(), events.get(i), "{seq:?} {i}");
                }
            }
        }
    }
}
