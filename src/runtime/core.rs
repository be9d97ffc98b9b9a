//! [`Core`]: the state of one run, reached by tasks through the thread-local context.
//!
//! Each part sits in its own `RefCell` and is borrowed only for a short, non-reentrant
//! moment; in particular nothing is borrowed while a task is polled, so a task may spawn,
//! wake, arm timers or draw randomness freely.

use super::failure::{Failure, TaskRef};
use super::task::TaskBox;
use super::waker::Shared;
use crate::choice::Chooser;
use crate::config::Config;
use crate::explore::Strategy;
use crate::time::timers::Timers;
use crate::trace::{EventKind, Trace};
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::panic::Location;
use std::sync::Arc;

/// `Ready::home` of a task woken from outside any worker (timers, the run itself).
pub(crate) const NO_HOME: u16 = u16::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Waiting for a wake.
    Idle,
    /// In the ready list.
    Queued,
    /// Being polled; `woken` records a wake during its own poll.
    Running { woken: bool },
    /// Finished, aborted or dropped.
    Done,
}

#[derive(Debug)]
pub(crate) struct TaskMeta {
    pub(crate) status: Status,
    pub(crate) name: Cow<'static, str>,
    pub(crate) location: &'static Location<'static>,
    /// The node the task runs on (0: the main node); inherited from its spawner.
    pub(crate) node: u32,
}

/// A runnable task and the worker whose local queue it sits on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ready {
    pub(crate) task: u32,
    // invariant: `NO_HOME` or a worker index < workers.
    pub(crate) home: u16,
    // invariant: if set, `home` is busy burning for this task and only `home` may run it.
    pub(crate) pinned: bool,
}

/// Tasks, the ready list and the workers.
#[derive(Debug)]
pub(crate) struct Sched {
    pub(crate) tasks: Vec<TaskMeta>,
    // invariant: holds exactly the tasks whose status is Queued, each once.
    pub(crate) ready: Vec<Ready>,
    /// Per worker: virtual time until which it is busy burning CPU.
    pub(crate) busy_until: Vec<u64>,
    // invariant: number of workers with busy_until > now.
    pub(crate) busy: usize,
}

/// The state of one run.
pub(crate) struct Core {
    pub(crate) id: u64,
    pub(crate) config: Config,
    pub(crate) shared: Arc<Shared>,
    pub(crate) now: Cell<u64>,
    pub(crate) step: Cell<u64>,
    /// The task being polled and its worker.
    pub(crate) current: Cell<Option<(u32, u16)>>,
    /// The task polled in the previous step (strategies count preemptions against it).
    pub(crate) last_polled: Cell<Option<u32>>,
    pub(crate) sched: RefCell<Sched>,
    // invariant: slot `i` holds task i's future unless it is Done or being polled.
    // Boxed so a poll moves one pointer out of the slab and back, not the whole task.
    pub(crate) slab: RefCell<Vec<Option<Box<TaskBox>>>>,
    pub(crate) timers: RefCell<Timers>,
    /// The deadline of the timer whose waker is being called (see `fire_timers`).
    pub(crate) firing: Cell<Option<u64>>,
    /// Reused buffer of timers due at the current instant.
    pub(crate) due: RefCell<Vec<(u64, crate::time::timers::TimerWaker)>>,
    /// Identity (data and vtable pointers) of the polled task's own waker, so a timer
    /// armed with it can store the task id instead of a waker clone.
    pub(crate) current_waker: Cell<Option<(*const (), *const std::task::RawWakerVTable)>>,
    pub(crate) chooser: RefCell<Chooser>,
    pub(crate) strategy: RefCell<Box<dyn Strategy>>,
    pub(crate) trace: RefCell<Trace>,
    /// Set by `burn` during a poll: CPU time the current task's worker is busy for.
    pub(crate) burn: Cell<Option<u64>>,
    /// Set when the current task aborts itself.
    pub(crate) abort_current: Cell<bool>,
    pub(crate) main_done: Cell<bool>,
    /// Set once the run is over: wakes from dropped tasks change nothing any more.
    pub(crate) closed: Cell<bool>,
    pub(crate) failure: RefCell<Option<Failure>>,
    // invariant: true iff `failure` is Some (checked every step without a borrow).
    pub(crate) failed: Cell<bool>,
    /// True when replaying a schedule (divergence is checked only then).
    pub(crate) replaying: bool,
    pub(crate) timers_fired: Cell<u64>,
    pub(crate) switches: Cell<u64>,
    pub(crate) preemptions: Cell<u64>,
    /// The task polled most recently, across clock jumps (unlike `last_polled`).
    pub(crate) previous: Cell<Option<u32>>,
    /// The simulated world: nodes, network, faults (`crate::world`).
    pub(crate) world: crate::world::World,
}

