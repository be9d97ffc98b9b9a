//! tokio's `fs` on detsim's simulated disk: each node has its own file system, with
//! crash semantics (only synced data survives a crash of the node) and the fault plan's
//! disk faults (`EIO`, latency, torn writes, a quota). See `detsim::fs` for the
//! durability rules.
//!
//! A task uses the disk of the node it runs on; paths are relative to that node's root.
//! Differences from tokio, each a compile error or a documented behaviour, never the real
//! disk:
//! - [`metadata`] and [`File::metadata`] return detsim's [`Metadata`] (`len`, `is_file`,
//!   `is_dir`), not `std::fs::Metadata` (which cannot be made for a simulated file);
//! - a new file's *name* is durable only after [`sync_dir`] of its directory (a detsim
//!   addition: POSIX needs an fsync of the directory, which tokio has no call for);
//! - not here: permissions, links, `canonicalize`, `remove_dir_all`, `File::try_clone`,
//!   `from_std`/`into_std`.
//!
//! - `file.rs` — [`File`], [`OpenOptions`].
//! - this file — the path functions and [`ReadDir`].

mod file;

pub use detsim::fs::{
    create_dir, create_dir_all, metadata, read, remove_dir, remove_file, rename, sync_dir, write,
    Metadata,
};
pub use file::{File, OpenOptions};

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

/// Reads a whole file as UTF-8 (`InvalidData` if it is not).
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let bytes = read(path).await?;
    String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Copies `from`'s contents to `to` (created or truncated); returns the bytes copied.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let bytes = read(from).await?;
    write(to, &bytes).await?;
    Ok(bytes.len() as u64)
}

/// Whether `path` exists (`Ok(false)` if it does not; other errors are errors).
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    match metadata(path).await {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// The entries of a directory, in name order (tokio's `read_dir`).
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let entries = detsim::fs::read_dir(path).await?;
    Ok(ReadDir {
        entries: entries.into_iter().map(DirEntry).collect(),
    })
}

/// The entries of a directory ([`read_dir`]), read at the call (a snapshot).
#[derive(Debug)]
pub struct ReadDir {
    entries: VecDeque<DirEntry>,
}

impl ReadDir {
    /// The next entry, or `None` after the last.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        Ok(self.entries.pop_front())
    }
}

/// An entry of a directory.
#[derive(Debug)]
pub struct DirEntry(detsim::fs::DirEntry);

impl DirEntry {
    /// Its path (the directory's path joined with its name).
    pub fn path(&self) -> PathBuf {
        self.0.path()
    }

    /// Its name.
    pub fn file_name(&self) -> OsString {
        self.0.file_name().into()
    }

    /// Its metadata.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        metadata(self.path()).await
    }
}
