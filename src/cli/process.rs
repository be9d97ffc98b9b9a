//! What `fuzz` does with the process: Ctrl-C becomes a flag the campaign polls (it stops
//! cleanly and prints the report so far), and a campaign that abandoned a hung run's
//! thread ends the process, the only way to stop that thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A flag that Ctrl-C sets, for the campaign to poll.
pub(crate) fn ctrl_c_flag() -> Arc<AtomicBool> {
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    // Only the first handler registration in a process succeeds; a second fuzz in the
    // same process keeps the first (fine: both set a flag the campaign polls).
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed));
    interrupt
}

/// Ends the process with status 1 after a run hung.
pub(crate) fn exit_after_hang() -> ! {
    // The hung run's thread cannot be stopped; leaving the process is what ends it.
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    std::process::exit(1);
}
