//! The in-flight log: which seeds a campaign is running, so a seed that hangs the
//! process or gets it killed (CI timeout, OOM, stack overflow) can be found afterwards.
//!
//! Workers claim seeds in chunks and log `claim FIRST COUNT` before running a chunk and
//! `done FIRST` after; a clean campaign deletes the file. A later campaign that finds
//! the file re-runs every claimed-but-not-done chunk first. Lines are small appends
//! without fsync: the page cache survives a killed process, which is the case that
//! matters; a machine crash may lose the tail.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug)]
pub(crate) struct InFlight {
    path: PathBuf,
    file: Mutex<File>,
}

impl InFlight {
    /// Seeds left in flight by an earlier campaign (claims without `done`).
    pub(crate) fn leftovers(path: &Path, stride: u64) -> Vec<u64> {
        let Ok(text) = std::fs::read_to_string(path) else {
            return Vec::new();
        };
        let mut open: BTreeMap<u64, u64> = BTreeMap::new();
        for line in text.lines() {
            let mut w = line.split_whitespace();
            match (w.next(), w.next().and_then(|s| s.parse().ok()), w.next()) {
                (Some("claim"), Some(first), Some(n)) => {
                    open.insert(first, n.parse().unwrap_or(0));
                }
                (Some("done"), Some(first), _) => {
                    open.remove(&first);
                }
                _ => {}
            }
        }
        open.into_iter()
            .flat_map(|(first, n)| (0..n.min(1 << 20)).map(move |i| first + i * stride))
            .collect()
    }

    pub(crate) fn create(path: &Path) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(path)?;
        Ok(InFlight {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    fn line(&self, text: std::fmt::Arguments<'_>) {
        let mut f = self.file.lock().unwrap_or_else(|e| e.into_inner());
        // Best effort: a full disk must not stop the campaign itself.
        let _ = f.write_fmt(text);
    }

    pub(crate) fn claim(&self, first: u64, count: u64) {
        self.line(format_args!("claim {first} {count}\n"));
    }

    pub(crate) fn done(&self, first: u64) {
        self.line(format_args!("done {first}\n"));
    }

    /// Removes the log after a clean finish.
    pub(crate) fn finish(self) {
        drop(self.file);
        let _ = std::fs::remove_file(&self.path);
    }
}
