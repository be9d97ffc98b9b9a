//! `detsim fuzz`: builds the campaign from the arguments, runs it behind the progress
//! display (`progress.rs`), prints its report (`render.rs`), re-runs new failures to
//! check they reproduce, and turns the outcome into a verdict (`process.rs` holds Ctrl-C
//! and the exit after a hang).

use super::args::FuzzArgs;
use super::commands::find;
use super::process::{ctrl_c_flag, exit_after_hang};
use super::progress::ProgressDisplay;
use super::render::{json_report, text_report, Context};
use super::{program_invocation, shell_quote, InputError, Verdict};
use crate::explore::{Campaign, CampaignError, CampaignReport, Fingerprint, StopReason};
use crate::harness::scenario_seeds_path;
use crate::{Config, Scenario};
use anyhow::Result;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

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
    let seeds_dir = a.campaign.seeds_dir.clone().unwrap_or_default();
    let seeds_path = scenario_seeds_path(&seeds_dir, scenario.name());
    let cx = Context::new(scenario.name(), seeds_path, a.campaign.watchdog);
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

/// Rejects an empty seed range and a shard `auto` cannot resolve.
fn check_fuzz_args(a: &FuzzArgs) -> Result<()> {
    if a.campaign.seeds == 0 {
        return Err(
            InputError("--seeds must be at least 1 (the seed range is empty)".into()).into(),
        );
    }
    a.resolved_shard()?;
    Ok(())
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
            .options(a.campaign.clone())
            .shard(a.resolved_shard()?)
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
