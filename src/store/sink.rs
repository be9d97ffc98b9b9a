//! [`FailureSink`]: the one interface through which a campaign hands over what failed,
//! and [`SeedsDir`], the store behind it (a seeds directory).
//!
//! Why an interface: the campaign decides *which* failures to keep (index order, the cap
//! per signature, the in-flight log it closes afterwards); the store decides *how* they
//! are kept (file names, formats, locks, atomic writes). Exploration sees only this
//! trait, so it needs nothing of the files' modules, and a test can hand a campaign's
//! saver a sink that records instead of writing.
//!
//! Rules of [`SeedsDir`]:
//! 1. A case goes to `<dir>/<scenario>.seeds` ([`scenario_seeds_path`]) through
//!    [`append_case`]: atomic, idempotent, serialised across processes.
//! 2. A failing run that only its schedule reproduces (a DFS run) goes to
//!    `<dir>/<scenario>-<fingerprint as 16 hex digits>.schedule` ([`file_stem`] of the
//!    scenario), written before the seeds line that names it with `schedule=<file name>`
//!    (relative to the seeds file), so a line never names a schedule that is not there.

use super::file_stem;
use super::schedule_file::{ScheduleFile, ScheduleFileError};
use super::seeds::{append_case, scenario_seeds_path, SeedCase, SeedsError};
use std::fmt;
use std::path::PathBuf;

/// Where a campaign hands over its failing cases.
pub(crate) trait FailureSink: fmt::Debug + Send {
    /// Keeps one failing case (re-run by its seed, strategy and workers). `Ok(false)` if
    /// the store already held the same run (nothing was added).
    fn failing_case(&mut self, case: &SeedCase) -> Result<bool, StoreError>;

    /// Keeps a failing run that only its schedule reproduces: the schedule `file`, and a
    /// case (seed, strategy and workers from its header, `summary` as its comment) that
    /// names it. `fingerprint` (the run's) names the file. Returns the schedule's path as
    /// the case names it.
    fn failing_schedule(
        &mut self,
        file: &ScheduleFile,
        summary: Option<String>,
        fingerprint: u64,
    ) -> Result<PathBuf, StoreError>;
}

/// A failure the store could not keep.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// The seeds file could not be read, parsed or written.
    #[error(transparent)]
    Seeds(#[from] SeedsError),
    /// The schedule file could not be written.
    #[error(transparent)]
    Schedule(#[from] ScheduleFileError),
}

/// The seeds directory of one scenario: its seeds file and its schedule files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SeedsDir {
    dir: PathBuf,
    scenario: String,
}

impl SeedsDir {
    pub(crate) fn new(dir: impl Into<PathBuf>, scenario: impl Into<String>) -> Self {
        SeedsDir {
            dir: dir.into(),
            scenario: scenario.into(),
        }
    }

    /// `<dir>/<scenario>.seeds` (rule 1).
    pub(crate) fn seeds_path(&self) -> PathBuf {
        scenario_seeds_path(&self.dir, &self.scenario)
    }

    /// `<dir>/<scenario>-<fingerprint>.schedule` (rule 2).
    pub(crate) fn schedule_path(&self, fingerprint: u64) -> PathBuf {
        let stem = file_stem(&self.scenario);
        self.dir.join(format!("{stem}-{fingerprint:016x}.schedule"))
    }
}

impl FailureSink for SeedsDir {
    fn failing_case(&mut self, case: &SeedCase) -> Result<bool, StoreError> {
        Ok(append_case(self.seeds_path(), case)?)
    }

    fn failing_schedule(
        &mut self,
        file: &ScheduleFile,
        summary: Option<String>,
        fingerprint: u64,
    ) -> Result<PathBuf, StoreError> {
        let path = self.schedule_path(fingerprint);
        file.save(&path)?;
        let header = &file.header;
        let mut case = SeedCase::new(header.config.seed, header.strategy, header.config.workers);
        case.summary = summary;
        // Named relative to the seeds file, so the directory can move (and no absolute
        // path is written into a committed file).
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        case.extra = vec![("schedule".to_string(), name)];
        append_case(self.seeds_path(), &case)?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ScheduleHeader, SeedsFile};
    use crate::{Config, Schedule};

    #[test]
    fn a_schedule_is_saved_with_the_line_that_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = SeedsDir::new(dir.path(), "m::t");
        let strategy = "dfs:2".parse().unwrap();
        let config = Config::default().seed(9).workers(2);
        let file = ScheduleFile {
            header: ScheduleHeader::new("m::t", strategy, config),
            schedule: Schedule::default(),
        };
        let path = sink
            .failing_schedule(&file, Some("boom".into()), 0xab)
            .unwrap();
        assert_eq!(path, dir.path().join("m.t-00000000000000ab.schedule"));
        assert_eq!(ScheduleFile::load(&path).unwrap(), file);
        let seeds = SeedsFile::load(sink.seeds_path()).unwrap();
        assert_eq!(seeds.cases.len(), 1);
        let case = &seeds.cases[0];
        assert_eq!((case.seed, case.strategy, case.workers), (9, strategy, 2));
        assert_eq!(case.summary.as_deref(), Some("boom"));
        let named = case.extra.iter().find(|(k, _)| k == "schedule");
        assert_eq!(
            named.map(|(_, v)| v.as_str()),
            Some("m.t-00000000000000ab.schedule"),
            "named relative to the seeds file"
        );
        assert_eq!(case.schedule_path(dir.path()), Some(path));
        // The same run again adds no line.
        let again = SeedCase::new(9, strategy, 2);
        assert!(!sink.failing_case(&again).unwrap());
        assert!(sink.failing_case(&SeedCase::new(10, strategy, 2)).unwrap());
    }
}
