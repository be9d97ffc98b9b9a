//! [`File`] and [`OpenOptions`]: tokio's file API over a detsim file, with tokio's
//! `AsyncRead`/`AsyncWrite`/`AsyncSeek`. Writes land in the node's page cache (so
//! `flush` has nothing to do); `sync_data`/`sync_all` make them durable.

use crate::io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};
use std::io::{self, SeekFrom};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

/// How to open a file (tokio's `OpenOptions`).
#[derive(Clone, Debug, Default)]
pub struct OpenOptions(detsim::fs::OpenOptions);

impl OpenOptions {
    /// All options off.
    pub fn new() -> Self {
        OpenOptions(detsim::fs::OpenOptions::new())
    }

    /// Open for reading.
    pub fn read(&mut self, on: bool) -> &mut Self {
        self.0.read(on);
        self
    }

    /// Open for writing.
    pub fn write(&mut self, on: bool) -> &mut Self {
        self.0.write(on);
        self
    }

    /// Every write goes to the end.
    pub fn append(&mut self, on: bool) -> &mut Self {
        self.0.append(on);
        self
    }

    /// Create the file if it does not exist.
    pub fn create(&mut self, on: bool) -> &mut Self {
        self.0.create(on);
        self
    }

    /// Create the file; `AlreadyExists` if it exists.
    pub fn create_new(&mut self, on: bool) -> &mut Self {
        self.0.create_new(on);
        self
    }

    /// Cut the file to length 0.
    pub fn truncate(&mut self, on: bool) -> &mut Self {
        self.0.truncate(on);
        self
    }

    /// Accepted and ignored: the simulated disk has no permissions.
    pub fn mode(&mut self, _mode: u32) -> &mut Self {
        self
    }

    /// Opens `path` on the calling task's node.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        Ok(File::new(self.0.open(path).await?))
    }
}

/// An open file of the node's simulated disk (tokio's `File`).
#[derive(Debug)]
pub struct File {
    inner: detsim::fs::File,
    // invariant: the seek given to `start_seek` and not yet completed.
    seek: Option<SeekFrom>,
}

impl File {
    fn new(inner: detsim::fs::File) -> File {
        File { inner, seek: None }
    }

    /// Opens `path` for reading.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        Ok(File::new(detsim::fs::File::open(path).await?))
    }

    /// Creates (or truncates) `path` and opens it for writing.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        Ok(File::new(detsim::fs::File::create(path).await?))
    }

    /// Creates `path` for reading and writing; `AlreadyExists` if it exists.
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        let mut o = OpenOptions::new();
        o.read(true).write(true).create_new(true);
        o.open(path).await
    }

    /// Options to open a file with.
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Makes the file's data, length and metadata durable (`fsync`; the name needs
    /// [`super::sync_dir`]).
    pub async fn sync_all(&self) -> io::Result<()> {
        self.inner.sync_all().await
    }

    /// Makes the file's data and length durable (`fdatasync`).
    pub async fn sync_data(&self) -> io::Result<()> {
        self.inner.sync_data().await
    }

    /// Cuts or zero-extends the file (not durable until a sync).
    pub async fn set_len(&self, size: u64) -> io::Result<()> {
        self.inner.set_len(size).await
    }

    /// The file's metadata.
    pub async fn metadata(&self) -> io::Result<super::Metadata> {
        self.inner.metadata().await
    }

    /// Accepted and ignored: writes are not buffered in the handle.
    pub fn set_max_buf_size(&mut self, _max_buf_size: usize) {}
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        crate::io::bridge::poll_read(Pin::new(&mut self.get_mut().inner), cx, buf)
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures::io::AsyncWrite::poll_write(Pin::new(&mut self.get_mut().inner), cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures::io::AsyncWrite::poll_flush(Pin::new(&mut self.get_mut().inner), cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures::io::AsyncWrite::poll_close(Pin::new(&mut self.get_mut().inner), cx)
    }
}

impl AsyncSeek for File {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        let me = self.get_mut();
        if me.seek.is_some() {
            let why = "other file operation is pending, call poll_complete before start_seek";
            return Err(io::Error::other(why));
        }
        me.seek = Some(position);
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let me = self.get_mut();
        let to = me.seek.take().unwrap_or(SeekFrom::Current(0));
        let done = futures::io::AsyncSeek::poll_seek(Pin::new(&mut me.inner), cx, to);
        if done.is_pending() {
            me.seek = Some(to);
        }
        done
    }
}
