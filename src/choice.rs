//! The one source of nondeterminism: [`Chooser`] and the [`Schedule`] it records.
//!
//! Every decision that could go more than one way — which runnable task is polled next,
//! which idle worker steals it, in which order timers due at the same instant fire, what
//! [`crate::rand`] returns — is a *choice*. A choice is drawn from a ChaCha8 stream seeded by
//! [`crate::Config::seed`] and appended to the run's [`Schedule`]. Three ways to run:
//!
//! 1. **Seeded**: draw from the stream (the default). A seed reproduces the run.
//! 2. **Replay (strict)**: take each choice from a recorded schedule; if the program asks
//!    for a choice of another kind or range than recorded, stop with a [`Divergence`].
//! 3. **Replay (lenient)**: as strict, but out-of-range values are clamped and a schedule
//!    that runs out continues with `0`s. The shrinker edits schedules and replays them this
//!    way; the choices actually taken are recorded, so the result is a valid strict schedule.
//!
//! Invariants:
//! 1. A choice with `n == 1` has only one outcome: nothing is drawn and nothing recorded,
//!    so schedules hold only real decisions.
//! 2. Strategies see only a [`StrategyRng`]: draws from the main stream and private
//!    randomness ([`StrategyRng::aux_u64`], a second ChaCha stream of the same seed) for
//!    *how* they decide, and no way to record a choice. The decision itself (the index
//!    `pick` returns) is recorded here by the runtime, which is why a schedule replays
//!    without knowing the strategy that produced it.
//!
//! `log.rs` keeps the choices as the run records them (packed, about 4 bytes each);
//! [`RecordedSchedule`] hands them out as a [`Schedule`] on first use.

mod log;

use log::ChoiceLog;
use rand_chacha::{ChaCha8Core, ChaCha8Rng};
use rand_core::block::BlockRngCore;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, OnceLock};

/// What a choice decided; part of every recorded choice so replay can detect divergence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChoiceKind {
    /// Which runnable task is polled next.
    Task,
    /// Which idle worker takes a task that has no idle home worker (work stealing).
    Worker,
    /// Which of several timers due at the same instant fires first.
    Timer,
    /// A value drawn by user code through [`crate::rand`].
    Rand,
    /// A fault or delay decision taken by the simulated world or `buggify`.
    Fault,
}

impl ChoiceKind {
    /// The one-letter code used in the compact schedule text form.
    pub fn code(self) -> char {
        match self {
            ChoiceKind::Task => 't',
            ChoiceKind::Worker => 'w',
            ChoiceKind::Timer => 'm',
            ChoiceKind::Rand => 'r',
            ChoiceKind::Fault => 'f',
        }
    }

    /// Parses [`ChoiceKind::code`].
    pub fn from_code(c: char) -> Option<Self> {
        Some(match c {
            't' => ChoiceKind::Task,
            'w' => ChoiceKind::Worker,
            'm' => ChoiceKind::Timer,
            'r' => ChoiceKind::Rand,
            'f' => ChoiceKind::Fault,
            _ => return None,
        })
    }
}

/// One recorded decision: `value` out of `n` possibilities (`n == 0` means a raw 64-bit draw).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// What was decided.
    pub kind: ChoiceKind,
    /// How many outcomes there were (`0` for a raw `u64` draw).
    pub n: u32,
    /// The outcome taken, `< n` unless `n == 0`.
    pub value: u64,
}

/// The choices of one run, in order. Replaying them reproduces the run.
///
/// ```
/// use detsim::{Config, Sim};
/// let program = || async {
///     let a = detsim::spawn(async { 1 });
///     let b = detsim::spawn(async { 2 });
///     a.await.unwrap() + b.await.unwrap()
/// };
/// let out = Sim::new(Config::default().seed(7)).run(program());
/// // Replaying the recorded choices reproduces the run, whatever the seed says.
/// let replayed = Sim::new(Config::default().seed(999)).replay(out.schedule.clone()).run(program());
/// assert_eq!(out.fingerprint, replayed.fingerprint);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// The recorded choices.
    pub choices: Vec<Choice>,
}

impl Schedule {
    /// Number of recorded choices.
    pub fn len(&self) -> usize {
        self.choices.len()
    }

    /// True if no choice was recorded.
    pub fn is_empty(&self) -> bool {
        self.choices.is_empty()
    }

