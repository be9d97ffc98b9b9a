//! [`AsyncBufReadExt`] (`read_until`, `read_line`, `lines`, `split`, `fill_buf`,
//! `consume`) with [`Lines`] and [`Split`], and [`AsyncSeekExt`].

use super::{AsyncBufRead, AsyncSeek};
use pin_project_lite::pin_project;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Reading methods for every [`AsyncBufRead`] (tokio's names and semantics).
pub trait AsyncBufReadExt: AsyncBufRead {
    /// Reads up to and including `byte` (or to EOF), appending to `buf`; returns the
    /// number of bytes read (0 at EOF).
    fn read_until<'a>(
        &'a mut self,
        byte: u8,
        buf: &'a mut Vec<u8>,
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
    {
        let mut read = 0;
        poll_fn(move |cx| poll_read_until(Pin::new(&mut *self), cx, byte, buf, &mut read))
    }

    /// Reads a line including its `\n` (or to EOF), appending to `buf`;
    /// `InvalidData` if it is not UTF-8 (and `buf` is left unchanged).
    fn read_line<'a>(
        &'a mut self,
        buf: &'a mut String,
    ) -> impl Future<Output = io::Result<usize>> + 'a
    where
        Self: Unpin,
    {
        async move {
            let mut bytes = Vec::new();
            let n = self.read_until(b'\n', &mut bytes).await?;
            let text = String::from_utf8(bytes).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    "stream did not contain valid UTF-8",
                )
            })?;
            buf.push_str(&text);
            Ok(n)
        }
    }

    /// The lines of this reader, without their `\n` / `\r\n`.
    fn lines(self) -> Lines<Self>
    where
        Self: Sized,
    {
        Lines {
            reader: self,
            buf: Vec::new(),
            read: 0,
        }
    }

    /// The segments of this reader separated by `byte` (without it).
    fn split(self, byte: u8) -> Split<Self>
    where
        Self: Sized,
    {
        Split {
            reader: self,
            delim: byte,
            buf: Vec::new(),
            read: 0,
        }
    }

    /// The buffered bytes, filling the buffer if empty.
    fn fill_buf(&mut self) -> impl Future<Output = io::Result<&[u8]>> + '_
    where
        Self: Unpin,
    {
        async move {
            poll_fn(|cx| Pin::new(&mut *self).poll_fill_buf(cx).map_ok(|b| b.len())).await?;
            // Ready now: the buffer is filled, so this poll returns it at once.
            let waker = futures::task::noop_waker_ref();
            match Pin::new(self).poll_fill_buf(&mut Context::from_waker(waker)) {
                Poll::Ready(r) => r,
                Poll::Pending => unreachable!("a filled buffer is ready"),
            }
        }
    }

    /// Marks `amt` buffered bytes as read.
    fn consume(&mut self, amt: usize)
    where
        Self: Unpin,
    {
        Pin::new(self).consume(amt)
    }
}

impl<R: AsyncBufRead + ?Sized> AsyncBufReadExt for R {}

/// Appends to `buf` up to and including `delim`; `read` counts across polls.
fn poll_read_until<R: AsyncBufRead + ?Sized>(
    mut reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    delim: u8,
    buf: &mut Vec<u8>,
    read: &mut usize,
) -> Poll<io::Result<usize>> {
    loop {
        let (done, used) = {
            let available = ready!(reader.as_mut().poll_fill_buf(cx))?;
            match available.iter().position(|&b| b == delim) {
                Some(i) => {
                    buf.extend_from_slice(&available[..=i]);
                    (true, i + 1)
                }
                None => {
                    buf.extend_from_slice(available);
                    (available.is_empty(), available.len())
                }
            }
        };
        reader.as_mut().consume(used);
        *read += used;
        if done {
            return Poll::Ready(Ok(std::mem::take(read)));
        }
    }
}

pin_project! {
    /// The lines of a reader ([`AsyncBufReadExt::lines`]).
    #[derive(Debug)]
    pub struct Lines<R> {
        #[pin]
        reader: R,
        buf: Vec<u8>,
        read: usize,
    }
}

impl<R: AsyncBufRead> Lines<R> {
    /// The next line, or `None` at EOF.
    pub async fn next_line(&mut self) -> io::Result<Option<String>>
    where
        R: Unpin,
    {
        poll_fn(|cx| Pin::new(&mut *self).poll_next_line(cx)).await
    }

    /// Polls for the next line.
    pub fn poll_next_line(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<String>>> {
        let me = self.project();
        let n = ready!(poll_read_until(me.reader, cx, b'\n', me.buf, me.read))?;
        if n == 0 && me.buf.is_empty() {
            return Poll::Ready(Ok(None));
        }
        let mut line = std::mem::take(me.buf);
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        let line = String::from_utf8(line).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            )
        })?;
        Poll::Ready(Ok(Some(line)))
    }

    /// The reader.
    pub fn into_inner(self) -> R {
        self.reader
    }

    /// The reader, by reference.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The reader, mutably.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }
}

pin_project! {
    /// The segments of a reader ([`AsyncBufReadExt::split`]).
    #[derive(Debug)]
    pub struct Split<R> {
        #[pin]
        reader: R,
        delim: u8,
        buf: Vec<u8>,
        read: usize,
    }
}

impl<R: AsyncBufRead> Split<R> {
    /// The next segment, or `None` at EOF.
    pub async fn next_segment(&mut self) -> io::Result<Option<Vec<u8>>>
    where
        R: Unpin,
    {
        poll_fn(|cx| Pin::new(&mut *self).poll_next_segment(cx)).await
    }

    /// Polls for the next segment.
    pub fn poll_next_segment(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<Vec<u8>>>> {
        let me = self.project();
        let n = ready!(poll_read_until(me.reader, cx, *me.delim, me.buf, me.read))?;
        if n == 0 && me.buf.is_empty() {
            return Poll::Ready(Ok(None));
        }
        let mut seg = std::mem::take(me.buf);
        if seg.last() == Some(me.delim) {
            seg.pop();
        }
        Poll::Ready(Ok(Some(seg)))
    }
}

/// Seeking methods for every [`AsyncSeek`] (tokio's names).
pub trait AsyncSeekExt: AsyncSeek {
    /// Seeks to `pos`; returns the new position from the start.
    fn seek(&mut self, pos: io::SeekFrom) -> impl Future<Output = io::Result<u64>> + '_
    where
        Self: Unpin,
    {
        async move {
            Pin::new(&mut *self).start_seek(pos)?;
            poll_fn(|cx| Pin::new(&mut *self).poll_complete(cx)).await
        }
    }

    /// Seeks to the start.
    fn rewind(&mut self) -> impl Future<Output = io::Result<()>> + '_
    where
        Self: Unpin,
    {
        async move { self.seek(io::SeekFrom::Start(0)).await.map(drop) }
    }

    /// The current position.
    fn stream_position(&mut self) -> impl Future<Output = io::Result<u64>> + '_
    where
        Self: Unpin,
    {
        self.seek(io::SeekFrom::Current(0))
    }
}

impl<S: AsyncSeek + ?Sized> AsyncSeekExt for S {}
