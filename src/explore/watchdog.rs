//! The per-run wall-clock watchdog of a campaign.
//!
//! A run stuck in a synchronous loop (no `.await`) never returns to the step loop, so
//! no step or virtual-time limit can stop it. A thread cannot be killed safely, so the
//! watchdog does the next best thing: it names the seed, lets the campaign save it and
//! report, and abandons the stuck thread (the CLI then exits the process; `isolate`
//! mode avoids even that by running each seed in a child process). This is the one place
//! besides progress reporting where detsim reads the real clock.

// The watchdog measures real time by design (see above); runs never see it.
#![allow(clippy::disallowed_methods)]

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

type Slots = Arc<Vec<Mutex<Option<(u64, Instant)>>>>;

#[derive(Debug)]
pub(crate) struct Watchdog {
    limit: Duration,
    slots: Slots,
}

/// What a campaign thread uses to say which seed it is running.
#[derive(Debug, Clone)]
pub(crate) struct SlotHandle {
    slots: Slots,
}

impl SlotHandle {
    pub(crate) fn start(&self, slot: usize, seed: u64) {
        *self.slots[slot].lock().unwrap_or_else(|e| e.into_inner()) = Some((seed, Instant::now()));
    }

    pub(crate) fn stop(&self, slot: usize) {
        *self.slots[slot].lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

impl Watchdog {
    pub(crate) fn new(limit: Duration, jobs: usize) -> Self {
        Watchdog {
            limit,
            slots: Arc::new((0..jobs.max(1)).map(|_| Mutex::new(None)).collect()),
        }
    }

    pub(crate) fn slot_handle(&self) -> SlotHandle {
        SlotHandle {
            slots: self.slots.clone(),
        }
    }

    /// Waits until every thread finished (`None`) or a run overstays (its seed).
    pub(crate) fn watch(&self, threads: &[JoinHandle<()>]) -> Option<(u64, Duration)> {
        let tick = (self.limit / 10).clamp(Duration::from_millis(1), Duration::from_millis(100));
        loop {
            if threads.iter().all(JoinHandle::is_finished) {
                return None;
            }
            for slot in self.slots.iter() {
                let current = *slot.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((seed, started)) = current {
                    let elapsed = started.elapsed();
                    if elapsed > self.limit {
                        return Some((seed, elapsed));
                    }
                }
            }
            std::thread::sleep(tick);
        }
    }
}
