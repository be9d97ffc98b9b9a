//! Std guards: std's entropy and clocks, served from the run (cargo feature `std-guards`,
//! Linux with glibc).
//!
//! Without them, a run is deterministic only as long as the program reads nothing the
//! seed does not control — but std's `HashMap` seeds its hasher from `getrandom`,
//! `Instant::now()` and `SystemTime::now()` read the real clocks, and so do crates
//! nobody here wrote (`async-lock`'s `Mutex` reads `Instant::now()` to decide when to
//! become fair; tokio's `watch` picks a notify shard from an RNG seeded by
//! `RandomState`). With the feature on, inside a run:
//!
//! | call | served from |
//! | --- | --- |
//! | `getrandom`, `getentropy` (std's `RandomState` keys, and everything seeded from them) | recorded `Rand` choices of the run, 8 bytes per choice |
//! | `clock_gettime(CLOCK_MONOTONIC)` and kin (`Instant::now()`) | virtual time, plus a fixed base of one week |
//! | `clock_gettime(CLOCK_REALTIME)` and kin (`SystemTime::now()`) | the current node's wall clock (`detsim::time::SystemTime::now()`: epoch 2025-01-01 + virtual time, the node's skew, drift and jumps) |
//!
//! Outside a run every call passes through to the system (`getrandom` as a system call,
//! `clock_gettime` to glibc's definition, found with `dlsym(RTLD_NEXT)`).
//!
//! Why recorded choices rather than a stream derived from the seed: a hash seed decides
//! the order a program iterates its maps, which decides what it spawns and sends, so it
//! is a random decision that shapes the schedule — and every such decision goes through
//! the run's one choice point. A schedule then carries its hash seeds: it replays
//! without the seed, and the shrinker may change them. (A draw made while the chooser is
//! in use — a strategy's own code creating its first `HashMap` — is derived from seed,
//! step and clock instead: deterministic, not recorded.)
//!
//! Caches: std draws its `RandomState` keys once per OS thread and then counts up. A run
//! is only identical alone and after other runs if it is the first to draw entropy on
//! its thread, so under the guards every run the harness starts (through `Scenario`:
//! campaigns, `check`, `check_determinism`, replay, shrinking, `#[detsim::test]`, the
//! command line) runs on a fresh thread once its thread has drawn entropy
//! (`thread.rs`). A direct [`crate::Sim::run`] does not move: wrap it in
//! [`fresh_thread`].
//!
//! Limits:
//! - Only callers that go through these C symbols are served — std, and crates that
//!   call libc (`libc::clock_gettime`, `libc::getrandom`). Raw system calls (rustix's
//!   `linux_raw` backend), `rdtsc`, `gettimeofday` and `time()` read the real machine.
//! - tokio's per-thread RNG (`tokio::sync::watch`'s shard pick with `rt` on, its
//!   `select!`) and futures' `select!` RNG hash a *process-wide counter* with a
//!   `RandomState` to seed themselves (`RandomState::new().hash_one(COUNTER++)`), so
//!   a run's draws still depend on how many threads seeded them before it in the same
//!   process: deterministic for the first run of a process (a child process per run),
//!   not across runs of one process. Under detsim use the facade's `tokio::sync` and
//!   `select!` (recorded choices) or `futures::select_biased!`.
//! - A schedule recorded with the guards holds their draws, so it replays only with them.
//!
//! - `served.rs` — the values: entropy words, the monotonic and wall clocks.
//! - `hooks.rs` — the C symbols and their pass-through (feature `std-guards` only).
//! - `thread.rs` — a clean thread per run; [`fresh_thread`].

#[cfg(all(
    feature = "std-guards",
    not(all(
        target_os = "linux",
        target_env = "gnu",
        not(target_feature = "crt-static")
    ))
))]
compile_error!(
    "detsim's `std-guards` feature works only on Linux with a dynamically linked glibc \
     (it defines getrandom/getentropy/clock_gettime in the program and reaches glibc's \
     with dlsym(RTLD_NEXT)); turn the feature off for this target"
);

#[cfg(all(feature = "std-guards", target_os = "linux"))]
mod hooks;
mod served;
mod thread;

pub use thread::fresh_thread;
pub(crate) use thread::run_on_clean_thread;

/// True if this build of detsim has the std guards (feature `std-guards`, Linux).
pub const ENABLED: bool = cfg!(all(feature = "std-guards", target_os = "linux"));
