//! The `detsim` command line, reusable by any crate: register your scenarios, call
//! [`main`], and get `list`, `run`, `fuzz`, `replay`, `shrink` and `check-determinism`.
//!
//! - `args.rs` — the clap definitions (the interface users and scripts rely on).
//! - `commands.rs` — one function per subcommand.
//! - `fuzz.rs` — the campaign command with progress and Ctrl-C handling.
//!
//! Exit codes: 0 every run passed; 1 a failure was found or reproduced; 2 usage or input
//! error (bad arguments, unknown scenario, corrupt seeds or schedule file).

mod args;
mod commands;
mod fuzz;

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
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match commands::dispatch(cli.command, &scenarios) {
        Ok(Verdict::Pass) => ExitCode::SUCCESS,
        Ok(Verdict::Fail) => ExitCode::from(1),
        Err(e) => {
            eprintln!("detsim: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// How to invoke this program again, for printed replay commands: `cargo run --release --`
/// when it runs from a cargo target directory, else its path.
pub(crate) fn program_invocation() -> String {
    let argv0 = std::env::args().next().unwrap_or_else(|| "detsim".into());
    let path = std::path::Path::new(&argv0);
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("detsim")
        .to_string();
    let in_target = path.components().any(|c| c.as_os_str() == "target");
    match (in_target, name.as_str()) {
        (true, "detsim") => "cargo run --release --".to_string(),
        (true, other) => format!("cargo run --release --bin {other} --"),
        (false, _) => argv0,
    }
}
