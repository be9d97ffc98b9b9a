//! The report of a campaign as people read it (text) and as scripts read it (JSON with
//! each failure's `replay` command and the `seeds_file` path): shared by `fuzz` and
//! `merge`.

use super::{indent, program_invocation, shell_quote};
use crate::explore::{
    CampaignReport, FailureKind, FoundFailure, Regression, StopReason, StrategySpec,
};
use crate::harness::SeedsFile;
use anyhow::Result;
use std::path::PathBuf;
use std::time::Duration;

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
pub(crate) struct Context<'a> {
    scenario: &'a str,
    seeds_path: PathBuf,
    /// The seeds file as it was after the campaign (for DFS cases' schedule files).
    seeds_file: Option<SeedsFile>,
    /// The campaign's `--watchdog`, if known (a merge of shard reports does not know it).
    watchdog: Option<Duration>,
}

impl<'a> Context<'a> {
    /// The context of the report of `scenario`'s campaign, read once the campaign ran
    /// (it may have added cases to the seeds file `seeds_path`).
    pub(crate) fn new(scenario: &'a str, seeds_path: PathBuf, watchdog: Option<Duration>) -> Self {
        Context {
            scenario,
            seeds_file: SeedsFile::load(&seeds_path).ok(),
            seeds_path,
            watchdog,
        }
    }

    /// `--watchdog`, as the reports mention it.
    fn watchdog(&self) -> String {
        match self.watchdog {
            Some(w) => format!("the --watchdog of {w:?}"),
            None => "the --watchdog".into(),
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
                let dir = self.seeds_path.parent().unwrap_or(std::path::Path::new(""));
                c.schedule_path(dir).map(|p| p.display().to_string())
            })
    }

    fn stop_reason(&self, r: &CampaignReport) -> String {
        match r.stopped {
            StopReason::Exhausted if r.complete == Some(true) => {
                "complete: explored every schedule within the preemption bound".into()
            }
            StopReason::Exhausted => "every seed ran".into(),
            StopReason::Failures if r.keep_going == 1 => {
                "stopped at the first failure; --keep-going K collects up to K distinct failures"
                    .into()
            }
            StopReason::Failures => {
                format!("stopped after {} distinct failures", r.keep_going)
            }
            StopReason::TimeLimit => "stopped by the --time limit".into(),
            StopReason::Interrupted => "interrupted".into(),
            StopReason::Hung => format!(
                "gave up after runs hung (ran past {}) on several threads: \
                 a hung run's thread cannot be stopped",
                self.watchdog()
            ),
            StopReason::Nondeterministic => format!(
                "dfs stopped: the search cannot go on, {}; `check-determinism {} --start {}` looks for the leak",
                r.nondeterminism.as_deref().unwrap_or("the program is not deterministic"),
                shell_quote(self.scenario),
                r.start
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

pub(crate) fn text_report(cx: &Context<'_>, r: &CampaignReport) -> String {
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
            "\n  (it hangs: the replay runs past {} too; stop it with Ctrl-C)",
            cx.watchdog()
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
pub(crate) fn json_report(cx: &Context<'_>, r: &CampaignReport) -> Result<String> {
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
