//! [`Shard`] (`k/n`, parsed from and printed as text) and the private `Plan`: which
//! seeds of the range one shard runs, kept apart from the runner that consumes them.

/// `k/n`: run every n-th seed of the range, starting with the k-th (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based shard index.
    pub index: u64,
    /// Number of shards.
    pub count: u64,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 1, count: 1 }
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "invalid shard {}: expected K/N with 1 <= K <= N (e.g. 2/4)",
                crate::quote::quoted(s)
            )
        };
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            k.trim().parse::<u64>().map_err(|_| bad())?,
            n.trim().parse::<u64>().map_err(|_| bad())?,
        );
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The seeds of one shard: index `i` is seed `first + i * stride`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Plan {
    first: u64,
    stride: u64,
    pub(super) len: u64,
}

impl Plan {
    pub(super) fn new(start: u64, seeds: u64, shard: Shard) -> Self {
        let offset = shard.index - 1;
        let len = if offset >= seeds {
            0
        } else {
            (seeds - offset).div_ceil(shard.count)
        };
        Plan {
            first: start.wrapping_add(offset),
            stride: shard.count,
            len,
        }
    }

    /// The distance between two consecutive seeds of the plan.
    pub(super) fn stride(&self) -> u64 {
        self.stride
    }

    pub(super) fn seed(&self, index: u64) -> u64 {
        self.first.wrapping_add(index.wrapping_mul(self.stride))
    }
}
