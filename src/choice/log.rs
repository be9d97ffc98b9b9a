//! How a run records its choices: packed 32-bit words in chunks, decoded into
//! [`Choice`]s only when someone asks for them.
//!
//! Why: a run with the full trace records every choice (W2, 1,000 tasks × 100 sleeps,
//! makes 300 k per run; W7 makes 4 M), and most runs never read them — a campaign keeps
//! a failing run's schedule, a benchmark none. A `Vec<Choice>` costs 16 bytes per choice
//! and grows by reallocation, so recording W2's choices cost more page faults than its
//! whole trace. Here a choice is one word in the common case (a task pick among fewer
//! than 8,192 candidates, or among up to 4 M when the count moved by less than 16 since
//! the previous choice of its kind, as it does from pick to pick), two when its range or
//! value is wider, four for a raw 64-bit draw, and the chunks are never reallocated. Chunk sizes grow by four, from 4 KiB to
//! 16 MiB: small runs stay small, and a large run frees a few large blocks, which glibc
//! then keeps for the next run instead of handing them back to the system (its dynamic
//! mmap and trim thresholds, as for the trace's chunks in `trace/compact.rs`).
//!
//! Encoding (the low two bits of a record's first word say which form it is, the next
//! three its kind):
//! - short, one word, `00`: `n` (13 bits), value (14 bits);
//! - delta, one word, `10`: `n` minus the previous `n` of the same kind, plus 16
//!   (5 bits), value (22 bits);
//! - medium, two words, `01`: `n` (27 bits); the value (32 bits);
//! - long, four words, `11`: `n`; the value's low and high words.
//!
//! Invariants: a record never spans two chunks (a chunk is closed when fewer than
//! [`MAX_RECORD`] words are free); the previous `n` of every kind starts at 0 and is
//! updated by every record, in the encoder and the decoder alike.

use super::{Choice, ChoiceKind};

/// Kinds by their 3-bit code (the index of a kind in this table).
const KINDS: [ChoiceKind; 5] = [
    ChoiceKind::Task,
    ChoiceKind::Worker,
    ChoiceKind::Timer,
    ChoiceKind::Rand,
    ChoiceKind::Fault,
];

/// The 3-bit code of a kind (its index in [`KINDS`]).
#[inline(always)]
const fn code(kind: ChoiceKind) -> u32 {
    match kind {
        ChoiceKind::Task => 0,
        ChoiceKind::Worker => 1,
        ChoiceKind::Timer => 2,
        ChoiceKind::Rand => 3,
        ChoiceKind::Fault => 4,
    }
}

/// Bits of `n` and of the value in a short record.
const SHORT_N: u32 = 13;
const SHORT_V: u32 = 14;
/// Bits of the biased `n` difference and of the value in a delta record.
const DELTA_N: u32 = 5;
const DELTA_V: u32 = 22;
/// Added to the difference so that -16..=15 is 0..32.
const DELTA_BIAS: u32 = 1 << (DELTA_N - 1);
/// Bits of `n` in a medium record.
const MEDIUM_BITS: u32 = 27;
/// Bits before a record's fields: its form (2) and kind (3).
const HEAD: u32 = 5;
const SHORT: u32 = 0b00;
const DELTA: u32 = 0b10;
const MEDIUM: u32 = 0b01;
const LONG: u32 = 0b11;
/// The most words one record takes.
const MAX_RECORD: usize = 4;
/// Chunk capacities, in words: 4 KiB, then four times the one before, up to 16 MiB.
const FIRST_CHUNK: usize = 1 << 10;
const LARGEST_CHUNK: usize = 1 << 22;

/// The choices of one run, packed (see the module docs).
#[derive(Clone, Debug, Default)]
pub(crate) struct ChoiceLog {
    /// Finished chunks.
    chunks: Vec<Vec<u32>>,
    // invariant: never grows past its capacity (a record is written only when
    // `MAX_RECORD` words are free, else into a new chunk); no capacity before the
    // first choice.
    cur: Vec<u32>,
    len: usize,
    /// The `n` of the last choice of each kind (by code).
    prev: [u32; 8],
}

