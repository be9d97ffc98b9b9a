//! The progress display of a campaign: a bar on a terminal, a plain line every few
//! seconds otherwise; its own thread reads the campaign's counters, never a run.

// The progress display reads the wall clock (runs/s, ETA); it never touches a run.
#![allow(clippy::disallowed_methods)]

use crate::explore::Progress;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A progress bar on a terminal; plain lines every few seconds otherwise.
pub(crate) struct ProgressDisplay {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProgressDisplay {
    pub(crate) fn start(progress: Arc<Progress>, quiet: bool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let tty = std::io::stderr().is_terminal();
        let thread = (!quiet).then(|| {
            let stop = stop.clone();
            // The display's own thread only reads counters; no run ever runs on it.
            std::thread::spawn(move || show(&progress, &stop, tty))
        });
        ProgressDisplay { stop, thread }
    }

    pub(crate) fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn show(progress: &Progress, stop: &AtomicBool, tty: bool) {
    let bar = indicatif::ProgressBar::new(progress.planned.load(Ordering::Relaxed));
    if tty {
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} runs  {per_sec}  {msg}  ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    // Wall clock for the progress display only (its own thread; no run reads it).
    let started = std::time::Instant::now();
    let mut last_line = started;
    while !stop.load(Ordering::Relaxed) {
        let runs = progress.runs.load(Ordering::Relaxed);
        let failures = progress.failures.load(Ordering::Relaxed);
        bar.set_length(progress.planned.load(Ordering::Relaxed));
        bar.set_position(runs);
        bar.set_message(format!("{failures} failing"));
        if !tty && last_line.elapsed() >= Duration::from_secs(5) {
            let rate = runs as f64 / started.elapsed().as_secs_f64().max(1e-9);
            errln!("detsim: {runs} runs, {failures} failing, {rate:.0} runs/s");
            last_line = std::time::Instant::now();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.finish_and_clear();
}
