//! Capturing panics of simulated tasks: message and location, without printing them.
//!
//! A panic hook is process-wide, so detsim installs one (once) that only acts on threads
//! currently inside a run: it records the location for the [`crate::Failure`] report and
//! stays quiet (a fuzzing campaign would otherwise print thousands of backtraces). On
//! every other thread it defers to the hook that was installed before.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::sync::Once;

thread_local! {
    static INSIDE: Cell<u32> = const { Cell::new(0) };
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL: Once = Once::new();

/// Installs the hook (idempotent).
pub(crate) fn install_hook() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if INSIDE.with(Cell::get) > 0 {
                let loc = info.location().map(crate::trace::fmt_location);
                LOCATION.with(|cell| *cell.borrow_mut() = loc);
            } else {
                previous(info);
            }
        }));
    });
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
    }
}

/// The location recorded by the last panic on this thread.
pub(crate) fn take_location() -> Option<String> {
    LOCATION.with(|cell| cell.borrow_mut().take())
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
