//! One failing run as campaigns report it: [`FoundFailure`], its [`FailureKind`] and the
//! [`Fingerprint`] of its trace; [`Regression`], a seeds-file case replayed.
//!
//! Why typed rather than strings: the report is read back (by `detsim merge`, by the
//! harness deciding whether a failure can be re-run) as well as printed, and a kind, a
//! strategy or a missing fingerprint that is a string is checked by string comparison,
//! where a typo or a renamed kind goes unnoticed. Serialised through serde with the JSON
//! keys and values `detsim fuzz --json` always had (`"kind": "hang"`,
//! `"strategy": "pct:3:120"`, `"fingerprint": "00ab…"`); a failure with no trace has
//! `"fingerprint": null`.

use super::StrategySpec;
use crate::Failure;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How a failing run ended: one of the runtime's [`Failure`] kinds, or what the harness
/// saw from outside the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FailureKind {
    /// [`Failure::Panic`].
    Panic,
    /// [`Failure::Deadlock`].
    Deadlock,
    /// [`Failure::StepLimit`].
    StepLimit,
    /// [`Failure::TimeLimit`].
    TimeLimit,
    /// [`Failure::ForeignWake`].
    ForeignWake,
    /// [`Failure::TeardownPanic`].
    TeardownPanic,
    /// [`Failure::InvalidConfig`].
    InvalidConfig,
    /// [`Failure::Divergence`].
    Divergence,
    /// [`Failure::Liveness`].
    Liveness,
    /// The run ran past the watchdog (no trace: its thread was abandoned or its child
    /// process killed).
    Hang,
    /// An `--isolate` child process died without a result (abort, stack overflow).
    Crash,
    /// A seeds-file case names a schedule file that cannot be read.
    UnreadableSchedule,
}

impl FailureKind {
    /// Every kind, in declaration order.
    pub const ALL: [FailureKind; 12] = [
        FailureKind::Panic,
        FailureKind::Deadlock,
        FailureKind::StepLimit,
        FailureKind::TimeLimit,
        FailureKind::ForeignWake,
        FailureKind::TeardownPanic,
        FailureKind::InvalidConfig,
        FailureKind::Divergence,
        FailureKind::Liveness,
        FailureKind::Hang,
        FailureKind::Crash,
        FailureKind::UnreadableSchedule,
    ];

    /// The kind of a run's failure.
    pub fn of(failure: &Failure) -> Self {
        match failure {
            Failure::Panic { .. } => FailureKind::Panic,
            Failure::Deadlock { .. } => FailureKind::Deadlock,
            Failure::StepLimit { .. } => FailureKind::StepLimit,
            Failure::TimeLimit { .. } => FailureKind::TimeLimit,
            Failure::ForeignWake { .. } => FailureKind::ForeignWake,
            Failure::TeardownPanic { .. } => FailureKind::TeardownPanic,
            Failure::InvalidConfig { .. } => FailureKind::InvalidConfig,
            Failure::Divergence { .. } => FailureKind::Divergence,
            Failure::Liveness { .. } => FailureKind::Liveness,
        }
    }

    /// The name in reports (`panic`, `step_limit`, `hang`, …), as [`Failure::kind`].
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Panic => "panic",
            FailureKind::Deadlock => "deadlock",
            FailureKind::StepLimit => "step_limit",
            FailureKind::TimeLimit => "time_limit",
            FailureKind::ForeignWake => "foreign_wake",
            FailureKind::TeardownPanic => "teardown_panic",
            FailureKind::InvalidConfig => "invalid_config",
            FailureKind::Divergence => "divergence",
            FailureKind::Liveness => "liveness",
            FailureKind::Hang => "hang",
            FailureKind::Crash => "crash",
            FailureKind::UnreadableSchedule => "unreadable_schedule",
        }
    }

    /// True for what the harness sees from outside a run (`hang`, `crash`,
    /// `unreadable_schedule`): there is no trace, so nothing to re-run in this process.
    pub fn is_outside(self) -> bool {
        matches!(
            self,
            FailureKind::Hang | FailureKind::Crash | FailureKind::UnreadableSchedule
        )
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FailureKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        FailureKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown failure kind {}", crate::quote::quoted(s)))
    }
}

/// The fingerprint of a run's trace (equal fingerprints, equal runs), written as 16 hex
/// digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fingerprint(pub u64);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl FromStr for Fingerprint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "invalid fingerprint {}: expected 16 hex digits",
                crate::quote::quoted(s)
            )
        };
        if s.len() != 16 {
            return Err(bad());
        }
        u64::from_str_radix(s, 16)
            .map(Fingerprint)
            .map_err(|_| bad())
    }
}

