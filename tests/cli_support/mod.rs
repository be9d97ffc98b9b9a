//! Running the `detsim` binary from the world and disk CLI tests.

use assert_cmd::Command;
use std::path::Path;
use std::process::Output;

/// `detsim ARGS` in `dir`, without backtraces in its output.
pub fn detsim(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::cargo_bin("detsim").expect("the detsim binary is built");
    cmd.current_dir(dir).env_remove("RUST_BACKTRACE");
    cmd.args(args).output().expect("detsim runs")
}

/// Output bytes as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
