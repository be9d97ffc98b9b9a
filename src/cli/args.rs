//! The command line, as clap derive types.

pub(crate) use crate::explore::options::{parse_jobs, parse_seed, parse_wall_time};
use crate::explore::{CampaignOptions, Shard, StrategySpec};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Deterministic simulation testing for async Rust: fuzz, replay and shrink the
/// schedules of registered scenarios.
const AFTER_HELP: &str = "\
Typical session:
  detsim list                                   the scenarios
  detsim fuzz bank                              search seeds; prints a replay command per failure
  detsim replay bank --seed 17 --trace text     re-run one exactly, with the full trace
  detsim shrink bank --seed 17 --out bank.schedule

Environment (a flag on the command line wins):
  DETSIM_SEED=N       run/replay/shrink: --seed N; fuzz/check-determinism: only seed N
  DETSIM_SEEDS=N      fuzz/check-determinism: --seeds N
  DETSIM_STRATEGY=S   --strategy S (every command that takes it)
  DETSIM_WORKERS=W    --workers W (every command that takes it)
  DETSIM_JOBS=J       fuzz: --jobs J

Exit status: 0 every run passed; 1 a failure was found or reproduced;
2 usage or input error (bad arguments, unknown scenario, corrupt seeds or schedule file).";

#[derive(Debug, Parser)]
#[command(name = "detsim", version, about, long_about = None, after_help = AFTER_HELP)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// Fault plan (TOML or JSON) for the simulated world; replaces the scenario's own.
    /// Pass the same file to replay, shrink or re-fuzz what it found.
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) faults: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List the scenarios: name, then a one-line description.
    List,
    /// Run one seed and print the outcome.
    Run(RunArgs),
    /// Run a campaign over many seeds (replays seeds/<scenario>.seeds first).
    Fuzz(FuzzArgs),
    /// Re-run a seed or a schedule file exactly (--trace for the full trace).
    Replay(ReplayArgs),
    /// Shrink a failing seed or schedule to a smaller schedule with the same failure.
    Shrink(ShrinkArgs),
    /// Run each seed twice, and once more on another thread; fail on any difference.
    CheckDeterminism(DeterminismArgs),
    /// Merge the `fuzz --json` reports (and seeds files) of the shards of one campaign
    /// into the unsharded campaign's report.
    Merge(MergeArgs),
}

/// Output formats of a trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum TraceFormat {
    /// Stable text, one event per line.
    Text,
    /// JSON lines (the task table, then the events).
    Json,
    /// Chrome trace-event JSON (open in Perfetto or chrome://tracing).
    Chrome,
    /// A self-contained HTML timeline.
    Html,
}

/// Options shared by the commands that run one seed.
#[derive(Debug, Args)]
pub(crate) struct RunOpts {
    /// Simulated worker threads, 1 to 1024 (a schedule file brings its own).
    #[arg(long, default_value_t = 4, value_parser = parse_workers)]
    pub(crate) workers: usize,
    /// Strategy: random (the default), swarm or pct:DEPTH[:STEPS] (dfs runs replay from their schedule file).
    #[arg(long, default_value = "random")]
    pub(crate) strategy: StrategySpec,
    /// Print the trace in this format on stdout (with json, chrome and html, stdout holds
    /// only the trace and the summary goes to stderr).
    #[arg(long, value_enum)]
    pub(crate) trace: Option<TraceFormat>,
    /// Write the trace to this file instead of stdout (needs --trace; never replaces
    /// anything but a regular file).
    #[arg(long, requires = "trace")]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Scenario name (see `detsim list`).
    pub(crate) scenario: String,
    /// The seed (decimal, or hex with 0x).
    #[arg(long, value_parser = parse_seed)]
    pub(crate) seed: u64,
    #[command(flatten)]
    pub(crate) opts: RunOpts,
    /// Also save the run's schedule to this file.
    #[arg(long)]
    pub(crate) schedule_out: Option<PathBuf>,
    /// Print only a one-line JSON summary (seed, fingerprint, failure): the protocol of
    /// `fuzz --isolate`'s child processes.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `--shard`: a fixed `K/N`, or `auto` (resolved from the environment when fuzz starts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ShardArg {
    /// `K/N`.
    Fixed(Shard),
    /// `auto`.
    Auto,
}

