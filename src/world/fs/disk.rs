//! One node's file system: the live namespace (what the program sees), the durable
//! namespace (what a crash keeps), and the inodes both refer to.
//!
//! Invariants:
//! 1. Entries are keyed by normalised path (`path.rs`); the root `""` is implicit and
//!    always durable. Every live entry's parent is a live directory.
//! 2. `sync_dir(d)` makes the durable children of `d` equal to its live children
//!    (creates, renames and removes in `d` become durable together, as `fsync` of a
//!    directory does on POSIX); nothing else changes the durable namespace but a crash.
//! 3. An inode lives while the live namespace, the durable namespace or an open handle
//!    refers to it (`Inode::is_referenced`); `used` is the sum of live inodes' lengths.
//! 4. `generation` is bumped by every crash; a handle from an older generation is stale.

use super::inode::{Inode, Tear};
use super::path::{parent, shown};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, ErrorKind};
use std::ops::Bound;
use std::sync::Arc;

/// A directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Entry {
    /// A file, by inode number.
    File(u64),
    /// A directory.
    Dir,
}

type Names = BTreeMap<Arc<str>, Entry>;

/// A file that a crash now would change.
#[derive(Debug)]
pub(super) struct Dirty {
    pub(super) ino: u64,
    pub(super) name: Arc<str>,
    pub(super) durable_len: u64,
    pub(super) len: u64,
    /// The last unsynced write, `(offset, len)`: what a tear may keep part of.
    pub(super) last_write: Option<(u64, u64)>,
}

#[derive(Debug, Default)]
pub(super) struct Disk {
    // invariant: rule 4.
    pub(super) generation: u32,
    live: Names,
    durable: Names,
    inodes: BTreeMap<u64, Inode>,
    next_ino: u64,
    // invariant: rule 3.
    used: u64,
    /// Bytes of file data the node may hold (`ENOSPC` past it).
    pub(super) quota: Option<u64>,
}

pub(super) fn error(kind: ErrorKind, path: &str, what: &str) -> io::Error {
    io::Error::new(kind, format!("{}: {what}", shown(path)))
}

fn not_found(path: &str) -> io::Error {
    error(ErrorKind::NotFound, path, "no such file or directory")
}

impl Disk {
    pub(super) fn with_quota(quota: Option<u64>) -> Self {
        Disk {
            quota,
            ..Disk::default()
        }
    }

    fn entry(&self, path: &str) -> Option<Entry> {
        if path.is_empty() {
            return Some(Entry::Dir);
        }
        self.live.get(path).copied()
    }

    fn need_dir(&self, path: &str) -> io::Result<()> {
        match self.entry(path) {
            Some(Entry::Dir) => Ok(()),
            Some(Entry::File(_)) => Err(error(ErrorKind::NotADirectory, path, "not a directory")),
            None => Err(not_found(path)),
        }
    }

    pub(super) fn inode(&self, ino: u64) -> &Inode {
        self.inodes
            .get(&ino)
            .expect("an open handle keeps its inode alive")
    }

    fn inode_mut(&mut self, ino: u64) -> &mut Inode {
        self.inodes
            .get_mut(&ino)
            .expect("an open handle keeps its inode alive")
    }

    /// Opens (and maybe creates or truncates) the file at `path`; returns its inode.
    pub(super) fn open(
        &mut self,
        path: &Arc<str>,
        create: bool,
        create_new: bool,
        truncate: bool,
    ) -> io::Result<u64> {
        let ino = match self.entry(path) {
            Some(Entry::Dir) => return Err(error(ErrorKind::IsADirectory, path, "is a directory")),
            Some(Entry::File(_)) if create_new => {
                return Err(error(ErrorKind::AlreadyExists, path, "file exists"))
            }
            Some(Entry::File(ino)) => ino,
            None if create || create_new => self.create(path)?,
            None => return Err(not_found(path)),
        };
        if truncate && self.inode(ino).len() > 0 {
            self.set_len(ino, 0)?;
        }
        self.inode_mut(ino).open += 1;
        Ok(ino)
    }

    fn create(&mut self, path: &Arc<str>) -> io::Result<u64> {
        self.need_dir(parent(path))?;
        let ino = self.next_ino;
        self.next_ino += 1;
        let mut inode = Inode::new(path.clone());
        inode.live_links = 1;
        self.inodes.insert(ino, inode);
        self.live.insert(path.clone(), Entry::File(ino));
        Ok(ino)
    }

