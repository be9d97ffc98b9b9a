//! [`DiskPlan`]: the disk faults of a [`crate::fault::FaultPlan`] (its `[disk]` table).
//!
//! ```toml
//! [disk]
//! eio = [0.0, 0.01]        # probability that a read, write or sync fails with EIO
//! torn = [0.0, 1.0]        # probability that a crash tears a file's last unsynced write
//! latency_us = [50, 500]   # per-operation latency, virtual time
//! quota_bytes = 1048576    # ENOSPC past this much file data per node
//! lying_fsync = 0.0        # probability that a sync reports success and keeps nothing
//! ```

use crate::fault::Range;
use crate::world::fault::check_probability;
use serde::{Deserialize, Serialize};

/// Disk faults (see the module docs). `eio` and `torn` are swarmed like the plan's
/// other ranges; `lying_fsync` is not: an fsync that lies breaks every correct
/// program, so it happens only when set explicitly.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct DiskPlan {
    /// Probability that a read, write or sync fails with `EIO`.
    pub eio: Range,
    /// Probability that a crash tears the last unsynced write of a file (a seeded
    /// prefix survives, or some of its sectors).
    pub torn: Range,
    /// Latency of every operation, in virtual microseconds (`[lo, hi]`).
    pub latency_us: [u64; 2],
    /// Bytes of file data each node's disk may hold (`ENOSPC` past it).
    pub quota_bytes: Option<u64>,
    /// Probability that `sync_data` / `sync_all` reports success but makes nothing
    /// durable. Only this knob turns it on.
    pub lying_fsync: f64,
}

impl DiskPlan {
    /// Checks every value; the error names the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        for (key, [lo, hi]) in [("eio", self.eio), ("torn", self.torn)] {
            for p in [lo, hi] {
                check_probability(key, p).map_err(|(k, m)| (k.to_string(), m))?;
            }
            if lo > hi {
                return Err((
                    key.into(),
                    format!("[{lo}, {hi}]: the lower bound is above the upper"),
                ));
            }
        }
        let [lo, hi] = self.latency_us;
        if lo > hi {
            return Err((
                "latency_us".into(),
                format!("[{lo}, {hi}]: the lower bound is above the upper"),
            ));
        }
        check_probability("lying_fsync", self.lying_fsync).map_err(|(k, m)| (k.to_string(), m))
    }
}
