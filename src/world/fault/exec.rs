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
use crate::runtime::core::Core;
use crate::trace::EventKind;
use crate::world::node::NodeStatus;
use crate::world::{ctx, link, node, Action};
use std::time::Duration;

const MS: u64 = 1_000_000;

/// Starts the plan of the run, if it has one (called once, when the run starts).
pub(crate) fn start(core: &Core) {
    let Some(plan) = core.world.faults.borrow().plan.clone() else {
        return;
    };
    let profile = draw_profile(core, &plan);
    let mut link = plan.link.clone();
    link.loss = link.loss.max(pick(core, &plan, plan.loss));
    link.duplicate = link.duplicate.max(pick(core, &plan, plan.duplicate));
    core.world.links.borrow_mut().set_default(link);
    core.world.delay_p.set(profile.delay);
    {
        let mut f = core.world.faults.borrow_mut();
        f.profile = profile;
        f.active = true;
    }
    ctx::arm(core, plan.tick_ms * MS, Action::Call(Box::new(tick)));
    let end = plan.duration_ms * MS;
    ctx::arm(core, end, Action::Call(Box::new(liveness)));
}

fn draw_profile(core: &Core, plan: &FaultPlan) -> Profile {
    Profile {
        crash: pick(core, plan, plan.crash),
        partition: pick(core, plan, plan.partition),
        loss_burst: pick(core, plan, plan.loss_burst),
        clock_jump: pick(core, plan, plan.clock_jump),
        delay: pick(core, plan, plan.delay),
        buggify: pick(core, plan, plan.buggify),
    }
}

/// A rate for one fault kind: off, or a value in `range` (swarm); the upper bound
/// without swarm. A range of zeros draws nothing.
fn pick(core: &Core, plan: &FaultPlan, [lo, hi]: Range) -> f64 {
    if hi <= 0.0 {
        return 0.0;
    }
    if !plan.swarm {
        return hi;
    }
    if ctx::choose(core, 2) == 0 {
        return 0.0;
    }
    const STEPS: u64 = 1000;
    lo + (hi - lo) * ctx::extra(core, STEPS) as f64 / STEPS as f64
}

fn tick(core: &Core) {
    let (plan, p) = {
        let f = core.world.faults.borrow();
        if !f.active {
            return;
        }
        (
            f.plan.clone().expect("a tick runs only with a plan"),
            f.profile.clone(),
        )
    };
    let per_tick = |rate: f64| (rate * plan.tick_ms as f64 / 1000.0).min(1.0);
    if ctx::fault(core, per_tick(p.crash)) {
        crash_one(core, &plan);
    }
    if ctx::fault(core, per_tick(p.partition)) {
        partition_one(core, &plan);
    }
    if ctx::fault(core, per_tick(p.loss_burst)) {
        loss_burst(core, &plan);
    }
    if ctx::fault(core, per_tick(p.clock_jump)) {
        clock_jump(core, &plan);
    }
    let at = ctx::now(core) + plan.tick_ms * MS;
    ctx::arm(core, at, Action::Call(Box::new(tick)));
}

/// Nodes other than main that are up (fault targets).
fn up_nodes(core: &Core) -> Vec<u32> {
    let nodes = core.world.nodes.borrow();
    nodes
        .ids()
        .filter(|&n| nodes.get(n).status == NodeStatus::Up)
        .collect()
}

fn duration_in(core: &Core, [lo, hi]: [u64; 2]) -> u64 {
    (lo + ctx::extra(core, hi - lo)) * MS
}

fn crash_one(core: &Core, plan: &FaultPlan) {
    let mut up = up_nodes(core);
    if !plan.crash_nodes.is_empty() {
        let nodes = core.world.nodes.borrow();
        up.retain(|&n| plan.crash_nodes.contains(&nodes.get(n).name));
    }
    if up.is_empty() {
        return;
    }
    let n = up[ctx::choose(core, up.len())];
    node::crash_in(core, n);
    let incarnation = core.world.nodes.borrow().get(n).incarnation;
    let at = ctx::now(core) + duration_in(core, plan.restart_ms);
    let restart = move |core: &Core| {
        let state = {
            let nodes = core.world.nodes.borrow();
            let s = nodes.get(n);
            (s.status, s.incarnation)
        };
        if state == (NodeStatus::Crashed, incarnation) {
            node::restart_in(core, n);
        }
    };
    ctx::arm(core, at, Action::Call(Box::new(restart)));
}

