//! detsim's std guards, checked on programs that leak std's entropy and clocks.
//!
//! The same test file runs twice in CI: without this crate's feature `guards` (plain
//! `cargo test`: the determinism check catches each leak and names the first differing
//! event) and with it (`cargo test -p detsim-guards-tests --features guards`: the same
//! programs pass, and std's clocks and entropy read the run's).

#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use detsim::explore::{check_determinism, Nondeterminism, StrategySpec};
use detsim::{Config, Scenario, TraceMode};
use detsim_guards_tests::*;

fn check(s: &Scenario, seeds: std::ops::Range<u64>) -> Result<u64, Box<Nondeterminism>> {
    check_determinism(s, &Config::default(), &StrategySpec::Random, seeds)
}

/// Real CPU work per lock hold in the `async-lock` program: waits then straddle the
/// 500 µs after which the lock turns fair.
fn lock_turns() -> u64 {
    spin_turns_for(60)
}

/// The environment variable that makes `child` run one seed and print its fingerprint.
const CHILD_SEED: &str = "DETSIM_GUARDS_TEST_CHILD_SEED";

/// Runs the tokio `watch` program's `seed` as the first thing in this process, if
/// asked to by the parent test; a no-op otherwise.
#[test]
fn child() {
    let Ok(seed) = std::env::var(CHILD_SEED) else {
        return;
    };
    let config = Config::default().seed(seed.parse().unwrap());
    let out = tokio_watch_fanout().run(config.trace(TraceMode::Off));
    println!("fingerprint={:016x}", out.fingerprint);
}

fn fingerprint_in_child(seed: u64) -> String {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD_SEED, seed.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let at = stdout.find("fingerprint=");
    let at = at.unwrap_or_else(|| panic!("no fingerprint from the child: {stdout}"));
    stdout[at..]
        .chars()
        .take("fingerprint=".len() + 16)
        .collect()
}

#[cfg(not(feature = "guards"))]
mod guards_off {
    use super::*;

    #[test]
    fn the_hashmap_leak_is_caught_at_its_first_spawn() {
        let leak = check(&hashmap_fanout(), 0..20).unwrap_err();
        let d = leak.difference.as_ref().expect("the HashMap leak recurs");
        // The first workers spawned differ: the map's order is the process's, not the seed's.
        let spawn = |line: &str| line.contains("spawn t") && line.contains(":w");
        assert!(spawn(&d.first) && spawn(&d.second), "{leak}");
        assert_ne!(d.first, d.second);
        assert!(d.task.as_deref().unwrap_or("").contains("main"), "{leak}");
    }

    #[test]
    fn async_lock_reading_the_real_clock_is_caught() {
        // Timing-dependent: whether a waiter crossed 500 µs of real time.
        let leak = check(&async_lock_contention(lock_turns()), 0..60).unwrap_err();
        assert_ne!(leak.fingerprints.0, leak.fingerprints.1, "{leak}");
    }

    #[test]
    fn the_real_tokio_watch_is_caught_at_a_wake() {
        let leak = check(&tokio_watch_fanout(), 0..20).unwrap_err();
        let d = leak.difference.as_ref().expect("the shard choice recurs");
        assert!(
            d.first.contains("wake t") && d.second.contains("wake t"),
            "{leak}"
        );
    }

    #[test]
    fn the_real_tokio_watch_differs_between_processes() {
        let first: Vec<String> = (0..4).map(fingerprint_in_child).collect();
        let second: Vec<String> = (0..4).map(fingerprint_in_child).collect();
        assert_ne!(
            first, second,
            "without the guards, std's hash keys are the process's"
        );
    }

    const _: () = assert!(
        !detsim::guards::ENABLED,
        "this module is built without the guards"
    );
}

#[cfg(feature = "guards")]
mod guards_on {
    use super::*;
    use std::time::{Duration, Instant, SystemTime};

    const _: () = assert!(
        detsim::guards::ENABLED,
        "this module is built with the guards"
    );

    #[test]
    fn the_hashmap_program_is_deterministic() {
        assert_eq!(check(&hashmap_fanout(), 0..50), Ok(50));
    }

    #[test]
    fn the_hashmap_program_passes_check_determinism_in_a_test() {
        detsim::Check::new()
            .seeds(30)
            .determinism(|| hashmap_fanout().future());
    }

