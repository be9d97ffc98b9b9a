//! The step loop: the one place that owns control flow of a run.
//!
//! Each step either polls one task or, when nothing can run, advances the virtual clock.
//! Rules:
//! 1. A candidate is a ready task that some idle worker may run: any unpinned ready task
//!    (idle workers steal), or a pinned task whose home worker finished its `burn`.
//! 2. The strategy picks the candidate (a recorded `Task` choice). The task runs on its
//!    home worker if that is idle, else on an idle worker picked by a `Worker` choice.
//! 3. Time advances only when there is no candidate: to the earliest timer deadline or
//!    end of a `burn`. Timers due at that instant fire in an order of `Timer` choices.
//! 4. No candidate, no timer, no busy worker, main unfinished: deadlock.

use super::cell::{poll_in_place, FutPtr};
use super::core::{Core, Running, Sched, Status, NO_HOME};
use super::failure::Failure;
use super::join_error::JoinError;
use super::panic;
use super::task::{drop_task, TaskId};
use super::timers::TimerWaker;
use super::waker::task_waker;
use crate::choice::ChoiceKind;
use crate::strategy::{Candidates, Queued};
use crate::trace::EventKind;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::{Context, Poll};
use std::time::Duration;

/// Runs until the main task finishes or the run fails.
pub(crate) fn run(core: &Core) -> Result<(), Failure> {
    loop {
        if core.main_done.get() {
            return Ok(());
        }
        check_stop(core)?;
        match next_task(core) {
            Some((task, worker, future)) => poll_task(core, task, worker, future),
            None => advance(core)?,
        }
    }
}

#[inline]
fn check_stop(core: &Core) -> Result<(), Failure> {
    // Below `stop_at` there is no failure, no replay and no step limit to check.
    if core.step.get() < core.stop_at.get() && !core.shared.any_foreign_wake() {
        return Ok(());
    }
    check_stop_slow(core)
}

#[cold]
fn check_stop_slow(core: &Core) -> Result<(), Failure> {
    if let Some(f) = core.failure.borrow_mut().take() {
        return Err(f);
    }
    if let Some((task, thread)) = core.shared.foreign_wake() {
        return Err(Failure::ForeignWake {
            task: core.task_ref(task),
            thread,
        });
    }
    if let Some(d) = core.chooser.borrow().divergence() {
        return Err(Failure::Divergence {
            step: core.step.get(),
            divergence: d.clone(),
        });
    }
    if core.step.get() >= core.config.steps_max {
        let last = core
            .trace
            .borrow()
            .events()
            .next_back()
            .and_then(|e| e.task);
        let last = last.map_or("<unknown with trace off>".to_string(), |t| {
            core.task_ref(t).to_string()
        });
        return Err(Failure::StepLimit {
            steps: core.step.get(),
            last,
        });
    }
    Ok(())
}

/// Picks the next (task, worker), removing the task from the ready list.
fn next_task(core: &Core) -> Option<(u32, u16, FutPtr)> {
    let mut sched = core.sched.borrow_mut();
    if sched.ready.is_empty() {
        return None;
    }
    let now = core.now.get();
    let filtered: Vec<u32>;
    let paused = core.world_if_made().is_some_and(|w| w.any_paused());
    let index = if sched.busy == 0 && !paused {
        pick_among_all(core, &sched.ready.entries)
    } else {
        // Tasks of a paused node are not candidates (`crate::world::node`).
        let runnable = runnable_now(&sched.ready.entries, &sched.busy_until, now);
        filtered = unpaused(core, &sched, runnable);
        if filtered.is_empty() {
            return None;
        }
        let i = pick(core, Candidates::new(&sched.ready.entries, Some(&filtered)));
        filtered[i] as usize
    };
    let slot = sched.ready.swap_remove(index);
    let (task, future) = (slot.task, slot.future.cast());
    // Its status stays `Queued` while it is polled (see `Status::Queued`).
    if preempts(core, &sched, task, now) {
        core.preemptions.set(core.preemptions.get() + 1);
    }
    let idle = |w: u16| sched.busy == 0 || sched.busy_until[w as usize] <= now;
    if slot.pinned || (slot.home != NO_HOME && idle(slot.home)) {
        return Some((task, slot.home, future));
    }
    let w = steal_worker(core, &sched, now);
    drop(sched);
    if slot.home != NO_HOME {
        let steal = EventKind::Steal {
            from: Some(slot.home),
        };
        core.emit_at(Some(task), Some(w), steal);
    }
    Some((task, w, future))
}

