//! [`Config`]: everything that determines a run besides the program itself.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What the run keeps of its [`crate::Trace`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceMode {
    /// Only the running fingerprint — no events, no recorded schedule: the fast mode
    /// campaigns use (a failing seed is re-run to get the rest).
    Off,
    /// The fingerprint and the recorded [`crate::Schedule`], no events (the shrinker's mode).
    Schedule,
    /// Every event, in memory.
    #[default]
    Full,
}

/// The configuration of one simulation run. Serde-able, so campaigns, seed files and
/// schedule headers carry it; two runs with equal configs and programs are identical.
///
/// ```
/// use detsim::{Config, TraceMode};
/// let cfg = Config::default().seed(42).workers(2).trace(TraceMode::Off);
/// assert_eq!(cfg.seed, 42);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Config {
    /// Seeds the ChaCha stream that every choice is drawn from.
    pub seed: u64,
    /// Number of simulated worker threads (≥ 1).
    pub workers: usize,
    /// A run that takes more scheduling steps than this fails with [`crate::Failure::StepLimit`].
    pub steps_max: u64,
    /// A run whose virtual clock passes this fails with [`crate::Failure::TimeLimit`].
    #[serde(with = "duration_ns")]
    pub time_max: Duration,
    /// What is kept of the trace.
    pub trace: TraceMode,
    /// If true (the default), a panic in any task fails the run; if false, only a panic
    /// of the main task does, and others surface as [`crate::JoinError::Panic`].
    pub panic_is_failure: bool,
    /// The fault plan of the simulated world (`None`: no injected faults).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub faults: Option<crate::fault::FaultPlan>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 0,
            workers: 4,
            steps_max: 5_000_000,
            time_max: Duration::from_secs(24 * 3600),
            trace: TraceMode::Full,
            panic_is_failure: true,
            faults: None,
        }
    }
}

impl Config {
    /// The most simulated workers a run may have. A simulated worker is a thread of the
    /// simulated pool; far more than any real pool has, and small enough that the
    /// per-run worker state stays cheap.
    pub const WORKERS_MAX: usize = 1024;

    /// Checks that a run can use this config. Every entry point checks it: [`crate::Sim`]
    /// (as a failure), [`crate::check`], the command line and schedule-file headers (as
    /// errors naming the value).
    ///
    /// ```
    /// use detsim::Config;
    /// assert!(Config::default().validate().is_ok());
    /// let err = Config::default().workers(65536).validate().unwrap_err();
    /// assert_eq!(err.to_string(), "workers = 65536: a run has from 1 to 1024 simulated workers");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=Self::WORKERS_MAX).contains(&self.workers) {
            return Err(ConfigError::Workers(self.workers));
        }
        if let Some(plan) = &self.faults {
            plan.validate()
                .map_err(|(key, message)| ConfigError::Faults { key, message })?;
        }
        Ok(())
    }

    /// Sets [`Config::seed`].
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets [`Config::workers`]. A count outside `1..=`[`Config::WORKERS_MAX`] is kept as
    /// given and rejected by [`Config::validate`] (a run reports it as
    /// [`crate::Failure::InvalidConfig`]) rather than silently changed.
    pub fn workers(mut self, workers: usize) -> Self {
        self.workers = workers;
        self
    }

    /// Sets [`Config::steps_max`].
    pub fn steps_max(mut self, steps: u64) -> Self {
        self.steps_max = steps;
        self
    }

    /// Sets [`Config::time_max`].
    pub fn time_max(mut self, time: Duration) -> Self {
        self.time_max = time;
        self
    }

    /// Sets [`Config::trace`].
    pub fn trace(mut self, mode: TraceMode) -> Self {
        self.trace = mode;
        self
    }

    /// Sets [`Config::panic_is_failure`].
    pub fn panic_is_failure(mut self, yes: bool) -> Self {
        self.panic_is_failure = yes;
        self
    }

    /// Sets [`Config::faults`].
    pub fn faults(mut self, plan: crate::fault::FaultPlan) -> Self {
        self.faults = Some(plan);
        self
    }

    /// A stable 64-bit digest of the config (FNV-1a over its JSON form), written into
    /// schedule headers so a replay under another config is flagged up front.
    pub fn digest(&self) -> u64 {
        let json = serde_json::to_string(self).expect("Config always serialises");
        crate::hash::fnv1a(json.as_bytes())
    }
}

/// A [`Config`] no run can use (see [`Config::validate`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// [`Config::workers`] is 0 or above [`Config::WORKERS_MAX`].
    #[error("workers = {0}: a run has from 1 to {max} simulated workers", max = Config::WORKERS_MAX)]
    Workers(usize),
    /// A value of [`Config::faults`] is out of range (a probability above 1, a range
    /// whose lower bound is above its upper, ...).
    #[error("fault plan key `{key}`: {message}")]
    Faults {
        /// The key, e.g. `loss` or `link.latency.max_us`.
        key: String,
        /// What is wrong.
        message: String,
    },
}

mod duration_ns {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_nanos().min(u64::MAX as u128) as u64)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_nanos)
    }
}
