//! `detsim fuzz`: a campaign with a progress display, Ctrl-C, and replay commands.

// The progress display reads the wall clock (runs/s, ETA); it never touches a run.
#![allow(clippy::disallowed_methods)]

use super::args::FuzzArgs;
use super::commands::find;
use super::{indent, program_invocation, shell_quote, InputError, Verdict};
use crate::explore::{
    Campaign, CampaignError, CampaignReport, FailureKind, Fingerprint, FoundFailure, Progress,
    Regression, StopReason, StrategySpec,
};
use crate::harness::{scenario_seeds_path, SeedsFile};
use crate::{Config, Scenario};
use anyhow::Result;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The child command of `--isolate`: this very program, `run <scenario> --json`.
fn isolate_command(
    scenario: &str,
    faults: Option<&std::path::Path>,
) -> Result<crate::explore::Isolate> {
    let program = std::env::current_exe()
        .map_err(|e| anyhow::anyhow!("--isolate needs the path of this program: {e}"))?;
    Ok(crate::explore::Isolate {
        program,
        args: {
            let mut args = vec!["run".into(), scenario.into(), "--json".into()];
            if let Some(path) = faults {
                args.push("--faults".into());
                args.push(path.display().to_string());
            }
            args
        },
    })
}

/// A failure whose full-trace re-run had another fingerprint than the campaign's run.
#[derive(Debug, PartialEq, Eq)]
struct RanDifferently {
    seed: u64,
    campaign: Fingerprint,
    rerun: Fingerprint,
}

/// Re-runs each new failure with the full trace (the campaign ran trace-off) and returns
/// those whose fingerprint differs: the program leaks nondeterminism, and their seeds will
/// not replay reliably. Hangs and crashes are not re-run in this process.
fn confirm_determinism(campaign: &Campaign, report: &CampaignReport) -> Vec<RanDifferently> {
    let rerunnable = report
        .failures
        .iter()
        .filter_map(|f| Some((f, f.fingerprint?)))
        .filter(|(f, _)| f.schedule.is_none());
    let mut leaky = Vec::new();
    for (f, campaign_fp) in rerunnable.take(5) {
        let again = match campaign.rerun_full(f.seed, &f.strategy, f.workers) {
            Ok(out) => Fingerprint(out.fingerprint),
            Err(hung) => {
                errln!(
                    "detsim: warning: seed {} failed, then hung when re-run with the full trace ({hung}): the program leaks nondeterminism",
                    f.seed
                );
                continue;
            }
        };
        if again != campaign_fp {
            leaky.push(RanDifferently {
                seed: f.seed,
                campaign: campaign_fp,
                rerun: again,
            });
        }
    }
    leaky
}

/// Warns about each failure that ran differently when re-run.
fn warn_ran_differently(leaky: &[RanDifferently], scenario: &str) {
    for l in leaky {
        errln!(
            "detsim: warning: seed {} ran differently when re-run (fingerprint {} then {}): the program leaks nondeterminism; run `{} check-determinism {} --start {} --seeds 1` to find where",
            l.seed, l.campaign, l.rerun, program_invocation(), shell_quote(scenario), l.seed
        );
    }
}

pub(crate) fn fuzz(
    a: FuzzArgs,
    scenarios: &[Scenario],
    faults: Option<&std::path::Path>,
) -> Result<Verdict> {
    let scenario = find(scenarios, &a.scenario)?;
    check_fuzz_args(&a)?;
    let campaign = build_campaign(&a, scenario, faults, ctrl_c_flag())?;
    let report = run_with_progress(&campaign, a.json)?;
    let cx = Context::after_campaign(&a, scenario.name());
    print_report(&cx, &report, a.json)?;
    if !a.isolate {
        // In isolate mode a re-run belongs in a child too; skip the check there.
        warn_ran_differently(&confirm_determinism(&campaign, &report), scenario.name());
    }
    if report.stopped == StopReason::Hung {
        exit_after_hang();
    }
    Ok(if report.failed() {
        Verdict::Fail
    } else {
        Verdict::Pass
    })
}

/// Rejects an empty seed range, and a dfs campaign split into shards.
fn check_fuzz_args(a: &FuzzArgs) -> Result<()> {
    if a.seeds == 0 {
        return Err(
            InputError("--seeds must be at least 1 (the seed range is empty)".into()).into(),
        );
    }
    let shard = a.resolved_shard()?;
    if matches!(a.strategy, StrategySpec::Dfs { .. }) && shard.count > 1 {
        return Err(InputError(format!(
            "--shard {} cannot split --strategy {}: dfs explores the schedules of one seed \
             (--start) on one thread; shard random or pct campaigns instead",
            shard, a.strategy
        ))
        .into());
    }
    Ok(())
}

