//! The failure store: the files that carry failures between runs, processes and people.
//!
//! A leaf below exploration: it knows the formats and how to write them safely, nothing
//! of campaigns, strategies' code or the user API (`tests/layering.rs` checks that it
//! imports nothing from `explore`, `harness`, `cli` or the scenarios). Exploration hands
//! failures over through [`FailureSink`]; the user API re-exports the formats from
//! `detsim::harness`.
//!
//! - `sink.rs` — [`FailureSink`], the one interface a campaign saves through, and
//!   [`SeedsDir`], the seeds directory behind it.
//! - `seeds.rs` — `seeds/<scenario>.seeds`, the regression corpus.
//! - `schedule_file.rs` — `*.schedule`, a recorded choice list with a checked header.
//! - `inflight.rs` — `<scenario>.inflight`, the seeds a campaign is running (found again
//!   after a crash).
//! - `file_stem.rs` — [`file_stem`], a scenario or test name as a file name on every OS.
//! - `atomic.rs` — replacing a file atomically and durably (`tempfile` + fsyncs).
//! - `file_lock.rs` — exclusive locks across processes (seeds appends, in-flight logs).
//! - `regular_file.rs` — reading a file only if it is a regular file (not a FIFO, a device).

mod atomic;
mod file_lock;
mod file_stem;
pub(crate) mod inflight;
mod regular_file;
mod schedule_file;
mod seeds;
mod sink;

pub use file_stem::file_stem;
pub use schedule_file::{program_fingerprint, ScheduleFile, ScheduleFileError, ScheduleHeader};
pub use seeds::{append_case, merge_into, scenario_seeds_path, SeedCase, SeedsError, SeedsFile};
#[allow(unused_imports)] // named by other sinks (tests) and their callers
pub(crate) use sink::StoreError;
pub(crate) use sink::{FailureSink, SeedsDir};
