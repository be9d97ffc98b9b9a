//! [`Core`]: the state of one run, reached by tasks through the thread-local context.
//!
//! Each part sits in its own `RefCell` and is borrowed only for a short, non-reentrant
//! moment; in particular nothing is borrowed while a task is polled, so a task may spawn,
//! wake, arm timers or draw randomness freely.
//!
//! The fields are private to `runtime/`: every other layer (time, rand, the tracing
//! layer, the simulated world) goes through `context.rs`, the runtime's one interface.

use super::cell::{FutPtr, TaskBox};
use super::failure::{Failure, TaskRef};
use super::reuse::Buffers;
use super::timers::{TimerWaker, Timers};
use super::waker::Shared;
use crate::choice::Chooser;
use crate::config::Config;
use crate::strategy::{Queued, Strategy};
use crate::trace::{EventKind, Trace, MID_MAX};
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::panic::Location;
use std::sync::Arc;
use std::task::Waker;

/// `Queued::home` of a task woken from outside any worker (timers, the run itself).
pub(super) const NO_HOME: u16 = u16::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    /// Waiting for a wake.
    Idle,
    /// In the ready list, or being polled (the current task: [`Core::current_task`]).
    /// A poll writes no status unless it changes one (a yield leaves `Queued` as it
    /// was), and a wake of the current task is noted in [`Running::woken`]: with many
    /// live tasks, a per-task byte touched twice per poll is a cache miss saved.
    Queued,
    /// Finished, aborted or dropped.
    Done,
}

#[derive(Debug)]
pub(super) struct TaskMeta {
    pub(super) name: Cow<'static, str>,
    pub(super) location: &'static Location<'static>,
    /// The node the task runs on (0: the main node); inherited from its spawner.
    pub(super) node: u32,
}

/// The ready list: one [`Queued`] entry per ready task (the id strategies see, as
/// [`crate::strategy::Candidates`], and where it is queued and its future).
#[derive(Debug, Default)]
pub(super) struct ReadyList {
    pub(super) entries: Vec<Queued>,
}

impl ReadyList {
    #[inline]
    pub(super) fn push(&mut self, task: u32, home: u16, pinned: bool, future: FutPtr) {
        self.entries.push(Queued {
            future: future.cast(),
            task,
            home,
            pinned,
        });
    }

    /// Removes entry `i`, moving the last entry into its place (O(1)).
    #[inline]
    pub(super) fn swap_remove(&mut self, i: usize) -> Queued {
        self.entries.swap_remove(i)
    }

