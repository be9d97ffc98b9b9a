//! Faults: the [`FaultPlan`], its executor, `buggify!` and injected delays.
//!
//! - `plan.rs` — [`FaultPlan`] (serde, validation, loading from TOML/JSON).
//! - `exec.rs` — draws the seed's swarm profile, then a world event every `tick_ms`
//!   decides whether a fault starts (a recorded choice, 0 = no) and schedules its
//!   repair; the last event is the liveness phase.
//! - `buggify.rs` — [`buggify`]: fault points in user code.
//!
//! Injected delays (the profile's `delay` probability, up to `delay_max_ms`) apply to
//! task wake-ups, timer deadlines and message deliveries; each is a recorded choice
//! with 0 meaning "no delay".

mod buggify;
pub(crate) mod exec;
mod plan;

pub use buggify::buggify;
pub use plan::{FaultPlan, PlanError, Range};

use super::ctx;
use crate::world::World;
use std::collections::BTreeMap;

/// The rates a seed runs with (drawn from the plan's ranges at the start of the run).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Profile {
    pub(crate) crash: f64,
    pub(crate) partition: f64,
    pub(crate) loss_burst: f64,
    pub(crate) clock_jump: f64,
    pub(crate) delay: f64,
    pub(crate) buggify: f64,
}

/// Fault state of a run.
#[derive(Debug)]
pub(crate) struct FaultState {
    pub(crate) plan: Option<FaultPlan>,
    pub(crate) profile: Profile,
    /// True while faults are injected (until the liveness phase).
    pub(crate) active: bool,
    /// `buggify!` sites seen so far: enabled or not (decided once per run).
    pub(crate) sites: BTreeMap<&'static str, bool>,
}

impl FaultState {
    pub(crate) fn new(plan: Option<FaultPlan>) -> Self {
        FaultState {
            plan,
            profile: Profile::default(),
            active: false,
            sites: BTreeMap::new(),
        }
    }
}

/// An injected extra delay (ns) for a message delivery, timer or wake-up: 0 unless the
/// profile's delay probability fires (a recorded choice).
pub(crate) fn injected_delay(w: &World) -> u64 {
    let p = w.delay_p.get();
    if p <= 0.0 {
        return 0;
    }
    if !ctx::fault(w, p) {
        return 0;
    }
    let max = w
        .faults
        .borrow()
        .plan
        .as_ref()
        .map_or(0, |p| p.delay_max_ms)
        .saturating_mul(1_000_000);
    let d = 1 + ctx::extra(max.saturating_sub(1));
    ctx::emit(crate::trace::EventKind::Fault {
        what: "delay",
        node: ctx::current_node(),
        value: d,
    });
    d
}

/// Checks a probability; the error names `key`.
pub(crate) fn check_probability(key: &'static str, p: f64) -> Result<(), (&'static str, String)> {
    if p.is_finite() && (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err((key, format!("{p} is not a probability (0 to 1)")))
    }
}