/// Its chunks go back to this thread's spares (`crate::spare`) for the next run's log
/// (a log that recorded nothing, as in every trace-off run, costs one test).
impl Drop for ChoiceLog {
    fn drop(&mut self) {
        if self.cur.capacity() == 0 {
            return; // nothing recorded: chunks come after `cur`
        }
        crate::spare::give(std::mem::take(&mut self.cur));
        self.chunks.drain(..).for_each(crate::spare::give);
    }
}

impl ChoiceLog {
    /// Number of choices.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Appends a choice: one word, without a call, in the common case.
    #[inline(always)]
    pub(crate) fn push(&mut self, kind: ChoiceKind, n: u32, value: u64) {
        let kind = code(kind);
        let prev = std::mem::replace(&mut self.prev[kind as usize], n);
        if self.cur.len() + MAX_RECORD <= self.cur.capacity() {
            if let Some(word) = one_word(kind, n, prev, value) {
                self.cur.push(word);
                self.len += 1;
                return;
            }
        }
        self.push_slow(kind, n, prev, value);
    }

    /// [`Self::push`] of a wide choice, or when the chunk is full.
    #[inline(never)]
    fn push_slow(&mut self, kind: u32, n: u32, prev: u32, value: u64) {
        if self.cur.len() + MAX_RECORD > self.cur.capacity() {
            self.new_chunk();
        }
        if let Some(word) = one_word(kind, n, prev, value) {
            self.cur.push(word);
        } else if n < 1 << MEDIUM_BITS && value <= u32::MAX as u64 {
            self.cur.push(MEDIUM | kind << 2 | n << HEAD);
            self.cur.push(value as u32);
        } else {
            self.cur.push(LONG | kind << 2);
            self.cur.push(n);
            self.cur.push(value as u32);
            self.cur.push((value >> 32) as u32);
        }
        self.len += 1;
    }

    /// Closes the current chunk and starts one four times larger (at most
    /// [`LARGEST_CHUNK`] words), allocated at its full capacity.
    fn new_chunk(&mut self) {
        let capacity = match self.cur.capacity() {
            0 => FIRST_CHUNK,
            c => (c * 4).min(LARGEST_CHUNK),
        };
        let full = std::mem::replace(&mut self.cur, crate::spare::take(capacity));
        if !full.is_empty() {
            self.chunks.push(full);
        }
    }

    /// The choices, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Choice> + '_ {
        Records {
            chunks: self.chunks.iter().chain(std::iter::once(&self.cur)),
            words: &[],
            prev: [0; 8],
        }
    }

    /// The choices as a `Vec`, allocated once at its final size.
    pub(crate) fn to_vec(&self) -> Vec<Choice> {
        let mut out = Vec::with_capacity(self.len);
        out.extend(self.iter());
        debug_assert_eq!(out.len(), self.len);
        out
    }
}

/// A short or delta record of a choice, if one fits.
#[inline(always)]
fn one_word(kind: u32, n: u32, prev: u32, value: u64) -> Option<u32> {
    if n < 1 << SHORT_N && value < 1 << SHORT_V {
        return Some(SHORT | kind << 2 | n << HEAD | (value as u32) << (HEAD + SHORT_N));
    }
    let dn = n.wrapping_sub(prev).wrapping_add(DELTA_BIAS);
    (dn < 1 << DELTA_N && value < 1 << DELTA_V)
        .then_some(DELTA | kind << 2 | dn << HEAD | (value as u32) << (HEAD + DELTA_N))
}

/// The records of a log, decoded in order (the delta form needs the previous `n`).
struct Records<'a, I> {
    chunks: I,
    /// The rest of the current chunk.
    words: &'a [u32],
    prev: [u32; 8],
}