    /// Removes `task`, keeping the order of the others.
    pub(super) fn remove_task(&mut self, task: u32) {
        if let Some(i) = self.entries.iter().position(|q| q.task == task) {
            self.entries.remove(i);
        }
    }

    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Tasks, the ready list and the workers.
#[derive(Debug)]
pub(super) struct Sched {
    /// Per task id: its status (hot: read on every wake and pick).
    pub(super) status: Vec<Status>,
    // invariant: per task id, the future of its `TaskBox` (valid while not Done): a
    // wake queues the task with it without borrowing the slab.
    pub(super) futures: Vec<FutPtr>,
    /// Per task id: its name and spawn site (cold: traces and failure reports).
    pub(super) meta: Vec<TaskMeta>,
    // invariant: holds exactly the tasks whose status is Queued but the one being polled,
    // each once.
    pub(super) ready: ReadyList,
    /// Per worker: virtual time until which it is busy burning CPU.
    pub(super) busy_until: Vec<u64>,
    // invariant: number of workers with busy_until > now.
    pub(super) busy: usize,
}

/// What a poll asked of the step loop besides its `Poll` result: the value the step
/// loop takes back ([`Core::take_running`]) when the poll returns.
#[derive(Clone, Copy, Debug)]
pub(super) struct Running {
    /// CPU time the task declared with `burn` during this poll.
    pub(super) burn: Option<u64>,
    /// The task aborted itself during this poll.
    pub(super) abort: bool,
    /// The task was woken during this poll (by itself, or by what it polled).
    pub(super) woken: bool,
}

/// [`Core::who`] outside any poll: no task, no worker (the trace's encoding of "none").
pub(super) const NOBODY: u64 = crate::trace::who(None, None);
/// `Core::poll_held` above this bit: the count of words held with the `Poll` (a `who`
/// word, [`NOBODY`] included, takes 48 bits).
const HELD_SHIFT: u32 = 48;
const WHO_BITS: u64 = (1 << HELD_SHIFT) - 1;

/// The state of one run.
pub(super) struct Core {
    pub(super) id: u64,
    pub(super) config: Config,
    pub(super) shared: Arc<Shared>,
    pub(super) now: Cell<u64>,
    pub(super) step: Cell<u64>,
    /// The task being polled and its worker as one word, `task << 16 | worker`, or
    /// [`NOBODY`]: the form the fingerprint mixes (`trace::mix_who`), so an event by the
    /// current task costs one load to attribute.
    cur: Cell<u64>,
    /// What the current poll asked for besides its result (see [`Running`]); `burn` is
    /// 0 for none (a burn of nothing is never declared).
    woken: Cell<bool>,
    abort: Cell<bool>,
    burn: Cell<u64>,
    /// The task polled in the previous step (strategies count preemptions against it).
    pub(super) last_polled: Cell<Option<u32>>,
    /// The run has enough tasks for the step loop to prefetch (`step::prefetch_next`),
    /// and is not a replay.
    pub(super) prefetching: Cell<bool>,
    pub(super) sched: RefCell<Sched>,
    // invariant: slot `i` holds task i's future unless it is Done or being polled.
    // Inline (not boxed): a poll reaches the future through one pointer, not two.
    pub(super) slab: RefCell<Vec<Option<TaskBox>>>,
    pub(super) timers: RefCell<Timers>,
    /// The deadline of the timer whose (non-task) waker is being called (see
    /// `fire_timers`): the wake it causes is recorded as that timer firing.
    pub(super) firing: Cell<Option<u64>>,
    /// Reused buffer of timers due at the current instant.
    pub(super) due: RefCell<Vec<(u64, TimerWaker)>>,
    pub(super) chooser: RefCell<Chooser>,
    pub(super) strategy: RefCell<Box<dyn Strategy>>,
    /// The strategy's `is_uniform`, asked once: the step loop then picks and guesses
    /// itself (the same draws) instead of calling through the trait object.
    pub(super) uniform: bool,
    pub(super) trace: RefCell<Trace>,
    /// The running fingerprint, kept here rather than in `trace` so that an event costs
    /// no borrow with the trace off; written into the trace when the run ends
    /// (`runtime::finish`).
    fp: Cell<u64>,
    /// The trace keeps events (`TraceMode::Full`); else only the fingerprint is kept.
    full: bool,
    /// Who a `Poll` kept by a full trace is by, or [`NOBODY`]: fingerprinted, and given
    /// to the trace with the poll's next event (in the same borrow; the trace then
    /// stores a poll and its end event as one record). Every writer of events goes
    /// through [`Core::trace_mut`], which hands it over first.
    /// Above bit [`HELD_SHIFT`]: how many of `held_mid` it holds with the `Poll`.
    poll_held: Cell<u64>,
    /// The one-word events of the held `Poll`'s task since it (`trace::short_word`s):
    /// held with it up to [`MID_MAX`], so that a poll that, say, arms a timer or wakes
    /// a task and then returns is written at once (`Trace::keep_poll_mid`).
    held_mid: [Cell<u32>; MID_MAX],
    /// The last task name hashed, by (address, length), and its hash (`name_hash`).
    last_name: Cell<((usize, usize), u64)>,
    pub(super) main_done: Cell<bool>,
    /// Set once the run is over: wakes from dropped tasks change nothing any more.
    pub(super) closed: Cell<bool>,
    pub(super) failure: RefCell<Option<Failure>>,
    /// The step from which the step loop takes its slow check (`step::check_stop`):
    /// the step limit, or 0 once the run failed (`failure` is Some) or when replaying
    /// (divergence is checked every step). One compare per step for all three.
    pub(super) stop_at: Cell<u64>,
    /// True when replaying a schedule (divergence is checked only then).
    pub(super) replaying: bool,
    pub(super) timers_fired: Cell<u64>,
    pub(super) switches: Cell<u64>,
    pub(super) preemptions: Cell<u64>,
    /// The task polled most recently, across clock jumps (unlike `last_polled`);
    /// `u32::MAX` before the first poll.
    pub(super) previous: Cell<u32>,
    /// Whether the last poll put its task back in the ready list: the prefetcher's guess
    /// of whether the current one will (one more candidate at the next pick, or not).
    pub(super) requeued: Cell<bool>,
    /// The simulated world: nodes, network, faults (`crate::world`), owned by the run
    /// and reached by the world through `context::world`; made on first use
    /// ([`Core::world`]), so a run with no node, network, disk or fault plan never makes
    /// (or drops) one: a tenth of a small run's set-up.
    world: std::cell::OnceCell<Box<crate::world::World>>,
}

impl Core {
    pub(super) fn new(
        id: u64,
        config: Config,
        chooser: Chooser,
        strategy: Box<dyn Strategy>,
    ) -> Self {
        let workers = config.workers.max(1);
        let replaying = chooser.is_replaying();
        let trace = Trace::new(config.seed, config.trace);
        let Buffers {
            status,
            futures,
            meta,
            ready,
            slab,
            busy_until,
        } = Buffers::take(workers);
        Core {
            id,
            shared: Arc::new(Shared::default()),
            now: Cell::new(0),
            step: Cell::new(0),
            cur: Cell::new(NOBODY),
            woken: Cell::new(false),
            abort: Cell::new(false),
            burn: Cell::new(0),
            last_polled: Cell::new(None),
            prefetching: Cell::new(false),
            sched: RefCell::new(Sched {
                status,
                futures,
                meta,
                ready: ReadyList { entries: ready },
                busy_until,
                busy: 0,
            }),
            slab: RefCell::new(slab),
            timers: RefCell::new(Timers::default()),
            due: RefCell::new(Vec::new()),
            firing: Cell::new(None),
            chooser: RefCell::new(chooser),
            uniform: strategy.is_uniform(),
            strategy: RefCell::new(strategy),
            fp: Cell::new(trace.fingerprint),
            full: trace.is_full(),
            poll_held: Cell::new(NOBODY),
            held_mid: Default::default(),
            last_name: Cell::new(((0, 0), crate::hash::fnv1a(b""))),
            trace: RefCell::new(trace),
            main_done: Cell::new(false),
            closed: Cell::new(false),
            failure: RefCell::new(None),
            stop_at: Cell::new(if replaying { 0 } else { config.steps_max }),
            replaying,
            timers_fired: Cell::new(0),
            switches: Cell::new(0),
            preemptions: Cell::new(0),
            previous: Cell::new(u32::MAX),
            requeued: Cell::new(true),
            world: std::cell::OnceCell::new(),
            config,
        }
    }