/// True if picking `task` switches away from the previously polled task while that one
/// could have run on (it yielded or was woken during its poll).
#[inline(always)]
fn preempts(core: &Core, sched: &Sched, task: u32, now: u64) -> bool {
    // Requeued by its poll is the same as `Queued` now: nothing runs between the end of
    // a poll and the next pick (a clock jump in between clears `last_polled`).
    if !core.requeued.get() {
        return false;
    }
    let Some(last) = core.last_polled.get().filter(|&l| l != task) else {
        return false;
    };
    debug_assert!(sched.status[last as usize] == Status::Queued);
    if sched.busy == 0 {
        return true; // every ready task is a candidate
    }
    preempts_busy(sched, last, now)
}

#[cold]
fn preempts_busy(sched: &Sched, last: u32, now: u64) -> bool {
    let ready = &sched.ready;
    let entry = ready.entries.iter().find(|q| q.task == last);
    entry.is_some_and(|r| !r.pinned || sched.busy_until[r.home as usize] <= now)
}

/// The idle worker that takes a task whose home worker is busy or absent (rule 2).
fn steal_worker(core: &Core, sched: &Sched, now: u64) -> u16 {
    let workers = sched.busy_until.len() as u16;
    let idle = |w: &u16| sched.busy_until[*w as usize] <= now;
    let idle_count = match sched.busy {
        0 => workers as usize,
        _ => (0..workers).filter(idle).count(),
    };
    let k = core
        .chooser
        .borrow_mut()
        .choose_inline(ChoiceKind::Worker, idle_count);
    if sched.busy == 0 {
        return k as u16; // every worker is idle: the k-th is worker k
    }
    // The k-th idle worker, without collecting them (this runs for every timer wake).
    (0..workers)
        .filter(idle)
        .nth(k)
        .expect("k < number of idle workers")
}

/// `candidates` (indices into the ready list) without the tasks of paused nodes.
fn unpaused(core: &Core, sched: &Sched, mut candidates: Vec<u32>) -> Vec<u32> {
    if let Some(world) = core.world_if_made().filter(|w| w.any_paused()) {
        let paused = |i: &u32| {
            let task = sched.ready.entries[*i as usize].task;
            world.is_paused(sched.meta[task as usize].node)
        };
        candidates.retain(|i| !paused(i));
    }
    candidates
}

/// Indices of ready entries some idle worker may run (rule 1).
fn runnable_now(ready: &[Queued], busy_until: &[u64], now: u64) -> Vec<u32> {
    let any_idle = busy_until.iter().any(|&b| b <= now);
    (0..ready.len() as u32)
        .filter(|&i| {
            let r = &ready[i as usize];
            if r.pinned {
                busy_until[r.home as usize] <= now
            } else {
                any_idle
            }
        })
        .collect()
}

/// [`pick`] among every ready task, without building the candidates when nothing reads
/// them (one candidate, or `Random`).
#[inline(always)]
fn pick_among_all(core: &Core, tasks: &[Queued]) -> usize {
    let n = tasks.len();
    if n == 1 {
        return 0; // one candidate: nothing to choose, nothing recorded (nor replayed)
    }
    if core.uniform && !core.replaying {
        // `Random::pick`'s draw, recorded: what `Chooser::choose` does, without its
        // replay test (kept inline: this is every step of a fuzzing run).
        let mut chooser = core.chooser.borrow_mut();
        let i = chooser.strategy_rng().draw_below(n);
        chooser.record(ChoiceKind::Task, n, i);
        return i;
    }
    pick(core, Candidates::new(tasks, None))
}

/// The `Task` choice among `candidates`: replayed, or the strategy's pick, recorded.
/// `Random`'s pick is the chooser's own uniform draw (the same draw `Random::pick`
/// makes), taken without the call through the trait object.
fn pick(core: &Core, candidates: Candidates<'_>) -> usize {
    let n = candidates.len();
    let mut chooser = core.chooser.borrow_mut();
    if n == 1 || core.uniform || core.replaying {
        return chooser.choose(ChoiceKind::Task, n);
    }
    let last = core.last_polled.get();
    let i = core.strategy.borrow_mut().pick(
        &candidates.with_context(last, core.step.get()),
        chooser.strategy_rng(),
    );
    chooser.record(ChoiceKind::Task, n, i);
    i
}

