//! Path operations ([`rename`], [`sync_dir`], …) and what every operation shares:
//! its latency, the `EIO` decision, and its trace event.

use super::disk::{Disk, Entry};
use super::path::{file_name, normalize, shown};
use super::{ctx, faults_active, World};
use crate::runtime::context;
use crate::trace::{DiskOp, DiskResult, EventKind};
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// `EIO` as the OS reports it.
pub(super) const EIO: i32 = 5;

/// The latency of one operation (a recorded choice when the plan gives a range; 0 is
/// its lower bound), or `None` without one.
pub(super) fn latency() -> Option<crate::time::Sleep> {
    let ns = context::world(|w| {
        let [lo, hi] = w.disks.borrow().profile.latency_ns;
        match hi {
            0 => 0,
            _ => lo + ctx::extra(hi - lo),
        }
    });
    (ns > 0).then(|| crate::time::sleep(Duration::from_nanos(ns)))
}

/// Waits the latency of one operation.
pub(super) async fn delay() {
    if let Some(sleep) = latency() {
        sleep.await;
    }
}

/// The fault decisions of one operation on a file (made while its disk is borrowed,
/// so they take the probabilities with them).
pub(super) struct Faults<'a> {
    w: &'a World,
    eio: f64,
    lying_fsync: f64,
}

impl<'a> Faults<'a> {
    pub(super) fn of(w: &'a World) -> Self {
        let p = &w.disks.borrow().profile;
        let active = faults_active(w);
        let on = |p: f64| if active { p } else { 0.0 };
        Faults {
            w,
            eio: on(p.eio),
            lying_fsync: on(p.lying_fsync),
        }
    }

    /// True if the fault plan injects `EIO` here (a recorded choice, 0 = no).
    pub(super) fn eio(&self) -> bool {
        self.eio > 0.0 && ctx::fault(self.w, self.eio)
    }

    /// True if this sync lies (reports success, keeps nothing): only with `lying_fsync`.
    pub(super) fn lying_sync(&self) -> bool {
        self.lying_fsync > 0.0 && ctx::fault(self.w, self.lying_fsync)
    }
}

/// The trace's name for an error.
fn classify(e: &io::Error) -> DiskResult {
    if e.raw_os_error() == Some(EIO) {
        return DiskResult::Eio;
    }
    match e.kind() {
        ErrorKind::NotFound => DiskResult::NotFound,
        ErrorKind::AlreadyExists => DiskResult::AlreadyExists,
        ErrorKind::StorageFull => DiskResult::NoSpace,
        ErrorKind::IsADirectory | ErrorKind::NotADirectory => DiskResult::WrongKind,
        ErrorKind::DirectoryNotEmpty => DiskResult::NotEmpty,
        ErrorKind::InvalidInput => DiskResult::Invalid,
        _ => DiskResult::Stale,
    }
}

/// Records one operation.
pub(super) fn record(
    node: u32,
    op: DiskOp,
    path: &Arc<str>,
    offset: u64,
    len: u64,
    result: Result<(), &io::Error>,
) {
    let result = result.map_or_else(classify, |()| DiskResult::Ok);
    let path = path.clone();
    let kind = EventKind::Disk {
        node,
        op,
        path,
        offset,
        len,
        result,
    };
    ctx::emit(kind);
}

/// Runs a path operation on the current node's disk after its latency, and records it.
async fn on_path<T>(
    op: DiskOp,
    path: &Path,
    f: impl FnOnce(&mut Disk, &Arc<str>) -> io::Result<T>,
) -> io::Result<T> {
    delay().await;
    let node = ctx::current_node();
    let p = match normalize(path) {
        Ok(p) => p,
        Err(e) => {
            let shown: Arc<str> = path.to_string_lossy().into();
            record(node, op, &shown, 0, 0, Err(&e));
            return Err(e);
        }
    };
    let result = context::world(|w| f(w.disks.borrow_mut().disk_mut(node), &p));
    let label = if p.is_empty() { ".".into() } else { p };
    record(node, op, &label, 0, 0, result.as_ref().map(|_| ()));
    result
}