    /// A handle of `generation` is closed.
    pub(super) fn close(&mut self, generation: u32, ino: u64) {
        if generation != self.generation {
            return; // rule 4: the crash already dropped every handle
        }
        if let Some(inode) = self.inodes.get_mut(&ino) {
            inode.open = inode.open.saturating_sub(1);
            self.maybe_free(ino);
        }
    }

    fn maybe_free(&mut self, ino: u64) {
        if self.inodes.get(&ino).is_some_and(|i| !i.is_referenced()) {
            let inode = self.inodes.remove(&ino).expect("checked above");
            self.used -= inode.len();
        }
    }

    fn reserve(&mut self, ino: u64, new_len: u64) -> io::Result<()> {
        let old = self.inode(ino).len();
        let used = self.used - old + new_len;
        if new_len > old && self.quota.is_some_and(|q| used > q) {
            let name = self.inode(ino).name.clone();
            return Err(error(
                ErrorKind::StorageFull,
                &name,
                "no space left on device (ENOSPC: the node's disk quota is full)",
            ));
        }
        self.used = used;
        Ok(())
    }

    /// Writes `buf` at `offset` into the page cache.
    pub(super) fn write(&mut self, ino: u64, offset: u64, buf: &[u8]) -> io::Result<()> {
        let new_len = self.inode(ino).len_after_write(offset, buf.len() as u64);
        self.reserve(ino, new_len)?;
        self.inode_mut(ino).write(offset, buf);
        Ok(())
    }

    pub(super) fn set_len(&mut self, ino: u64, len: u64) -> io::Result<()> {
        self.reserve(ino, len)?;
        self.inode_mut(ino).set_len(len);
        Ok(())
    }

    pub(super) fn sync(&mut self, ino: u64) {
        self.inode_mut(ino).sync();
    }

    /// The entry at `path` and its length (0 for a directory).
    pub(super) fn metadata(&self, path: &str) -> io::Result<(Entry, u64)> {
        match self.entry(path) {
            Some(Entry::File(ino)) => Ok((Entry::File(ino), self.inode(ino).len())),
            Some(Entry::Dir) => Ok((Entry::Dir, 0)),
            None => Err(not_found(path)),
        }
    }

    pub(super) fn create_dir(&mut self, path: &Arc<str>, all: bool) -> io::Result<()> {
        match self.entry(path) {
            Some(Entry::Dir) if all => return Ok(()),
            Some(_) => return Err(error(ErrorKind::AlreadyExists, path, "file exists")),
            None => {}
        }
        let up = parent(path);
        if all && self.entry(up).is_none() {
            self.create_dir(&Arc::from(up), true)?;
        }
        self.need_dir(up)?;
        self.live.insert(path.clone(), Entry::Dir);
        Ok(())
    }

    pub(super) fn remove_file(&mut self, path: &str) -> io::Result<()> {
        match self.entry(path) {
            Some(Entry::File(ino)) => {
                self.live.remove(path);
                self.inode_mut(ino).live_links -= 1;
                self.maybe_free(ino);
                Ok(())
            }
            Some(Entry::Dir) => Err(error(ErrorKind::IsADirectory, path, "is a directory")),
            None => Err(not_found(path)),
        }
    }

    pub(super) fn remove_dir(&mut self, path: &str) -> io::Result<()> {
        self.need_dir(path)?;
        if path.is_empty() {
            return Err(error(
                ErrorKind::InvalidInput,
                path,
                "the root cannot be removed",
            ));
        }
        if !children(&self.live, path).is_empty() {
            return Err(error(
                ErrorKind::DirectoryNotEmpty,
                path,
                "directory not empty",
            ));
        }
        self.live.remove(path);
        Ok(())
    }

    /// The live entries of directory `path`, sorted by name.
    pub(super) fn read_dir(&self, path: &str) -> io::Result<Vec<(Arc<str>, Entry)>> {
        self.need_dir(path)?;
        Ok(children(&self.live, path))
    }