    /// The task being polled and its worker.
    #[inline(always)]
    pub(super) fn who(&self) -> (Option<u32>, Option<u16>) {
        match self.current_task() {
            Some(task) => (Some(task), Some(self.cur.get() as u16)),
            None => (None, None),
        }
    }

    /// The task being polled, if any.
    #[inline(always)]
    pub(super) fn current_task(&self) -> Option<u32> {
        let task = (self.cur.get() >> 16) as u32;
        (task != u32::MAX).then_some(task)
    }

    /// The worker polling the current task, if any.
    #[inline(always)]
    pub(super) fn current_worker(&self) -> Option<u16> {
        self.current_task().map(|_| self.cur.get() as u16)
    }

    /// Makes `task` on `worker` the task being polled, with nothing asked yet.
    #[inline(always)]
    pub(super) fn start_running(&self, task: u32, worker: u16) {
        self.cur.set(crate::trace::who(Some(worker), Some(task)));
        self.woken.set(false);
        self.abort.set(false);
        self.burn.set(0);
    }

    /// What the current poll asked for (it stays current: its events are still its).
    #[inline(always)]
    pub(super) fn take_running(&self) -> Running {
        let burn = self.burn.get();
        Running {
            burn: (burn != 0).then_some(burn),
            abort: self.abort.get(),
            woken: self.woken.get(),
        }
    }

