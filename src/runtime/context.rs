//! The runtime's one narrow interface: what code above the step loop may ask of the run
//! it is running in.
//!
//! `time/`, `rand`, the tracing layer and the simulated world reach the run only through
//! these functions; none of them sees [`Core`] or borrows its parts (`tests/layering.rs`
//! checks this). That keeps the core's invariants local to `runtime/`, and lets the step
//! loop change its data layout without touching its users.
//!
//! | function | what it does |
//! | --- | --- |
//! | [`now`] | the virtual clock, in nanoseconds |
//! | [`seed`] | the run's seed (for log lines, not for drawing) |
//! | [`arm_timer`] / [`poll_timer`] / [`cancel_timer`] | a timer that wakes a waker at a deadline (an [`Armed`]) |
//! | [`arm_action`] | a world event: a closure the step loop runs at a deadline |
//! | [`choose`] / [`draw_bits`] | a recorded choice through the run's `Chooser` |
//! | [`emit`] | a fingerprinted trace event, by the current task |
//! | [`log`] | an unfingerprinted log line (full traces only) |
//! | [`spawn`] | a new task with a name and spawn site |
//! | [`current_task`] | the task being polled |
//! | [`world`] / [`try_world`] | the run's simulated world (`crate::world`) |
//! | [`arm_world`] | a world event that records nothing itself (deliveries, faults) |
//! | [`current_node`] / [`spawn_on_node`] / [`drop_node_tasks`] | tasks as members of nodes |
//! | [`fail_liveness`] / [`is_closed`] / [`record_node`] | ending a run, teardown, the node table |
//! | [`try_now`] / [`try_entropy`] / [`try_current_node`] | what the std guards serve (`crate::guards`); `None` outside a run |
//!
//! All but [`cancel_timer`], [`log`] and [`current_task`] panic outside a simulation
//! with a message saying so; those three are no-ops (they run from `Drop` and from
//! `tracing` callbacks, which may happen anywhere).
//!
//! The context itself is a thread-local pointer, set only for the duration of
//! [`crate::Sim::run`] on the thread running it, so parallel runs on different threads
//! never meet, and nothing survives a run.

use super::core::Core;
use super::task::{self, JoinHandle};
use super::timers::TimerWaker;
use crate::choice::ChoiceKind;
use crate::task_id::TaskId;
use crate::trace::{Event, EventKind};
use std::borrow::Cow;
use std::cell::Cell;
use std::future::Future;
use std::panic::Location;
use std::task::Waker;

pub(crate) use super::timers::TimerKey;

thread_local! {
    /// The simulation being run on this thread: null outside [`enter`].
    static CORE: Cell<*const Core> = const { Cell::new(std::ptr::null()) };
}

/// Runs `f` with `core` installed as the current simulation (the previous one, if any,
/// is put back when `f` returns or unwinds).
pub(super) fn enter<R>(core: &Core, f: impl FnOnce() -> R) -> R {
    struct Restore(*const Core);
    impl Drop for Restore {
        fn drop(&mut self) {
            CORE.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(CORE.with(|c| c.replace(core)));
    f()
}

/// The current simulation, or null. A plain thread-local (what the `scoped-tls` crate
/// wraps), so that it and the closures given to [`with`] inline into their callers
/// whichever codegen unit they land in: through `scoped_tls::ScopedKey::with`, a
/// generic function not marked `#[inline]`, they did or did not depending on how the
/// crate happened to be split (W2's `Sleep::poll`: +4.5 % instructions when not).
#[inline(always)]
fn current() -> *const Core {
    CORE.with(|c| c.get())
}

/// Calls `f` with the current simulation; panics with a clear message outside one.
#[track_caller]
#[inline]
pub(super) fn with<R>(f: impl FnOnce(&Core) -> R) -> R {
    let core = current();
    if core.is_null() {
        panic!("detsim: this must be called from inside a simulation (Sim::run); no simulation is running on this thread");
    }
    // SAFETY: a non-null pointer was installed by `enter` from a `&Core` that outlives
    // that call, and is replaced by the previous value when `enter` returns or unwinds;
    // we are inside it (on its thread), so the `Core` is alive for all of `f`, and `f`
    // cannot keep the reference (it is only lent for the call).
    f(unsafe { &*core })
}

/// Calls `f` with the current simulation, if any.
#[inline]
pub(super) fn try_with<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    let core = current();
    // SAFETY: as in `with`.
    (!core.is_null()).then(|| f(unsafe { &*core }))
}

/// The virtual clock: nanoseconds since the start of the run.
#[track_caller]
#[inline]
pub(crate) fn now() -> u64 {
    with(|core| core.now.get())
}

/// The seed of the current run.
#[track_caller]
pub(crate) fn seed() -> u64 {
    with(|core| core.config.seed)
}

/// A timer armed by [`arm_timer`]: its key, and the instant it fires (the deadline
/// asked for plus any delay the fault plan injected).
///
/// Once the clock reads `at`, the timer has fired (the clock moves only in the step
/// loop, which fires every timer due at an instant before any task runs) and its slot
/// is free: its owner needs no lookup to know, and releasing the key is a no-op.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Armed {
    pub(crate) key: TimerKey,
    pub(crate) at: u64,
}