fn poll_task(core: &Core, id: u32, worker: u16, future: FutPtr) {
    prefetch_next(core, id, future);
    core.start_running(id, worker);
    core.emit(EventKind::Poll);
    let result = {
        let waker = task_waker(core.id, id);
        let mut cx = Context::from_waker(&waker);
        // SAFETY: `future` is task `id`'s, taken with it from the ready list: the task is
        // Running, so its `TaskBox` stays in the slab until this poll returns (aborting a
        // running task is deferred to below), and only this call touches the future.
        catch_unwind(AssertUnwindSafe(|| unsafe {
            poll_in_place(future, &mut cx)
        }))
    };
    // What the poll asked for besides its result (burn, abort); still current, so
    // the events below are the task's.
    let ran = core.take_running();
    core.last_polled.set(Some(id));
    let previous = core.previous.replace(id);
    if previous != id && previous != u32::MAX {
        core.switches.set(core.switches.get() + 1);
    }
    core.requeued.set(false);
    match result {
        Ok(Poll::Ready(())) => finished(core, id),
        Ok(Poll::Pending) if ran.abort => {
            core.sched.borrow_mut().status[id as usize] = Status::Done;
            core.emit(EventKind::Abort { target: id });
            // The one poll that ends without an end event: a held `Poll` is written now,
            // with this step (`tests/trace_polls.rs`).
            core.poll_over();
            core.stop_running();
            drop_task(core, id, take_task(core, id));
        }
        Ok(Poll::Pending) => {
            let queued = requeue(core, id, worker, ran, future);
            core.requeued.set(queued);
        }
        Err(payload) => panicked(core, id, take_task(core, id), payload),
    }
    core.stop_running();
    // After the poll's own events, so they all carry the poll's step number.
    core.step.set(core.step.get() + 1);
}

/// Task `id`'s poll returned `Ready`: marks it finished and drops its future, after
/// its last event and outside its poll (dropping the future may wake other tasks, and
/// those wakes are nobody's).
#[inline(never)]
fn finished(core: &Core, id: u32) {
    core.sched.borrow_mut().status[id as usize] = Status::Done;
    core.emit(EventKind::Ready);
    if id == 0 {
        core.main_done.set(true);
    }
    let task = take_task(core, id);
    core.stop_running();
    drop(task);
}

fn take_task(core: &Core, id: u32) -> super::cell::TaskBox {
    core.slab.borrow_mut()[id as usize]
        .take()
        .expect("slab invariant: a task's future is in the slab until it is Done")
}

/// Below this many tasks in a run their memory stays in cache, and guessing costs more
/// than it saves.
pub(super) const PREFETCH_MIN_TASKS: usize = 2048;

/// How many picks ahead the step loop prefetches a task's future (stage 2) and ready
/// entry (stage 1): see [`prefetch_next`]. Below the chooser's lookahead.
const FUTURE_AHEAD: usize = 4;
const ENTRY_AHEAD: usize = 9;

