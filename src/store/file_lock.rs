//! Exclusive locks across processes on files that name what they guard (an OS lock,
//! `flock`-style, through `fs4`; the OS drops it when the process dies).
//!
//! A lock file may be removed by its holder (so none is left behind), so whoever gets a
//! lock checks that the path still names the file it locked; if not, the holder removed
//! it meanwhile and the lock is retried on the new file.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// An exclusive lock on `path`, held until dropped; the file is removed on drop.
#[derive(Debug)]
pub(crate) struct FileLock {
    path: PathBuf,
    _file: File,
}

impl FileLock {
    /// Blocks until this process holds the lock on `path` (created if missing).
    pub(crate) fn acquire(path: &Path) -> io::Result<FileLock> {
        loop {
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(path)?;
            fs4::FileExt::lock(&file)?;
            if still_named(path, &file) {
                return Ok(FileLock {
                    path: path.to_path_buf(),
                    _file: file,
                });
            }
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Removed while still locked: a waiter then finds the path renamed and retries.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Opens `path` (creating it if `create`) and locks it if no live process holds it;
/// `None` if one does, or if the file vanished meanwhile. The lock lasts as long as the
/// returned file.
pub(crate) fn try_lock_unowned(path: &Path, create: bool) -> io::Result<Option<File>> {
    let file = match OpenOptions::new()
        .read(true)
        .append(true)
        .create(create)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if fs4::FileExt::try_lock(&file).is_err() || !still_named(path, &file) {
        return Ok(None);
    }
    Ok(Some(file))
}

/// True if `path` still names `file` (it was not removed, or removed and re-created).
#[cfg(unix)]
fn still_named(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

/// Without inode numbers, only removal is detected.
#[cfg(not(unix))]
fn still_named(path: &Path, _file: &File) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_excludes_others_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = FileLock::acquire(&path).unwrap();
        assert!(try_lock_unowned(&path, false).unwrap().is_none());
        drop(held);
        assert!(!path.exists());
        assert!(try_lock_unowned(&path, true).unwrap().is_some());
    }
}
