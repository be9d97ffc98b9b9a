//! The timers of a run: deadline buckets over a slab of timer slots.
//!
//! Timers in simulations cluster on a few deadlines (every task sleeping "1 ms", a
//! timeout armed by each request), so they are kept in buckets by deadline: arming is
//! one lookup and a push, and firing takes a whole bucket at once — cheaper than a binary
//! heap's sift per timer.
//!
//! The earliest few buckets live in `near` (at most [`NEAR`], sorted latest first so the
//! earliest pops off the end). Most runs have a handful of distinct deadlines pending at
//! a time (a message in flight each way, a timeout, a periodic tick): their timers then
//! never touch the rest. Later deadlines' buckets are in `Far`: a [`DeadlineIndex`]
//! (deadline → bucket id, a small open-addressing table: ~13 instructions per lookup,
//! where `HashMap` with a fixed hasher cost ~40 and a `BTreeMap` ~200 with 1,000 pending
//! deadlines) and a min-heap of (deadline, bucket id) for their order. Neither is
//! iterated. (Index and heap alone, without `near`, cost a simulated network 10 % more:
//! every message is a new deadline, and a short sorted `Vec` takes and gives those
//! cheaper than a table and a heap.)
//!
//! A timer's slot is freed the moment it fires (taken by [`Timers::take_due`]), not when
//! its owner releases the key: a key whose generation no longer matches its slot's
//! is a timer that fired or was released, and [`Timers::poll`] / [`Timers::release`] on
//! it cost one compare. Its owner can also tell it fired without asking: the clock
//! only moves in the step loop's `advance`, which fires every timer due at the new
//! instant before any task runs, so a timer armed for `at` has fired once the clock
//! reads `at` (what `time::Sleep` checks).
//!
//! Invariants:
//! 1. A bucket entry is live iff its slot has the entry's generation (a slot's generation
//!    moves on when it is released or fires, so a live slot's is matched only by its
//!    own entry); cancelled or re-used slots leave stale entries that are skipped when
//!    their bucket comes due. A slot holds a waker iff it is armed.
//! 2. Within a bucket, entries are in the order they were armed, so the order handed to
//!    the step loop depends on nothing but the program. Firing order among equal
//!    deadlines is then decided by `Timer` choices in the step loop, not here.
//! 3. Every deadline in `near` is below every deadline of `buckets` (`Far`); `near` is sorted by
//!    deadline, latest first; a deadline has at most one bucket (in `near` or the map).

use super::deadline_index::DeadlineIndex;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::task::Waker;

/// Handle to an armed timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    slot: u32,
    generation: u32,
}

/// Whom a timer wakes. Most timers are armed by a task for itself, so those store the
/// task id: no waker clone when armed, a direct wake when fired.
pub(crate) enum TimerWaker {
    /// The task with this id, armed from its own poll with its own waker.
    Task(u32),
    /// Any other waker (a combinator's, a foreign executor's).
    Other(Waker),
    /// A world event: an action run by the step loop, outside any task.
    Action(Box<dyn FnOnce()>),
    /// A world event armed with `arm_detached`: nobody holds its key (its slot is
    /// freed when it comes due, like every timer's); it records no event of its own (the
    /// world records what it does: a delivery, a fault).
    World(Box<dyn FnOnce()>),
    /// A world event like `World` whose state fits in one word: a plain function and
    /// its argument, so arming it allocates nothing (a message delivery is one of these,
    /// and a busy simulated network arms one per message).
    Call(fn(u64), u64),
}

impl std::fmt::Debug for TimerWaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TimerWaker::Task(id) => write!(f, "Task(t{id})"),
            TimerWaker::Other(w) => write!(f, "Other({w:?})"),
            TimerWaker::Action(_) => write!(f, "Action"),
            TimerWaker::World(_) => write!(f, "World"),
            TimerWaker::Call(_, arg) => write!(f, "Call({arg})"),
        }
    }
}

#[derive(Debug)]
struct Slot {
    // invariant: moves on (wrapping) each time the slot is released or fires.
    generation: u32,
    // invariant: `Some` iff armed (invariant 1).
    waker: Option<TimerWaker>,
}

