//! The `detsim` command line, reusable by any crate: register your scenarios, call
//! [`main`], and get `list`, `run`, `fuzz`, `replay`, `shrink`, `check-determinism` and
//! `merge`.
//!
//! - `args.rs` — the clap definitions (the interface users and scripts rely on).
//! - `commands.rs` — one function per subcommand.
//! - `fuzz.rs` — the campaign command: arguments to campaign, the determinism re-check.
//! - `process.rs` — Ctrl-C as a flag, and the exit after a hung run.
//! - `merge.rs` — `merge`: shard reports and seeds files into one.
//! - `progress.rs` — the progress display of a running campaign.
//! - `render.rs` — a campaign report as text and as JSON (fuzz and merge).
//! - `env_flags.rs` — `DETSIM_*` variables turned into the flags they stand for.
//!
//! Exit codes: 0 every run passed; 1 a failure was found or reproduced; 2 usage or input
//! error (bad arguments, unknown scenario, corrupt seeds or schedule file).

/// `println!` that tolerates a closed stdout (`detsim ... | head`): output is best effort,
/// the exit status still tells the verdict.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::write_best_effort(&mut std::io::stdout(), &format!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` counterpart of [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_best_effort(&mut std::io::stdout(), &format!($($arg)*))
    };
}

/// `eprintln!` that tolerates a closed stderr.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::write_best_effort(&mut std::io::stderr(), &format!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprint!` counterpart of [`errln!`].
macro_rules! err {
    ($($arg:tt)*) => {
        $crate::cli::write_best_effort(&mut std::io::stderr(), &format!($($arg)*))
    };
}

mod args;
mod commands;
mod env_flags;
mod fuzz;
mod merge;
mod process;
mod progress;
mod render;

use crate::Scenario;
use clap::Parser;
use std::process::ExitCode;

/// A command failed on bad input: exit status 2, one line naming the culprit.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct InputError(pub(crate) String);

/// How a command ended when it ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Pass,
    Fail,
}

/// Runs the command line over `scenarios` and returns the exit code.
///
/// ```no_run
/// // src/bin/sim.rs of your crate:
/// fn main() -> std::process::ExitCode {
///     detsim::cli::main(vec![detsim::Scenario::new("mine", "my protocol", || async {
///         // ... spawn tasks, assert invariants ...
///     })])
/// }
/// ```
pub fn main(scenarios: Vec<Scenario>) -> ExitCode {
    let args = match checked_args().and_then(env_flags::with_env) {
        Ok(args) => args,
        Err(e) => {
            errln!("{}: error: {}", program_name(), printable(&e.0));
            return ExitCode::from(2);
        }
    };
    let cli = match args::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        // --help, --version: clap prints them on stdout.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        // No subcommand at all: the full help is the useful answer.
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return ExitCode::from(2);
        }
        Err(e) => {
            errln!(
                "{}: error: {}",
                program_name(),
                printable(&clap_error_line(&e))
            );
            return ExitCode::from(2);
        }
    };
    let scenarios = match with_fault_plan(scenarios, cli.faults.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            errln!("{}: error: {}", program_name(), printable(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    match commands::dispatch(cli.command, &scenarios, cli.faults.as_deref()) {
        Ok(Verdict::Pass) => ExitCode::SUCCESS,
        Ok(Verdict::Fail) => ExitCode::from(1),
        Err(e) => {
            errln!(
                "{}: error: {}",
                program_name(),
                printable(&one_line_error(&e))
            );
            ExitCode::from(2)
        }
    }
}

/// The scenarios, each under the plan in `path` if one is given.
fn with_fault_plan(
    scenarios: Vec<Scenario>,
    path: Option<&std::path::Path>,
) -> Result<Vec<Scenario>, crate::fault::PlanError> {
    let Some(path) = path else {
        return Ok(scenarios);
    };
    let plan = crate::fault::FaultPlan::load(path)?;
    Ok(scenarios
        .into_iter()
        .map(|s| s.with_faults(plan.clone()))
        .collect())
}

/// The longest argument accepted: longer ones are no path, seed or name of any use, and
/// would bury the error that echoes them.
const ARG_MAX: usize = 4096;

/// The command line, refusing an absurdly long argument up front.
fn checked_args() -> Result<Vec<std::ffi::OsString>, InputError> {
    let args: Vec<_> = std::env::args_os().collect();
    match args
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, a)| a.len() > ARG_MAX)
    {
        Some((i, a)) => Err(InputError(format!(
            "argument {i} is {} bytes long (at most {ARG_MAX}): {}",
            a.len(),
            crate::quote::quoted(&a.to_string_lossy())
        ))),
        None => Ok(args),
    }
}