/// Creates directory `path` (its parent must exist). Not durable until [`sync_dir`] of
/// its parent.
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(DiskOp::CreateDir, path.as_ref(), |d, p| {
        d.create_dir(p, false)
    })
    .await
}

/// Creates directory `path` and any missing parents; `Ok` if it exists. Not durable
/// until [`sync_dir`] of each new directory's parent.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(DiskOp::CreateDir, path.as_ref(), |d, p| {
        d.create_dir(p, true)
    })
    .await
}

/// Removes a file. Not durable until [`sync_dir`] of its directory.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(DiskOp::Remove, path.as_ref(), |d, p| d.remove_file(p)).await
}

/// Removes an empty directory. Not durable until [`sync_dir`] of its parent.
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(DiskOp::RemoveDir, path.as_ref(), |d, p| d.remove_dir(p)).await
}

/// Renames a file or directory, replacing a file (or an empty directory) at `to`.
/// Atomic; durable once [`sync_dir`] ran on the directories of both names.
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    delay().await;
    let node = ctx::current_node();
    let (from, to) = (from.as_ref(), to.as_ref());
    let paths = normalize(from).and_then(|f| Ok((f, normalize(to)?)));
    let label = match &paths {
        Ok((f, t)) => format!("{} -> {}", shown(f), shown(t)),
        Err(_) => format!("{} -> {}", from.display(), to.display()),
    };
    let result = paths
        .and_then(|(f, t)| context::world(|w| w.disks.borrow_mut().disk_mut(node).rename(&f, &t)));
    record(
        node,
        DiskOp::Rename,
        &label.into(),
        0,
        0,
        result.as_ref().map(|_| ()),
    );
    result
}

/// Makes the entries of directory `path` durable (POSIX: `fsync` of the directory).
pub async fn sync_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(DiskOp::SyncDir, path.as_ref(), |d, p| d.sync_dir(p)).await
}

/// A file's or directory's metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metadata {
    pub(super) len: u64,
    pub(super) is_dir: bool,
}

impl Metadata {
    /// Length in bytes (0 for a directory).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True for an empty file or a directory.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True for a directory.
    pub fn is_dir(&self) -> bool {
        self.is_dir
    }

    /// True for a file.
    pub fn is_file(&self) -> bool {
        !self.is_dir
    }
}

/// The metadata of the file or directory at `path`.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_path(DiskOp::Metadata, path.as_ref(), |d, p| {
        let (entry, len) = d.metadata(p)?;
        let is_dir = entry == Entry::Dir;
        Ok(Metadata { len, is_dir })
    })
    .await
}

/// An entry of a directory listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    path: Arc<str>,
    is_dir: bool,
}

impl DirEntry {
    /// Its path (relative to the node's root).
    pub fn path(&self) -> PathBuf {
        PathBuf::from(&*self.path)
    }

    /// Its name within the directory.
    pub fn file_name(&self) -> String {
        file_name(&self.path).to_string()
    }

    /// True for a directory.
    pub fn is_dir(&self) -> bool {
        self.is_dir
    }
}

/// The entries of directory `path`, sorted by name.
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<Vec<DirEntry>> {
    on_path(DiskOp::ReadDir, path.as_ref(), |d, p| {
        let entries = d.read_dir(p)?.into_iter();
        let entry = |(path, e): (Arc<str>, Entry)| DirEntry {
            path,
            is_dir: e == Entry::Dir,
        };
        Ok(entries.map(entry).collect())
    })
    .await
}

/// Reads a whole file.
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    use futures::AsyncReadExt;
    let mut file = super::File::open(path).await?;
    let mut out = Vec::new();
    file.read_to_end(&mut out).await?;
    Ok(out)
}

/// Creates or truncates a file and writes `contents` (not synced).
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let file = super::File::create(path).await?;
    file.write_all_at(contents.as_ref(), 0).await
}
