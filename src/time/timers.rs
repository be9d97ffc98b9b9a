//! The timer wheel of a run: a min-heap of deadlines over a slab of timer slots.
//!
//! Invariants:
//! 1. A heap entry is live iff its slot is armed with the same generation; cancelled or
//!    re-used slots leave stale entries that are skipped when they surface.
//! 2. Heap order is `(deadline, seq)`; `seq` is unique, so order never depends on
//!    anything but the order timers were armed. Firing order among equal deadlines is
//!    then decided by `Timer` choices in the step loop, not here.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::task::Waker;

/// Handle to an armed timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    slot: u32,
    generation: u32,
}

#[derive(Debug)]
enum SlotState {
    Free,
    Armed { waker: Waker },
    Fired,
}

#[derive(Debug)]
struct Slot {
    generation: u32,
    state: SlotState,
}

/// A heap entry: `(deadline, seq)` packed into one integer, so ordering is one compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    key: u128,
    slot: u32,
    generation: u32,
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key) // reversed: BinaryHeap is a max-heap
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Entry>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    seq: u64,
    armed: usize,
}

impl Timers {
    pub(crate) fn arm(&mut self, deadline: u64, waker: Waker) -> TimerKey {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    state: SlotState::Free,
                });
                self.slots.len() as u32 - 1
            }
        };
        let s = &mut self.slots[slot as usize];
        s.state = SlotState::Armed { waker };
        let key = TimerKey {
            slot,
            generation: s.generation,
        };
        self.heap.push(Entry {
            key: (deadline as u128) << 64 | self.seq as u128,
            slot,
            generation: s.generation,
        });
        self.seq += 1;
        self.armed += 1;
        key
    }

    /// True if the timer fired; otherwise refreshes its waker.
    pub(crate) fn poll(&mut self, key: TimerKey, waker: &Waker) -> bool {
        let s = &mut self.slots[key.slot as usize];
        debug_assert_eq!(s.generation, key.generation, "timer key outlived its slot");
        match &mut s.state {
            SlotState::Fired => true,
            SlotState::Armed { waker: w, .. } => {
                if !w.will_wake(waker) {
                    *w = waker.clone();
                }
                false
            }
            SlotState::Free => true,
        }
    }

    /// Releases a timer (fired or not); its heap entry, if any, becomes stale.
    pub(crate) fn release(&mut self, key: TimerKey) {
        let s = &mut self.slots[key.slot as usize];
        if s.generation != key.generation {
            return;
        }
        if matches!(s.state, SlotState::Armed { .. }) {
            self.armed -= 1;
        }
        s.state = SlotState::Free;
        s.generation = s.generation.wrapping_add(1);
        self.free.push(key.slot);
    }

    /// The earliest live deadline, dropping stale heap entries on the way.
    pub(crate) fn next_deadline(&mut self) -> Option<u64> {
        if self.armed == 0 {
            self.heap.clear();
            return None;
        }
        while let Some(&Entry {
            key,
            slot,
            generation,
        }) = self.heap.peek()
        {
            let deadline = (key >> 64) as u64;
            if self.is_live(slot, generation) {
                return Some(deadline);
            }
            self.heap.pop();
        }
        None
    }

    /// Marks every live timer due at or before `now` as fired; appends their wakers to
    /// `due` in heap order.
    pub(crate) fn take_due(&mut self, now: u64, due: &mut Vec<(u64, Waker)>) {
        while let Some(&Entry {
            key,
            slot,
            generation,
        }) = self.heap.peek()
        {
            let deadline = (key >> 64) as u64;
            if deadline > now {
                break;
            }
            self.heap.pop();
            if !self.is_live(slot, generation) {
                continue;
            }
            let s = &mut self.slots[slot as usize];
            if let SlotState::Armed { waker, .. } =
                std::mem::replace(&mut s.state, SlotState::Fired)
            {
                self.armed -= 1;
                due.push((deadline, waker));
            }
        }
    }

    fn is_live(&self, slot: u32, generation: u32) -> bool {
        let s = &self.slots[slot as usize];
        s.generation == generation && matches!(s.state, SlotState::Armed { .. })
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
        let a = t.arm(30, noop_waker());
        let b = t.arm(10, noop_waker());
        let c = t.arm(10, noop_waker());
        t.release(c);
        assert_eq!(t.next_deadline(), Some(10));
        let mut due = Vec::new();
        t.take_due(10, &mut due);
        assert_eq!(due.len(), 1);
        assert!(t.poll(b, &noop_waker()));
        assert!(!t.poll(a, &noop_waker()));
        t.release(b);
        assert_eq!(t.next_deadline(), Some(30));
        assert_eq!(t.armed(), 1);
        // The released slot is reused with a new generation; the old key is stale.
        let d = t.arm(5, noop_waker());
        assert_ne!(d, c);
        assert_eq!(t.next_deadline(), Some(5));
    }
}
