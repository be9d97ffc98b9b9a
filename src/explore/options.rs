//! [`CampaignOptions`]: what a campaign runs — seeds, strategy, threads, shard, stop
//! rules, limits, seeds directory. Defined once: [`Campaign`](super::Campaign) holds it,
//! [`Check`](crate::Check) builds it (with its own defaults and the `DETSIM_*`
//! overrides), and `detsim fuzz` parses it (with the `cli` feature the fields are the
//! command's flags, `#[command(flatten)]`), so an option is added in one place.
//!
//! The library's defaults ([`Default`]) and the command's (the `default_value`s below:
//! 10,000 seeds, `seeds/`, a 10 s watchdog) differ on purpose: a library user opts into
//! files and wall-clock limits, the command line has them on. The value parsers of the
//! flags live here too (with the `cli` feature), so the command line and its `DETSIM_*`
//! variables validate values the same way.

use super::{Shard, StrategySpec};
use std::path::PathBuf;
use std::time::Duration;

/// The options of a campaign (see the [module docs](self)).
///
/// ```
/// use detsim::explore::{Campaign, CampaignOptions};
/// use detsim::{Config, Scenario};
/// let mut options = CampaignOptions::default();
/// options.seeds = 50;
/// options.jobs = 1;
/// let s = Scenario::new("ok", "passes", || async { detsim::task::yield_now().await });
/// let report = Campaign::new(s, Config::default()).options(options).run().unwrap();
/// assert_eq!(report.runs, 50);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[non_exhaustive]
pub struct CampaignOptions {
    /// Seeds in the range, from [`CampaignOptions::start`] (with DFS: the most runs).
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            default_value_t = 10_000,
            help = "Number of seeds in the range (with dfs: the maximum number of runs)"
        )
    )]
    pub seeds: u64,
    /// The first seed.
    #[cfg_attr(
        feature = "cli",
        arg(long, default_value_t = 0, value_parser = parse_seed, help = "First seed of the range")
    )]
    pub start: u64,
    /// The scheduling strategy ([`StrategySpec::EXPLORE_DEFAULT`] by default).
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            default_value = "swarm",
            help = "Strategy: swarm (the default: a per-seed mix of random and PCT), random, \
                    pct:DEPTH[:STEPS] or dfs:BOUND"
        )
    )]
    pub strategy: StrategySpec,
    /// OS threads running the seeds (0 = one per core, the default).
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            default_value_t = 0,
            hide_default_value = true,
            value_parser = parse_jobs,
            help = "OS threads running simulations, up to 1024; 0 = one per core"
        )
    )]
    pub jobs: usize,
    /// The shard of the seed range this campaign runs (`1/1`: all of it). The command
    /// line's `--shard` also takes `auto`, so it is parsed there.
    #[cfg_attr(feature = "cli", arg(skip))]
    pub shard: Shard,
    /// Stop after this many distinct failures (1, the default: at the first; 0 counts
    /// as 1).
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            default_value_t = 1,
            value_parser = parse_at_least_one,
            help = "Collect up to K distinct failures instead of stopping at the first"
        )
    )]
    pub keep_going: usize,
    /// A wall-clock budget for the whole campaign (none by default).
    #[cfg_attr(
        feature = "cli",
        arg(
            long = "time",
            value_name = "TIME",
            value_parser = parse_wall_time,
            help = "Wall-clock budget, e.g. 60s, 5m, 1h30m (a bare number is seconds)"
        )
    )]
    pub time_limit: Option<Duration>,
    /// The directory of seeds files: `<dir>/<scenario>.seeds` is replayed first and new
    /// failures are saved there (none by default: nothing is read or written).
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            default_value = "seeds",
            help = "Directory of seeds files: <DIR>/<scenario>.seeds is replayed first, \
                    new failures are appended to it"
        )
    )]
    pub seeds_dir: Option<PathBuf>,
    /// A real-time limit per run: a run past it is a `hang` failure (none by default).
    #[cfg_attr(
        feature = "cli",
        arg(
            long,
            value_parser = parse_wall_time,
            default_value = "10s",
            help = "Wall-clock limit per run before it is reported as hung"
        )
    )]
    pub watchdog: Option<Duration>,
}