/// How many of the earliest deadlines are kept out of the map.
const NEAR: usize = 8;

#[derive(Debug, Default)]
pub(crate) struct Timers {
    /// The earliest deadlines' buckets, latest first (invariant 3).
    near: Vec<(u64, Vec<(u32, u32)>)>,
    /// The later deadlines' buckets: deadline → (slot, generation) of the timers armed
    /// for it, in arming order.
    buckets: Far,
    /// Emptied buckets, reused so a busy run allocates none after warming up.
    spare: Vec<Vec<(u32, u32)>>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    armed: usize,
}

/// The buckets beyond `near`, found by deadline with one index lookup (arming for a
/// deadline already pending is the common case) and taken in deadline order from a
/// min-heap. The index is never iterated: order comes from the heap.
#[derive(Debug, Default)]
struct Far {
    // invariant: files exactly the (deadline, id) pairs of `order`, each deadline once.
    index: DeadlineIndex,
    /// Per bucket id: its entries (empty, without capacity, when the id is free).
    slab: Vec<Vec<(u32, u32)>>,
    free_ids: Vec<u32>,
    order: BinaryHeap<Reverse<(u64, u32)>>,
}

impl Far {
    fn first(&self) -> Option<u64> {
        self.order.peek().map(|r| r.0 .0)
    }

    /// The bucket of `deadline`, made (from `spare`) if it has none.
    #[inline]
    fn bucket(&mut self, deadline: u64, spare: &mut Vec<Vec<(u32, u32)>>) -> &mut Vec<(u32, u32)> {
        let id = match self.index.get(deadline) {
            Some(id) => id,
            None => self.insert(deadline, spare.pop().unwrap_or_default()),
        };
        &mut self.slab[id as usize]
    }

    /// Files a whole bucket under a deadline that has none; returns its id.
    fn insert(&mut self, deadline: u64, bucket: Vec<(u32, u32)>) -> u32 {
        let id = match self.free_ids.pop() {
            Some(id) => {
                self.slab[id as usize] = bucket;
                id
            }
            None => {
                self.slab.push(bucket);
                self.slab.len() as u32 - 1
            }
        };
        self.index.insert(deadline, id);
        self.order.push(Reverse((deadline, id)));
        id
    }

    fn pop_first(&mut self) -> Option<(u64, Vec<(u32, u32)>)> {
        let Reverse((deadline, id)) = self.order.pop()?;
        self.index.remove(deadline);
        self.free_ids.push(id);
        Some((deadline, std::mem::take(&mut self.slab[id as usize])))
    }
}

