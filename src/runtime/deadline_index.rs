//! [`DeadlineIndex`]: deadline → bucket id, the lookup behind arming a timer.
//!
//! An open-addressing table with linear probing, at most half full, deletion by backward
//! shift (no tombstones, so a lookup stops at the first empty cell). A hand-written table
//! because arming a timer is one lookup and the general maps cost more than the rest
//! of arming: `BTreeMap` ~200 instructions per timer with 1,000 pending deadlines,
//! `hashbrown` (`std`'s `HashMap`, with a fixed hasher) ~40; this one ~12 on a hit.
//!
//! It is only looked up, never iterated: where a deadline sits in it depends on what
//! was inserted and removed before, and nothing the run does depends on that.
//!
//! Invariants:
//! 1. `cells.len()` is zero or a power of two, and `len * 2 <= cells.len()`.
//! 2. A deadline is in at most one occupied cell; every occupied cell is reached from its
//!    deadline's home cell without crossing an empty one.

/// A bucket id plus one, so that zero marks an empty cell.
type Cell = (u64, u32);
const EMPTY: Cell = (0, 0);

#[derive(Debug, Default)]
pub(super) struct DeadlineIndex {
    // invariant 1 and 2: (deadline, bucket id + 1), or `EMPTY`.
    cells: Vec<Cell>,
    len: usize,
}

/// The home cell of `deadline` (a `u64` of nanoseconds, often a multiple of 1 ms, so
/// its low bits are zeros): a folded 128-bit multiply mixes every input bit into the
/// low bits kept by the mask.
#[inline]
fn home(deadline: u64, mask: usize) -> usize {
    let p = (deadline as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((p as u64) ^ ((p >> 64) as u64)) as usize & mask
}

impl DeadlineIndex {
    /// The bucket id filed under `deadline`.
    #[inline]
    pub(super) fn get(&self, deadline: u64) -> Option<u32> {
        let mask = self.cells.len().wrapping_sub(1);
        if self.cells.is_empty() {
            return None;
        }
        let mut i = home(deadline, mask);
        loop {
            let (d, id) = self.cells[i];
            if id == 0 {
                return None;
            }
            if d == deadline {
                return Some(id - 1);
            }
            i = (i + 1) & mask;
        }
    }

    /// Files `id` under `deadline`, which has none.
    pub(super) fn insert(&mut self, deadline: u64, id: u32) {
        debug_assert!(self.get(deadline).is_none(), "a deadline has one bucket");
        if (self.len + 1) * 2 > self.cells.len() {
            self.grow();
        }
        let mask = self.cells.len() - 1;
        let mut i = home(deadline, mask);
        while self.cells[i].1 != 0 {
            i = (i + 1) & mask;
        }
        self.cells[i] = (deadline, id + 1);
        self.len += 1;
    }

    /// Removes `deadline`, which is filed: later cells of its probe run shift back into
    /// the hole where their home allows (invariant 2).
    pub(super) fn remove(&mut self, deadline: u64) {
        let mask = self.cells.len() - 1;
        let mut hole = home(deadline, mask);
        while self.cells[hole].0 != deadline || self.cells[hole].1 == 0 {
            debug_assert!(self.cells[hole].1 != 0, "removed deadline not filed");
            hole = (hole + 1) & mask;
        }
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let cell = self.cells[j];
            if cell.1 == 0 {
                break;
            }
            // `cell` stays if its home is cyclically within (hole, j].
            let h = home(cell.0, mask);
            let stays = match hole <= j {
                true => hole < h && h <= j,
                false => hole < h || h <= j,
            };
            if !stays {
                self.cells[hole] = cell;
                hole = j;
            }
        }
        self.cells[hole] = EMPTY;
        self.len -= 1;
    }

    fn grow(&mut self) {
        let cells = (self.cells.len() * 2).max(16);
        let old = std::mem::replace(&mut self.cells, vec![EMPTY; cells]);
        self.len = 0;
        // Re-filed one by one; the order they land in is never observed (only looked up).
        for (deadline, id) in old.into_iter().filter(|c| c.1 != 0) {
            self.insert(deadline, id - 1);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Against a `BTreeMap`, over a seeded mix of inserts and removes of clustered
    /// deadlines (multiples of 1 ms, so many share home cells and probe runs wrap):
    /// every lookup agrees, through growth and backward-shift deletions.
    #[test]
    fn agrees_with_a_map_through_inserts_removes_and_growth() {
        let mut index = DeadlineIndex::default();
        let mut model = BTreeMap::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for step in 0..20_000u32 {
            let deadline = next(300) * 1_000_000;
            match model.contains_key(&deadline) {
                false if next(3) > 0 => {
                    index.insert(deadline, step);
                    model.insert(deadline, step);
                }
                true => {
                    index.remove(deadline);
                    model.remove(&deadline);
                }
                false => {}
            }
            let probe = next(300) * 1_000_000;
            assert_eq!(index.get(probe), model.get(&probe).copied(), "step {step}");
            assert_eq!(index.len(), model.len());
        }
        assert!(
            model.len() > 50,
            "the mix keeps many deadlines: {}",
            model.len()
        );
        for (&deadline, &id) in &model {
            assert_eq!(index.get(deadline), Some(id));
        }
    }
}
