//! Capturing panics of simulated tasks: message and location, without printing them.
//!
//! A panic hook is process-wide, so detsim installs one (once) that only acts on threads
//! currently inside a run: it records the message and location for the [`crate::Failure`]
//! report and stays quiet (a fuzzing campaign would otherwise print thousands of
//! backtraces). On every other thread it defers to the hook that was installed before.
//!
//! Staying quiet must never hide a panic that nobody reports:
//! 1. A panic that escapes the run (one outside any task's poll or drop: a harness bug, a
//!    user strategy) is printed by [`QuietGuard`]'s drop as it unwinds past the run.
//! 2. A panic while unwinding from another (a `Drop` that panics while a task panics)
//!    makes Rust abort the process with only "panic in a destructor during cleanup"; the
//!    hook then prints the panics it recorded and not yet handed out, before the abort.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::sync::Once;

thread_local! {
    static INSIDE: Cell<u32> = const { Cell::new(0) };
    /// Panics recorded on this thread and not yet taken by a `catch_unwind` site, oldest
    /// first. invariant: holds at most [`KEPT`] entries.
    static PENDING: RefCell<Vec<Recorded>> = const { RefCell::new(Vec::new()) };
}

/// How many unreported panics are kept (the last ones matter for a report).
const KEPT: usize = 4;

/// The messages std gives the panic that aborts a thread unwinding from a panic.
const ABORTING: [&str; 2] = [
    "panic in a destructor during cleanup",
    "panic in a function that cannot unwind",
];

/// One panic as the hook saw it.
#[derive(Debug)]
struct Recorded {
    message: String,
    location: Option<String>,
}

impl std::fmt::Display for Recorded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.location {
            Some(at) => write!(f, "panicked at {at}: {}", self.message),
            None => write!(f, "panicked: {}", self.message),
        }
    }
}

static INSTALL: Once = Once::new();

/// Installs the hook (idempotent).
pub(crate) fn install_hook() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if INSIDE.with(Cell::get) == 0 {
                return previous(info);
            }
            let recorded = Recorded {
                message: message(info.payload()),
                location: info.location().map(crate::trace::fmt_location),
            };
            if ABORTING.contains(&recorded.message.as_str()) {
                report_abort(&recorded);
            }
            PENDING.with(|p| {
                let mut p = p.borrow_mut();
                if p.len() == KEPT {
                    p.remove(0);
                }
                p.push(recorded);
            });
        }));
    });
}

/// Prints the panics this thread was unwinding from when `last` made Rust abort.
fn report_abort(last: &Recorded) {
    let mut text = String::from("detsim: a panic while unwinding from another panic; Rust aborts the process. The panics, oldest first:\n");
    PENDING.with(|p| {
        for r in p.borrow().iter() {
            text.push_str(&format!("  {r}\n"));
        }
    });
    text.push_str(&format!("  {last}\n"));
    print_err(&text);
}

/// Writes to stderr, ignoring errors (a closed stderr must not panic in a panic hook).
fn print_err(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Marks this thread as running a simulation while the guard lives (nests).
pub(crate) struct QuietGuard(());

impl QuietGuard {
    pub(crate) fn new() -> Self {
        install_hook();
        INSIDE.with(|c| c.set(c.get() + 1));
        QuietGuard(())
    }
}

impl Drop for QuietGuard {
    fn drop(&mut self) {
        INSIDE.with(|c| c.set(c.get() - 1));
        if std::thread::panicking() {
            // Rule 1: the panic was not caught by a task's poll or drop, so nobody else
            // will say what it was.
            if let Some(r) = PENDING.with(|p| p.borrow_mut().pop()) {
                let text = format!("detsim: a panic outside any task ended the run: {r}\n");
                print_err(&text);
            }
        }
    }
}

/// The location recorded by the last panic on this thread (the panic a `catch_unwind`
/// site just caught); forgets every recorded panic.
pub(crate) fn take_location() -> Option<String> {
    PENDING.with(|p| {
        let mut pending = p.borrow_mut();
        let last = pending.pop();
        pending.clear();
        last.and_then(|r| r.location)
    })
}

/// The message of a panic payload.
pub(crate) fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
}
