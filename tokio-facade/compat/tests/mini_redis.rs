//! mini-redis 0.4 from crates.io, unmodified, under detsim through the facade: runs the
//! tests of `tokio-facade/mini-redis` (a server node, clients, PUBLISH/SUBSCRIBE; 1,000
//! seeds with network faults; a determinism check over 100 seeds).
//!
//! That crate is its own workspace: its `[patch.crates-io] tokio = { path = ".." }`
//! would otherwise apply to this whole workspace, which needs the real tokio too (the
//! comparisons beside this file). So this test runs a nested `cargo test` on it, in this
//! test's target directory (`--release` if this test is a release build; that
//! workspace's release profile is a cheap one, see its `Cargo.toml`), with its committed
//! `Cargo.lock` (`--locked`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The target directory this test was built in, and the profile directory's name.
fn target_dir() -> (PathBuf, String) {
    let exe = std::env::current_exe().unwrap();
    // <target>/<profile>/deps/<test binary>
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let profile = profile_dir
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    (profile_dir.parent().unwrap().to_path_buf(), profile)
}

#[test]
fn mini_redis_runs_under_detsim_through_the_facade() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mini-redis/Cargo.toml");
    let (target, profile) = target_dir();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["test", "--locked", "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS");
    match profile.as_str() {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    let out = cmd.output().expect("cargo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the mini-redis tests failed:\n{stdout}\n{stderr}"
    );
    for name in [
        "set_get_publish_subscribe_across_six_nodes",
        "a_thousand_seeds_with_network_faults_stay_green",
        "check_determinism_passes_on_100_seeds",
        "the_fault_plan_drops_and_partitions_the_servers_links",
        "server_crashes_are_caught_through_mini_redis_errors_and_replay",
    ] {
        assert!(
            stdout.contains(&format!("test {name} ... ok")),
            "{name} did not pass:\n{stdout}"
        );
    }
}