impl std::str::FromStr for ShardArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "auto" => Ok(ShardArg::Auto),
            k_n => k_n
                .parse()
                .map(ShardArg::Fixed)
                .map_err(|e: String| e.replace("expected K/N", "expected auto or K/N")),
        }
    }
}

impl FuzzArgs {
    /// The shard to run: `--shard K/N`, or the batch engine's for `--shard auto`.
    pub(crate) fn resolved_shard(&self) -> Result<Shard, super::InputError> {
        match self.shard {
            ShardArg::Fixed(shard) => Ok(shard),
            ShardArg::Auto => Shard::from_batch_env(|k| std::env::var(k).ok(), self.shard_count)
                .map_err(super::InputError),
        }
    }
}

/// `detsim fuzz`: the campaign's options are [`CampaignOptions`]' fields (flattened:
/// `--seeds`, `--start`, `--strategy`, `--jobs`, `--keep-going`, `--time`, `--seeds-dir`,
/// `--watchdog`); what only the command has is here.
#[derive(Debug, Args)]
pub(crate) struct FuzzArgs {
    /// Scenario name (see `detsim list`).
    pub(crate) scenario: String,
    #[command(flatten)]
    pub(crate) campaign: CampaignOptions,
    /// Simulated worker threads per run, 1 to 1024.
    #[arg(long, default_value_t = 4, value_parser = parse_workers)]
    pub(crate) workers: usize,
    /// Run only shard K of N (every N-th seed, 1-based K), or `auto`: the shard the
    /// batch engine assigned (DETSIM_SHARD=K/N; Kubernetes JOB_COMPLETION_INDEX with
    /// --shard-count or DETSIM_SHARD_COUNT; Slurm SLURM_ARRAY_TASK_ID/_COUNT).
    #[arg(long, default_value = "1/1")]
    pub(crate) shard: ShardArg,
    /// Number of shards for `--shard auto` under a Kubernetes Indexed Job (its
    /// completions).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) shard_count: Option<u64>,
    /// Print a machine-readable JSON summary on stdout.
    #[arg(long)]
    pub(crate) json: bool,
    /// Run every seed in a child process: survives aborts, stack overflows and runaway
    /// loops (the child is killed at the watchdog limit), at the cost of a process per seed.
    #[arg(long)]
    pub(crate) isolate: bool,
}

#[derive(Debug, Args)]
#[group(id = "source", required = true, multiple = false, args = ["seed", "schedule"])]
pub(crate) struct Source {
    /// Re-run this seed.
    #[arg(long, value_parser = parse_seed)]
    pub(crate) seed: Option<u64>,
    /// Replay this schedule file.
    #[arg(long)]
    pub(crate) schedule: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// Scenario name (see `detsim list`).
    pub(crate) scenario: String,
    #[command(flatten)]
    pub(crate) source: Source,
    #[command(flatten)]
    pub(crate) opts: RunOpts,
}

#[derive(Debug, Args)]
pub(crate) struct ShrinkArgs {
    /// Scenario name (see `detsim list`).
    pub(crate) scenario: String,
    #[command(flatten)]
    pub(crate) source: Source,
    /// Where to write the shrunk schedule.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Simulated worker threads (with --seed), 1 to 1024.
    #[arg(long, default_value_t = 4, value_parser = parse_workers)]
    pub(crate) workers: usize,
    /// Strategy of the run of --seed: random (the default), swarm or pct:DEPTH[:STEPS].
    #[arg(long, default_value = "random")]
    pub(crate) strategy: StrategySpec,
    /// Maximum number of replays to try.
    #[arg(long, default_value_t = 5_000)]
    pub(crate) budget: usize,
    /// Wall-clock limit per replay: a run past it is a hang, not a stuck shrink.
    #[arg(long, value_parser = parse_wall_time, default_value = "10s")]
    pub(crate) watchdog: std::time::Duration,
}

