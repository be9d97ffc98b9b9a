//! `DETSIM_*` variables as command-line flags: each variable adds its flag to the command
//! line unless the flag is already there, so a flag always wins and clap validates both
//! the same way. The variables are the ones `check()` reads (see [`crate::env`]):
//!
//! | variable | commands | flag |
//! | --- | --- | --- |
//! | `DETSIM_SEED=N` | run, replay, shrink | `--seed N` (replay, shrink: unless `--schedule`) |
//! | `DETSIM_SEED=N` | fuzz, check-determinism | only seed N: `--start N --seeds 1` (unless `--start` or `--seeds`) |
//! | `DETSIM_SEEDS=N` | fuzz, check-determinism | `--seeds N` |
//! | `DETSIM_STRATEGY=S` | all but list | `--strategy S` |
//! | `DETSIM_WORKERS=W` | all but list | `--workers W` |
//! | `DETSIM_JOBS=J` | fuzz | `--jobs J` |

use super::args::{parse_jobs, parse_workers};
use super::InputError;
use crate::env;
use crate::explore::StrategySpec;
use crate::quote::quoted;
use std::ffi::{OsStr, OsString};

/// Commands that run seeds of a range.
const CAMPAIGNS: [&str; 2] = ["fuzz", "check-determinism"];
/// Commands that run one seed.
const ONE_SEED: [&str; 3] = ["run", "replay", "shrink"];

/// `args` (the whole command line, program name first) with the flags the environment
/// adds; an unparsable variable is an error naming it.
pub(crate) fn with_env(args: Vec<OsString>) -> Result<Vec<OsString>, InputError> {
    with_vars(args, |name| std::env::var_os(name))
}

/// [`with_env`] with `var` as the environment (tests pass their own).
pub(crate) fn with_vars(
    mut args: Vec<OsString>,
    var: impl Fn(&str) -> Option<OsString>,
) -> Result<Vec<OsString>, InputError> {
    let Some(command) = args
        .iter()
        .skip(1)
        .find(|a| !a.to_string_lossy().starts_with('-'))
    else {
        return Ok(args);
    };
    let command = command.to_string_lossy().into_owned();
    let campaign = CAMPAIGNS.contains(&command.as_str());
    let one_seed = ONE_SEED.contains(&command.as_str());
    if !campaign && !one_seed {
        return Ok(args);
    }
    let has = |args: &[OsString], flag: &str| args.iter().any(|a| is_flag(a, flag));
    let value =
        |name: &str, check: fn(&str) -> Result<(), String>| -> Result<Option<String>, InputError> {
            let Some(raw) = var(name) else {
                return Ok(None);
            };
            let text = raw.to_str().ok_or_else(|| {
                InputError(format!(
                    "{name}={}: not valid UTF-8",
                    quoted(&raw.to_string_lossy())
                ))
            })?;
            let text = text.trim().to_string();
            check(&text).map_err(|e| InputError(format!("{name}={}: {e}", quoted(&text))))?;
            Ok(Some(text))
        };
    let mut add = Vec::new();
    if let Some(seed) = value(env::SEED, check_seed)? {
        if one_seed && !has(&args, "--seed") && !has(&args, "--schedule") {
            add.push(("--seed", seed));
        } else if campaign && !has(&args, "--start") && !has(&args, "--seeds") {
            add.push(("--start", seed));
            add.push(("--seeds", "1".into()));
        }
    }
    if campaign && !has(&args, "--seeds") && !add.iter().any(|(f, _)| *f == "--seeds") {
        if let Some(n) = value(env::SEEDS, check_count)? {
            add.push(("--seeds", n));
        }
    }
    for (name, flag, check) in [
        (
            env::STRATEGY,
            "--strategy",
            check_strategy as fn(&str) -> Result<(), String>,
        ),
        (env::WORKERS, "--workers", |s| parse_workers(s).map(drop)),
    ] {
        if !has(&args, flag) {
            if let Some(v) = value(name, check)? {
                add.push((flag, v));
            }
        }
    }
    if command == "fuzz" && !has(&args, "--jobs") {
        if let Some(j) = value(env::JOBS, |s| parse_jobs(s).map(drop))? {
            add.push(("--jobs", j));
        }
    }
    for (flag, v) in add {
        args.push(flag.into());
        args.push(v.into());
    }
    Ok(args)
}

/// True if `arg` is `flag` or `flag=value`.
fn is_flag(arg: &OsStr, flag: &str) -> bool {
    let a = arg.to_string_lossy();
    a == flag || a.strip_prefix(flag).is_some_and(|r| r.starts_with('='))
}

fn check_seed(s: &str) -> Result<(), String> {
    super::args::parse_seed(s).map(drop)
}

fn check_count(s: &str) -> Result<(), String> {
    match s.parse::<u64>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(_) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

fn check_strategy(s: &str) -> Result<(), String> {
    s.parse::<StrategySpec>()
        .map(drop)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(args: &str, vars: &[(&str, &str)]) -> Result<String, String> {
        let args = args.split_whitespace().map(OsString::from).collect();
        let lookup = |name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        };
        with_vars(args, lookup)
            .map(|a| {
                a.iter()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .map_err(|e| e.0)
    }

    #[test]
    fn variables_add_flags_that_are_missing() {
        let vars = [
            ("DETSIM_SEEDS", "7"),
            ("DETSIM_WORKERS", "2"),
            ("DETSIM_JOBS", "1"),
        ];
        assert_eq!(
            line("detsim fuzz bank", &vars).unwrap(),
            "detsim fuzz bank --seeds 7 --workers 2 --jobs 1"
        );
        // Flags win.
        assert_eq!(
            line("detsim fuzz bank --seeds=9 --workers 3", &vars).unwrap(),
            "detsim fuzz bank --seeds=9 --workers 3 --jobs 1"
        );
        // Only the commands a variable applies to.
        assert_eq!(line("detsim list", &vars).unwrap(), "detsim list");
        assert_eq!(
            line(
                "detsim run bank",
                &[("DETSIM_SEED", "17"), ("DETSIM_JOBS", "2")]
            )
            .unwrap(),
            "detsim run bank --seed 17"
        );
        assert_eq!(
            line("detsim replay bank --schedule x", &[("DETSIM_SEED", "17")]).unwrap(),
            "detsim replay bank --schedule x"
        );
        assert_eq!(
            line(
                "detsim fuzz bank",
                &[("DETSIM_SEED", "17"), ("DETSIM_SEEDS", "50")]
            )
            .unwrap(),
            "detsim fuzz bank --start 17 --seeds 1"
        );
    }

    #[test]
    fn a_bad_variable_is_an_error_naming_it() {
        let err = line("detsim fuzz bank", &[("DETSIM_SEEDS", "lots")]).unwrap_err();
        assert!(
            err.starts_with("DETSIM_SEEDS='lots': invalid digit"),
            "{err}"
        );
        let err = line("detsim run bank", &[("DETSIM_WORKERS", "65536")]).unwrap_err();
        assert_eq!(err, "DETSIM_WORKERS='65536': must be from 1 to 1024");
        let err = line("detsim run bank", &[("DETSIM_STRATEGY", "pct:\u{1b}")]).unwrap_err();
        assert!(err.contains("'pct:\\u{1b}'"), "{err}");
    }
}