/// Arms a timer that wakes `waker` once the clock reaches `deadline_ns` (later if the
/// fault plan delays it: a recorded choice and a `Fault` event), and records a
/// `TimerSet` event; `None`, arming nothing, if the clock already reached it. Several
/// timers due at one instant fire in `Timer`-choice order. A timer armed with a task's
/// waker stores the task id (no waker clone).
#[track_caller]
#[inline]
pub(crate) fn arm_timer(deadline_ns: u64, waker: &Waker) -> Option<Armed> {
    with(|core| {
        if deadline_ns <= core.now.get() {
            return None;
        }
        // Inline test first: `injected_delay` is a call, and faults are usually off.
        // (A world never made injects no delay: `Core::world_if_made`.)
        let delay = match core.world_if_made().is_some_and(|w| w.delays_on()) {
            true => crate::world::fault::injected_delay(core.world()),
            false => 0,
        };
        let at = deadline_ns + delay;
        let target = match core.task_of(waker) {
            Some(id) => TimerWaker::Task(id),
            None => TimerWaker::Other(waker.clone()),
        };
        let key = core.timers.borrow_mut().arm(at, target);
        core.emit(EventKind::TimerSet { deadline_ns: at });
        Some(Armed { key, at })
    })
}

/// Arms a world event: `action` runs when the clock reaches `deadline_ns`, outside any
/// task (it may spawn, wake, choose and emit). It orders with timers due at the same
/// instant by the same `Timer` choice, and shows in the trace as `TimerSet` and
/// `TimerFire` events without a task.
// Not used inside the crate yet: the simulated world's entry point (tested below).
#[allow(dead_code)]
#[track_caller]
pub(crate) fn arm_action(deadline_ns: u64, action: Box<dyn FnOnce()>) -> TimerKey {
    with(|core| {
        let key = core
            .timers
            .borrow_mut()
            .arm(deadline_ns, TimerWaker::Action(action));
        core.emit(EventKind::TimerSet { deadline_ns });
        key
    })
}

/// True once the timer fired; otherwise makes sure it will wake `waker`. (An [`Armed`]
/// timer's owner compares the clock with `at` first: this is for a poll before then.)
#[track_caller]
#[inline]
pub(crate) fn poll_timer(key: TimerKey, waker: &Waker) -> bool {
    with(|core| {
        let own = core.task_of(waker);
        core.timers.borrow_mut().poll(key, waker, own)
    })
}

/// Releases a timer that has not fired (a no-op if it has, and outside a simulation:
/// timers die with it).
#[inline]
pub(crate) fn cancel_timer(key: TimerKey) {
    try_with(|core| core.timers.borrow_mut().release(key));
}

/// One of `n >= 1` outcomes, drawn and recorded through the run's `Chooser`.
#[track_caller]
pub(crate) fn choose(kind: ChoiceKind, n: usize) -> usize {
    with(|core| core.chooser.borrow_mut().choose(kind, n))
}

/// A raw recorded 64-bit draw (user randomness).
#[track_caller]
pub(crate) fn draw_bits(kind: ChoiceKind) -> u64 {
    with(|core| core.chooser.borrow_mut().bits(kind))
}

/// The virtual clock, or `None` outside a simulation (the std guards' clocks).
#[inline]
pub(crate) fn try_now() -> Option<u64> {
    try_with(|core| core.now.get())
}