    /// Ends the current poll: events from here on are nobody's.
    #[inline(always)]
    pub(super) fn stop_running(&self) {
        self.cur.set(NOBODY);
    }

    /// The current task declared `ns` more CPU time in this poll (no-op outside a poll).
    pub(super) fn add_burn(&self, ns: u64) {
        if self.current_task().is_some() {
            self.burn.set(self.burn.get().saturating_add(ns).max(1));
        }
    }

    /// The current task aborted itself (no-op outside a poll).
    pub(super) fn abort_current(&self) {
        if self.current_task().is_some() {
            self.abort.set(true);
        }
    }

    /// Records an event by the current task (if any).
    #[inline(always)]
    pub(super) fn emit(&self, kind: EventKind) {
        self.emit_who(self.cur.get(), kind);
    }

    #[inline(always)]
    pub(super) fn emit_at(&self, task: Option<u32>, worker: Option<u16>, kind: EventKind) {
        let who = crate::trace::who(worker, task);
        self.emit_who(who, kind);
    }

    /// Records an event by `who` (a `trace::who` word, or [`NOBODY`]). With the trace off that
    /// is one fingerprint step: no borrow, and `kind` is never moved.
    #[inline(always)]
    fn emit_who(&self, who: u64, kind: EventKind) {
        // The words first, while `kind` is still a constant at most call sites.
        let words = kind.words();
        let now = self.now.get();
        self.fp
            .set(crate::trace::mix_who(self.fp.get(), now, who, words));
        if self.full {
            self.keep(now, who, words, kind);
        }
    }

    /// Keeps an event in a full trace; a `Poll` is held (see `poll_held`). For a
    /// constant kind the tests fold away.
    #[inline(always)]
    fn keep(&self, now: u64, who: u64, words: (u64, u64), kind: EventKind) {
        let held = self.poll_held.get();
        if matches!(kind, EventKind::Poll) && held == NOBODY {
            self.poll_held.set(who);
            return;
        }
        let step = self.step.get();
        let end = crate::trace::end_code(words.0);
        if end != 0 && held == who && held != NOBODY {
            // The poll's end event, next after its `Poll` (same step and time: neither
            // moves during a poll): the common case, one record.
            self.poll_held.set(NOBODY);
            self.trace.borrow_mut().keep_poll(step, now, who, end);
            return;
        }
        if held & WHO_BITS == who && held != NOBODY && self.keep_held(step, now, held, words) {
            return;
        }
        let mut trace = self.trace_mut();
        trace.keep_who(step, now, who, words, kind);
    }

    /// An event of the held poll's task after words were held, or one that may be held:
    /// of the same poll (any other event hands the poll over first), so of the same
    /// step and time. Returns false if the event is still to be kept (the poll was not
    /// handed over: the caller's `trace_mut` does it).
    #[inline(always)]
    fn keep_held(&self, step: u64, now: u64, held: u64, words: (u64, u64)) -> bool {
        let (who, len) = (held & WHO_BITS, (held >> HELD_SHIFT) as usize);
        let end = crate::trace::end_code(words.0);
        if end != 0 {
            // The poll's end event: the poll is written, with what it held.
            self.poll_held.set(NOBODY);
            let mut trace = self.trace.borrow_mut();
            trace.keep_poll_mid(step, now, who, &self.held_mid(), len, end);
            return true;
        }
        if len < MID_MAX {
            if let Some(word) = crate::trace::short_word(words.0, words.1, now) {
                self.held_mid[len].set(word);
                self.poll_held.set(who | ((len + 1) as u64) << HELD_SHIFT);
                return true;
            }
        }
        false
    }