/// A flag that Ctrl-C sets, for the campaign to poll.
fn ctrl_c_flag() -> Arc<AtomicBool> {
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    // Only the first handler registration in a process succeeds; a second fuzz in the
    // same process keeps the first (fine: both set a flag the campaign polls).
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed));
    interrupt
}

/// The campaign the arguments describe, stopped early when `interrupt` is set.
fn build_campaign(
    a: &FuzzArgs,
    scenario: &Scenario,
    faults: Option<&std::path::Path>,
    interrupt: Arc<AtomicBool>,
) -> Result<Campaign> {
    Ok(
        Campaign::new(scenario.clone(), Config::default().workers(a.workers))
            .seeds(a.seeds)
            .start(a.start)
            .strategy(a.strategy)
            .jobs(a.jobs)
            .shard(a.resolved_shard()?)
            .keep_going(a.keep_going)
            .time_limit(a.time)
            .seeds_dir(Some(a.seeds_dir.clone()))
            .watchdog(Some(a.watchdog))
            .isolate(
                a.isolate
                    .then(|| isolate_command(scenario.name(), faults))
                    .transpose()?,
            )
            .interrupt(interrupt),
    )
}

/// Runs the campaign behind a progress display (none with `--json`).
fn run_with_progress(campaign: &Campaign, json: bool) -> Result<CampaignReport> {
    let display = ProgressDisplay::start(campaign.progress(), json);
    let report = campaign.run().map_err(|e| match e {
        CampaignError::Seeds(e) => anyhow::Error::new(InputError(e.to_string())),
        other => other.into(),
    });
    display.finish();
    report
}

/// The text report on stdout; with `--json`, the JSON report there and the text on stderr.
fn print_report(cx: &Context<'_>, report: &CampaignReport, json: bool) -> Result<()> {
    let text = text_report(cx, report);
    if json {
        outln!("{}", json_report(cx, report)?);
        err!("{text}");
    } else {
        out!("{text}");
    }
    Ok(())
}

/// Ends the process with status 1 after a run hung.
fn exit_after_hang() -> ! {
    // The hung run's thread cannot be stopped; leaving the process is what ends it.
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    std::process::exit(1);
}

/// Where a printed failure comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// A case of the seeds file that still fails.
    SeedsFile,
    /// Found by this campaign.
    Campaign,
    /// Found by this campaign, and already a case of the seeds file.
    Both,
    /// Left in flight by a campaign that died, re-run by this one.
    Resumed,
}

/// What the text and JSON reports need besides the campaign report.
struct Context<'a> {
    scenario: &'a str,
    seeds_path: PathBuf,
    /// The seeds file as it was after the campaign (for DFS cases' schedule files).
    seeds_file: Option<SeedsFile>,
    keep_going: usize,
    watchdog: Duration,
}

impl<'a> Context<'a> {
    /// The context of the report of `scenario`'s campaign, read once the campaign ran
    /// (it may have added cases to the seeds file).
    fn after_campaign(a: &FuzzArgs, scenario: &'a str) -> Self {
        let seeds_path = scenario_seeds_path(&a.seeds_dir, scenario);
        Context {
            scenario,
            seeds_file: SeedsFile::load(&seeds_path).ok(),
            seeds_path,
            keep_going: a.keep_going,
            watchdog: a.watchdog,
        }
    }

    /// The exact command that reproduces `f`, or why there is none.
    fn replay_command(&self, f: &FoundFailure) -> Result<String, String> {
        let schedule = f.schedule.clone().or_else(|| self.case_schedule(f));
        let program = program_invocation();
        let scenario = shell_quote(self.scenario);
        match schedule {
            Some(path) => Ok(format!(
                "{program} replay {scenario} --schedule {} --trace text",
                shell_quote(&path)
            )),
            None if matches!(f.strategy, StrategySpec::Dfs { .. }) => {
                Err("none: a dfs failure replays from its schedule file, and none was saved".into())
            }
            None => Ok(format!(
                "{program} replay {scenario} --seed {} --strategy {} --workers {} --trace text",
                f.seed, f.strategy, f.workers
            )),
        }
    }

    /// The `schedule=` of the seeds file's case for the same run as `f` (DFS cases).
    fn case_schedule(&self, f: &FoundFailure) -> Option<String> {
        let file = self.seeds_file.as_ref()?;
        file.cases
            .iter()
            .filter(|c| (c.seed, c.strategy, c.workers) == (f.seed, f.strategy, f.workers))
            .find_map(|c| {
                c.extra
                    .iter()
                    .find(|(k, _)| k == "schedule")
                    .map(|(_, v)| v.clone())
            })
    }

