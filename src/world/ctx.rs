//! The world's one door into the runtime: now, arm a world event, choose, emit, spawn on
//! a node, drop a node's tasks.
//!
//! Everything in `world/` reaches the run's [`Core`] through these functions only, so
//! the world never depends on how the core stores its state.

use super::Action;
use crate::choice::ChoiceKind;
use crate::runtime::core::{Core, Status};
use crate::time::timers::TimerWaker;
use crate::trace::EventKind;
use std::borrow::Cow;
use std::future::Future;
use std::panic::Location;

/// Resolution of probability choices: a fault with probability `p` is a choice of
/// `SCALE` outcomes.
const SCALE: usize = 1 << 20;

/// The virtual time, in nanoseconds.
#[inline]
pub(crate) fn now(core: &Core) -> u64 {
    core.now.get()
}

/// Schedules `action` to run at virtual time `at` (a timer without a waker).
pub(crate) fn arm(core: &Core, at: u64, action: Action) {
    let token = core.world.actions.borrow_mut().insert(action);
    core.timers
        .borrow_mut()
        .arm(at.max(core.now.get()), TimerWaker::World(token));
}

/// One of `n` outcomes, recorded as a `Fault` choice.
#[inline]
pub(crate) fn choose(core: &Core, n: usize) -> usize {
    core.chooser.borrow_mut().choose(ChoiceKind::Fault, n)
}

/// True with probability `p`. Encoded so that the value 0 means "no": the shrinker's
/// "lower the values" pass then removes the faults a failure does not need.
pub(crate) fn fault(core: &Core, p: f64) -> bool {
    if p.is_nan() || p <= 0.0 {
        return false;
    }
    if p >= 1.0 {
        return true;
    }
    let threshold = ((p * SCALE as f64) as usize).max(1);
    let yes = choose(core, SCALE) >= SCALE - threshold;
    if yes {
        let c = &core.world.faults_injected;
        c.set(c.get() + 1);
    }
    yes
}

/// A value in `0..=max` (0: the benign end), recorded; at most 2^20 distinct steps, so
/// large ranges are quantised.
pub(crate) fn extra(core: &Core, max: u64) -> u64 {
    if max == 0 {
        return 0;
    }
    let steps = max.min(SCALE as u64 - 1);
    let v = choose(core, steps as usize + 1) as u64;
    (v as u128 * max as u128 / steps as u128) as u64
}

/// Records an event by the current task (if any).
#[inline]
pub(crate) fn emit(core: &Core, kind: EventKind) {
    core.emit(kind);
}

/// The node of the task being polled (`0`, the main node, outside any task).
#[inline]
pub(crate) fn current_node(core: &Core) -> u32 {
    match core.current.get() {
        Some((t, _)) => core.sched.borrow().tasks[t as usize].node,
        None => 0,
    }
}

/// Spawns a task on `node`, naming `location` as its spawn site.
pub(crate) fn spawn_on<F>(
    core: &Core,
    node: u32,
    name: Cow<'static, str>,
    location: &'static Location<'static>,
    future: F,
) where
    F: Future<Output = ()> + 'static,
{
    core.world.set_spawn_node(node);
    drop(crate::runtime::spawn_on(core, name, location, future));
}

/// Drops every live task of `node`, in id order (a running one after its poll).
pub(crate) fn drop_tasks(core: &Core, node: u32) {
    let ids: Vec<u32> = {
        let sched = core.sched.borrow();
        let alive = |i: &u32| {
            let t = &sched.tasks[*i as usize];
            t.node == node && t.status != Status::Done
        };
        (0..sched.tasks.len() as u32).filter(alive).collect()
    };
    for id in ids {
        crate::runtime::abort_task(core, id);
    }
}

/// True once the run is over (teardown): the world stops acting.
pub(crate) fn closed(core: &Core) -> bool {
    core.closed.get()
}

/// Mixes a word that identifies the world's set-up into the fingerprint, and records a
/// node in the trace's node table.
pub(crate) fn record_node(core: &Core, info: crate::trace::NodeInfo) {
    let mut trace = core.trace.borrow_mut();
    trace.mix(crate::trace::fnv1a(info.name.as_bytes()) ^ info.id as u64);
    if trace.is_full() {
        trace.nodes.push(info);
    }
}

/// Fails the run (the first failure wins).
pub(crate) fn fail(core: &Core, failure: crate::Failure) {
    core.fail(failure);
}