impl TryFrom<String> for Fingerprint {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Fingerprint> for String {
    fn from(f: Fingerprint) -> String {
        f.to_string()
    }
}

/// One failing run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundFailure {
    /// The seed (a JSON number).
    pub seed: u64,
    /// The strategy that reproduces it with the seed (a token in JSON: `pct:3:120`).
    pub strategy: StrategySpec,
    /// Number of workers.
    pub workers: usize,
    /// How the run failed.
    pub kind: FailureKind,
    /// The failure message.
    pub message: String,
    /// Kind + location, used to deduplicate.
    pub signature: String,
    /// Fingerprint of the failing run's trace; `None` for what was seen from outside the
    /// run ([`FailureKind::is_outside`]).
    pub fingerprint: Option<Fingerprint>,
    /// For DFS failures: the schedule file that reproduces it (seeds alone do not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
}

impl FoundFailure {
    pub(crate) fn new(
        seed: u64,
        strategy: &StrategySpec,
        workers: usize,
        failure: &Failure,
        fingerprint: u64,
    ) -> Self {
        FoundFailure {
            seed,
            strategy: *strategy,
            workers,
            kind: FailureKind::of(failure),
            message: failure.to_string(),
            signature: failure.signature(),
            fingerprint: Some(Fingerprint(fingerprint)),
            schedule: None,
        }
    }

    /// A failure the harness saw from outside the run (`hang`, `crash`,
    /// `unreadable_schedule`): the kind is its own signature, and there is no trace.
    pub(crate) fn outside(
        seed: u64,
        strategy: &StrategySpec,
        workers: usize,
        kind: FailureKind,
        message: String,
    ) -> Self {
        debug_assert!(kind.is_outside(), "{kind} is a failure of the run itself");
        FoundFailure {
            seed,
            strategy: *strategy,
            workers,
            kind,
            message,
            signature: kind.to_string(),
            fingerprint: None,
            schedule: None,
        }
    }

    /// True if `other` is a failure of the same run (seed, strategy, workers).
    pub fn same_run(&self, other: &FoundFailure) -> bool {
        (self.seed, self.strategy, self.workers) == (other.seed, other.strategy, other.workers)
    }
}

/// A case of the seeds file, replayed before the campaign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Regression {
    /// Seed of the case.
    pub seed: u64,
    /// Strategy of the case.
    pub strategy: StrategySpec,
    /// Workers of the case.
    pub workers: usize,
    /// The failure it still produces, if any.
    pub failure: Option<FoundFailure>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_named_as_the_runtime_names_them() {
        for kind in FailureKind::ALL {
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, kind.as_str(), "serde and as_str agree");
            assert_eq!(kind.as_str().parse::<FailureKind>(), Ok(kind));
        }
        let deadlock = Failure::Deadlock {
            blocked: Vec::new(),
        };
        assert_eq!(FailureKind::of(&deadlock).as_str(), deadlock.kind());
        let liveness = Failure::Liveness {
            since: std::time::Duration::ZERO,
            within: std::time::Duration::ZERO,
        };
        assert_eq!(FailureKind::of(&liveness).as_str(), liveness.kind());
        assert!("hangs".parse::<FailureKind>().is_err());
    }

    #[test]
    fn a_failure_keeps_its_json_shape_and_reads_back() {
        let found = FoundFailure {
            seed: 7,
            strategy: "pct:3:120".parse().unwrap(),
            workers: 4,
            kind: FailureKind::Panic,
            message: "task 1 panicked".into(),
            signature: "panic at src/x.rs:1:1".into(),
            fingerprint: Some(Fingerprint(0xab)),
            schedule: None,
        };
        let v = serde_json::to_value(&found).unwrap();
        assert_eq!(v["seed"], 7);
        assert_eq!(v["strategy"], "pct:3:120");
        assert_eq!(v["kind"], "panic");
        assert_eq!(v["fingerprint"], "00000000000000ab");
        assert!(v.get("schedule").is_none(), "{v}");
        assert_eq!(serde_json::from_value::<FoundFailure>(v).unwrap(), found);
        let hang = FoundFailure::outside(
            3,
            &StrategySpec::Random,
            2,
            FailureKind::Hang,
            "hangs".into(),
        );
        let v = serde_json::to_value(&hang).unwrap();
        assert_eq!(
            (v["kind"].as_str(), v["signature"].as_str()),
            (Some("hang"), Some("hang"))
        );
        assert!(v["fingerprint"].is_null(), "no trace, no fingerprint: {v}");
        assert_eq!(serde_json::from_value::<FoundFailure>(v).unwrap(), hang);
    }

    #[test]
    fn bad_fingerprints_and_strategies_do_not_read_back() {
        for fp in ["", "ab", "000000000000000g", "0000000000000000a"] {
            assert!(fp.parse::<Fingerprint>().is_err(), "{fp}");
        }
        let bad = serde_json::json!({
            "seed": 1, "strategy": "pct:0", "workers": 1, "kind": "panic",
            "message": "", "signature": "", "fingerprint": null
        });
        let e = serde_json::from_value::<FoundFailure>(bad).unwrap_err();
        assert!(e.to_string().contains("invalid strategy"), "{e}");
    }
}