impl Timers {
    pub(crate) fn arm(&mut self, deadline: u64, waker: TimerWaker) -> TimerKey {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    waker: None,
                });
                self.slots.len() as u32 - 1
            }
        };
        let s = &mut self.slots[slot as usize];
        debug_assert!(s.waker.is_none(), "a free slot holds no waker");
        s.waker = Some(waker);
        let generation = s.generation;
        self.insert(deadline, (slot, generation));
        self.armed += 1;
        TimerKey { slot, generation }
    }

    /// Frees an armed slot (released, or fired): its generation moves on, so its key and
    /// bucket entry go stale (invariant 1).
    #[inline]
    fn free_slot(&mut self, slot: u32) -> Option<TimerWaker> {
        let s = &mut self.slots[slot as usize];
        s.generation = s.generation.wrapping_add(1);
        self.free.push(slot);
        self.armed -= 1;
        s.waker.take()
    }

    /// Files `entry` under `deadline` (invariant 3).
    #[inline]
    fn insert(&mut self, deadline: u64, entry: (u32, u32)) {
        let latest_near = self.near.first().map(|(d, _)| *d);
        let beyond_near = latest_near.is_some_and(|d| deadline > d);
        // `near` is sorted latest first: a deadline beyond its first is not in it (with
        // many distinct deadlines most arms go to the map and skip the scan).
        if !beyond_near {
            if let Some((_, bucket)) = self.near.iter_mut().find(|(d, _)| *d == deadline) {
                bucket.push(entry);
                return;
            }
        }
        let far = beyond_near
            && (self.near.len() == NEAR
                || self.buckets.first().is_some_and(|first| deadline >= first));
        if far {
            self.buckets.bucket(deadline, &mut self.spare).push(entry);
            return;
        }
        let mut bucket = self.spare.pop().unwrap_or_default();
        bucket.push(entry);
        let at = self.near.partition_point(|(d, _)| *d > deadline);
        self.near.insert(at, (deadline, bucket));
        if self.near.len() > NEAR {
            let (d, spilled) = self.near.remove(0);
            self.buckets.insert(d, spilled);
        }
    }

    /// The earliest bucket, refilled from `Far` when `near` is empty.
    #[inline(always)]
    fn earliest(&mut self) -> Option<&mut (u64, Vec<(u32, u32)>)> {
        if self.near.is_empty() {
            self.refill_near();
        }
        self.near.last_mut()
    }

    /// Out of line, so that `earliest` inlines (a call per `next_deadline` and
    /// `take_due` cost a simulated network 2 %).
    #[inline(never)]
    fn refill_near(&mut self) {
        self.near.extend(self.buckets.pop_first());
    }

    /// Arms a timer nobody will poll or release (a world event).
    pub(crate) fn arm_detached(&mut self, deadline: u64, waker: TimerWaker) {
        self.arm(deadline, waker);
    }

    /// True if the timer fired (or was released); otherwise refreshes its waker (`own`:
    /// the polling task's id if `waker` is that task's own waker).
    pub(crate) fn poll(&mut self, key: TimerKey, waker: &Waker, own: Option<u32>) -> bool {
        let s = &mut self.slots[key.slot as usize];
        let Some(w) = s.waker.as_mut().filter(|_| s.generation == key.generation) else {
            return true; // its slot was freed when it fired (or released)
        };
        match (own, &*w) {
            (_, TimerWaker::Action(_)) => {}
            (Some(id), TimerWaker::Task(t)) if *t == id => {}
            (Some(id), _) => *w = TimerWaker::Task(id),
            (None, TimerWaker::Other(o)) if o.will_wake(waker) => {}
            (None, _) => *w = TimerWaker::Other(waker.clone()),
        }
        false
    }

    /// Releases a timer; a no-op if it already fired (its bucket entry, if any, becomes
    /// stale).
    pub(crate) fn release(&mut self, key: TimerKey) {
        if self.is_live(key.slot, key.generation) {
            drop(self.free_slot(key.slot));
        }
    }

    /// The earliest live deadline, dropping buckets that hold only stale entries.
    pub(crate) fn next_deadline(&mut self) -> Option<u64> {
        if self.armed == 0 {
            let near = std::mem::take(&mut self.near);
            self.recycle(near.into_iter().map(|(_, b)| b));
            while let Some((_, b)) = self.buckets.pop_first() {
                self.recycle(std::iter::once(b));
            }
            return None;
        }
        loop {
            let deadline = self.earliest()?.0;
            let (_, bucket) = self.near.last().expect("earliest() returned it");
            let live = bucket
                .iter()
                .any(|&(slot, generation)| self.is_live(slot, generation));
            if live {
                return Some(deadline);
            }
            let (_, bucket) = self.near.pop().expect("earliest() returned it");
            self.recycle(std::iter::once(bucket));
        }
    }

    /// Fires every live timer due at or before `now`: frees its slot and appends its
    /// waker to `due`, in (deadline, arming) order.
    pub(crate) fn take_due(&mut self, now: u64, due: &mut Vec<(u64, TimerWaker)>) {
        while let Some(&mut (deadline, _)) = self.earliest() {
            if deadline > now {
                break;
            }
            let (_, bucket) = self.near.pop().expect("earliest() returned it");
            for &(slot, generation) in &bucket {
                if self.is_live(slot, generation) {
                    let waker = self.free_slot(slot).expect("a live slot is armed");
                    due.push((deadline, waker));
                }
            }
            self.recycle(std::iter::once(bucket));
        }
    }

    fn recycle(&mut self, buckets: impl Iterator<Item = Vec<(u32, u32)>>) {
        for mut b in buckets {
            b.clear();
            self.spare.push(b);
        }
    }

    #[inline]
    fn is_live(&self, slot: u32, generation: u32) -> bool {
        let s = &self.slots[slot as usize];
        debug_assert!(s.generation != generation || s.waker.is_some());
        s.generation == generation
    }

    /// Number of armed timers.
    #[cfg(test)]
    pub(crate) fn armed(&self) -> usize {
        self.armed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker;

    #[test]
    fn fires_in_deadline_order_and_skips_released() {
        let mut t = Timers::default();
        let other = || TimerWaker::Other(noop_waker());
        let a = t.arm(30, other());
        let b = t.arm(10, TimerWaker::Task(1));
        let c = t.arm(10, other());
        t.release(c);
        assert_eq!(t.next_deadline(), Some(10));
        let mut due = Vec::new();
        t.take_due(10, &mut due);
        assert_eq!(due.len(), 1);
        assert!(matches!(due[0].1, TimerWaker::Task(1)));
        assert!(t.poll(b, &noop_waker(), None));
        assert!(!t.poll(a, &noop_waker(), Some(2)));
        t.release(b);
        assert_eq!(t.next_deadline(), Some(30));
        assert_eq!(t.armed(), 1);
        // The released slot is reused with a new generation; the old key is stale.
        let d = t.arm(5, other());
        assert_ne!(d, c);
        assert_eq!(t.next_deadline(), Some(5));
    }

    /// A timer's slot is freed when it fires: the next arm reuses it, and the old key
    /// (polled or released late, as a `Sleep` dropped unpolled does) cannot touch the
    /// new timer.
    #[test]
    fn a_fired_timer_frees_its_slot_and_its_key_goes_stale() {
        let mut t = Timers::default();
        let old = t.arm(10, TimerWaker::Task(1));
        let mut due = Vec::new();
        t.take_due(10, &mut due);
        assert_eq!((due.len(), t.armed()), (1, 0));
        let new = t.arm(20, TimerWaker::Task(2));
        assert_eq!(new.slot, old.slot, "the fired timer's slot is reused");
        assert!(
            t.poll(old, &noop_waker(), Some(1)),
            "the old key reads as fired"
        );
        t.release(old);
        assert_eq!(
            t.armed(),
            1,
            "releasing the old key leaves the new timer armed"
        );
        assert!(!t.poll(new, &noop_waker(), Some(2)));
        due.clear();
        t.take_due(20, &mut due);
        assert!(matches!(due[..], [(20, TimerWaker::Task(2))]));
    }

    /// Against a model (a list sorted by deadline, then arming order), over a seeded mix
    /// of arms at earlier, equal and later deadlines than the near ones (more than `NEAR`), releases, and
    /// clock advances: every timer fires once, in the model's order.
    #[test]
    fn fires_like_a_sorted_list_whatever_the_arming_order() {
        let mut t = Timers::default();
        let mut model: Vec<(u64, u32, u32)> = Vec::new(); // (deadline, arm seq, task)
        let mut keys = Vec::new();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let (mut now, mut fired, mut expected) = (0u64, Vec::new(), Vec::new());
        for seq in 0..3000u32 {
            match next(10) {
                0..=5 => {
                    let deadline = now + next(40);
                    keys.push((t.arm(deadline, TimerWaker::Task(seq)), seq));
                    model.push((deadline, seq, seq));
                }
                6 if !keys.is_empty() => {
                    let (key, task) = keys.swap_remove(next(keys.len() as u64) as usize);
                    if model.iter().any(|m| m.2 == task) {
                        t.release(key);
                        model.retain(|m| m.2 != task);
                    }
                }
                _ => {
                    let Some(d) = t.next_deadline() else { continue };
                    assert_eq!(Some(d), model.iter().map(|m| m.0).min());
                    now = d;
                    let mut due = Vec::new();
                    t.take_due(now, &mut due);
                    for (_, w) in due {
                        let TimerWaker::Task(id) = w else {
                            panic!("only task timers")
                        };
                        fired.push(id);
                    }
                    model.sort_by_key(|m| (m.0, m.1));
                    let n = model.iter().take_while(|m| m.0 <= now).count();
                    expected.extend(model.drain(..n).map(|m| m.2));
                }
            }
        }
        assert!(
            fired.len() > 500,
            "the mix fires many timers: {}",
            fired.len()
        );
        assert_eq!(fired, expected);
    }
}