    #[test]
    fn a_run_is_the_same_alone_and_after_other_seeds() {
        let s = hashmap_fanout();
        let off = Config::default().trace(TraceMode::Off);
        let alone = detsim::guards::fresh_thread(|| s.run(off.clone().seed(7)).fingerprint);
        let after = detsim::guards::fresh_thread(|| {
            let earlier: std::collections::BTreeSet<u64> = (0..7)
                .map(|i| s.run(off.clone().seed(i)).fingerprint)
                .collect();
            assert!(earlier.len() > 1, "different seeds give different orders");
            s.run(off.clone().seed(7)).fingerprint
        });
        assert_eq!(alone, after);
    }

    #[test]
    fn hash_seeds_are_recorded_choices_and_replay() {
        let s = hashmap_fanout();
        let full = Config::default().seed(11).trace(TraceMode::Full);
        let out = s.run(full.clone());
        assert!(out.result.is_ok());
        let rand = out.schedule.choices.iter();
        let rand = rand.filter(|c| c.kind == detsim::ChoiceKind::Rand).count();
        assert_eq!(
            rand, 2,
            "std's two 64-bit hash keys, one recorded draw each"
        );
        assert!(out
            .trace
            .to_string()
            .contains("std guard: getrandom of 16 bytes"));
        let again = s.replay(full, out.schedule.clone());
        assert!(again.result.is_ok());
        assert_eq!(again.fingerprint, out.fingerprint);
    }

    #[test]
    fn async_lock_under_contention_is_deterministic() {
        assert_eq!(check(&async_lock_contention(lock_turns()), 0..20), Ok(20));
    }

    /// tokio mixes a process-wide counter into its per-thread RNG's seed
    /// (`tokio/src/loom/std/mod.rs`: `RandomState::new().hash_one(COUNTER.fetch_add(1))`),
    /// so in one process a run's shards still depend on how many threads seeded that RNG
    /// before it. The guards fix the `RandomState` part: the first run of a process is
    /// the seed's (`the_real_tokio_watch_is_the_seeds_in_a_fresh_process`).
    #[test]
    fn the_real_tokio_watch_still_leaks_tokios_process_counter() {
        let leak = check(&tokio_watch_fanout(), 0..20).unwrap_err();
        let d = leak.difference.as_ref().expect("the shard choice recurs");
        assert!(d.first.contains("wake t"), "{leak}");
    }

    #[test]
    fn the_real_tokio_watch_is_the_seeds_in_a_fresh_process() {
        let first: Vec<String> = (0..4).map(fingerprint_in_child).collect();
        let second: Vec<String> = (0..4).map(fingerprint_in_child).collect();
        assert_eq!(first, second);
        let distinct = first.iter().collect::<std::collections::BTreeSet<_>>();
        assert!(
            distinct.len() > 1,
            "the seeds pick different shards: {first:?}"
        );
    }