    pub(super) fn rename(&mut self, from: &Arc<str>, to: &Arc<str>) -> io::Result<()> {
        let src = self.entry(from).ok_or_else(|| not_found(from))?;
        self.need_dir(parent(to))?;
        if from.is_empty() || to.is_empty() || to.starts_with(&format!("{from}/")) {
            return Err(error(
                ErrorKind::InvalidInput,
                to,
                "cannot move a directory into itself",
            ));
        }
        if from == to {
            return Ok(());
        }
        match (src, self.entry(to)) {
            (Entry::File(_), Some(Entry::Dir)) => {
                return Err(error(ErrorKind::IsADirectory, to, "is a directory"))
            }
            (Entry::Dir, Some(Entry::File(_))) => {
                return Err(error(ErrorKind::NotADirectory, to, "not a directory"))
            }
            (Entry::Dir, Some(Entry::Dir)) => self.remove_dir(to)?,
            (Entry::File(_), Some(Entry::File(_))) => self.remove_file(to)?,
            (_, None) => {}
        }
        let mut moved = descendants(&self.live, from);
        moved.insert(0, (from.clone(), src));
        for (old, entry) in moved {
            self.live.remove(&old);
            let new: Arc<str> = format!("{to}{}", &old[from.len()..]).into();
            if let Entry::File(ino) = entry {
                self.inode_mut(ino).name = new.clone();
            }
            self.live.insert(new, entry);
        }
        Ok(())
    }

    /// Makes the entries of directory `path` durable (rule 2).
    pub(super) fn sync_dir(&mut self, path: &str) -> io::Result<()> {
        self.need_dir(path)?;
        let mut released = Vec::new();
        for (name, entry) in children(&self.durable, path) {
            self.durable.remove(&name);
            if let Entry::File(ino) = entry {
                released.push(ino);
            }
        }
        for (name, entry) in children(&self.live, path) {
            if let Entry::File(ino) = entry {
                self.inode_mut(ino).durable_links += 1;
            }
            self.durable.insert(name, entry);
        }
        released.extend(prune_orphans(&mut self.durable));
        for ino in released {
            self.inode_mut(ino).durable_links -= 1;
            self.maybe_free(ino);
        }
        Ok(())
    }

    /// Files a crash now would change, in inode order.
    pub(super) fn dirty(&self) -> Vec<Dirty> {
        let dirty = self.inodes.iter().filter(|(_, i)| i.is_dirty());
        dirty
            .map(|(&ino, i)| Dirty {
                ino,
                name: i.name.clone(),
                durable_len: i.durable_len(),
                len: i.len(),
                last_write: i.torn_candidate(),
            })
            .collect()
    }

    /// The crash: every file becomes its durable image (plus what `tears` keep), the
    /// live namespace becomes the durable one, every handle goes stale.
    pub(super) fn crash(&mut self, mut tears: BTreeMap<u64, Tear>) {
        for (ino, inode) in self.inodes.iter_mut() {
            if inode.is_dirty() {
                inode.crash(tears.remove(ino));
            }
        }
        for ino in prune_orphans(&mut self.durable) {
            self.inode_mut(ino).durable_links -= 1;
        }
        self.live = self.durable.clone();
        for inode in self.inodes.values_mut() {
            inode.live_links = inode.durable_links;
            inode.open = 0;
        }
        self.inodes.retain(|_, i| i.is_referenced());
        self.used = self.inodes.values().map(Inode::len).sum();
        self.generation += 1;
    }

    /// Bytes of live file data (what the quota counts).
    pub(super) fn used(&self) -> u64 {
        self.used
    }
}

/// The direct children of directory `dir` in `names`, sorted.
fn children(names: &Names, dir: &str) -> Vec<(Arc<str>, Entry)> {
    if !dir.is_empty() {
        let mut below = descendants(names, dir);
        below.retain(|(k, _)| parent(k) == dir);
        return below;
    }
    let top = names.iter().filter(|(k, _)| !k.contains('/'));
    top.map(|(k, e)| (k.clone(), *e)).collect()
}

/// Every entry below directory `dir` (not `dir` itself), sorted.
fn descendants(names: &Names, dir: &str) -> Vec<(Arc<str>, Entry)> {
    let prefix = format!("{dir}/");
    names
        .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
        .take_while(|(k, _)| k.starts_with(&prefix))
        .map(|(k, e)| (k.clone(), *e))
        .collect()
}

/// Removes entries whose parent directory is not in `names`; returns the inodes of
/// removed files.
fn prune_orphans(names: &mut Names) -> Vec<u64> {
    let mut gone = BTreeSet::new();
    for name in names.keys() {
        let up = parent(name);
        let ok = up.is_empty() || (names.get(up) == Some(&Entry::Dir) && !gone.contains(up));
        if !ok {
            gone.insert(name.clone());
        }
    }
    gone.iter()
        .filter_map(|name| match names.remove(&**name) {
            Some(Entry::File(ino)) => Some(ino),
            _ => None,
        })
        .collect()
}
