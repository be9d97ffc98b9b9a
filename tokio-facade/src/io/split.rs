//! [`split`]: one `AsyncRead + AsyncWrite` value as a [`ReadHalf`] and a [`WriteHalf`],
//! sharing it behind a mutex (never contended inside a simulation: a poll is atomic).

use super::{AsyncRead, AsyncWrite, ReadBuf};
use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

type Shared<T> = Arc<Mutex<Pin<Box<T>>>>;

/// The reading half of [`split`].
pub struct ReadHalf<T> {
    inner: Shared<T>,
}

/// The writing half of [`split`].
pub struct WriteHalf<T> {
    inner: Shared<T>,
}

/// Splits `stream` into a reading and a writing half (tokio's `io::split`).
pub fn split<T: AsyncRead + AsyncWrite>(stream: T) -> (ReadHalf<T>, WriteHalf<T>) {
    let inner = Arc::new(Mutex::new(Box::pin(stream)));
    let read = ReadHalf {
        inner: inner.clone(),
    };
    (read, WriteHalf { inner })
}

fn lock<T>(inner: &Shared<T>) -> MutexGuard<'_, Pin<Box<T>>> {
    inner
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<T> ReadHalf<T> {
    /// True if `other` is the other half of the same stream.
    pub fn is_pair_of(&self, other: &WriteHalf<T>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Puts the stream back together. Panics if `write` is not its other half.
    #[track_caller]
    pub fn unsplit(self, write: WriteHalf<T>) -> T
    where
        T: Unpin,
    {
        assert!(
            self.is_pair_of(&write),
            "unrelated `split::Write` passed to `split::Read::unsplit`"
        );
        drop(write);
        let inner = Arc::try_unwrap(self.inner)
            .ok()
            .expect("the two halves held the only references");
        *Pin::into_inner(inner.into_inner().unwrap_or_else(|p| p.into_inner()))
    }
}

impl<T> WriteHalf<T> {
    /// True if `other` is the other half of the same stream.
    pub fn is_pair_of(&self, other: &ReadHalf<T>) -> bool {
        other.is_pair_of(self)
    }
}

impl<T: AsyncRead> AsyncRead for ReadHalf<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        lock(&self.inner).as_mut().poll_read(cx, buf)
    }
}

impl<T: AsyncWrite> AsyncWrite for WriteHalf<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        lock(&self.inner).as_mut().poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        lock(&self.inner).as_mut().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        lock(&self.inner).as_mut().poll_shutdown(cx)
    }
}

impl<T> fmt::Debug for ReadHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("split::ReadHalf")
    }
}

impl<T> fmt::Debug for WriteHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("split::WriteHalf")
    }
}