/// A 64-bit word of the run's entropy for the std guards, or `None` outside a
/// simulation. Normally a recorded `Rand` draw. If the chooser is in use — only when a
/// strategy's own code reaches `getrandom` while it picks — the word is derived from the
/// seed, the step, the clock and `index` instead: deterministic, but not recorded.
pub(crate) fn try_entropy(index: u64) -> Option<u64> {
    try_with(|core| match core.chooser.try_borrow_mut() {
        Ok(mut chooser) => chooser.bits(ChoiceKind::Rand),
        Err(_) => {
            let words = [core.config.seed, core.step.get(), core.now.get(), index];
            words
                .iter()
                .fold(0x9e37_79b9_7f4a_7c15, |h, w| splitmix(h ^ w))
        }
    })
}

/// SplitMix64's finaliser: a well-mixed word from `x`.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The node of the task being polled, or `None` outside a simulation or while the
/// scheduler's tables are being changed (the std guards must never panic).
pub(crate) fn try_current_node() -> Option<u32> {
    try_with(|core| match core.current_task() {
        Some(task) => core
            .sched
            .try_borrow()
            .ok()
            .map(|s| s.meta[task as usize].node),
        None => Some(0),
    })
    .flatten()
}

/// Records a fingerprinted event by the current task (if any).
#[track_caller]
#[inline]
pub(crate) fn emit(kind: EventKind) {
    with(|core| core.emit(kind));
}

/// Keeps a log line in a full trace, at the current step, time, worker and task; never
/// fingerprinted. `message` is only called if the line is kept.
pub(crate) fn log(message: impl FnOnce() -> String) {
    try_with(|core| {
        if !core.trace.borrow().is_full() {
            return;
        }
        let (task, worker) = core.who();
        let event = Event {
            step: core.step.get(),
            time_ns: core.now.get(),
            worker,
            task,
            kind: EventKind::Log { message: message() },
        };
        core.trace_mut().push_unhashed(event);
    });
}

/// Spawns `future` as a new task named `name`, spawned at `location`.
#[track_caller]
pub(crate) fn spawn<F>(
    name: Cow<'static, str>,
    location: &'static Location<'static>,
    future: F,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    with(|core| task::spawn_on(core, name, location, future))
}

/// The task being polled, if any (and if inside a simulation).
pub(crate) fn current_task() -> Option<TaskId> {
    try_with(|core| core.current_task().map(TaskId)).flatten()
}

/// Calls `f` with the run's simulated world.
#[track_caller]
#[inline]
pub(crate) fn world<R>(f: impl FnOnce(&crate::world::World) -> R) -> R {
    with(|core| f(core.world()))
}

/// [`world`], or `None` outside a simulation (for `Drop` impls).
#[inline]
pub(crate) fn try_world<R>(f: impl FnOnce(&crate::world::World) -> R) -> Option<R> {
    try_with(|core| f(core.world()))
}

/// Arms a world event like [`arm_action`], but detached (no key: its timer slot is freed
/// when it fires) and quiet (no `TimerSet` / `TimerFire`: the world records what the
/// event does — a delivery, a fault — itself).
#[track_caller]
pub(crate) fn arm_world(deadline_ns: u64, action: Box<dyn FnOnce()>) {
    with(|core| {
        core.timers
            .borrow_mut()
            .arm_detached(deadline_ns, TimerWaker::World(action))
    });
}

/// [`arm_world`] for an event whose state is one word: `f(arg)` runs at `deadline_ns`.
/// Allocates nothing (a boxed closure costs an allocation and a free per event).
#[track_caller]
pub(crate) fn arm_world_call(deadline_ns: u64, f: fn(u64), arg: u64) {
    with(|core| {
        core.timers
            .borrow_mut()
            .arm_detached(deadline_ns, TimerWaker::Call(f, arg))
    });
}

/// The node of the task being polled (`0`, the main node, outside any task).
#[track_caller]
#[inline]
pub(crate) fn current_node() -> u32 {
    with(|core| match core.current_task() {
        Some(task) => core.sched.borrow().meta[task as usize].node,
        None => 0,
    })
}

/// Spawns `future` as a task of `node` (not of the spawner's node).
#[track_caller]
pub(crate) fn spawn_on_node<F>(
    node: u32,
    name: Cow<'static, str>,
    location: &'static Location<'static>,
    future: F,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    with(|core| {
        core.world().set_spawn_node(node);
        task::spawn_on(core, name, location, future)
    })
}

