//! The fault plan's executor: a world event every `tick_ms` while faults are active.
//!
//! 1. At the start of the run, the seed's [`Profile`] is drawn: per fault kind, on or off
//!    (a choice of 2, 0 = off) and a rate in its range (0 = the lower bound).
//! 2. Each tick, per kind that is on, "does a fault start now?" is a recorded choice with
//!    probability `rate * tick` (0 = no); if yes, its target (a node, a pair) is chosen
//!    and its repair scheduled (a restart, a heal, the end of a loss burst). Repairs of a
//!    node carry its incarnation and are ignored if it was restarted meanwhile.
//! 3. At `duration_ms` the liveness phase begins: no more faults or delays, every
//!    partition healed, every crashed node restarted; with `liveness_ms`, a deadline
//!    after which the run fails with `Failure::Liveness`.

use super::{FaultPlan, Profile, Range};
use crate::trace::EventKind;
use crate::world::node::NodeStatus;
use crate::world::{ctx, link, node, World};
use std::time::Duration;

const MS: u64 = 1_000_000;

/// Starts the plan of the run, if it has one (called once, when the run starts).
pub(crate) fn start(w: &World) {
    let Some(plan) = w.faults.borrow().plan.clone() else {
        return;
    };
    let profile = draw_profile(&plan);
    let mut link = plan.link.clone();
    link.loss = link.loss.max(pick(&plan, plan.loss));
    link.duplicate = link.duplicate.max(pick(&plan, plan.duplicate));
    w.links.borrow_mut().set_default(link);
    w.delay_p.set(profile.delay);
    crate::world::fs::start(w, &plan);
    {
        let mut f = w.faults.borrow_mut();
        f.profile = profile;
        f.active = true;
    }
    ctx::arm(plan.tick_ms * MS, tick);
    let end = plan.duration_ms * MS;
    ctx::arm(end, liveness);
}

fn draw_profile(plan: &FaultPlan) -> Profile {
    Profile {
        crash: pick(plan, plan.crash),
        partition: pick(plan, plan.partition),
        loss_burst: pick(plan, plan.loss_burst),
        clock_jump: pick(plan, plan.clock_jump),
        delay: pick(plan, plan.delay),
        buggify: pick(plan, plan.buggify),
    }
}

/// A rate for one fault kind: off, or a value in `range` (swarm); the upper bound
/// without swarm. A range of zeros draws nothing.
pub(crate) fn pick(plan: &FaultPlan, [lo, hi]: Range) -> f64 {
    if hi <= 0.0 {
        return 0.0;
    }
    if !plan.swarm {
        return hi;
    }
    if ctx::choose(2) == 0 {
        return 0.0;
    }
    const STEPS: u64 = 1000;
    lo + (hi - lo) * ctx::extra(STEPS) as f64 / STEPS as f64
}

fn tick(w: &World) {
    let (plan, p) = {
        let f = w.faults.borrow();
        if !f.active {
            return;
        }
        (
            f.plan.clone().expect("a tick runs only with a plan"),
            f.profile.clone(),
        )
    };
    let per_tick = |rate: f64| (rate * plan.tick_ms as f64 / 1000.0).min(1.0);
    if ctx::fault(w, per_tick(p.crash)) {
        crash_one(w, &plan);
    }
    if ctx::fault(w, per_tick(p.partition)) {
        partition_one(w, &plan);
    }
    if ctx::fault(w, per_tick(p.loss_burst)) {
        loss_burst(w, &plan);
    }
    if ctx::fault(w, per_tick(p.clock_jump)) {
        clock_jump(w, &plan);
    }
    let at = ctx::now() + plan.tick_ms * MS;
    ctx::arm(at, tick);
}

/// Nodes other than main that are up (fault targets).
fn up_nodes(w: &World) -> Vec<u32> {
    let nodes = w.nodes.borrow();
    nodes
        .ids()
        .filter(|&n| nodes.get(n).status == NodeStatus::Up)
        .collect()
}

fn duration_in([lo, hi]: [u64; 2]) -> u64 {
    (lo + ctx::extra(hi - lo)) * MS
}

