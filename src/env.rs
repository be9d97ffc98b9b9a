//! Environment variables detsim reads — only at the boundary (the `check` entry point and
//! the command line), never inside a run.

/// Replay exactly one seed (with the full trace) instead of a campaign.
pub const SEED: &str = "DETSIM_SEED";
/// Number of seeds a `check` runs.
pub const SEEDS: &str = "DETSIM_SEEDS";
/// Strategy token (`random`, `pct:3`, `dfs:2`).
pub const STRATEGY: &str = "DETSIM_STRATEGY";
/// Threads a campaign uses.
pub const JOBS: &str = "DETSIM_JOBS";
/// Workers per run.
pub const WORKERS: &str = "DETSIM_WORKERS";

/// Reads and parses a variable; a malformed value is an error naming it.
pub(crate) fn parse<T: std::str::FromStr>(name: &str) -> Result<Option<T>, String>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|e| format!("{name}={}: {e}", crate::quote::quoted(&v))),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(e) => Err(format!("{name}: {e}")),
    }
}
