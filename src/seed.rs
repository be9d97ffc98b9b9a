//! [`Seed`]: a run's seed as people write it — decimal, or hexadecimal with `0x` — with
//! one parser for every place that reads one (the command line, `DETSIM_SEED`, seeds
//! files), so a seed that works in one works in all.

use std::fmt;
use std::str::FromStr;

/// A seed (`17`, `0x4b3`); displays as decimal.
///
/// ```
/// use detsim::Seed;
/// assert_eq!("0x10".parse::<Seed>().unwrap(), Seed(16));
/// assert_eq!(" 17 ".parse::<Seed>().unwrap().to_string(), "17");
/// assert!("-1".parse::<Seed>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seed(pub u64);

/// A seed that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad seed {text}: {reason} (a seed is a number from 0 to 2^64-1, decimal or 0x hex)")]
pub struct SeedError {
    text: String,
    reason: String,
}

impl FromStr for Seed {
    type Err = SeedError;

    fn from_str(s: &str) -> Result<Self, SeedError> {
        let t = s.trim();
        let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => t.parse(),
        };
        parsed.map(Seed).map_err(|e| SeedError {
            text: crate::quote::quoted(t),
            reason: e.to_string(),
        })
    }
}

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<Seed> for u64 {
    fn from(s: Seed) -> u64 {
        s.0
    }
}
