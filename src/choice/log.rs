//! How a run records its choices: packed 32-bit words in chunks, decoded into
//! [`Choice`]s only when someone asks for them.
//!
//! Why: a run with the full trace records every choice (W2, 1,000 tasks × 100 sleeps,
//! makes 300 k per run; W7 makes 4 M), and most runs never read them — a campaign keeps
//! a failing run's schedule, a benchmark none. A `Vec<Choice>` costs 16 bytes per choice
//! and grows by reallocation, so recording W2's choices cost more page faults than its
//! whole trace. Here a choice is one word in the common case (a task pick among fewer
//! than 16,384 candidates), two when its range or value is wider, four for a raw 64-bit
//! draw, and the chunks are never reallocated. Chunk sizes grow by four, from 4 KiB to
//! 16 MiB: small runs stay small, and a large run frees a few large blocks, which glibc
//! then keeps for the next run instead of handing them back to the system (its dynamic
//! mmap and trim thresholds, as for the trace's chunks in `trace/compact.rs`).
//!
//! Encoding (the low bits of a record's first word say which form it is):
//! - short, one word: bit 0 = 0, kind (3 bits), `n` (14 bits), value (14 bits);
//! - medium, two words: bits 0..2 = `01`, kind (3 bits), `n` (27 bits); the value (32 bits);
//! - long, four words: bits 0..2 = `11`, kind (3 bits); `n`; the value's low and high words.
//!
//! Invariant: a record never spans two chunks (a chunk is closed when fewer than
//! [`MAX_RECORD`] words are free), so decoding needs no state across chunks.

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
const SHORT_BITS: u32 = 14;
/// Bits of `n` in a medium record.
const MEDIUM_BITS: u32 = 27;
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
}

impl ChoiceLog {
    /// Number of choices.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Appends a choice: one word, without a call, in the common case.
    #[inline(always)]
    pub(crate) fn push(&mut self, kind: ChoiceKind, n: u32, value: u64) {
        let short = n < 1 << SHORT_BITS && value < 1 << SHORT_BITS;
        if short && self.cur.len() + MAX_RECORD <= self.cur.capacity() {
            let word = code(kind) << 1 | n << 4 | (value as u32) << (4 + SHORT_BITS);
            self.cur.push(word);
            self.len += 1;
        } else {
            self.push_slow(kind, n, value);
        }
    }

    /// [`Self::push`] of a wide choice, or when the chunk is full.
    #[inline(never)]
    fn push_slow(&mut self, kind: ChoiceKind, n: u32, value: u64) {
        if self.cur.len() + MAX_RECORD > self.cur.capacity() {
            self.new_chunk();
        }
        let kind = code(kind);
        if n < 1 << SHORT_BITS && value < 1 << SHORT_BITS {
            self.cur
                .push(kind << 1 | n << 4 | (value as u32) << (4 + SHORT_BITS));
        } else if n < 1 << MEDIUM_BITS && value <= u32::MAX as u64 {
            self.cur.push(MEDIUM | kind << 2 | n << 5);
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
        let full = std::mem::replace(&mut self.cur, Vec::with_capacity(capacity));
        if !full.is_empty() {
            self.chunks.push(full);
        }
    }

    /// The choices, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Choice> + '_ {
        self.chunks
            .iter()
            .chain(std::iter::once(&self.cur))
            .flat_map(|chunk| Records { words: chunk })
    }

    /// The choices as a `Vec`, allocated once at its final size.
    pub(crate) fn to_vec(&self) -> Vec<Choice> {
        let mut out = Vec::with_capacity(self.len);
        out.extend(self.iter());
        debug_assert_eq!(out.len(), self.len);
        out
    }
}

/// The records of one chunk.
struct Records<'a> {
    words: &'a [u32],
}

impl Iterator for Records<'_> {
    type Item = Choice;

    #[inline]
    fn next(&mut self) -> Option<Choice> {
        let (&first, rest) = self.words.split_first()?;
        let (choice, used) = match first & 0b11 {
            MEDIUM => {
                let choice = Choice {
                    kind: KINDS[(first >> 2 & 0b111) as usize],
                    n: first >> 5,
                    value: rest[0] as u64,
                };
                (choice, 1)
            }
            LONG => {
                let choice = Choice {
                    kind: KINDS[(first >> 2 & 0b111) as usize],
                    n: rest[0],
                    value: rest[1] as u64 | (rest[2] as u64) << 32,
                };
                (choice, 3)
            }
            _ => {
                let mask = (1 << SHORT_BITS) - 1;
                let choice = Choice {
                    kind: KINDS[(first >> 1 & 0b111) as usize],
                    n: first >> 4 & mask,
                    value: (first >> (4 + SHORT_BITS)) as u64,
                };
                (choice, 0)
            }
        };
        self.words = &rest[used..];
        Some(choice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(i: u64) -> Choice {
        let kind = KINDS[(i % KINDS.len() as u64) as usize];
        // Every form and the edges between them: short, medium, long; raw draws.
        let (n, value) = match i % 9 {
            0 => (2, i % 2),
            1 => ((1 << SHORT_BITS) - 1, (1 << SHORT_BITS) - 2),
            2 => (1 << SHORT_BITS, 5),
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
        assert_eq!(
            log.cur.len() + log.chunks.iter().map(Vec::len).sum::<usize>(),
            1000
        );
        assert_eq!(ChoiceLog::default().to_vec(), []);
    }

    #[test]
    fn the_code_table_matches_the_kinds() {
        for (i, k) in KINDS.iter().enumerate() {
            assert_eq!(code(*k) as usize, i);
        }
    }
}