    /// The words [`Core::keep`] holds after a `Poll` (as many as `poll_held`'s top bits
    /// count; the rest are stale).
    #[inline(always)]
    fn held_mid(&self) -> [u32; MID_MAX] {
        std::array::from_fn(|i| self.held_mid[i].get())
    }

    /// The trace, to write to: a held `Poll` is handed over first, so events stay in
    /// order.
    #[inline(always)]
    pub(super) fn trace_mut(&self) -> std::cell::RefMut<'_, Trace> {
        let mut trace = self.trace.borrow_mut();
        let poll = self.poll_held.get();
        if poll != NOBODY {
            self.hand_over_poll(&mut trace, poll);
        }
        trace
    }

    /// Writes a `Poll` still held when its poll is over, before the step moves on: the
    /// step loop calls it after a poll that ends without an end event (the task aborted
    /// itself), which holds the `Poll` with its last events. Every other poll ends with
    /// an end event (`yield`, `pending`, `ready`) or a failure, which writes it.
    pub(super) fn poll_over(&self) {
        drop(self.trace_mut());
    }

    /// Writes a held `Poll` before another event (out of line: the many places that
    /// emit stay small, which the trace-off step loop measurably likes).
    #[inline(never)]
    fn hand_over_poll(&self, trace: &mut Trace, poll: u64) {
        self.poll_held.set(NOBODY);
        let (who, len) = (poll & WHO_BITS, (poll >> HELD_SHIFT) as usize);
        let (step, now) = (self.step.get(), self.now.get());
        if len == 0 {
            trace.keep_poll(step, now, who, 0); // no word held: the `Poll` alone
        } else {
            trace.keep_poll_mid(step, now, who, &self.held_mid(), len, 0);
        }
    }

    /// Mixes a word identifying something about the run (a task's or node's identity)
    /// into the fingerprint.
    pub(super) fn mix(&self, word: u64) {
        self.fp.set(crate::trace::mix(self.fp.get(), word));
    }

    /// The simulated world, made now if it was not (`World::new` draws nothing and
    /// records nothing, so when it is made changes no run).
    pub(super) fn world(&self) -> &crate::world::World {
        self.world
            .get_or_init(|| Box::new(crate::world::World::new(&self.config)))
    }

    /// The world if it was made: the step loop's checks (a world never made has no
    /// paused node and injects no delay).
    #[inline(always)]
    pub(super) fn world_if_made(&self) -> Option<&crate::world::World> {
        self.world.get().map(|w| &**w)
    }

    /// True if the run's config has a fault plan (the world must start it).
    pub(super) fn has_fault_plan(&self) -> bool {
        self.config.faults.is_some()
    }

    /// True if the trace keeps events (`TraceMode::Full`).
    pub(super) fn is_full(&self) -> bool {
        self.full
    }

    /// FNV-1a of a task name, remembered for the last `&'static` name seen (by address
    /// and length, which fix its bytes): tasks are mostly spawned in runs from one site
    /// with one static name. An owned name is hashed every time.
    #[allow(clippy::ptr_arg)] // the `Cow` says whether the name is `&'static`
    pub(super) fn name_hash(&self, name: &Cow<'static, str>) -> u64 {
        let Cow::Borrowed(name) = name else {
            return crate::hash::fnv1a(name.as_bytes());
        };
        let key = (name.as_ptr() as usize, name.len());
        let (k, hash) = self.last_name.get();
        if k == key {
            return hash;
        }
        let hash = crate::hash::fnv1a(name.as_bytes());
        self.last_name.set((key, hash));
        hash
    }

    /// The fingerprint so far (the trace's is written when the run ends).
    pub(super) fn fingerprint(&self) -> u64 {
        self.fp.get()
    }

