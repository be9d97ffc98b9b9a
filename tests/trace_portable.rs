//! The same seed gives the same trace and fingerprint whatever the checkout location.
//!
//! Source locations (spawn sites, panic locations) are part of traces and of failure
//! messages, which are fingerprinted. rustc hands a crate of the workspace being built a
//! relative path and every other crate an absolute one, so this test builds a small user
//! program in two checkouts at different paths — depending on detsim by path (absolute
//! locations) and on a user library next to it (absolute too) — and compares its traces
//! with each other and with this crate's own `detsim` binary (relative locations).
//!
//! Build cost: the nested `cargo build --offline` shares this test's target directory, so
//! the dependencies are mostly compiled already; only detsim (as a path dependency), the
//! user library and the two tiny programs are built, once per target directory.

use std::path::{Path, PathBuf};
use std::process::Command;

const USER_LIB: &str = r#"
use std::sync::Arc;

/// A counter with a lost update across an await, in a spawned task of this crate.
pub fn scenarios() -> Vec<detsim::Scenario> {
    vec![detsim::Scenario::new("user-counter", "lost update", || async {
        let n = Arc::new(detsim::sync::Mutex::new(0u32));
        let hs: Vec<_> = (0..3)
            .map(|i| {
                let n = n.clone();
                detsim::task::spawn_named(format!("incr-{i}"), async move {
                    let v = *n.lock().await;
                    detsim::task::yield_now().await;
                    *n.lock().await = v + 1;
                    assert!(v < 2, "incr saw {v}");
                })
            })
            .collect();
        for h in hs {
            let _ = h.await;
        }
        assert_eq!(*n.lock().await, 3, "lost update");
    })]
}
"#;

const APP_MAIN: &str = r#"
fn main() -> std::process::ExitCode {
    let mut all = detsim::scenarios::builtin();
    all.extend(user::scenarios());
    detsim::cli::main(all)
}
"#;

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

/// Writes one checkout under `root`: `app/` (the workspace) and `user/` (a path dependency).
fn write_checkout(root: &Path) {
    let detsim = env!("CARGO_MANIFEST_DIR");
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "user/Cargo.toml",
        &format!(
            "[package]\nname = \"user\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\ndetsim = {{ path = {detsim:?} }}\n"
        ),
    );
    write("user/src/lib.rs", USER_LIB);
    write(
        "app/Cargo.toml",
        &format!(
            "[package]\nname = \"detsim-portable-app\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\ndetsim = {{ path = {detsim:?} }}\nuser = {{ path = \"../user\" }}\n\n\
             [workspace]\n\n{}",
            profiles(detsim)
        ),
    );
    write("app/src/main.rs", APP_MAIN);
    // The same dependency versions as this crate, so the shared target dir is reused.
    let lock = Path::new(detsim).join("Cargo.lock");
    if lock.exists() {
        std::fs::copy(lock, root.join("app/Cargo.lock")).unwrap();
    }
}

/// The `[profile.*]` sections of this crate's manifest: profiles come from the workspace
/// root, and the same settings let the nested build reuse the compiled dependencies.
fn profiles(detsim: &str) -> String {
    let manifest = std::fs::read_to_string(Path::new(detsim).join("Cargo.toml")).unwrap();
    let mut keep = false;
    let mut out = String::new();
    for line in manifest.lines() {
        if line.starts_with('[') {
            keep = line.starts_with("[profile.");
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Builds the checkout's app and returns the path of its binary.
fn build(root: &Path) -> PathBuf {
    let (target, profile) = target_dir();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--offline", "--quiet", "--manifest-path"])
        .arg(root.join("app/Cargo.toml"))
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
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "building {} failed:\n{}",
        root.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    // Both checkouts' binaries land on one path: keep a copy inside the checkout.
    let built = target.join(profile).join(format!(
        "detsim-portable-app{}",
        std::env::consts::EXE_SUFFIX
    ));
    let copy = root.join(format!("app-bin{}", std::env::consts::EXE_SUFFIX));
    std::fs::copy(built, &copy).unwrap();
    copy
}

/// `run <args> --trace text`: the whole trace plus the summary line.
fn trace(program: &Path, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(["run"])
        .args(args)
        .args(["--trace", "text"])
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c < 2), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn two_checkouts_and_the_binary_give_identical_traces() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("checkout-b"));
    write_checkout(&a);
    write_checkout(&b);
    let (app_a, app_b) = (build(&a), build(&b));
    let bin = Path::new(env!("CARGO_BIN_EXE_detsim"));

    let builtin: [&[&str]; 3] = [
        &["bank", "--seed", "0"],
        &["lost-wakeup", "--seed", "1", "--workers", "2"],
        &["pool", "--seed", "5"],
    ];
    for args in builtin {
        let ours = trace(bin, args);
        let theirs = trace(&app_b, args);
        assert_eq!(
            ours, theirs,
            "{args:?}: the binary and a path dependent differ"
        );
        assert!(ours.contains("src/scenarios/"), "{ours}");
    }
    let user = ["user-counter", "--seed", "3"];
    let (from_a, from_b) = (trace(&app_a, &user), trace(&app_b, &user));
    assert!(from_a.contains("FAILED"), "{from_a}");
    assert!(from_a.contains(" at src/lib.rs:"), "{from_a}");
    assert_eq!(from_a, from_b, "two checkouts of the same program differ");
    let tmp_path = tmp.path().to_string_lossy();
    assert!(
        !from_a.contains(&*tmp_path),
        "absolute path in a trace:\n{from_a}"
    );
    assert!(!from_a.contains(env!("CARGO_MANIFEST_DIR")), "{from_a}");
}