    #[test]
    fn std_clocks_read_virtual_time_in_a_run() {
        let s = Scenario::new("clocks", "", || async {
            let (i0, s0) = (Instant::now(), SystemTime::now());
            assert_eq!(s0, detsim::time::SystemTime::now());
            detsim::time::sleep(Duration::from_millis(1500)).await;
            assert_eq!(i0.elapsed(), Duration::from_millis(1500));
            assert_eq!(
                SystemTime::now().duration_since(s0).unwrap(),
                Duration::from_millis(1500)
            );
            assert_eq!(
                s0,
                SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_689_600)
            );
        });
        let out = s.run(Config::default());
        assert!(out.result.is_ok(), "{:?}", out.failure());
    }

    #[test]
    fn the_wall_clock_is_the_current_nodes() {
        let out = detsim::Sim::new(Config::default()).run(async {
            let (tx, rx) = detsim::sync::oneshot::channel();
            let tx = std::cell::RefCell::new(Some(tx));
            detsim::node::Builder::new("behind")
                .clock_skew_ns(-2_000_000_000)
                .build(move || {
                    let tx = tx.borrow_mut().take();
                    async move { tx.unwrap().send(SystemTime::now()).unwrap() }
                });
            (SystemTime::now(), rx.await.unwrap())
        });
        let (main, behind) = out.result.unwrap();
        assert_eq!(main.duration_since(behind).unwrap(), Duration::from_secs(2));
    }

    #[test]
    fn outside_a_run_the_clocks_are_real() {
        let started = Instant::now();
        std::thread::sleep(Duration::from_millis(5));
        assert!(started.elapsed() >= Duration::from_millis(5));
        // The kernel stamps a new file's mtime itself (no clock_gettime of ours).
        let file = std::env::temp_dir().join(format!("detsim-guards-{}", std::process::id()));
        std::fs::write(&file, b"now").unwrap();
        let stamped = std::fs::metadata(&file).unwrap().modified().unwrap();
        std::fs::remove_file(&file).unwrap();
        let now = SystemTime::now();
        let apart = now.duration_since(stamped).unwrap_or_else(|e| e.duration());
        assert!(apart < Duration::from_secs(60), "{now:?} vs {stamped:?}");
    }

    extern "C" {
        fn getentropy(buf: *mut libc::c_void, len: libc::size_t) -> libc::c_int;
        fn clock_gettime(clock: libc::clockid_t, tp: *mut libc::timespec) -> libc::c_int;
    }

    fn entropy(len: usize) -> (libc::c_int, Vec<u8>) {
        let mut buf = vec![0u8; len];
        // SAFETY: `buf` is valid for writes of `len` bytes.
        let r = unsafe { getentropy(buf.as_mut_ptr().cast(), len) };
        (r, buf)
    }

    fn clock_ns(clock: libc::clockid_t) -> u128 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid timespec to write.
        assert_eq!(unsafe { clock_gettime(clock, &mut ts) }, 0);
        ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
    }

    #[test]
    fn getentropy_is_the_runs_inside_and_the_systems_outside() {
        let draw = |seed| {
            let out = detsim::Sim::new(Config::default().seed(seed)).run(async { entropy(32) });
            out.result.unwrap()
        };
        let (a, b, c) = (draw(1), draw(1), draw(2));
        assert_eq!(a.0, 0);
        assert_eq!(a, b);
        assert_ne!(a.1, c.1);
        let (r1, outside1) = entropy(32);
        let (r2, outside2) = entropy(32);
        assert_eq!((r1, r2), (0, 0));
        assert_ne!(outside1, outside2);
        // A length that is not a multiple of 8 takes the start of the last word.
        let short = detsim::Sim::new(Config::default().seed(1)).run(async { entropy(13) });
        assert_eq!(short.result.unwrap().1[..], a.1[..13]);
        assert_eq!(entropy(257).0, -1, "more than 256 bytes is EIO");
        assert_eq!(
            std::io::Error::last_os_error().raw_os_error(),
            Some(libc::EIO)
        );
    }

    #[test]
    fn every_monotonic_clock_is_virtual_in_a_run() {
        let out = detsim::Sim::new(Config::default()).run(async {
            detsim::time::sleep(Duration::from_secs(3)).await;
            [
                libc::CLOCK_MONOTONIC,
                libc::CLOCK_MONOTONIC_RAW,
                libc::CLOCK_MONOTONIC_COARSE,
                libc::CLOCK_BOOTTIME,
                libc::CLOCK_THREAD_CPUTIME_ID,
            ]
            .map(clock_ns)
        });
        let readings = out.result.unwrap();
        assert!(readings.iter().all(|&r| r == readings[0]), "{readings:?}");
        let week = 7 * 86_400 * 1_000_000_000u128;
        assert_eq!(readings[0], week + 3_000_000_000);
        // Outside the run: the real clock, not the virtual epoch.
        assert!(clock_ns(libc::CLOCK_REALTIME_COARSE) / 1_000_000_000 > 1_735_689_600 + 86_400);
    }
}

/// `check-determinism --isolate` through the crate's own command line: every run in a
/// fresh process. With the guards, the real tokio `watch` (which the in-process check
/// still flags: tokio's process-wide seed counter) passes; without them it is caught,
/// naming the first differing trace line.
#[test]
fn the_real_tokio_watch_through_check_determinism_isolate() {
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_guards-cli"))
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.code(), text)
    };
    let isolated = [
        "check-determinism",
        "tokio-watch",
        "--isolate",
        "--seeds",
        "8",
    ];
    let (code, text) = cli(&isolated);
    let (in_process, _) = cli(&["check-determinism", "tokio-watch", "--seeds", "8"]);
    assert_eq!(in_process, Some(1), "flagged in one process, guards or not");
    if detsim::guards::ENABLED {
        assert_eq!(code, Some(0), "{text}");
        assert!(
            text.contains("8 seeds, each run in two fresh processes"),
            "{text}"
        );
    } else {
        assert_eq!(code, Some(1), "{text}");
        assert!(text.contains("runs in two fresh processes"), "{text}");
        assert!(text.contains("first difference at trace event"), "{text}");
    }
}