impl Default for CampaignOptions {
    /// 1,000 seeds from 0 of the default strategy (swarm) on all cores, stopping at the
    /// first failure, with no seeds directory and no wall-clock limits.
    fn default() -> Self {
        CampaignOptions {
            seeds: 1000,
            start: 0,
            strategy: StrategySpec::EXPLORE_DEFAULT,
            jobs: 0,
            shard: Shard::default(),
            keep_going: 1,
            time_limit: None,
            seeds_dir: None,
            watchdog: None,
        }
    }
}

impl CampaignOptions {
    /// The OS threads to run on: [`CampaignOptions::jobs`], or one per core for 0.
    pub fn threads(&self) -> usize {
        match self.jobs {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            j => j,
        }
    }

    /// The options as a campaign runs them: `jobs` resolved ([`Self::threads`]),
    /// `keep_going` at least 1.
    pub(crate) fn resolved(mut self) -> Self {
        self.jobs = self.threads();
        self.keep_going = self.keep_going.max(1);
        self
    }
}

/// A seed: decimal, or hexadecimal with `0x` ([`crate::Seed`], as seeds files and
/// `DETSIM_SEED` take it).
#[cfg(feature = "cli")]
pub(crate) fn parse_seed(s: &str) -> Result<u64, String> {
    s.parse::<crate::Seed>()
        .map(u64::from)
        .map_err(|e| e.to_string())
}

/// A thread count: 0 (one per core) to [`Campaign::JOBS_MAX`](super::Campaign::JOBS_MAX).
#[cfg(feature = "cli")]
pub(crate) fn parse_jobs(s: &str) -> Result<usize, String> {
    let max = super::Campaign::JOBS_MAX;
    match s.trim().parse::<usize>() {
        Ok(n) if n <= max => Ok(n),
        Ok(_) => Err(format!("must be at most {max} (0 = one per core)")),
        Err(e) => Err(format!("{e} (a number from 0 to {max})")),
    }
}

/// A count of at least 1.
#[cfg(feature = "cli")]
fn parse_at_least_one(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{e}")),
    }
}

/// Parses a wall-clock duration with `humantime` (`500ms`, `60s`, `5m`, `1h30m`,
/// `2h 15m`, `1day`); a bare number is seconds. At most
/// [`Campaign::WALL_MAX`](super::Campaign::WALL_MAX).
#[cfg(feature = "cli")]
pub(crate) fn parse_wall_time(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let q = crate::quote::quoted(s);
    let duration = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| format!("duration {q} is too long"))?
    } else {
        humantime::parse_duration(s)
            .map_err(|e| format!("invalid duration {q}: {e} (e.g. 60s, 5m, 1h30m)"))?
    };
    let max = super::Campaign::WALL_MAX;
    if duration > max {
        return Err(format!(
            "duration {q} is too long (at most {}h, {} days)",
            max.as_secs() / 3600,
            max.as_secs() / 86_400
        ));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_campaign_runs_zero_jobs_on_every_core_and_keeps_going_at_least_once() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let zero = CampaignOptions {
            jobs: 0,
            keep_going: 0,
            ..CampaignOptions::default()
        };
        let scenario = crate::Scenario::new("s", "", || async {});
        let campaign = super::super::Campaign::new(scenario, crate::Config::default());
        let set = campaign.clone().options(zero.clone());
        let effect = set.options_in_effect();
        assert_eq!((effect.jobs, effect.keep_going), (cores, 1));
        assert_eq!(campaign.clone().jobs(0).options_in_effect().jobs, cores);
        assert_eq!(campaign.options_in_effect().jobs, cores, "the default");
        assert_eq!(zero.jobs, 0, "the options themselves keep 0: one per core");
    }

    #[cfg(feature = "cli")]
    #[test]
    fn wall_times_take_what_they_took_and_humantime_forms() {
        for (text, secs) in [
            ("60", 60),
            ("60s", 60),
            ("5m", 300),
            ("1h", 3600),
            ("1h30m", 5400),
            ("2h 15m", 8100),
            ("1day", 86_400),
        ] {
            assert_eq!(
                parse_wall_time(text),
                Ok(Duration::from_secs(secs)),
                "{text}"
            );
        }
        assert_eq!(parse_wall_time("500ms"), Ok(Duration::from_millis(500)));
        for bad in [
            "",
            "10x",
            "-1s",
            "1.5.2h",
            "400days",
            "99999999999999999999",
        ] {
            let e = parse_wall_time(bad).unwrap_err();
            assert!(e.contains("duration"), "{bad}: {e}");
        }
    }
}