    fn stop_reason(&self, r: &CampaignReport) -> String {
        match r.stopped {
            StopReason::Exhausted if r.complete == Some(true) => {
                "complete: explored every schedule within the preemption bound".into()
            }
            StopReason::Exhausted => "every seed ran".into(),
            StopReason::Failures if self.keep_going == 1 => {
                "stopped at the first failure; --keep-going K collects up to K distinct failures"
                    .into()
            }
            StopReason::Failures => {
                format!("stopped after {} distinct failures", self.keep_going)
            }
            StopReason::TimeLimit => "stopped by the --time limit".into(),
            StopReason::Interrupted => "interrupted".into(),
            StopReason::Hung => format!(
                "gave up after runs hung (ran past the --watchdog of {:?}) on several threads: \
                 a hung run's thread cannot be stopped",
                self.watchdog
            ),
            StopReason::RunCap => format!(
                "dfs stopped after --seeds {} runs before exploring every schedule",
                r.seeds
            ),
        }
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The failures to print: seeds-file cases that still fail, then this campaign's. A case
/// that the campaign found again is printed once, as the campaign's (same run, and for dfs
/// the campaign's carries the schedule file).
fn shown_failures(r: &CampaignReport) -> Vec<(&FoundFailure, Origin)> {
    let mut shown: Vec<(&FoundFailure, Origin)> = r
        .regressions
        .iter()
        .filter_map(|g| g.failure.as_ref())
        .filter(|g| !r.failures.iter().any(|f| f.same_run(g)))
        .map(|g| (g, Origin::SeedsFile))
        .collect();
    shown.extend(r.resumed_failures.iter().map(|f| (f, Origin::Resumed)));
    for f in &r.failures {
        let again = r
            .regressions
            .iter()
            .filter_map(|g| g.failure.as_ref())
            .any(|g| f.same_run(g));
        shown.push((
            f,
            if again {
                Origin::Both
            } else {
                Origin::Campaign
            },
        ));
    }
    shown
}

fn text_report(cx: &Context<'_>, r: &CampaignReport) -> String {
    let mut out = String::new();
    if !r.regressions.is_empty() {
        out += &regression_lines(cx, &r.regressions);
    }
    out += &resumed_lines(&r.resumed_in_flight);
    out += &failure_blocks(cx, r);
    out += &summary_lines(cx, r);
    if !r.failures.is_empty() || !r.resumed_failures.is_empty() {
        out += &format!(
            "exit status 1: a bug was found; failing seeds are kept in {} and replay with the commands above\n",
            cx.seeds_path.display()
        );
    } else if r.failed() {
        out += &format!(
            "exit status 1: cases of {} still fail; replay them with the commands above\n",
            cx.seeds_path.display()
        );
    }
    out
}

/// How many seeds-file cases still fail and pass, then a line per case that passes now.
fn regression_lines(cx: &Context<'_>, regressions: &[Regression]) -> String {
    let failing = regressions.iter().filter(|g| g.failure.is_some()).count() as u64;
    let passing = regressions.len() as u64 - failing;
    let mut out = format!(
        "{}: replayed {}: {failing} still {}, {passing} {} now\n",
        cx.seeds_path.display(),
        plural(regressions.len() as u64, "case", "cases"),
        if failing == 1 { "fails" } else { "fail" },
        if passing == 1 { "passes" } else { "pass" },
    );
    for g in regressions.iter().filter(|g| g.failure.is_none()) {
        out += &format!(
            "  seed {} ({}, {} workers): passes now\n",
            g.seed, g.strategy, g.workers
        );
    }
    out
}

/// A line per seed re-run because a campaign that died left it in flight.
fn resumed_lines(seeds: &[u64]) -> String {
    seeds
        .iter()
        .map(|seed| format!("re-ran seed {seed}, left in flight by a campaign that died\n"))
        .collect()
}

/// A block per failure to show (see [`shown_failures`]), each with its replay command.
fn failure_blocks(cx: &Context<'_>, r: &CampaignReport) -> String {
    shown_failures(r)
        .into_iter()
        .map(|(f, origin)| failure_block(cx, f, origin))
        .collect()
}

fn failure_block(cx: &Context<'_>, f: &FoundFailure, origin: Origin) -> String {
    let fingerprint = f
        .fingerprint
        .map(|fp| format!(", fingerprint {fp}"))
        .unwrap_or_default();
    let from = match origin {
        Origin::SeedsFile => format!(", from {}", cx.seeds_path.display()),
        Origin::Both => format!(", also in {}", cx.seeds_path.display()),
        Origin::Resumed => ", left in flight by a campaign that died".to_string(),
        Origin::Campaign => String::new(),
    };
    let mut replay = cx.replay_command(f).unwrap_or_else(|why| why);
    if f.kind == FailureKind::Hang {
        replay += &format!(
            "\n  (it hangs: the replay runs past the {:?} watchdog too; stop it with Ctrl-C)",
            cx.watchdog
        );
    }
    format!(
        "\nFAILED seed {} ({}, {} workers{fingerprint}{from}):\n{}\n  replay: {replay}\n",
        f.seed,
        f.strategy,
        f.workers,
        indent(&f.message, "  "),
    )
}

/// The counts of runs, passes and failures, what ran, and why the campaign stopped.
fn summary_lines(cx: &Context<'_>, r: &CampaignReport) -> String {
    let distinct = if r.failures.len() > 1 {
        format!(" ({} distinct)", r.failures.len())
    } else {
        String::new()
    };
    format!(
        "\n{}: {}, {} passed, {} failed{distinct} ({}, strategy {}, {} workers, shard {})\n{}\n",
        cx.scenario,
        plural(r.runs, "run", "runs"),
        r.passes,
        r.runs.saturating_sub(r.passes),
        seed_range(r),
        r.strategy,
        r.workers,
        r.shard,
        cx.stop_reason(r),
    )
}

/// The seeds the campaign covered: dfs's one seed and run cap, or the range.
fn seed_range(r: &CampaignReport) -> String {
    match r.complete {
        Some(_) => format!("seed {}, at most {} runs", r.start, r.seeds),
        None => format!(
            "seeds {}..{}",
            r.start,
            r.start as u128 + u128::from(r.seeds)
        ),
    }
}

/// The report as JSON, plus what the text report adds: each failure's `replay` command
/// (`null` if there is none) and the `seeds_file` path.
fn json_report(cx: &Context<'_>, r: &CampaignReport) -> Result<String> {
    let mut value = serde_json::to_value(r)?;
    let add_replay = |v: &mut serde_json::Value, f: &FoundFailure| {
        if let Some(obj) = v.as_object_mut() {
            obj.insert("replay".into(), cx.replay_command(f).ok().into());
        }
    };
    if let Some(list) = value.get_mut("failures").and_then(|v| v.as_array_mut()) {
        for (v, f) in list.iter_mut().zip(&r.failures) {
            add_replay(v, f);
        }
    }
    if let Some(list) = value
        .get_mut("resumed_failures")
        .and_then(|v| v.as_array_mut())
    {
        for (v, f) in list.iter_mut().zip(&r.resumed_failures) {
            add_replay(v, f);
        }
    }
    if let Some(list) = value.get_mut("regressions").and_then(|v| v.as_array_mut()) {
        for (v, g) in list.iter_mut().zip(&r.regressions) {
            if let (Some(v), Some(f)) = (v.get_mut("failure"), &g.failure) {
                add_replay(v, f);
            }
        }
    }
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "seeds_file".into(),
            cx.seeds_path.display().to_string().into(),
        );
    }
    Ok(serde_json::to_string_pretty(&value)?)
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
            // The display's own thread only reads counters; no run ever runs on it.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_that_does_not_reproduce_is_flagged() {
        #[allow(clippy::disallowed_types)] // the leak under test
        let leaky = Scenario::new("leaky", "fails, then runs differently", || async {
            let map: std::collections::HashMap<u32, ()> = (0..16).map(|i| (i, ())).collect();
            for (&k, _) in map.iter().take(4) {
                crate::task::spawn_named(format!("t{k}"), async {})
                    .await
                    .unwrap();
            }
            panic!("always fails");
        });
        let campaign = Campaign::new(leaky, Config::default()).seeds(1).jobs(1);
        let report = campaign.run().unwrap();
        assert_eq!(report.failures.len(), 1);
        let leaky = confirm_determinism(&campaign, &report);
        assert_eq!(leaky.iter().map(|l| l.seed).collect::<Vec<_>>(), vec![0]);
        assert_ne!(leaky[0].campaign, leaky[0].rerun);
        let honest = Scenario::new("honest", "fails the same way every time", || async {
            panic!("always fails");
        });
        let campaign = Campaign::new(honest, Config::default()).seeds(1).jobs(1);
        let report = campaign.run().unwrap();
        assert!(confirm_determinism(&campaign, &report).is_empty());
    }
}
