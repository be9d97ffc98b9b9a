//! Files that carry failures between runs and people: seeds files and schedule files.
//!
//! - `seeds.rs` — `seeds/<scenario>.seeds`, the regression corpus.
//! - `schedule_file.rs` — `*.schedule`, a recorded choice list with a checked header.

pub(crate) mod schedule_file;
pub(crate) mod seeds;