/// The name this program was invoked as (`detsim`, or a user's own CLI), for messages.
pub(crate) fn program_name() -> String {
    std::env::args_os()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(|p| p.file_stem())
        .map_or("detsim".into(), |s| s.to_string_lossy().into_owned())
}

/// A message safe to print on one line: control characters escaped.
fn printable(line: &str) -> String {
    crate::quote::printable(line)
}

/// Writes `text` and flushes, ignoring errors: a reader that closed the pipe early must
/// not turn into a panic (std's `print!` panics on a broken pipe).
pub(crate) fn write_best_effort(w: &mut dyn std::io::Write, text: &str) {
    let _ = w.write_all(text.as_bytes()).and_then(|()| w.flush());
}

/// A clap error on one line: the message, its tips, then the usage (clap spreads them
/// over several paragraphs; scripts and CI logs read better with one line per error).
fn clap_error_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut parts: Vec<String> = Vec::new();
    let mut usage = None;
    for paragraph in text.split("\n\n") {
        let words: Vec<&str> = paragraph
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let joined = words.join(" ");
        if joined.is_empty() || joined.starts_with("For more information") {
            continue;
        }
        match joined.strip_prefix("Usage: ") {
            Some(u) => usage = Some(u.to_string()),
            None => parts.push(joined),
        }
    }
    let mut line = parts.join("; ");
    if let Some(rest) = line.strip_prefix("error: ") {
        line = rest.to_string();
    }
    let line = shorten_quoted(&line);
    match usage {
        Some(u) => format!("{line} (usage: {u})"),
        None => format!("{line} (see --help)"),
    }
}

/// Cuts each long `'...'` value clap echoed (see [`crate::quote::quoted`]).
fn shorten_quoted(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(open) = rest.find('\'') {
        let Some(len) = rest[open + 1..].find('\'') else {
            break;
        };
        let inner = &rest[open + 1..open + 1 + len];
        out.push_str(&rest[..open]);
        out.push_str(&crate::quote::quoted(inner));
        rest = &rest[open + len + 2..];
    }
    out.push_str(rest);
    out
}

/// The error and its causes on one line, leaving out a cause whose text the message
/// already contains (many errors repeat their source in their own message).
fn one_line_error(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line.replace('\n', " ")
}

/// How to invoke this program again, for printed replay commands: `cargo run [--release]
/// [--bin B | --example E] --` when it runs from a cargo target directory (so the command
/// works from the crate root, after any rebuild), else its path as invoked.
pub(crate) fn program_invocation() -> String {
    let argv0 = std::env::args().next().unwrap_or_else(|| "detsim".into());
    invocation_for(
        &argv0,
        |dir| dir.join(".fingerprint").is_dir(),
        |dir| dir.join("CACHEDIR.TAG").is_file(),
    )
}

