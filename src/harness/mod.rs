//! detsim in tests: [`check`] for a plain `#[test]`, and what `#[detsim::test]` and
//! `#[detsim::main]` expand to. The saved formats live in the failure store
//! (`src/store/`, below exploration); their public paths stay here.
//!
//! - `check.rs` — [`check`] and [`Check`]: detsim in a `#[test]`.
//! - [`entry`] — what `#[detsim::test]` and `#[detsim::main]` expand to.

mod check;
pub mod entry;

pub use crate::store::{
    append_case, file_stem, merge_into, program_fingerprint, scenario_seeds_path, ScheduleFile,
    ScheduleFileError, ScheduleHeader, SeedCase, SeedsError, SeedsFile,
};
pub use check::{check, Check};