#[derive(Debug, Args)]
pub(crate) struct DeterminismArgs {
    /// Scenario name (see `detsim list`).
    pub(crate) scenario: String,
    /// Number of seeds.
    #[arg(long, default_value_t = 100)]
    pub(crate) seeds: u64,
    /// First seed.
    #[arg(long, default_value_t = 0, value_parser = parse_seed)]
    pub(crate) start: u64,
    /// Simulated worker threads, 1 to 1024.
    #[arg(long, default_value_t = 4, value_parser = parse_workers)]
    pub(crate) workers: usize,
    /// Strategy: random (the default), swarm or pct:DEPTH[:STEPS].
    #[arg(long, default_value = "random")]
    pub(crate) strategy: StrategySpec,
    /// Run every seed in two fresh child processes of this program and compare them,
    /// instead of twice here and once on another thread: for programs with process-wide
    /// state no run can reset (the real tokio's per-thread RNG seeds; see README, "Std
    /// guards").
    #[arg(long)]
    pub(crate) isolate: bool,
}

#[derive(Debug, Args)]
pub(crate) struct MergeArgs {
    /// The JSON report (`fuzz --json` output) of every shard, K/N for each K of one N.
    #[arg(required = true, value_name = "REPORT")]
    pub(crate) reports: Vec<PathBuf>,
    /// Seeds files the shards wrote: their cases are added to <SEEDS_DIR>/<scenario>.seeds,
    /// each run once, in seed order.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub(crate) seeds_files: Vec<PathBuf>,
    /// Directory of the merged seeds file (with --seeds-files).
    #[arg(long, default_value = "seeds")]
    pub(crate) seeds_dir: PathBuf,
    /// Print the merged report as JSON on stdout (the text report goes to stderr).
    #[arg(long)]
    pub(crate) json: bool,
}

/// A worker count: 1 to [`crate::Config::WORKERS_MAX`].
pub(crate) fn parse_workers(s: &str) -> Result<usize, String> {
    let max = crate::Config::WORKERS_MAX;
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        Ok(_) => Err(format!("must be from 1 to {max}")),
        Err(e) => Err(format!("{e} (a number from 1 to {max})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::time::Duration;

    fn fuzz_args(line: &[&str]) -> FuzzArgs {
        let args = ["detsim", "fuzz", "bank"].iter().chain(line);
        match Cli::try_parse_from(args).unwrap().command {
            Command::Fuzz(a) => a,
            other => panic!("not fuzz: {other:?}"),
        }
    }

    #[test]
    fn fuzz_flags_are_the_campaign_options() {
        let a = fuzz_args(&[
            "--seeds",
            "7",
            "--start",
            "0x10",
            "--strategy",
            "pct:3",
            "--jobs",
            "2",
            "--keep-going",
            "3",
            "--time",
            "5m",
            "--seeds-dir",
            "d",
            "--watchdog",
            "1s",
        ]);
        let want = CampaignOptions {
            seeds: 7,
            start: 16,
            strategy: "pct:3".parse().unwrap(),
            jobs: 2,
            keep_going: 3,
            time_limit: Some(Duration::from_secs(300)),
            seeds_dir: Some("d".into()),
            watchdog: Some(Duration::from_secs(1)),
            ..CampaignOptions::default()
        };
        assert_eq!(a.campaign, want);
        // The command's defaults: files and a watchdog on, 10,000 seeds.
        let defaults = CampaignOptions {
            seeds: 10_000,
            seeds_dir: Some("seeds".into()),
            watchdog: Some(Duration::from_secs(10)),
            ..CampaignOptions::default()
        };
        assert_eq!(fuzz_args(&[]).campaign, defaults);
    }
}
