//! [`File`] and [`OpenOptions`]: open files of a node's simulated disk.
//!
//! A handle remembers its node and the disk's generation when it was opened; after a
//! crash of that node it is stale and every operation on it fails (the program that
//! held it is gone anyway). Positional operations (`read_at`, `write_at`) take `&self`;
//! the `futures::io` traits move a cursor, as `std::fs::File` does.

use super::disk::error;
use super::ops::{delay, latency, record, Faults, EIO};
use super::path::normalize;
use super::{ctx, Disk, World};
use crate::runtime::context;
use crate::trace::DiskOp;
use futures::io::{AsyncRead, AsyncSeek, AsyncWrite};
use std::future::Future;
use std::io::{self, ErrorKind, SeekFrom};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

/// How to open a file (as `std::fs::OpenOptions`).
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    read: bool,
    write: bool,
    append: bool,
    create: bool,
    create_new: bool,
    truncate: bool,
}

impl OpenOptions {
    /// All options off.
    pub fn new() -> Self {
        Self::default()
    }

    /// Open for reading.
    pub fn read(&mut self, on: bool) -> &mut Self {
        self.read = on;
        self
    }

    /// Open for writing.
    pub fn write(&mut self, on: bool) -> &mut Self {
        self.write = on;
        self
    }

    /// Sequential writes go to the end of the file.
    pub fn append(&mut self, on: bool) -> &mut Self {
        self.append = on;
        self
    }

    /// Create the file if it does not exist.
    pub fn create(&mut self, on: bool) -> &mut Self {
        self.create = on;
        self
    }

    /// Create the file; fail with `AlreadyExists` if it exists.
    pub fn create_new(&mut self, on: bool) -> &mut Self {
        self.create_new = on;
        self
    }

    /// Cut the file to length 0 when opening it.
    pub fn truncate(&mut self, on: bool) -> &mut Self {
        self.truncate = on;
        self
    }

    fn check(&self) -> Result<(), &'static str> {
        let writes = self.write || self.append;
        if !self.read && !writes {
            return Err("open for neither reading nor writing");
        }
        if (self.create || self.create_new || self.truncate) && !writes {
            return Err("create or truncate without write or append");
        }
        if self.truncate && self.append {
            return Err("truncate together with append");
        }
        Ok(())
    }

    /// Opens the file at `path` on the current node's disk.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        delay().await;
        let node = ctx::current_node();
        let path = path.as_ref();
        let opened = normalize(path).and_then(|p| {
            self.check()
                .map_err(|why| error(ErrorKind::InvalidInput, &p, why))?;
            let (ino, generation) = context::world(|w| {
                let mut disks = w.disks.borrow_mut();
                let disk = disks.disk_mut(node);
                let ino = disk.open(&p, self.create, self.create_new, self.truncate)?;
                Ok::<_, io::Error>((ino, disk.generation))
            })?;
            Ok(File {
                node,
                generation,
                ino,
                path: p,
                read: self.read,
                write: self.write || self.append,
                append: self.append,
                pos: 0,
                delay: None,
            })
        });
        let shown: Arc<str> = match &opened {
            Ok(f) => f.path.clone(),
            Err(_) => path.to_string_lossy().into(),
        };
        record(
            node,
            DiskOp::Open,
            &shown,
            0,
            0,
            opened.as_ref().map(|_| ()),
        );
        opened
    }
}

/// An open file of a node's simulated disk (see the module docs of `detsim::fs`).
#[derive(Debug)]
pub struct File {
    node: u32,
    generation: u32,
    ino: u64,
    path: Arc<str>,
    read: bool,
    write: bool,
    append: bool,
    /// The cursor of the `futures::io` traits.
    pos: u64,
    /// The latency of the sequential operation in progress.
    delay: Option<crate::time::Sleep>,
}

#[derive(Clone, Copy, PartialEq)]
enum Access {
    Read,
    Write,
    Any,
}