/// [`program_invocation`] for `argv0`; `is_profile_dir` says whether a directory is a
/// cargo profile directory (`target/release`, which holds `.fingerprint/`), and
/// `is_target_root` whether it is a target directory (`target/`, or any
/// `CARGO_TARGET_DIR`: cargo tags it with `CACHEDIR.TAG`).
fn invocation_for(
    argv0: &str,
    is_profile_dir: impl Fn(&std::path::Path) -> bool,
    is_target_root: impl Fn(&std::path::Path) -> bool,
) -> String {
    let path = std::path::Path::new(argv0);
    let (Some(name), Some(mut dir)) = (
        path.file_name()
            .and_then(|n| n.to_str())
            .map(|n| n.strip_suffix(".exe").unwrap_or(n)),
        path.parent(),
    ) else {
        return shell_quote(argv0);
    };
    let example = dir.file_name().is_some_and(|d| d == "examples");
    if example {
        dir = dir.parent().unwrap_or(dir);
    }
    // target/[<triple>/]<profile>
    let profile = dir.file_name().and_then(|p| p.to_str());
    let above = dir.parent();
    let under_target = |p: Option<&std::path::Path>| {
        p.is_some_and(|p| is_target_root(p) || p.file_name().is_some_and(|t| t == "target"))
    };
    let triple = match above {
        _ if under_target(above) => None,
        Some(a) if under_target(a.parent()) => a.file_name().and_then(|t| t.to_str()),
        _ => return shell_quote(argv0),
    };
    let Some(profile) = profile.filter(|_| is_profile_dir(dir)) else {
        return shell_quote(argv0);
    };
    let mut cmd = String::from("cargo run");
    match profile {
        "debug" => {}
        "release" => cmd.push_str(" --release"),
        other => cmd.push_str(&format!(" --profile {}", shell_quote(other))),
    }
    if let Some(triple) = triple {
        cmd.push_str(&format!(" --target {}", shell_quote(triple)));
    }
    if example {
        cmd.push_str(&format!(" --example {}", shell_quote(name)));
    } else if name != "detsim" {
        // `detsim` is this crate's default-run binary; any other binary needs naming.
        cmd.push_str(&format!(" --bin {}", shell_quote(name)));
    }
    cmd.push_str(" --");
    cmd
}

/// `text` with `prefix` before every line (multi-line failure messages stay readable).
pub(crate) fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|l| format!("{prefix}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `s` as one shell word: unchanged if it only has safe characters, else single-quoted.
pub(crate) fn shell_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocations_rebuild_the_same_program() {
        let yes = |_: &std::path::Path| true;
        let cases = [
            ("/w/target/release/detsim", "cargo run --release --"),
            ("target/debug/detsim", "cargo run --"),
            ("/w/target/release/sim", "cargo run --release --bin sim --"),
            (
                "/w/target/release/examples/user_cli",
                "cargo run --release --example user_cli --",
            ),
            (
                "/w/target/x86_64-unknown-linux-gnu/ci/detsim",
                "cargo run --profile ci --target x86_64-unknown-linux-gnu --",
            ),
            ("/usr/local/bin/detsim", "/usr/local/bin/detsim"),
            ("detsim", "detsim"),
            ("/my dir/detsim", "'/my dir/detsim'"),
        ];
        let named_target = |_: &std::path::Path| false;
        for (argv0, expected) in cases {
            assert_eq!(
                invocation_for(argv0, yes, named_target),
                expected,
                "{argv0}"
            );
        }
        let no = |_: &std::path::Path| false;
        assert_eq!(
            invocation_for("/opt/target/bin/detsim", no, no),
            "/opt/target/bin/detsim"
        );
        // CARGO_TARGET_DIR of any name, recognised by its CACHEDIR.TAG.
        let tagged = |p: &std::path::Path| p.ends_with("/ci/tgt");
        assert_eq!(
            invocation_for("/ci/tgt/release/examples/user_cli", yes, tagged),
            "cargo run --release --example user_cli --"
        );
        assert_eq!(
            invocation_for("/ci/tgt/x86_64-unknown-linux-gnu/release/sim", yes, tagged),
            "cargo run --release --target x86_64-unknown-linux-gnu --bin sim --"
        );
    }

    #[test]
    fn long_values_in_clap_errors_are_cut() {
        let long = "y".repeat(500);
        let line = shorten_quoted(&format!("invalid value '{long}' for '--strategy <S>'"));
        assert!(line.starts_with("invalid value 'yyyy"), "{line}");
        assert!(
            line.ends_with("…' (500 bytes) for '--strategy <S>'"),
            "{line}"
        );
        assert_eq!(shorten_quoted("a 'b' c '"), "a 'b' c '");
    }

    #[test]
    fn shell_quote_makes_one_word() {
        assert_eq!(shell_quote("seeds/a-1.schedule"), "seeds/a-1.schedule");
        assert_eq!(shell_quote("it's here"), "'it'\\''s here'");
        assert_eq!(shell_quote(""), "''");
    }
}