    /// Task choices that did not pick the first candidate (a rough measure of how much
    /// the schedule departs from the default order; the shrinker minimises it).
    pub fn nonzero_task_choices(&self) -> usize {
        self.choices
            .iter()
            .filter(|c| c.kind == ChoiceKind::Task && c.value != 0)
            .count()
    }
}

impl From<RecordedSchedule> for Schedule {
    fn from(recorded: RecordedSchedule) -> Self {
        recorded.into_schedule()
    }
}

/// The schedule a run recorded ([`crate::Outcome::schedule`]): its choices packed as the
/// run wrote them (4 bytes for most choices), turned into a [`Schedule`] on first use.
///
/// It reads and edits as a `Schedule` (`Deref`/`DerefMut`), converts into one
/// (`From`/[`RecordedSchedule::into_schedule`]), and everything that takes a schedule
/// (`Sim::replay`, `Scenario::replay`, `shrink`, …) takes it as it is.
///
/// Why not a plain `Schedule`: a full-trace run records every choice (hundreds of
/// thousands in a busy run) and most runs never read them, so building the 16-byte
/// `Choice`s eagerly cost more memory and page faults than the trace's events.
///
/// ```
/// use detsim::{ChoiceKind, Config, Schedule, Sim};
/// let program = || async {
///     let a = detsim::spawn(async { 1 });
///     let b = detsim::spawn(async { 2 });
///     a.await.unwrap() + b.await.unwrap()
/// };
/// let out = Sim::new(Config::default().seed(3)).run(program());
/// assert_eq!(out.schedule.len() as u64, out.stats.choices);
/// assert!(out.schedule.choices.iter().any(|c| c.kind == ChoiceKind::Task));
/// let schedule: Schedule = out.schedule.clone().into();
/// assert_eq!(out.schedule, schedule);
/// let again = Sim::new(Config::default()).replay(schedule).run(program());
/// assert_eq!(again.fingerprint, out.fingerprint);
/// ```
#[derive(Clone, Default)]
pub struct RecordedSchedule {
    // invariant: once `schedule` is set it is the truth (an edit through `DerefMut`
    // empties `log`); before, `log` is.
    log: ChoiceLog,
    schedule: OnceLock<Schedule>,
}

impl RecordedSchedule {
    fn new(log: ChoiceLog) -> Self {
        RecordedSchedule {
            log,
            schedule: OnceLock::new(),
        }
    }

    /// The recorded choices as a [`Schedule`] (built now unless it was used before).
    pub fn into_schedule(self) -> Schedule {
        match self.schedule.into_inner() {
            Some(schedule) => schedule,
            None => Schedule {
                choices: self.log.to_vec(),
            },
        }
    }
}

impl Deref for RecordedSchedule {
    type Target = Schedule;

    fn deref(&self) -> &Schedule {
        self.schedule.get_or_init(|| Schedule {
            choices: self.log.to_vec(),
        })
    }
}

impl DerefMut for RecordedSchedule {
    fn deref_mut(&mut self) -> &mut Schedule {
        let _ = <Self as Deref>::deref(self);
        self.log = ChoiceLog::default();
        self.schedule
            .get_mut()
            .expect("deref() has built the schedule")
    }
}

impl fmt::Debug for RecordedSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl PartialEq for RecordedSchedule {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for RecordedSchedule {}

impl PartialEq<Schedule> for RecordedSchedule {
    fn eq(&self, other: &Schedule) -> bool {
        **self == *other
    }
}

impl PartialEq<RecordedSchedule> for Schedule {
    fn eq(&self, other: &RecordedSchedule) -> bool {
        *self == **other
    }
}

/// A replayed schedule asked for something the program no longer asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Divergence {
    /// The program made a choice of another kind or range than the recorded one.
    #[error("{}", mismatch_text(*index, *recorded_kind, *recorded_n, *recorded_value, *asked_kind, *asked_n))]
    Mismatch {
        /// Index of the choice in the schedule.
        index: usize,
        /// Recorded kind.
        recorded_kind: ChoiceKind,
        /// Recorded range.
        recorded_n: u32,
        /// Recorded value.
        recorded_value: u64,
        /// Kind the program asked for.
        asked_kind: ChoiceKind,
        /// Range the program asked for.
        asked_n: u32,
    },
    /// The program asked for more choices than were recorded.
    #[error("choice {index}: the schedule has only {index} choices, but the program asked for a {asked_kind:?} choice of {asked_n}")]
    Exhausted {
        /// Index of the missing choice.
        index: usize,
        /// Kind the program asked for.
        asked_kind: ChoiceKind,
        /// Range the program asked for.
        asked_n: u32,
    },
    /// The run ended before using all recorded choices.
    #[error("the run ended after {used} of {recorded} recorded choices")]
    Unused {
        /// Choices used.
        used: usize,
        /// Choices recorded.
        recorded: usize,
    },
}

