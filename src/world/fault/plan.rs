//! [`FaultPlan`]: which faults may happen and how often — data, loadable from TOML/JSON.
//!
//! Rates are *ranges*: with `swarm = true` (the default) each seed first draws its own
//! profile — each fault kind on or off, and a rate inside its range — as recorded
//! choices, so some seeds run with heavy loss and no crashes, others with many crashes
//! and no partitions (swarm testing, as TigerBeetle's VOPR and FoundationDB do).
//!
//! ```toml
//! duration_ms = 10000          # faults are injected for this long, then liveness
//! liveness_ms = 5000           # ... and the main task must finish within this after
//! crash = [0.0, 0.5]           # node crashes per second of virtual time
//! restart_ms = [100, 2000]     # how long a crashed node stays down
//! partition = [0.0, 1.0]       # partitions per second
//! heal_ms = [100, 3000]
//! loss = [0.0, 0.1]            # message loss probability
//! duplicate = [0.0, 0.05]
//! delay = [0.0, 0.2]           # probability of an injected delay per wake-up, timer, delivery
//! delay_max_ms = 50
//! [link.latency]
//! kind = "uniform"
//! min_us = 500
//! max_us = 5000
//! ```

use crate::world::link::LinkConfig;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A closed range `[lo, hi]` of a rate or probability.
pub type Range = [f64; 2];

/// Which faults may happen, how often, and for how long (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct FaultPlan {
    /// Draw a per-seed profile from the ranges (true), or use each range's upper bound.
    pub swarm: bool,
    /// How long faults are injected (virtual ms); then the liveness phase begins.
    pub duration_ms: u64,
    /// If set: after `duration_ms`, heal and restart everything, stop faults, and fail
    /// with `Failure::Liveness` unless the main task finishes within this many ms.
    pub liveness_ms: Option<u64>,
    /// How often the plan decides whether a fault starts (virtual ms).
    pub tick_ms: u64,
    /// The default link (latency model; its loss/duplicate are floors under the ranges).
    pub link: LinkConfig,
    /// Node crashes per second.
    pub crash: Range,
    /// Names of the nodes the plan may crash (empty: any node but main).
    pub crash_nodes: Vec<String>,
    /// How long a crashed node stays down (ms).
    pub restart_ms: [u64; 2],
    /// Partitions (of one random pair of nodes, both ways or one way) per second.
    pub partition: Range,
    /// How long a partition lasts (ms).
    pub heal_ms: [u64; 2],
    /// Message loss probability.
    pub loss: Range,
    /// Datagram duplication probability.
    pub duplicate: Range,
    /// Loss bursts (every message lost with `burst_loss`) per second.
    pub loss_burst: Range,
    /// Loss probability during a burst.
    pub burst_loss: f64,
    /// How long a loss burst lasts (ms).
    pub burst_ms: u64,
    /// Wall-clock jumps of a random node per second.
    pub clock_jump: Range,
    /// Largest clock jump, either direction (ms).
    pub clock_jump_max_ms: u64,
    /// Probability of an injected delay on each task wake-up, timer and delivery.
    pub delay: Range,
    /// Largest injected delay (ms).
    pub delay_max_ms: u64,
    /// Probability that an enabled `buggify!` site fires.
    pub buggify: Range,
    /// Disk faults (`[disk]`: EIO, torn writes, latency, quota, lying fsync).
    pub disk: crate::world::fs::DiskPlan,
}

impl Default for FaultPlan {
    fn default() -> Self {
        FaultPlan {
            swarm: true,
            duration_ms: 10_000,
            liveness_ms: None,
            tick_ms: 100,
            link: LinkConfig::default(),
            crash: [0.0; 2],
            crash_nodes: Vec::new(),
            restart_ms: [100, 2_000],
            partition: [0.0; 2],
            heal_ms: [100, 3_000],
            loss: [0.0; 2],
            duplicate: [0.0; 2],
            loss_burst: [0.0; 2],
            burst_loss: 0.5,
            burst_ms: 1_000,
            clock_jump: [0.0; 2],
            clock_jump_max_ms: 1_000,
            delay: [0.0; 2],
            delay_max_ms: 50,
            buggify: [0.0; 2],
            disk: Default::default(),
        }
    }
}

// Plans are validated (no NaN), so equality is an equivalence.
impl Eq for FaultPlan {}

/// A plan file that could not be used; the message names the file and the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file does not parse, or has an unknown key.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// The parser's message (names the key and line).
        message: String,
    },
    /// A value is out of range.
    #[error("{path}: key `{key}`: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl FaultPlan {
    /// Reads a plan from a `.toml` or `.json` file (by extension; TOML otherwise).
    pub fn load(path: &Path) -> Result<FaultPlan, PlanError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| PlanError::Io {
            path: name.clone(),
            source,
        })?;
        let is_json = path.extension().is_some_and(|e| e == "json");
        let plan: FaultPlan = match is_json {
            true => serde_json::from_str(&text).map_err(|e| e.to_string()),
            false => toml::from_str(&text).map_err(|e| toml_message(&text, &e)),
        }
        .map_err(|message| PlanError::Parse {
            path: name.clone(),
            message,
        })?;
        plan.validate()
            .map_err(|(key, message)| PlanError::Invalid {
                path: name,
                key,
                message,
            })?;
        Ok(plan)
    }

    /// Checks every value; the error names the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let probabilities = [
            ("loss", self.loss),
            ("duplicate", self.duplicate),
            ("delay", self.delay),
            ("buggify", self.buggify),
        ];
        for (key, r) in probabilities {
            check_range(key, r, 1.0)?;
        }
        let rates = [
            ("crash", self.crash),
            ("partition", self.partition),
            ("loss_burst", self.loss_burst),
            ("clock_jump", self.clock_jump),
        ];
        for (key, r) in rates {
            check_range(key, r, f64::MAX)?;
        }
        super::check_probability("burst_loss", self.burst_loss).map_err(owned)?;
        for (key, [lo, hi]) in [("restart_ms", self.restart_ms), ("heal_ms", self.heal_ms)] {
            if lo > hi {
                return Err((
                    key.into(),
                    format!("[{lo}, {hi}]: the lower bound is above the upper"),
                ));
            }
        }
        if self.tick_ms == 0 {
            return Err(("tick_ms".into(), "must be at least 1".into()));
        }
        self.disk
            .validate()
            .map_err(|(k, m)| (format!("disk.{k}"), m))?;
        self.link
            .validate()
            .map_err(|(k, m)| (format!("link.{k}"), m))
    }
}

/// A TOML error on one line: `line N: message (at `text of the line`)`.
fn toml_message(text: &str, e: &toml::de::Error) -> String {
    let Some(span) = e.span() else {
        return e.message().to_string();
    };
    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
    let source = text.lines().nth(line - 1).unwrap_or("").trim();
    format!("line {line}: {} (at `{source}`)", e.message())
}

fn owned((k, m): (&'static str, String)) -> (String, String) {
    (k.into(), m)
}

fn check_range(key: &str, [lo, hi]: Range, max: f64) -> Result<(), (String, String)> {
    let ok = |v: f64| v.is_finite() && (0.0..=max).contains(&v);
    if !ok(lo) || !ok(hi) {
        let bound = if max == 1.0 {
            "between 0 and 1"
        } else {
            "finite and not negative"
        };
        return Err((key.into(), format!("[{lo}, {hi}]: values must be {bound}")));
    }
    if lo > hi {
        return Err((
            key.into(),
            format!("[{lo}, {hi}]: the lower bound is above the upper"),
        ));
    }
    Ok(())
}
