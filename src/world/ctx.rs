//! The world's view of the runtime: thin wrappers over `runtime::context` (the
//! runtime's one interface) with the world's conventions — fault choices encoded so
//! that 0 is benign, world events as closures over the [`World`].

use super::World;
use crate::choice::ChoiceKind;
use crate::runtime::context;
use crate::trace::EventKind;
use std::borrow::Cow;
use std::future::Future;
use std::panic::Location;

/// Resolution of probability choices: a fault with probability `p` is a choice of
/// `SCALE` outcomes.
const SCALE: usize = 1 << 20;

/// The virtual time, in nanoseconds.
#[inline]
pub(crate) fn now() -> u64 {
    context::now()
}

/// Schedules `action` to run on the world at virtual time `at` (a timer without a
/// waker; same-instant order is the `Timer` choice). `at` is never in the past: every
/// caller adds a delay to `now()`.
pub(crate) fn arm(at: u64, action: impl FnOnce(&World) + 'static) {
    context::arm_world(at, Box::new(move || context::world(action)));
}

/// [`arm`] for an event whose state is one word: `f(w, arg)` runs at `at`. Allocates
/// nothing, unlike a closure (message deliveries use it: one per message).
pub(crate) fn arm_call(at: u64, f: fn(u64), arg: u64) {
    context::arm_world_call(at, f, arg);
}

/// Runs `f` with the world (for [`arm_call`] events, which get only their word).
#[inline]
pub(crate) fn with_world<R>(f: impl FnOnce(&World) -> R) -> R {
    context::world(f)
}

/// One of `n` outcomes, recorded as a `Fault` choice.
#[inline]
pub(crate) fn choose(n: usize) -> usize {
    context::choose(ChoiceKind::Fault, n)
}

/// True with probability `p`. Encoded so that the value 0 means "no": the shrinker's
/// "lower the values" pass then removes the faults a failure does not need. A "yes"
/// counts as an injected fault (`Stats::faults`).
pub(crate) fn fault(w: &World, p: f64) -> bool {
    if p.is_nan() || p <= 0.0 {
        return false;
    }
    if p >= 1.0 {
        w.count_fault();
        return true;
    }
    let threshold = ((p * SCALE as f64) as usize).max(1);
    let yes = choose(SCALE) >= SCALE - threshold;
    if yes {
        w.count_fault();
    }
    yes
}

/// A value in `0..=max` (0: the benign end), recorded; at most 2^20 distinct steps, so
/// large ranges are quantised.
pub(crate) fn extra(max: u64) -> u64 {
    if max == 0 {
        return 0;
    }
    let steps = max.min(SCALE as u64 - 1);
    let v = choose(steps as usize + 1) as u64;
    (v as u128 * max as u128 / steps as u128) as u64
}

/// Records an event by the current task (if any).
#[inline]
pub(crate) fn emit(kind: EventKind) {
    context::emit(kind);
}

/// The node of the task being polled (`0`, the main node, outside any task).
#[inline]
pub(crate) fn current_node() -> u32 {
    context::current_node()
}

/// Spawns a task on `node`, naming `location` as its spawn site.
pub(crate) fn spawn_on<F>(
    node: u32,
    name: Cow<'static, str>,
    location: &'static Location<'static>,
    future: F,
) where
    F: Future<Output = ()> + 'static,
{
    drop(context::spawn_on_node(node, name, location, future));
}

/// Drops every live task of `node`, in id order (a running one after its poll).
pub(crate) fn drop_tasks(node: u32) {
    context::drop_node_tasks(node);
}

/// True once the run is over (teardown): the world stops acting.
pub(crate) fn closed() -> bool {
    context::is_closed()
}

/// Records a node in the trace's node table and its identity in the fingerprint.
pub(crate) fn record_node(info: crate::trace::NodeInfo) {
    context::record_node(info);
}

/// Fails the run: the system did not converge after the liveness phase began.
pub(crate) fn fail_liveness(since: std::time::Duration, within: std::time::Duration) {
    context::fail_liveness(since, within);
}