fn mismatch_text(
    index: usize,
    kind: ChoiceKind,
    n: u32,
    value: u64,
    asked: ChoiceKind,
    asked_n: u32,
) -> String {
    match (kind, asked) {
        (ChoiceKind::Task, ChoiceKind::Task) => format!(
            "choice {index}: recorded task {value} of {n} runnable tasks, but {asked_n} are runnable now"
        ),
        (ChoiceKind::Worker, ChoiceKind::Worker) => format!(
            "choice {index}: recorded worker {value} of {n} idle workers, but {asked_n} are idle now"
        ),
        (ChoiceKind::Timer, ChoiceKind::Timer) => format!(
            "choice {index}: recorded timer {value} of {n} due at once, but {asked_n} are due now"
        ),
        _ => format!(
            "choice {index}: recorded a {kind:?} choice ({value} of {n}), but the program asked for a {asked:?} choice of {asked_n}"
        ),
    }
}

/// How a [`Chooser`] replays a schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReplayMode {
    Strict,
    Lenient,
}

#[derive(Debug)]
struct Replay {
    choices: Arc<[Choice]>,
    pos: usize,
    mode: ReplayMode,
}

/// The randomness a [`crate::explore::Strategy`] may use, and nothing else: uniform draws
/// from the run's main stream and a private auxiliary stream. Neither is recorded, and a
/// strategy has no way to record a choice: the only decision it hands out is the index
/// its `pick` returns, which the runtime records as the run's `Task` choice — so a
/// schedule replays without its strategy (invariant 2 of `choice.rs`).
///
/// ```compile_fail
/// // A strategy cannot record a choice of its own:
/// fn pick(rng: &mut detsim::explore::StrategyRng) -> usize {
///     rng.choose(detsim::ChoiceKind::Task, 2)
/// }
/// ```
pub struct StrategyRng {
    rng: Stream,
    // Made on first use (`Random` never draws from it): a run starts without seeding a
    // second ChaCha stream, and the run's state is 300 bytes smaller to move.
    aux: Option<Box<ChaCha8Rng>>,
    seed: u64,
}

impl fmt::Debug for StrategyRng {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StrategyRng").finish_non_exhaustive()
    }
}

impl StrategyRng {
    fn new(seed: u64) -> Self {
        StrategyRng {
            rng: Stream::new(seed),
            aux: None,
            seed,
        }
    }

    /// A draw from the strategy stream: randomness for *how* a strategy decides. Not
    /// recorded — the decision it leads to is (see invariant 2).
    pub fn aux_u64(&mut self) -> u64 {
        let seed = self.seed;
        let aux = self.aux.get_or_insert_with(|| {
            let mut aux = ChaCha8Rng::seed_from_u64(seed);
            aux.set_stream(1);
            Box::new(aux)
        });
        aux.next_u64()
    }

    /// Uniform draw below `n` (≥ 1) from the main stream, not recorded: the pick it
    /// leads to is.
    #[inline]
    pub fn draw_below(&mut self, n: usize) -> usize {
        uniform(&mut self.rng, n as u32) as usize
    }

    /// What the `ahead`-th next [`StrategyRng::draw_below`] (0: the next; at most 15)
    /// would return for `n`, without drawing anything: a guess for prefetching (other
    /// draws in between, or the rare rejected draw, make it wrong — never the run).
    pub fn peek_below(&mut self, n: usize, ahead: usize) -> usize {
        ((self.rng.peek_u32(ahead.min(LOOKAHEAD - 1)) as u64 * n as u64) >> 32) as usize
    }
}

impl StrategyRng {
    /// [`StrategyRng::peek_below`] at two depths (`near <= far`, both below 16) at once:
    /// the step loop's two prefetch guesses of `Random`'s coming picks.
    #[inline]
    pub(crate) fn peek_two_below(&mut self, n: usize, near: usize, far: usize) -> (usize, usize) {
        let (a, b) = self.rng.peek_two(near, far);
        let scale = |w: u32| ((w as u64 * n as u64) >> 32) as usize;
        (scale(a), scale(b))
    }
}

