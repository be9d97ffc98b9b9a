//! Files that carry failures between runs and people: seeds files and schedule files.
//!
//! - `seeds.rs` — `seeds/<scenario>.seeds`, the regression corpus.
//! - [`entry`] — what `#[detsim::test]` and `#[detsim::main]` expand to.
//! - `schedule_file.rs` — `*.schedule`, a recorded choice list with a checked header.
//! - `file_lock.rs` — exclusive locks across processes (seeds appends, in-flight logs).
//! - `regular_file.rs` — reading either only if it is a regular file (not a FIFO, a device).
//! - `check.rs` — [`check`] and [`Check`]: detsim in a `#[test]`.

mod check;
pub mod entry;
pub(crate) mod file_lock;
mod regular_file;
pub(crate) mod schedule_file;
pub(crate) mod seeds;

pub use check::{check, Check};
pub use schedule_file::{program_fingerprint, ScheduleFile, ScheduleFileError, ScheduleHeader};
pub use seeds::{
    append_case, file_stem, merge_into, scenario_seeds_path, SeedCase, SeedsError, SeedsFile,
};