impl<'a, I: Iterator<Item = &'a Vec<u32>>> Iterator for Records<'a, I> {
    type Item = Choice;

    #[inline]
    fn next(&mut self) -> Option<Choice> {
        while self.words.is_empty() {
            self.words = self.chunks.next()?;
        }
        let (&first, rest) = self.words.split_first()?;
        let kind = first >> 2 & 0b111;
        let field = |bits: u32, at: u32| first >> at & ((1 << bits) - 1);
        let (n, value, used) = match first & 0b11 {
            SHORT => (
                field(SHORT_N, HEAD),
                field(SHORT_V, HEAD + SHORT_N) as u64,
                0,
            ),
            DELTA => {
                let n = self.prev[kind as usize]
                    .wrapping_add(field(DELTA_N, HEAD))
                    .wrapping_sub(DELTA_BIAS);
                (n, field(DELTA_V, HEAD + DELTA_N) as u64, 0)
            }
            MEDIUM => (first >> HEAD, rest[0] as u64, 1),
            _ => (rest[0], rest[1] as u64 | (rest[2] as u64) << 32, 3),
        };
        self.words = &rest[used..];
        self.prev[kind as usize] = n;
        Some(Choice {
            kind: KINDS[kind as usize],
            n,
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(i: u64) -> Choice {
        let kind = KINDS[(i % KINDS.len() as u64) as usize];
        // Every form and the edges between them: short, medium, long; raw draws.
        let (n, value) = match i % 11 {
            0 => (2, i % 2),
            1 => ((1 << SHORT_N) - 1, (1 << SHORT_V) - 1),
            2 => (1 << SHORT_N, 5),
            // Picks among many, the count drifting: delta records, and their edges.
            9 => (100_000 - (i / 11 % 40) as u32, (1 << DELTA_V) - 1 - i % 3),
            10 => (100_000 + (i / 11 % 40) as u32, i % 100_000),
            3 => (1000, 999),
            4 => (
                (1 << MEDIUM_BITS) - 1,
                u32::MAX as u64 % ((1 << MEDIUM_BITS) - 1),
            ),
            5 => (1 << MEDIUM_BITS, 3),
            6 => (u32::MAX, u32::MAX as u64 - 1),
            7 => (0, i.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            _ => (0, i % 100),
        };
        Choice { kind, n, value }
    }

    #[test]
    fn every_choice_comes_back_as_recorded_across_chunks() {
        let mut log = ChoiceLog::default();
        let count = 200_000u64;
        for i in 0..count {
            let c = sample(i);
            log.push(c.kind, c.n, c.value);
        }
        assert_eq!(log.len(), count as usize);
        assert!(log.chunks.len() >= 4, "{} chunks", log.chunks.len());
        let back = log.to_vec();
        assert_eq!(back.len(), count as usize);
        for (i, c) in back.iter().enumerate() {
            assert_eq!(*c, sample(i as u64), "choice {i}");
        }
        assert!(log.iter().eq(back.iter().copied()));
    }

    #[test]
    fn a_task_pick_takes_one_word() {
        let mut log = ChoiceLog::default();
        for i in 0..1000 {
            log.push(ChoiceKind::Task, 1000, i);
        }
        // Among 100,000 tasks, the count changing by a few between picks.
        for i in 0..1000u32 {
            log.push(ChoiceKind::Task, 100_000 - i / 3, i as u64 * 97);
            log.push(ChoiceKind::Worker, 3, 1);
        }
        let words = log.cur.len() + log.chunks.iter().map(Vec::len).sum::<usize>();
        // One word each, but the first pick among 100,000 after picks among 1,000 (its
        // count jumped: a medium record).
        assert_eq!(words, 3001);
        let back = log.to_vec();
        let task = |n, value| Choice {
            kind: ChoiceKind::Task,
            n,
            value,
        };
        let worker = Choice {
            kind: ChoiceKind::Worker,
            n: 3,
            value: 1,
        };
        let expected: Vec<Choice> = (0..1000)
            .map(|i| task(1000, i))
            .chain((0..1000u32).flat_map(|i| [task(100_000 - i / 3, i as u64 * 97), worker]))
            .collect();
        assert_eq!(back, expected);
        assert_eq!(ChoiceLog::default().to_vec(), []);
    }

    #[test]
    fn the_code_table_matches_the_kinds() {
        for (i, k) in KINDS.iter().enumerate() {
            assert_eq!(code(*k) as usize, i);
        }
    }
}