/// Draws and records every nondeterministic decision of one run.
pub struct Chooser {
    // The streams; strategies get only this part (`strategy_rng`).
    draws: StrategyRng,
    replay: Option<Replay>,
    // invariant: holds exactly the choices handed out with n != 1, in order.
    recorded: ChoiceLog,
    // invariant: if false, `recorded` stays empty (campaign runs keep only fingerprints).
    record: bool,
    count: usize,
    divergence: Option<Divergence>,
}

impl fmt::Debug for Chooser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chooser")
            .field("recorded", &self.recorded.len())
            .field("replaying", &self.replay.is_some())
            .finish()
    }
}

impl Chooser {
    pub(crate) fn new(seed: u64) -> Self {
        Chooser {
            draws: StrategyRng::new(seed),
            replay: None,
            recorded: ChoiceLog::default(),
            record: true,
            count: 0,
            divergence: None,
        }
    }

    /// Stops recording choices (they are still drawn and counted).
    pub(crate) fn set_recording(&mut self, on: bool) {
        self.record = on;
    }

    pub(crate) fn set_replay(&mut self, schedule: Schedule, mode: ReplayMode) {
        self.replay = Some(Replay {
            choices: schedule.choices.into(),
            pos: 0,
            mode,
        });
    }

    /// True while following a recorded schedule: strategies are bypassed then.
    pub fn is_replaying(&self) -> bool {
        self.replay.is_some()
    }

    /// Picks one of `n >= 1` outcomes and records it.
    #[inline]
    pub fn choose(&mut self, kind: ChoiceKind, n: usize) -> usize {
        self.choose_inline(kind, n)
    }

    /// [`Chooser::choose`], inlined where the step loop makes a choice per timer fired
    /// or per task woken from outside a poll (a timer's wake takes a `Worker` choice):
    /// as a call, its register saves were a third of its cost (W2: 2 choices per sleep,
    /// ~37 instructions each).
    #[inline(always)]
    pub(crate) fn choose_inline(&mut self, kind: ChoiceKind, n: usize) -> usize {
        debug_assert!(n >= 1, "choice over an empty set");
        if n <= 1 {
            return 0;
        }
        let n32 = n as u32;
        let value = match self.replay.as_mut() {
            Some(_) => self.replayed(kind, n32) as usize,
            None => uniform(&mut self.draws.rng, n32) as usize,
        };
        self.push(kind, n32, value as u64);
        value
    }

    /// A raw 64-bit draw (user randomness), recorded with `n == 0`.
    pub fn bits(&mut self, kind: ChoiceKind) -> u64 {
        let value = match self.replay.as_mut() {
            Some(_) => self.replayed(kind, 0),
            None => self.draws.rng.next_u64(),
        };
        self.push(kind, 0, value);
        value
    }

    /// True with probability `p`, recorded as a choice of 2.
    pub fn bernoulli(&mut self, kind: ChoiceKind, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        const SCALE: u32 = 1 << 20;
        // Recorded as a choice of SCALE so replay and shrinking see the outcome; value 0..
        // below the threshold means `true`, and shrinking towards 0 keeps faults, which is
        // what a minimal failing schedule usually needs.
        let threshold = (p * SCALE as f64) as usize;
        self.choose(kind, SCALE as usize) < threshold
    }

    /// Records a decision made by other means: the runtime records a strategy's pick.
    pub(crate) fn record(&mut self, kind: ChoiceKind, n: usize, value: usize) {
        debug_assert!(value < n);
        if n > 1 {
            self.push(kind, n as u32, value as u64);
        }
    }

    /// [`StrategyRng::peek_below`] of the main stream (the step loop's timer prefetch).
    pub(crate) fn peek_below(&mut self, n: usize, ahead: usize) -> usize {
        self.draws.peek_below(n, ahead)
    }

    /// The part of the chooser a strategy may use (its streams, no recording).
    pub(crate) fn strategy_rng(&mut self) -> &mut StrategyRng {
        &mut self.draws
    }