/// Prefetches what coming picks will probably touch, so that memory arrives while other
/// tasks run: with many live tasks and a random pick, fetching it is most of a step's
/// cost (two dependent cache misses: the ready entry, then the future). A two-stage
/// pipeline: ten picks ahead, the ready entries (addresses known without loading
/// anything); five picks ahead, the futures (through their ready entries, fetched five
/// steps earlier). Each stage fetches the guessed index and the one below it: the
/// guesses assume the current task is requeued (one more candidate) if the previous one
/// was, and a task that finishes in between shrinks the count by one, which moves a
/// multiply-shift draw down by at most one. Guesses never change what is picked.
/// How often they are right (100 k tasks, counted once, five picks ahead): the
/// guessed index 83 % and the one below 12 % with 10 yields per task; 97.5 % and 2 %
/// with 100. Measured with `examples/scale_probe` (100k tasks, ns per poll, fastest of 20–30
/// interleaved processes on a loaded machine, against three and six picks ahead with
/// one index each): 10 yields per task 66.3 → 55.6, 100 yields 43.3 → 36.6; fifteen and
/// seven picks ahead were no better, twenty-one and ten worse.
///
/// Also, for the current task, what its finish (one poll in ten, with ten yields per
/// task) waits for, so that the poll hides those misses: its slab slot (loaded before
/// the future can be dropped) and the line after its cell's header (a small future's
/// join state, which the finish locks; or the rest of the future, which the poll
/// reads). 100k tasks × 10 yields, median ratio of 20 interleaved pairs: slab slot
/// 0.95–0.96, next line a further 0.89–0.96 (100 yields 0.92); 10k unchanged.
#[inline]
fn prefetch_next(core: &Core, current: u32, current_future: FutPtr) {
    if !core.prefetching.get() {
        return; // a replay, or too few tasks (`Core::prefetching`)
    }
    prefetch(core.slab.borrow().as_ptr().wrapping_add(current as usize) as *const u8);
    let header = current_future.as_ptr() as *const u8;
    prefetch(header.wrapping_add(64)); // the header's next line
    let sched = core.sched.borrow();
    let ready = &sched.ready;
    let n = ready.len();
    if sched.busy != 0 || n < 2 {
        return;
    }
    // One guess of the candidate count: the last poll's task requeued or not, so the
    // current one probably does the same (a wrong count only makes a prefetch useless).
    let candidates = n + core.requeued.get() as usize;
    let mut chooser = core.chooser.borrow_mut();
    let (entry, future) = if core.uniform {
        // `Random::hint`, without the call through the trait object, both at once.
        let rng = chooser.strategy_rng();
        let (future, entry) = rng.peek_two_below(candidates, FUTURE_AHEAD, ENTRY_AHEAD);
        (Some(entry), Some(future))
    } else {
        let mut strategy = core.strategy.borrow_mut();
        let rng = chooser.strategy_rng();
        let entry = strategy.hint(candidates, ENTRY_AHEAD, rng);
        (entry, strategy.hint(candidates, FUTURE_AHEAD, rng))
    };
    let entries = &ready.entries;
    // Stage 1: the ready entries (the two share a line three times in four).
    if let Some(i) = entry.filter(|&i| i < n) {
        prefetch(entries.as_ptr().wrapping_add(i) as *const u8);
        prefetch(entries.as_ptr().wrapping_add(i.saturating_sub(1)) as *const u8);
    }
    // Stage 2: the futures, through their ready entries (fetched by stage 1 earlier):
    // the header's line and, when the cell's first 64 bytes straddle two lines (half
    // the time for 16-byte-aligned cells), the next one, where a small future's state
    // lies. `scale_probe`, 100 k tasks, median ratio of interleaved pairs: 0.95 and 0.89
    // at 100 yields per task, 0.96 at 10.
    if let Some(i) = future.filter(|&i| i < n) {
        for cell in [entries[i].future, entries[i.saturating_sub(1)].future] {
            let cell = cell.as_ptr() as *const u8;
            prefetch(cell);
            prefetch(cell.wrapping_add(63));
        }
    }
}

/// A hint to the CPU to bring `p`'s cache line in; no effect on the program.
#[inline(always)]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    #[allow(unused_unsafe)] // a safe function on newer compilers
    // SAFETY: a prefetch never faults and changes no program state, for any address.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// After a `Pending` poll: queue again if woken during the poll or burning. Returns
/// whether it queued the task.
fn requeue(core: &Core, id: u32, worker: u16, ran: Running, future: FutPtr) -> bool {
    let (woken, burn) = (ran.woken, ran.burn);
    // Two constant calls, not one call with a chosen kind: each folds to constants.
    if woken && burn.is_none() {
        core.emit(EventKind::Yield);
    } else {
        core.emit(EventKind::Pending);
    }
    // Requeued, its status is still `Queued` (it stayed so during the poll).
    let mut sched = core.sched.borrow_mut();
    if let Some(ns) = burn {
        let until = core.now.get().saturating_add(ns);
        sched.busy_until[worker as usize] = until;
        sched.busy += 1;
        sched.ready.push(id, worker, true, future);
        drop(sched);
        core.emit(EventKind::Burn { duration_ns: ns });
        true
    } else if woken {
        sched.ready.push(id, worker, false, future);
        true
    } else {
        sched.status[id as usize] = Status::Idle;
        false
    }
}

fn panicked(
    core: &Core,
    id: u32,
    task: super::cell::TaskBox,
    payload: Box<dyn std::any::Any + Send>,
) {
    let message = panic::message(&*payload);
    let location = panic::take_location().unwrap_or_else(|| "<unknown>".to_string());
    core.sched.borrow_mut().status[id as usize] = Status::Done;
    let failure = Failure::Panic {
        task: core.task_ref(id),
        message: message.clone(),
        location,
    };
    core.emit(EventKind::Failure {
        message: failure.to_string(),
    });
    core.stop_running();
    if id == 0 || core.config.panic_is_failure {
        core.fail(failure);
        core.closed.set(true); // the run is over: its last event is the failure
    } else {
        task.fail(JoinError::panic(TaskId(id), message, payload));
    }
    drop_task(core, id, task);
}