fn crash_one(w: &World, plan: &FaultPlan) {
    let mut up = up_nodes(w);
    if !plan.crash_nodes.is_empty() {
        let nodes = w.nodes.borrow();
        up.retain(|&n| plan.crash_nodes.contains(&nodes.get(n).name));
    }
    if up.is_empty() {
        return;
    }
    let n = up[ctx::choose(up.len())];
    node::crash_in(w, n);
    let incarnation = w.nodes.borrow().get(n).incarnation;
    let at = ctx::now() + duration_in(plan.restart_ms);
    let restart = move |w: &World| {
        let state = {
            let nodes = w.nodes.borrow();
            let s = nodes.get(n);
            (s.status, s.incarnation)
        };
        if state == (NodeStatus::Crashed, incarnation) {
            node::restart_in(w, n);
        }
    };
    ctx::arm(at, restart);
}

fn partition_one(w: &World, plan: &FaultPlan) {
    let all: Vec<u32> = w.nodes.borrow().ids().collect();
    if all.len() < 2 {
        return;
    }
    let a = all[ctx::choose(all.len())];
    let rest: Vec<u32> = all.iter().copied().filter(|&n| n != a).collect();
    let b = rest[ctx::choose(rest.len())];
    let one_way = ctx::choose(2) == 1; // 0: both ways
    link::block(w, a, b);
    if !one_way {
        link::block(w, b, a);
    }
    let at = ctx::now() + duration_in(plan.heal_ms);
    let heal = move |w: &World| {
        link::unblock(w, a, b);
        link::unblock(w, b, a);
    };
    ctx::arm(at, heal);
}

fn loss_burst(w: &World, plan: &FaultPlan) {
    w.links.borrow_mut().burst_loss = plan.burst_loss;
    let value = (plan.burst_loss * 1e6) as u64;
    ctx::emit(EventKind::Fault {
        what: "loss_burst",
        node: 0,
        value,
    });
    let end = |w: &World| {
        w.links.borrow_mut().burst_loss = 0.0;
        ctx::emit(EventKind::Fault {
            what: "loss_burst_end",
            node: 0,
            value: 0,
        });
    };
    ctx::arm(ctx::now() + plan.burst_ms * MS, end);
}

fn clock_jump(w: &World, plan: &FaultPlan) {
    let all: Vec<u32> = w.nodes.borrow().ids().collect();
    if all.is_empty() {
        return;
    }
    let n = all[ctx::choose(all.len())];
    let ns = ctx::extra(plan.clock_jump_max_ms * MS) as i64;
    let back = ctx::choose(2) == 1;
    let ns = if back { -ns } else { ns };
    crate::world::clock::jump(w, n, ns);
    let value = ns.unsigned_abs() | (back as u64) << 47;
    ctx::emit(EventKind::Fault {
        what: "clock_jump",
        node: n,
        value,
    });
}

/// The liveness phase (rule 3).
fn liveness(w: &World) {
    let liveness_ms = {
        let mut f = w.faults.borrow_mut();
        f.active = false;
        f.plan.as_ref().and_then(|p| p.liveness_ms)
    };
    w.delay_p.set(0.0);
    w.links.borrow_mut().burst_loss = 0.0;
    let now = ctx::now();
    ctx::emit(EventKind::Fault {
        what: "liveness",
        node: 0,
        value: now,
    });
    link::heal_all_in(w);
    let crashed: Vec<u32> = {
        let nodes = w.nodes.borrow();
        nodes
            .ids()
            .filter(|&n| nodes.get(n).status == NodeStatus::Crashed)
            .collect()
    };
    for n in crashed {
        node::restart_in(w, n);
    }
    let paused: Vec<u32> = {
        let nodes = w.nodes.borrow();
        nodes.ids().filter(|&n| nodes.is_paused(n)).collect()
    };
    for n in paused {
        node::set_paused(w, n, false);
    }
    if let Some(ms) = liveness_ms {
        let deadline = move |_: &World| {
            ctx::fail_liveness(Duration::from_nanos(now), Duration::from_millis(ms));
        };
        ctx::arm(now + ms * MS, deadline);
    }
}