    fn replayed(&mut self, kind: ChoiceKind, n: u32) -> u64 {
        let r = self
            .replay
            .as_mut()
            .expect("replayed() only while replaying");
        let index = r.pos;
        let Some(rec) = r.choices.get(index).copied() else {
            if r.mode == ReplayMode::Strict && self.divergence.is_none() {
                self.divergence = Some(Divergence::Exhausted {
                    index,
                    asked_kind: kind,
                    asked_n: n,
                });
            }
            return 0;
        };
        r.pos += 1;
        let matches = rec.kind == kind && rec.n == n;
        if !matches && r.mode == ReplayMode::Strict && self.divergence.is_none() {
            self.divergence = Some(Divergence::Mismatch {
                index,
                recorded_kind: rec.kind,
                recorded_n: rec.n,
                recorded_value: rec.value,
                asked_kind: kind,
                asked_n: n,
            });
        }
        match n {
            0 => rec.value,
            _ if rec.value < n as u64 => rec.value,
            _ => n as u64 - 1,
        }
    }

    #[inline]
    fn push(&mut self, kind: ChoiceKind, n: u32, value: u64) {
        self.count += 1;
        if self.record {
            self.recorded.push(kind, n, value);
        }
    }

    /// The first divergence from a replayed schedule, if any.
    pub(crate) fn divergence(&self) -> Option<&Divergence> {
        self.divergence.as_ref()
    }

    /// Checks, at the end of a strict replay, that every recorded choice was used.
    pub(crate) fn finish(&mut self) {
        if let Some(r) = &self.replay {
            if r.mode == ReplayMode::Strict && self.divergence.is_none() && r.pos < r.choices.len()
            {
                self.divergence = Some(Divergence::Unused {
                    used: r.pos,
                    recorded: r.choices.len(),
                });
            }
        }
    }

    /// The recorded choices (packed: a `Schedule` is built only if they are read).
    pub(crate) fn take_schedule(&mut self) -> RecordedSchedule {
        RecordedSchedule::new(std::mem::take(&mut self.recorded))
    }

    /// Number of choices made so far (recorded or not).
    pub fn recorded_len(&self) -> usize {
        self.count
    }
}

/// The main ChaCha stream with [`LOOKAHEAD`] words of lookahead, so the step loop can see
/// the next draws coming (to prefetch the tasks it will pick). Words come out in exactly
/// `ChaCha8Rng`'s order, peeked or not (a `u64` is the next two words, low first, as
/// `ChaCha8Rng::next_u64` composes it): the ChaCha core's 64-word blocks are appended to
/// the few words left, so a draw is one test and one load.
struct Stream {
    core: ChaCha8Core,
    // invariant: `buf[pos..end]` are the next words of the stream, in order.
    buf: [u32; BUF],
    pos: usize,
    end: usize,
}

/// How many words of the stream can be peeked: the step loop prefetches up to ten
/// picks ahead.
const LOOKAHEAD: usize = 16;
/// Words per block of the ChaCha core (`rand_chacha` makes four 16-word blocks at once).
const BLOCK: usize = 64;
/// A block and the words left of the one before (fewer than `LOOKAHEAD` when a block is
/// added).
const BUF: usize = BLOCK + LOOKAHEAD;

impl Stream {
    fn new(seed: u64) -> Self {
        Stream {
            core: ChaCha8Core::seed_from_u64(seed),
            buf: [0; BUF],
            pos: 0,
            end: 0,
        }
    }

    /// Moves the words left to the front and appends the core's next block.
    #[cold]
    fn refill(&mut self) {
        let left = self.end - self.pos;
        debug_assert!(left < LOOKAHEAD);
        self.buf.copy_within(self.pos..self.end, 0);
        let mut block = Default::default();
        self.core.generate(&mut block);
        self.buf[left..left + BLOCK].copy_from_slice(AsRef::<[u32]>::as_ref(&block));
        (self.pos, self.end) = (0, left + BLOCK);
    }

    #[inline]
    fn next_u32(&mut self) -> u32 {
        if self.pos == self.end {
            self.refill();
        }
        let w = self.buf[self.pos];
        self.pos += 1;
        w
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        let low = self.next_u32() as u64;
        low | (self.next_u32() as u64) << 32
    }

    /// The words `near` and `far` positions from the front (`near <= far <
    /// LOOKAHEAD`), with one check of the buffer.
    #[inline]
    fn peek_two(&mut self, near: usize, far: usize) -> (u32, u32) {
        debug_assert!(near <= far && far < LOOKAHEAD);
        if self.end - self.pos <= far {
            self.refill();
        }
        (self.buf[self.pos + near], self.buf[self.pos + far])
    }