/// Drops every live task of `node`, in id order, as `JoinHandle::abort` does (the task
/// being polled, if it is one of them, right after its poll).
#[track_caller]
pub(crate) fn drop_node_tasks(node: u32) {
    with(|core| {
        let ids: Vec<u32> = {
            let sched = core.sched.borrow();
            let alive = |i: &u32| {
                sched.meta[*i as usize].node == node
                    && sched.status[*i as usize] != super::core::Status::Done
            };
            (0..sched.status.len() as u32).filter(alive).collect()
        };
        for id in ids {
            task::abort(core, id);
        }
    });
}

/// Fails the run with [`crate::Failure::Liveness`] (the fault plan's convergence
/// deadline passed); the first failure wins and the step loop stops before its next step.
#[track_caller]
pub(crate) fn fail_liveness(since: std::time::Duration, within: std::time::Duration) {
    with(|core| core.fail(crate::Failure::Liveness { since, within }));
}

/// True once the run is over and its tasks are being dropped.
pub(crate) fn is_closed() -> bool {
    try_with(|core| core.closed.get()).unwrap_or(true)
}

/// Adds a node to the trace's node table and mixes its identity into the fingerprint.
#[track_caller]
pub(crate) fn record_node(info: crate::trace::NodeInfo) {
    with(|core| {
        core.mix(crate::hash::fnv1a(info.name.as_bytes()) ^ info.id as u64);
        let mut trace = core.trace_mut();
        if trace.is_full() {
            trace.nodes.push(info);
        }
    });
}

#[cfg(test)]
mod tests {
    use crate::{Config, Sim};
    use std::cell::Cell;
    use std::rc::Rc;

    #[test]
    fn the_context_is_set_only_inside_a_run() {
        assert_eq!(super::try_now(), None);
        let outside = std::panic::catch_unwind(super::now).unwrap_err();
        let message = outside.downcast_ref::<&str>().copied().unwrap_or_default();
        assert!(message.contains("inside a simulation"), "{message}");
        for seed in 0..3 {
            let out = Sim::new(Config::default().seed(seed)).run(async {
                let inside = super::try_now();
                crate::time::sleep(std::time::Duration::from_millis(5)).await;
                assert_eq!(super::now(), 5_000_000);
                assert_eq!(inside, Some(0));
                panic!("a task panic is caught inside the run");
            });
            assert!(out.result.is_err());
            assert_eq!(super::try_now(), None, "reset after run {seed}");
        }
    }

    #[test]
    fn an_action_runs_at_its_deadline_outside_any_task_and_may_spawn() {
        let out = Sim::new(Config::default().seed(1)).run(async {
            let seen = Rc::new(Cell::new(None));
            let s = seen.clone();
            super::arm_action(
                5_000,
                Box::new(move || {
                    s.set(Some((super::now(), super::current_task())));
                    super::spawn(
                        "from-action".into(),
                        std::panic::Location::caller(),
                        async {},
                    );
                }),
            );
            crate::time::sleep(std::time::Duration::from_micros(10)).await;
            seen.get()
        });
        assert_eq!(out.result.unwrap(), Some((5_000, None)));
        assert!(out.trace.events().any(|e| e.task.is_none()
            && e.kind == crate::trace::EventKind::TimerFire { deadline_ns: 5_000 }));
        assert_eq!(out.stats.tasks_spawned, 2);
        let text = out.trace.to_string();
        assert!(text.contains("from-action"), "{text}");
    }

    #[test]
    fn choices_are_recorded_and_replayed() {
        use crate::choice::ChoiceKind;
        let program = || async {
            (0..20)
                .map(|_| super::choose(ChoiceKind::Fault, 3))
                .sum::<usize>()
        };
        let out = Sim::new(Config::default().seed(9)).run(program());
        let faults = out
            .schedule
            .choices
            .iter()
            .filter(|c| c.kind == ChoiceKind::Fault);
        assert_eq!(faults.count(), 20);
        let again = Sim::new(Config::default().seed(1))
            .replay(out.schedule.clone())
            .run(program());
        assert_eq!(again.result, out.result);
        assert_eq!(again.fingerprint, out.fingerprint);
    }
}
