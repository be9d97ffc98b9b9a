//! [`Shard`] (`k/n`, parsed from and printed as text) and the private `Plan`: which
//! seeds of the range one shard runs, kept apart from the runner that consumes them.

/// `k/n`: run every n-th seed of the range, starting with the k-th (1-based). Written
/// `"k/n"` in reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
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

impl Shard {
    /// The shard a batch engine assigned to this process (`--shard auto`), read through
    /// `var` (the environment, or a test's map), in this order:
    /// 1. `DETSIM_SHARD=K/N`;
    /// 2. Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX` (0-based) with the count from
    ///    `count` (`--shard-count`) or `DETSIM_SHARD_COUNT`;
    /// 3. Slurm job arrays: `SLURM_ARRAY_TASK_ID` minus `SLURM_ARRAY_TASK_MIN` (0 if
    ///    unset), of `SLURM_ARRAY_TASK_COUNT`.
    ///
    /// ```
    /// use detsim::explore::Shard;
    /// let env = |k: &str| (k == "JOB_COMPLETION_INDEX").then(|| "2".to_string());
    /// assert_eq!(Shard::from_batch_env(env, Some(4)).unwrap().to_string(), "3/4");
    /// assert!(Shard::from_batch_env(env, None).is_err()); // the count is missing
    /// ```
    pub fn from_batch_env(
        var: impl Fn(&str) -> Option<String>,
        count: Option<u64>,
    ) -> Result<Shard, String> {
        let number = |name: &str, v: String| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| format!("{name}={}: not a number", crate::quote::quoted(&v)))
        };
        let checked = |index: u64, count: u64, from: &str| {
            if count == 0 || index >= count {
                return Err(format!(
                    "--shard auto: {from} gives shard index {index} (0-based) of {count}"
                ));
            }
            Ok(Shard {
                index: index + 1,
                count,
            })
        };
        if let Some(v) = var("DETSIM_SHARD") {
            return v.parse().map_err(|e| format!("DETSIM_SHARD: {e}"));
        }
        if let Some(v) = var("JOB_COMPLETION_INDEX") {
            let index = number("JOB_COMPLETION_INDEX", v)?;
            let count = match (count, var("DETSIM_SHARD_COUNT")) {
                (Some(n), _) => n,
                (None, Some(v)) => number("DETSIM_SHARD_COUNT", v)?,
                (None, None) => {
                    return Err("--shard auto: JOB_COMPLETION_INDEX is set but not the \
                                number of shards: pass --shard-count N (the Job's \
                                completions) or set DETSIM_SHARD_COUNT"
                        .into())
                }
            };
            return checked(index, count, "JOB_COMPLETION_INDEX");
        }
        if let Some(v) = var("SLURM_ARRAY_TASK_ID") {
            let id = number("SLURM_ARRAY_TASK_ID", v)?;
            let min = var("SLURM_ARRAY_TASK_MIN")
                .map(|v| number("SLURM_ARRAY_TASK_MIN", v))
                .transpose()?
                .unwrap_or(0);
            let count = var("SLURM_ARRAY_TASK_COUNT")
                .ok_or("--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not")
                .map_err(String::from)
                .and_then(|v| number("SLURM_ARRAY_TASK_COUNT", v))?;
            let index = id.checked_sub(min).ok_or_else(|| {
                format!(
                    "--shard auto: SLURM_ARRAY_TASK_ID {id} is below SLURM_ARRAY_TASK_MIN {min}"
                )
            })?;
            return checked(index, count, "SLURM_ARRAY_TASK_ID");
        }
        Err(
            "--shard auto: no batch engine's shard found: set DETSIM_SHARD=K/N, or run as a \
             Kubernetes Indexed Job (JOB_COMPLETION_INDEX with --shard-count N) or a Slurm \
             array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT)"
                .into(),
        )
    }
}

impl TryFrom<String> for Shard {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Shard> for String {
    fn from(s: Shard) -> String {
        s.to_string()
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn auto(vars: &[(&str, &str)], count: Option<u64>) -> Result<Shard, String> {
        let map: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Shard::from_batch_env(|k| map.get(k).cloned(), count)
    }

    #[test]
    fn batch_engines_name_their_shard() {
        let shard = |r: Result<Shard, String>| r.unwrap().to_string();
        assert_eq!(shard(auto(&[("DETSIM_SHARD", "2/5")], None)), "2/5");
        assert_eq!(
            shard(auto(&[("JOB_COMPLETION_INDEX", "0")], Some(4))),
            "1/4"
        );
        let k8s = [("JOB_COMPLETION_INDEX", "3"), ("DETSIM_SHARD_COUNT", "4")];
        assert_eq!(shard(auto(&k8s, None)), "4/4");
        assert_eq!(shard(auto(&k8s, Some(8))), "4/8", "the flag wins");
        let slurm = [
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ];
        assert_eq!(shard(auto(&slurm, None)), "2/3");
        let from_one = [
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ];
        assert_eq!(shard(auto(&from_one, None)), "3/3");
    }

    #[test]
    fn a_missing_or_bad_shard_is_a_clear_error() {
        for (vars, count, says) in [
            (vec![], None, "no batch engine"),
            (vec![("JOB_COMPLETION_INDEX", "1")], None, "--shard-count"),
            (vec![("JOB_COMPLETION_INDEX", "4")], Some(4), "index 4"),
            (vec![("JOB_COMPLETION_INDEX", "x")], Some(4), "not a number"),
            (
                vec![("SLURM_ARRAY_TASK_ID", "1")],
                None,
                "SLURM_ARRAY_TASK_COUNT",
            ),
            (vec![("DETSIM_SHARD", "5/4")], None, "DETSIM_SHARD"),
        ] {
            let e = auto(&vars, count).unwrap_err();
            assert!(e.contains(says), "{vars:?}: {e}");
        }
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