/// Nothing can run: move the clock to the next timer or end of a burn (rule 3).
#[inline(never)]
fn advance(core: &Core) -> Result<(), Failure> {
    let now = core.now.get();
    let next_timer = core.timers.borrow_mut().next_deadline();
    let next_free = {
        let sched = core.sched.borrow();
        sched.busy_until.iter().copied().filter(|&b| b > now).min()
    };
    let next = match (next_timer, next_free) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => match a.or(b) {
            Some(t) => t,
            None => return Err(deadlock(core)),
        },
    };
    if next > core.config.time_max.as_nanos() as u64 {
        return Err(Failure::TimeLimit {
            limit: core.config.time_max,
            next: Duration::from_nanos(next),
        });
    }
    core.now.set(next);
    // Every task blocked before the jump, so continuing with the last one after it is
    // not "no preemption": strategies must not treat it as the running task.
    core.last_polled.set(None);
    core.emit(EventKind::Advance { to_ns: next });
    {
        let mut sched = core.sched.borrow_mut();
        let freed = sched
            .busy_until
            .iter()
            .filter(|&&b| b > now && b <= next)
            .count();
        sched.busy -= freed;
    }
    fire_timers(core, next);
    Ok(())
}

/// Fires the timers due at `now`, one `Timer` choice each (rule 3).
#[inline]
fn fire_timers(core: &Core, now: u64) {
    // A buffer kept across advances: clock jumps are frequent in timer-heavy programs.
    let mut due = core.due.take();
    core.timers.borrow_mut().take_due(now, &mut due);
    // Every one of them fires in the loop below.
    core.timers_fired
        .set(core.timers_fired.get() + due.len() as u64);
    let prefetching = !core.replaying && core.sched.borrow().status.len() >= PREFETCH_MIN_TASKS;
    while !due.is_empty() {
        let mut chooser = core.chooser.borrow_mut();
        let i = chooser.choose_inline(ChoiceKind::Timer, due.len());
        let (deadline, waker) = due.swap_remove(i);
        // The next timer's task (a guess: the next draw, if nothing else draws first).
        if prefetching && due.len() > 1 {
            let next = chooser.peek_below(due.len(), 0);
            if let Some((_, TimerWaker::Task(id))) = due.get(next) {
                let sched = core.sched.borrow();
                prefetch(sched.status.as_ptr().wrapping_add(*id as usize) as *const u8);
                prefetch(sched.futures.as_ptr().wrapping_add(*id as usize) as *const u8);
            }
        }
        drop(chooser);
        // Most timers are a task's own (a `sleep`): inline, no call. (Forgotten, not
        // dropped: a `Task` waker owns nothing, and its drop glue was a call per timer.)
        match waker {
            TimerWaker::Task(id) => {
                std::mem::forget(waker);
                fire_task(core, deadline, id)
            }
            waker => fire(core, deadline, waker),
        }
    }
    core.due.replace(due);
}

/// Fires a timer armed by task `id` for itself. The wake it causes is recorded as the
/// timer firing *for* that task (one event, not two); if it wakes nothing (the task is
/// finished or queued), the firing is recorded without one.
#[inline(always)]
fn fire_task(core: &Core, deadline_ns: u64, id: u32) {
    let fired = EventKind::TimerFire { deadline_ns };
    match core.make_runnable(id) {
        true => core.emit_at(Some(id), None, fired),
        false => core.emit(fired),
    }
}

/// Fires one timer (see [`fire_task`] for how a wake is recorded).
#[inline]
fn fire(core: &Core, deadline_ns: u64, waker: TimerWaker) {
    let fired = EventKind::TimerFire { deadline_ns };
    match waker {
        TimerWaker::Task(id) => fire_task(core, deadline_ns, id),
        TimerWaker::Other(waker) => {
            // The waker is opaque: if it reaches one of this run's tasks, `Core::wake`
            // takes `firing` and records the firing for that task.
            core.firing.set(Some(deadline_ns));
            waker.wake();
            if core.firing.take().is_some() {
                core.emit(fired);
            }
        }
        TimerWaker::Action(action) => {
            core.emit(fired);
            action();
        }
        TimerWaker::World(action) => action(),
        TimerWaker::Call(f, arg) => f(arg),
    }
}

fn deadlock(core: &Core) -> Failure {
    let ids: Vec<u32> = {
        let sched = core.sched.borrow();
        (0..sched.status.len() as u32)
            .filter(|&i| sched.status[i as usize] != Status::Done)
            .collect()
    };
    Failure::Deadlock {
        blocked: ids.into_iter().map(|i| core.task_ref(i)).collect(),
    }
}