impl File {
    /// Creates (or truncates) `path` and opens it for writing.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        let mut o = OpenOptions::new();
        o.write(true).create(true).truncate(true);
        o.open(path).await
    }

    /// Opens `path` for reading.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Options to open a file with.
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Its path (as opened).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Reads up to `buf.len()` bytes at `offset`; returns how many (0 at the end).
    pub async fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        delay().await;
        self.read_now(buf, offset)
    }

    /// Reads exactly `buf.len()` bytes at `offset` (`UnexpectedEof` if the file ends).
    pub async fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let n = self.read_at(buf, offset).await?;
        if n < buf.len() {
            let why = "read_exact_at past the end of the file";
            return Err(io::Error::new(ErrorKind::UnexpectedEof, why));
        }
        Ok(())
    }

    /// Writes all of `buf` at `offset` into the page cache (not durable until a sync);
    /// returns `buf.len()`.
    pub async fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<usize> {
        delay().await;
        self.write_now(buf, Some(offset))
    }

    /// [`File::write_at`], for callers that expect `write_all_at`.
    pub async fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.write_at(buf, offset).await.map(drop)
    }

    /// Cuts or zero-extends the file to `len` bytes (not durable until a sync).
    pub async fn set_len(&self, len: u64) -> io::Result<()> {
        delay().await;
        self.act(DiskOp::SetLen, len, 0, Access::Write, |_, d| {
            d.set_len(self.ino, len).map(|()| ((), 0))
        })
    }

    /// Makes the file's data and length durable (`fdatasync`).
    pub async fn sync_data(&self) -> io::Result<()> {
        delay().await;
        self.sync(DiskOp::SyncData)
    }

    /// Makes the file's data, length and metadata durable (`fsync`). Neither sync makes
    /// the file's *name* durable: that is [`super::sync_dir`].
    pub async fn sync_all(&self) -> io::Result<()> {
        delay().await;
        self.sync(DiskOp::SyncAll)
    }

    /// The file's metadata.
    pub async fn metadata(&self) -> io::Result<super::Metadata> {
        delay().await;
        self.act(DiskOp::Metadata, 0, 0, Access::Any, |_, d| {
            let len = d.inode(self.ino).len();
            Ok((super::Metadata { len, is_dir: false }, len))
        })
    }

    fn read_now(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.act(
            DiskOp::Read,
            offset,
            buf.len() as u64,
            Access::Read,
            |w, d| {
                if w.eio() {
                    return Err(io::Error::from_raw_os_error(EIO));
                }
                let n = d.inode(self.ino).read(offset, buf);
                Ok((n, n as u64))
            },
        )
    }

    /// Writes at `offset`, or at the end of the file for `None` (append).
    fn write_now(&self, buf: &[u8], offset: Option<u64>) -> io::Result<usize> {
        let at = offset.unwrap_or(u64::MAX);
        self.act(
            DiskOp::Write,
            at,
            buf.len() as u64,
            Access::Write,
            |w, d| {
                if w.eio() {
                    return Err(io::Error::from_raw_os_error(EIO));
                }
                let offset = offset.unwrap_or_else(|| d.inode(self.ino).len());
                d.write(self.ino, offset, buf)?;
                Ok((buf.len(), buf.len() as u64))
            },
        )
    }

    fn sync(&self, op: DiskOp) -> io::Result<()> {
        self.act(op, 0, 0, Access::Any, |w, d| {
            if w.eio() {
                return Err(io::Error::from_raw_os_error(EIO));
            }
            let len = d.inode(self.ino).len();
            if w.lying_sync() {
                let (what, node) = ("fsync_lie", self.node);
                ctx::emit(crate::trace::EventKind::Fault {
                    what,
                    node,
                    value: len,
                });
            } else {
                d.sync(self.ino);
            }
            Ok(((), len))
        })
    }

    /// Runs `f` on the file's disk after the checks every handle operation makes (not
    /// stale, opened for `access`), and records the operation. `f` returns its value and
    /// the length to record.
    fn act<T>(
        &self,
        op: DiskOp,
        offset: u64,
        want: u64,
        access: Access,
        f: impl FnOnce(&Faults, &mut Disk) -> io::Result<(T, u64)>,
    ) -> io::Result<T> {
        let result = context::world(|w| {
            self.check(w, access)?;
            let faults = Faults::of(w);
            f(&faults, w.disks.borrow_mut().disk_mut(self.node))
        });
        let len = result.as_ref().map_or(want, |(_, n)| *n);
        let offset = if offset == u64::MAX { 0 } else { offset };
        record(
            self.node,
            op,
            &self.path,
            offset,
            len,
            result.as_ref().map(drop),
        );
        result.map(|(t, _)| t)
    }

    fn check(&self, w: &World, access: Access) -> io::Result<()> {
        let generation = w.disks.borrow().get(self.node).map(|d| d.generation);
        if generation != Some(self.generation) {
            let why = "stale file handle: its node crashed since it was opened";
            return Err(error(ErrorKind::Other, &self.path, why));
        }
        let why = match access {
            Access::Read if !self.read => "not opened for reading",
            Access::Write if !self.write => "not opened for writing",
            _ => return Ok(()),
        };
        Err(error(ErrorKind::InvalidInput, &self.path, why))
    }

    /// Waits the latency of a sequential operation (drawn once per operation).
    fn poll_latency(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.delay.is_none() {
            match latency() {
                Some(sleep) => self.delay = Some(sleep),
                None => return Poll::Ready(()),
            }
        }
        let sleep = self.delay.as_mut().expect("set above");
        ready!(Pin::new(sleep).poll(cx));
        self.delay = None;
        Poll::Ready(())
    }
}

impl AsyncRead for File {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_latency(cx));
        let pos = self.pos;
        let n = self.read_now(buf, pos)?;
        self.pos += n as u64;
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for File {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_latency(cx));
        let offset = (!self.append).then_some(self.pos);
        let n = self.write_now(buf, offset)?;
        self.pos = match offset {
            Some(at) => at + n as u64,
            None => self.len_now()?,
        };
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(())) // the page cache is the file; durability is `sync_*`
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncSeek for File {
    fn poll_seek(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        to: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let (base, delta) = match to {
            SeekFrom::Start(n) => (0, n as i64),
            SeekFrom::Current(d) => (self.pos, d),
            SeekFrom::End(d) => (self.len_now()?, d),
        };
        let Some(pos) = base.checked_add_signed(delta) else {
            let why = "seek to a negative or overflowing position";
            return Poll::Ready(Err(error(ErrorKind::InvalidInput, &self.path, why)));
        };
        self.pos = pos;
        Poll::Ready(Ok(pos))
    }
}

impl File {
    /// The current length (no latency, no event: what `lseek(SEEK_END)` reads).
    fn len_now(&self) -> io::Result<u64> {
        context::world(|w| {
            self.check(w, Access::Any)?;
            Ok(w.disks
                .borrow()
                .get(self.node)
                .map_or(0, |d| d.inode(self.ino).len()))
        })
    }
}

impl Drop for File {
    fn drop(&mut self) {
        context::try_world(|w| {
            if let Ok(mut disks) = w.disks.try_borrow_mut() {
                disks.disk_mut(self.node).close(self.generation, self.ino);
            }
        });
    }
}