fn partition_one(core: &Core, plan: &FaultPlan) {
    let all: Vec<u32> = core.world.nodes.borrow().ids().collect();
    if all.len() < 2 {
        return;
    }
    let a = all[ctx::choose(core, all.len())];
    let rest: Vec<u32> = all.iter().copied().filter(|&n| n != a).collect();
    let b = rest[ctx::choose(core, rest.len())];
    let one_way = ctx::choose(core, 2) == 1; // 0: both ways
    link::block(core, a, b);
    if !one_way {
        link::block(core, b, a);
    }
    let at = ctx::now(core) + duration_in(core, plan.heal_ms);
    let heal = move |core: &Core| {
        link::unblock(core, a, b);
        link::unblock(core, b, a);
    };
    ctx::arm(core, at, Action::Call(Box::new(heal)));
}

fn loss_burst(core: &Core, plan: &FaultPlan) {
    core.world.links.borrow_mut().burst_loss = plan.burst_loss;
    let value = (plan.burst_loss * 1e6) as u64;
    ctx::emit(
        core,
        EventKind::Fault {
            what: "loss_burst",
            node: 0,
            value,
        },
    );
    let end = |core: &Core| {
        core.world.links.borrow_mut().burst_loss = 0.0;
        ctx::emit(
            core,
            EventKind::Fault {
                what: "loss_burst_end",
                node: 0,
                value: 0,
            },
        );
    };
    ctx::arm(
        core,
        ctx::now(core) + plan.burst_ms * MS,
        Action::Call(Box::new(end)),
    );
}

fn clock_jump(core: &Core, plan: &FaultPlan) {
    let all: Vec<u32> = core.world.nodes.borrow().ids().collect();
    if all.is_empty() {
        return;
    }
    let n = all[ctx::choose(core, all.len())];
    let ns = ctx::extra(core, plan.clock_jump_max_ms * MS) as i64;
    let back = ctx::choose(core, 2) == 1;
    let ns = if back { -ns } else { ns };
    crate::world::clock::jump(core, n, ns);
    let value = ns.unsigned_abs() | (back as u64) << 47;
    ctx::emit(
        core,
        EventKind::Fault {
            what: "clock_jump",
            node: n,
            value,
        },
    );
}

/// The liveness phase (rule 3).
fn liveness(core: &Core) {
    let liveness_ms = {
        let mut f = core.world.faults.borrow_mut();
        f.active = false;
        f.plan.as_ref().and_then(|p| p.liveness_ms)
    };
    core.world.delay_p.set(0.0);
    core.world.links.borrow_mut().burst_loss = 0.0;
    let now = ctx::now(core);
    ctx::emit(
        core,
        EventKind::Fault {
            what: "liveness",
            node: 0,
            value: now,
        },
    );
    link::heal_all_in(core);
    let crashed: Vec<u32> = {
        let nodes = core.world.nodes.borrow();
        nodes
            .ids()
            .filter(|&n| nodes.get(n).status == NodeStatus::Crashed)
            .collect()
    };
    for n in crashed {
        node::restart_in(core, n);
    }
    let paused: Vec<u32> = {
        let nodes = core.world.nodes.borrow();
        nodes.ids().filter(|&n| nodes.is_paused(n)).collect()
    };
    for n in paused {
        node::set_paused(core, n, false);
    }
    if let Some(ms) = liveness_ms {
        let deadline = move |core: &Core| {
            ctx::fail(
                core,
                crate::Failure::Liveness {
                    since: Duration::from_nanos(now),
                    within: Duration::from_millis(ms),
                },
            );
        };
        ctx::arm(core, now + ms * MS, Action::Call(Box::new(deadline)));
    }
}