    /// The word `ahead` (below [`LOOKAHEAD`]) positions from the front of the stream.
    #[inline]
    fn peek_u32(&mut self, ahead: usize) -> u32 {
        debug_assert!(ahead < LOOKAHEAD);
        if self.end - self.pos <= ahead {
            self.refill();
        }
        self.buf[self.pos + ahead]
    }
}

/// Unbiased uniform integer below `n` (Lemire's multiply-and-reject).
#[inline(always)]
fn uniform(rng: &mut Stream, n: u32) -> u32 {
    debug_assert!(n > 0);
    let mut m = (rng.next_u32() as u64) * (n as u64);
    if (m as u32) < n {
        let threshold = n.wrapping_neg() % n;
        while (m as u32) < threshold {
            m = (rng.next_u32() as u64) * (n as u64);
        }
    }
    (m >> 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_choices() {
        let draw = |seed| {
            let mut c = Chooser::new(seed);
            (0..100)
                .map(|i| c.choose(ChoiceKind::Task, 2 + i % 7))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
    }

    #[test]
    fn uniform_stays_in_range_and_covers_it() {
        let mut c = Chooser::new(1);
        let mut seen = [0u32; 5];
        for _ in 0..5000 {
            seen[c.choose(ChoiceKind::Task, 5)] += 1;
        }
        assert!(seen.iter().all(|&k| k > 800), "{seen:?}");
    }

    #[test]
    fn peeking_does_not_change_the_stream() {
        let mut plain = ChaCha8Rng::seed_from_u64(4);
        let mut peeking = Stream::new(4);
        for i in 0..5000 {
            if i % 3 == 0 {
                // Any depth, so the ring wraps at every offset; the peeked word is the
                // one the plain stream gives `ahead` words later.
                let ahead = (i * 7 / 3) % LOOKAHEAD;
                let mut probe = plain.clone();
                for _ in 0..ahead {
                    probe.next_u32();
                }
                assert_eq!(
                    peeking.peek_u32(ahead),
                    probe.next_u32(),
                    "word {i} + {ahead}"
                );
            }
            if i % 5 == 0 {
                assert_eq!(plain.next_u64(), peeking.next_u64());
            } else {
                assert_eq!(plain.next_u32(), peeking.next_u32());
            }
        }
        let mut chooser = Chooser::new(8);
        let c = chooser.strategy_rng();
        let (first, second) = (c.peek_below(1000, 0), c.peek_below(1000, 1));
        assert_eq!(c.draw_below(1000), first);
        assert_eq!(c.draw_below(1000), second);
    }

    #[test]
    fn n_of_one_is_not_recorded() {
        let mut c = Chooser::new(1);
        assert_eq!(c.choose(ChoiceKind::Task, 1), 0);
        assert_eq!(c.recorded_len(), 0);
    }

    #[test]
    fn strict_replay_reports_mismatch_and_exhaustion() {
        let mut c = Chooser::new(1);
        c.choose(ChoiceKind::Task, 3);
        let s = c.take_schedule();
        let mut r = Chooser::new(99);
        r.set_replay(s.clone().into(), ReplayMode::Strict);
        r.choose(ChoiceKind::Task, 2);
        assert!(matches!(
            r.divergence(),
            Some(Divergence::Mismatch { index: 0, .. })
        ));
        let mut r = Chooser::new(99);
        r.set_replay(s.into(), ReplayMode::Strict);
        r.choose(ChoiceKind::Task, 3);
        assert!(r.divergence().is_none());
        r.choose(ChoiceKind::Timer, 3);
        assert!(matches!(
            r.divergence(),
            Some(Divergence::Exhausted { index: 1, .. })
        ));
    }

    #[test]
    fn lenient_replay_clamps_and_pads() {
        let s = Schedule {
            choices: vec![Choice {
                kind: ChoiceKind::Task,
                n: 9,
                value: 8,
            }],
        };
        let mut r = Chooser::new(0);
        r.set_replay(s, ReplayMode::Lenient);
        assert_eq!(r.choose(ChoiceKind::Task, 3), 2);
        assert_eq!(r.choose(ChoiceKind::Task, 3), 0);
        assert!(r.divergence().is_none());
        assert_eq!(r.take_schedule().len(), 2);
    }
}