    /// Records the first failure of the run; later ones are consequences.
    pub(super) fn fail(&self, failure: Failure) {
        let mut slot = self.failure.borrow_mut();
        if slot.is_none() {
            *slot = Some(failure);
            self.stop_at.set(0);
        }
    }

    pub(super) fn task_ref(&self, id: u32) -> TaskRef {
        let sched = self.sched.borrow();
        let meta = &sched.meta[id as usize];
        TaskRef {
            id,
            name: meta.name.to_string(),
            spawned_at: fmt_location(meta.location),
        }
    }

    /// The task `waker` wakes, if it is the waker of one of this run's tasks (read from
    /// the waker's data word; nothing is dereferenced).
    #[inline]
    pub(super) fn task_of(&self, waker: &Waker) -> Option<u32> {
        super::waker::task_of(self.id, waker)
    }

    /// Marks a task runnable and records the wake (as the firing of the timer whose
    /// waker is being called, if any). Wakes of finished or queued tasks are no-ops.
    #[inline(always)]
    pub(super) fn wake(&self, id: u32) {
        if self.is_current(id) {
            // A yield (see `make_runnable`), the most frequent wake: kept inline.
            self.woken.set(true);
            return;
        }
        self.wake_other(id);
    }

    /// True if `id` is the task being polled in a run that is not over.
    #[inline(always)]
    fn is_current(&self, id: u32) -> bool {
        (self.cur.get() >> 16) as u32 == id && !self.closed.get()
    }

    fn wake_other(&self, id: u32) {
        if self.make_runnable(id) {
            match self.firing.take() {
                Some(deadline_ns) => {
                    self.emit_at(Some(id), None, EventKind::TimerFire { deadline_ns })
                }
                None => self.emit(EventKind::Wake { target: id }),
            }
        }
    }

    /// Makes task `id` runnable; true if that is a wake to record (false for finished or
    /// queued tasks, a closed run, or a task waking itself during its own poll, which
    /// shows as the poll's `Yield`).
    #[inline(always)]
    pub(super) fn make_runnable(&self, id: u32) -> bool {
        if self.closed.get() {
            return false;
        }
        let cur = self.cur.get();
        if (cur >> 16) as u32 == id {
            // A wake of the task being polled, by itself: a yield. Its status is
            // `Queued` though it is not in the ready list: the step loop requeues it.
            self.woken.set(true);
            return false;
        }
        if self.world_if_made().is_some_and(|w| w.delays_on()) && self.delay_wake(id) {
            return false;
        }
        let mut sched = self.sched.borrow_mut();
        let status = &mut sched.status[id as usize];
        match *status {
            Status::Idle => {
                *status = Status::Queued;
                // The waker's worker (`NO_HOME` outside a poll: `NOBODY`'s worker).
                let home = cur as u16;
                let future = sched.futures[id as usize];
                sched.ready.push(id, home, false, future);
                true
            }
            Status::Queued | Status::Done => false,
        }
    }
}

impl Core {
    /// The fault plan may delay the wake-up of an idle task (not a timer's: timers are
    /// delayed when armed): it then becomes a timer wake later. True if delayed.
    #[cold]
    fn delay_wake(&self, id: u32) -> bool {
        let idle = self.sched.borrow().status[id as usize] == Status::Idle;
        if !idle || self.firing.get().is_some() {
            return false;
        }
        let d = crate::world::fault::injected_delay(self.world());
        if d == 0 {
            return false;
        }
        let at = self.now.get() + d;
        // Fired as a timer for the task (one `TimerFire` event; not delayed again). It
        // fires when the clock reaches `at`, so the clock is its deadline.
        fn wake(id: u64) {
            super::context::with(|core| {
                core.firing.set(Some(core.now.get()));
                core.wake(id as u32);
            })
        }
        self.timers
            .borrow_mut()
            .arm_detached(at, TimerWaker::Call(wake, id as u64));
        true
    }
}

/// `file:line:column`, the file normalised (see [`crate::trace::source_path`]).
pub(super) fn fmt_location(l: &Location<'_>) -> String {
    crate::trace::fmt_location(l)
}
