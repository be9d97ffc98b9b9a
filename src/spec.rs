//! [`StrategySpec`]: a strategy as a short, parseable token (`swarm`, `random`, `pct:3`,
//! `dfs:2`).
//!
//! The token is what seeds files, schedule headers, `DETSIM_STRATEGY` and `--strategy`
//! carry. It holds everything that influences a run, so `(seed, spec, workers)` alone
//! reproduces it: PCT's step estimate is part of the token (`pct:3:200`) once known.
//!
//! Why a leaf (it names strategies but builds none): the saved formats (`store/`) carry
//! the token, and they sit below exploration. The strategies a spec stands for are built
//! by `explore/spec.rs` (`StrategySpec::per_run`), a second `impl` block up there.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A scheduling strategy, by name and parameters.
///
/// ```
/// use detsim::explore::StrategySpec;
/// let s: StrategySpec = "pct:3".parse().unwrap();
/// assert_eq!(s, StrategySpec::Pct { depth: 3, steps: None });
/// assert_eq!(s.to_string(), "pct:3");
/// assert!("pct:0".parse::<StrategySpec>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum StrategySpec {
    /// Uniform random choice at every step. The default of saved formats: a seeds-file
    /// line without `strategy=` was recorded with it.
    #[default]
    Random,
    /// Each seed runs one member of a portfolio of Random and adaptive PCT of depths 1 to
    /// 5, chosen by the seed ([`Swarm`](crate::explore::Swarm)). The default of campaigns and `detsim fuzz`
    /// ([`StrategySpec::EXPLORE_DEFAULT`]).
    Swarm,
    /// Probabilistic Concurrency Testing with bug depth `depth`; `steps` is the estimated
    /// number of scheduling steps of a run (learned by a calibration run when `None`).
    Pct {
        /// Bug depth d ≥ 1 (d − 1 priority change points).
        depth: u32,
        /// Estimated steps per run.
        steps: Option<u64>,
    },
    /// Systematic depth-first search with at most `preemption_bound` preemptions.
    Dfs {
        /// Preemption bound.
        preemption_bound: u32,
    },
}

/// A strategy token that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid strategy {token}: {reason} (expected swarm, random, pct:DEPTH[:STEPS] or dfs:BOUND)"
)]
pub struct SpecError {
    token: String,
    reason: &'static str,
}

impl StrategySpec {
    /// What campaigns and `detsim fuzz` run without `--strategy`: the strategy that finds
    /// every catalogued bug (`docs/bug-finding.md`). The single-seed commands (`run`,
    /// `shrink`, `check-determinism`) keep `random`; fuzz's replay lines and seeds files
    /// always name the strategy, so a found seed never depends on a default.
    pub const EXPLORE_DEFAULT: StrategySpec = StrategySpec::Swarm;
}

impl FromStr for StrategySpec {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<Self, SpecError> {
        let err = |reason| SpecError {
            token: crate::quote::quoted(s),
            reason,
        };
        let mut parts = s.trim().split(':');
        let name = parts.next().unwrap_or_default();
        let mut num = |what: &'static str| -> Result<Option<u64>, SpecError> {
            parts
                .next()
                .map(|p| p.parse::<u64>().map_err(|_| err(what)))
                .transpose()
        };
        let spec = match name {
            "swarm" => StrategySpec::Swarm,
            "random" => StrategySpec::Random,
            "pct" => {
                let depth = num("depth must be a number")?.unwrap_or(3);
                if depth == 0 || depth > 64 {
                    return Err(err("depth must be between 1 and 64"));
                }
                let steps = num("steps must be a number")?;
                StrategySpec::Pct {
                    depth: depth as u32,
                    steps,
                }
            }
            "dfs" => {
                let bound = num("bound must be a number")?.unwrap_or(2);
                StrategySpec::Dfs {
                    preemption_bound: bound.min(u32::MAX as u64) as u32,
                }
            }
            _ => return Err(err("unknown strategy")),
        };
        if parts.next().is_some() {
            return Err(err("too many ':' parts"));
        }
        Ok(spec)
    }
}

impl fmt::Display for StrategySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StrategySpec::Swarm => write!(f, "swarm"),
            StrategySpec::Random => write!(f, "random"),
            StrategySpec::Pct { depth, steps: None } => write!(f, "pct:{depth}"),
            StrategySpec::Pct {
                depth,
                steps: Some(k),
            } => write!(f, "pct:{depth}:{k}"),
            StrategySpec::Dfs { preemption_bound } => write!(f, "dfs:{preemption_bound}"),
        }
    }
}

impl TryFrom<String> for StrategySpec {
    type Error = SpecError;
    fn try_from(s: String) -> Result<Self, SpecError> {
        s.parse()
    }
}

impl From<StrategySpec> for String {
    fn from(s: StrategySpec) -> String {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        for t in ["swarm", "random", "pct:1", "pct:3:250", "dfs:0", "dfs:3"] {
            let s: StrategySpec = t.parse().unwrap();
            assert_eq!(s.to_string(), t);
        }
    }

    #[test]
    fn bad_tokens_say_why() {
        for t in ["", "rand", "pct:x", "pct:0", "dfs:1:2", "pct:3:-1"] {
            let e = t.parse::<StrategySpec>().unwrap_err();
            assert!(e.to_string().contains("invalid strategy"), "{e}");
        }
    }
}