impl Core {
    pub(crate) fn new(
        id: u64,
        config: Config,
        chooser: Chooser,
        strategy: Box<dyn Strategy>,
    ) -> Self {
        let workers = config.workers.max(1);
        let replaying = chooser.is_replaying();
        Core {
            id,
            shared: Arc::new(Shared::default()),
            now: Cell::new(0),
            step: Cell::new(0),
            current: Cell::new(None),
            last_polled: Cell::new(None),
            sched: RefCell::new(Sched {
                // Sized for small runs: most fuzzed programs have a handful of tasks.
                tasks: Vec::with_capacity(16),
                ready: Vec::with_capacity(16),
                busy_until: vec![0; workers],
                busy: 0,
            }),
            slab: RefCell::new(Vec::with_capacity(16)),
            timers: RefCell::new(Timers::default()),
            due: RefCell::new(Vec::new()),
            firing: Cell::new(None),
            current_waker: Cell::new(None),
            chooser: RefCell::new(chooser),
            strategy: RefCell::new(strategy),
            trace: RefCell::new(Trace::new(config.seed, config.trace)),
            burn: Cell::new(None),
            abort_current: Cell::new(false),
            main_done: Cell::new(false),
            closed: Cell::new(false),
            failure: RefCell::new(None),
            failed: Cell::new(false),
            replaying,
            timers_fired: Cell::new(0),
            switches: Cell::new(0),
            preemptions: Cell::new(0),
            previous: Cell::new(None),
            world: crate::world::World::new(&config),
            config,
        }
    }

    /// Records an event by the current task (if any).
    #[inline(always)]
    pub(crate) fn emit(&self, kind: EventKind) {
        let (task, worker) = match self.current.get() {
            Some((t, w)) => (Some(t), Some(w)),
            None => (None, None),
        };
        self.emit_at(task, worker, kind);
    }

    #[inline(always)]
    pub(crate) fn emit_at(&self, task: Option<u32>, worker: Option<u16>, kind: EventKind) {
        self.trace
            .borrow_mut()
            .record(self.step.get(), self.now.get(), worker, task, kind);
    }

    /// Records the first failure of the run; later ones are consequences.
    pub(crate) fn fail(&self, failure: Failure) {
        let mut slot = self.failure.borrow_mut();
        if slot.is_none() {
            *slot = Some(failure);
            self.failed.set(true);
        }
    }

    pub(crate) fn task_ref(&self, id: u32) -> TaskRef {
        let sched = self.sched.borrow();
        let meta = &sched.tasks[id as usize];
        TaskRef {
            id,
            name: meta.name.to_string(),
            spawned_at: fmt_location(meta.location),
        }
    }

    /// The id of the task being polled, if `waker` is that task's own waker (compared by
    /// identity: the same data and vtable pointers; nothing is dereferenced).
    #[inline]
    pub(crate) fn own_task(&self, waker: &std::task::Waker) -> Option<u32> {
        let (task, _) = self.current.get()?;
        let id = (waker.data(), waker.vtable() as *const _);
        (self.current_waker.get() == Some(id)).then_some(task)
    }

    /// Marks a task runnable. Wakes of finished or already queued tasks are no-ops.
    pub(crate) fn wake(&self, id: u32) {
        if self.closed.get() {
            return;
        }
        let current = self.current.get();
        if self.world.delay_p.get() > 0.0 && self.delay_wake(id) {
            return;
        }
        {
            let mut sched = self.sched.borrow_mut();
            let status = &mut sched.tasks[id as usize].status;
            match *status {
                Status::Idle => {
                    *status = Status::Queued;
                    let home = current.map_or(NO_HOME, |(_, w)| w);
                    sched.ready.push(Ready {
                        task: id,
                        home,
                        pinned: false,
                    });
                }
                Status::Running { .. } => {
                    *status = Status::Running { woken: true };
                    if current.is_some_and(|(t, _)| t == id) {
                        return; // a self-wake shows as the poll's `Yield`
                    }
                }
                Status::Queued | Status::Done => return,
            }
        }
        match self.firing.take() {
            Some(deadline_ns) => self.emit_at(Some(id), None, EventKind::TimerFire { deadline_ns }),
            None => self.emit(EventKind::Wake { target: id }),
        }
    }
}

impl Core {
    /// The fault plan may delay a wake-up of an idle task (not a timer's: those were
    /// delayed when armed): it is then a timer wake later.
    #[cold]
    fn delay_wake(&self, id: u32) -> bool {
        let idle = self.sched.borrow().tasks[id as usize].status == Status::Idle;
        if !idle || self.firing.get().is_some() {
            return false;
        }
        let d = crate::world::fault::delivery_delay(self);
        if d == 0 {
            return false;
        }
        let at = self.now.get() + d;
        let waker = crate::time::timers::TimerWaker::Task(id);
        self.timers.borrow_mut().arm(at, waker);
        true
    }
}

pub(crate) fn fmt_location(l: &Location<'_>) -> String {
    format!("{}:{}:{}", l.file(), l.line(), l.column())
}
