//! One task pick of a DFS path ([`Node`]), the rule-4 order of its options, and the
//! shard split that decides which options a shard explores ([`Split`], rule 9 of the
//! module docs of `dfs/`).

use std::cmp::Reverse;

/// One task pick of a path (rule 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Node {
    /// The shards that reach this node (rule 9).
    pub(super) split: Split,
    pub(super) options: usize,
    pub(super) last: Option<usize>,
    /// Whether the path had preemptions left when this pick was made (rule 4).
    pub(super) may_preempt: bool,
    /// Position in the order of rule 4 of the option taken.
    pub(super) tried: usize,
}

/// Which of `count` shards (0-based `index`) a search or subtree belongs to (rule 9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Split {
    pub(super) index: u64,
    pub(super) count: u64,
}

impl Split {
    pub(super) const ALL: Split = Split { index: 0, count: 1 };

    /// True if option `j` of `m` belongs to this split's shard.
    fn owns(self, j: usize, m: usize) -> bool {
        let (j, m) = (j as u64, m as u64);
        if self.count >= m {
            self.index % m == j
        } else {
            j % self.count == self.index
        }
    }

    /// The split below option `j` of `m` (owned by this shard).
    fn below(self, j: usize, m: usize) -> Split {
        let (j, m) = (j as u64, m as u64);
        if self.count >= m {
            Split {
                index: self.index / m,
                count: (self.count - j).div_ceil(m),
            }
        } else {
            Split::ALL
        }
    }
}

impl Node {
    /// The first position at or after `from` of the rule-4 order this shard owns.
    pub(super) fn owned_from(&self, from: usize) -> Option<usize> {
        (from..self.allowed()).find(|&j| self.split.owns(j, self.allowed()))
    }

    /// The split below the option taken.
    pub(super) fn split_below(&self) -> Split {
        self.split.below(self.tried, self.allowed())
    }

    /// How many options rule 4 allows here.
    fn allowed(&self) -> usize {
        match self.last {
            Some(_) if !self.may_preempt => 1,
            _ => self.options,
        }
    }

    /// The candidate index at position `tried` of the rule-4 order.
    pub(super) fn taken(&self) -> usize {
        match self.last {
            None => self.tried,
            Some(l) if self.tried == 0 => l,
            // Skip `l`, which came first.
            Some(l) if self.tried <= l => self.tried - 1,
            Some(_) => self.tried,
        }
    }

    pub(super) fn is_preemption(&self) -> bool {
        self.last.is_some_and(|l| l != self.taken())
    }
}

/// Where a path sits in the depth-first order: the positions and rule-4 options of its
/// picks that did not take position 0, deepest last.
///
/// Depth-first order is the lexicographic order of the `tried` sequences (shorter first
/// on a common prefix: a run comes before the runs that branch off it). Runs mostly take
/// position 0, so the key keeps only the other picks, as `(Reverse(pick), tried)`: two
/// keys first differ where one path leaves position 0 earlier (its entry has the smaller
/// pick, so the larger `Reverse`, and that path is the later one) or takes a larger
/// option at the same pick. A plan's key ends with the option it branches to, which is
/// never position 0, so a key that is a prefix of another is its ancestor's.
pub(super) type Key = Vec<(Reverse<u32>, u32)>;

/// The key entry of taking position `tried` at pick `pick`, if it is not position 0.
pub(super) fn key_entry(pick: usize, tried: usize) -> Option<(Reverse<u32>, u32)> {
    let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    (tried != 0).then(|| (Reverse(narrow(pick)), narrow(tried)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_order_puts_last_first_and_covers_all() {
        for last in 0..4 {
            let taken: Vec<_> = (0..4)
                .map(|tried| {
                    Node {
                        split: Split::ALL,
                        options: 4,
                        last: Some(last),
                        may_preempt: true,
                        tried,
                    }
                    .taken()
                })
                .collect();
            assert_eq!(taken[0], last);
            let mut sorted = taken.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, vec![0, 1, 2, 3]);
        }
    }

    /// Keys order dense `tried` sequences lexicographically.
    #[test]
    fn keys_follow_the_lexicographic_order_of_tried_sequences() {
        let key = |dense: &[usize]| -> Key {
            dense
                .iter()
                .enumerate()
                .filter_map(|(i, &t)| key_entry(i, t))
                .collect()
        };
        // Every sequence over {0, 1, 2} of length ≤ 4 that ends in a non-zero (plan keys)
        // or is empty (the root).
        let mut all: Vec<Vec<usize>> = vec![vec![]];
        for len in 1..=4 {
            for code in 0..3usize.pow(len) {
                let seq: Vec<usize> = (0..len).map(|i| code / 3usize.pow(i) % 3).collect();
                if seq[seq.len() - 1] != 0 {
                    all.push(seq);
                }
            }
        }
        for a in &all {
            for b in &all {
                assert_eq!(key(a).cmp(&key(b)), a.cmp(b), "{a:?} vs {b:?}");
            }
        }
    }
}
