//! `detsim fuzz`: a campaign with a progress display, Ctrl-C, and replay commands.

use super::args::FuzzArgs;
use super::commands::find;
use super::{program_invocation, InputError, Verdict};
use crate::explore::{Campaign, CampaignError, CampaignReport, FoundFailure, Progress, StopReason};
use crate::{Config, Scenario};
use anyhow::Result;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub(crate) fn fuzz(a: FuzzArgs, scenarios: &[Scenario]) -> Result<Verdict> {
    let scenario = find(scenarios, &a.scenario)?;
    if a.seeds == 0 {
        return Err(
            InputError("--seeds must be at least 1 (the seed range is empty)".into()).into(),
        );
    }
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    // Only the first handler registration in a process succeeds; a second fuzz in the
    // same process keeps the first (fine: both set a flag the campaign polls).
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed));
    let campaign = Campaign::new(
        scenario.clone(),
        Config::default().workers(a.workers as usize),
    )
    .seeds(a.seeds)
    .start(a.start)
    .strategy(a.strategy)
    .jobs(a.jobs)
    .shard(a.shard)
    .keep_going(a.keep_going)
    .time_limit(a.time)
    .seeds_dir(Some(a.seeds_dir.clone()))
    .watchdog(Some(a.watchdog))
    .interrupt(interrupt);
    let display = ProgressDisplay::start(campaign.progress(), a.json);
    let report = campaign.run().map_err(|e| match e {
        CampaignError::Seeds(e) => anyhow::Error::new(InputError(e.to_string())),
        other => other.into(),
    });
    display.finish();
    let report = report?;
    print_report(&campaign, &report, a.json)?;
    if report.stopped == StopReason::Hung {
        // The hung run's thread cannot be stopped; leaving the process is what ends it.
        std::process::exit(1);
    }
    Ok(if report.failed() {
        Verdict::Fail
    } else {
        Verdict::Pass
    })
}

fn replay_command(scenario: &str, f: &FoundFailure) -> String {
    match &f.schedule {
        Some(path) => format!(
            "{} replay {scenario} --schedule {path} --trace text",
            program_invocation()
        ),
        None => format!(
            "{} replay {scenario} --seed {} --strategy {} --workers {} --trace text",
            program_invocation(),
            f.seed,
            f.strategy,
            f.workers
        ),
    }
}

fn print_report(campaign: &Campaign, r: &CampaignReport, json: bool) -> Result<()> {
    let name = campaign.scenario().name();
    if json {
        println!("{}", serde_json::to_string_pretty(r)?);
    }
    let mut out = String::new();
    for reg in &r.regressions {
        let status = reg.failure.as_ref().map_or("passes now".to_string(), |f| {
            format!("still fails: {}", f.message)
        });
        out += &format!(
            "regression seed {} ({}, {} workers): {status}\n",
            reg.seed, reg.strategy, reg.workers
        );
    }
    for seed in &r.resumed_in_flight {
        out += &format!("re-ran seed {seed}, left in flight by an interrupted campaign\n");
    }
    for f in r
        .failures
        .iter()
        .chain(r.regressions.iter().filter_map(|g| g.failure.as_ref()))
    {
        out += &format!(
            "\nFAILED seed {} ({}, {} workers, fingerprint {}):\n  {}\n  replay: {}\n",
            f.seed,
            f.strategy,
            f.workers,
            f.fingerprint,
            f.message,
            replay_command(name, f)
        );
    }
    let complete = match r.complete {
        Some(true) => " (complete: every schedule within the bound was explored)",
        Some(false) => " (not complete)",
        None => "",
    };
    out += &format!(
        "\n{name}: {} runs, {} passed, {} new failures, strategy {}, shard {}, stopped: {:?}{complete}\n",
        r.runs, r.passes, r.failures.len(), r.strategy, r.shard, r.stopped
    );
    if r.failed() {
        out += "exit status 1: a bug was found; the failing seeds are saved in the seeds file and replay with the commands above\n";
    }
    if json {
        eprint!("{out}");
    } else {
        print!("{out}");
    }
    Ok(())
}

/// A progress bar on a terminal; plain lines every few seconds otherwise.
struct ProgressDisplay {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProgressDisplay {
    fn start(progress: Arc<Progress>, quiet: bool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let tty = std::io::stderr().is_terminal();
        let thread = (!quiet).then(|| {
            let stop = stop.clone();
            std::thread::spawn(move || show(&progress, &stop, tty))
        });
        ProgressDisplay { stop, thread }
    }

    fn finish(mut self) {
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
            eprintln!("detsim: {runs} runs, {failures} failing, {rate:.0} runs/s");
            last_line = std::time::Instant::now();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.finish_and_clear();
}
