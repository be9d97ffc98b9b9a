//! [`copy`], [`copy_buf`] and [`copy_bidirectional`]: tokio's copy loops, as poll state
//! machines over an 8 KiB buffer per direction.

use super::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// One direction of a copy: read into `buf`, write it out, until EOF, then flush.
#[derive(Debug)]
struct CopyBuffer {
    read_done: bool,
    pos: usize,
    cap: usize,
    amt: u64,
    buf: Box<[u8]>,
}

impl CopyBuffer {
    fn new() -> Self {
        CopyBuffer {
            read_done: false,
            pos: 0,
            cap: 0,
            amt: 0,
            buf: vec![0; super::buf_reader::DEFAULT_BUF_SIZE].into_boxed_slice(),
        }
    }

    fn poll_copy<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        mut reader: Pin<&mut R>,
        mut writer: Pin<&mut W>,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        loop {
            if self.pos == self.cap && !self.read_done {
                let mut rb = ReadBuf::new(&mut self.buf);
                ready!(reader.as_mut().poll_read(cx, &mut rb))?;
                let n = rb.filled().len();
                if n == 0 {
                    self.read_done = true;
                } else {
                    self.pos = 0;
                    self.cap = n;
                }
            }
            while self.pos < self.cap {
                let n = ready!(writer
                    .as_mut()
                    .poll_write(cx, &self.buf[self.pos..self.cap]))?;
                if n == 0 {
                    let why = "write zero byte into writer";
                    return Poll::Ready(Err(io::Error::new(io::ErrorKind::WriteZero, why)));
                }
                self.pos += n;
                self.amt += n as u64;
            }
            if self.pos == self.cap && self.read_done {
                ready!(writer.as_mut().poll_flush(cx))?;
                return Poll::Ready(Ok(self.amt));
            }
        }
    }
}

/// Copies all of `reader` into `writer` and flushes it; returns the bytes copied.
pub async fn copy<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut state = CopyBuffer::new();
    poll_fn(|cx| state.poll_copy(cx, Pin::new(&mut *reader), Pin::new(&mut *writer))).await
}

/// Copies all of a buffered `reader` into `writer` (no extra buffer) and flushes it.
pub async fn copy_buf<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut amt = 0u64;
    poll_fn(|cx| loop {
        let buf = ready!(Pin::new(&mut *reader).poll_fill_buf(cx))?;
        if buf.is_empty() {
            ready!(Pin::new(&mut *writer).poll_flush(cx))?;
            return Poll::Ready(Ok(amt));
        }
        let n = ready!(Pin::new(&mut *writer).poll_write(cx, buf))?;
        if n == 0 {
            let why = "write zero byte into writer";
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::WriteZero, why)));
        }
        Pin::new(&mut *reader).consume(n);
        amt += n as u64;
    })
    .await
}

enum Direction {
    Copying(CopyBuffer),
    ShuttingDown(u64),
    Done(u64),
}

/// Copies `a` to `b` and `b` to `a` at once; when one side reaches EOF, the other's
/// writing side is shut down. Returns (bytes a→b, bytes b→a) once both are done.
pub async fn copy_bidirectional<A, B>(a: &mut A, b: &mut B) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    let mut a_to_b = Direction::Copying(CopyBuffer::new());
    let mut b_to_a = Direction::Copying(CopyBuffer::new());
    poll_fn(|cx| {
        let ab = poll_direction(cx, &mut a_to_b, Pin::new(&mut *a), Pin::new(&mut *b))?;
        let ba = poll_direction(cx, &mut b_to_a, Pin::new(&mut *b), Pin::new(&mut *a))?;
        let ab = ready!(ab);
        let ba = ready!(ba);
        Poll::Ready(Ok((ab, ba)))
    })
    .await
}

fn poll_direction<R, W>(
    cx: &mut Context<'_>,
    state: &mut Direction,
    mut r: Pin<&mut R>,
    mut w: Pin<&mut W>,
) -> Poll<io::Result<u64>>
where
    R: AsyncRead + ?Sized,
    W: AsyncWrite + ?Sized,
{
    loop {
        match state {
            Direction::Copying(buf) => {
                let n = ready!(buf.poll_copy(cx, r.as_mut(), w.as_mut()))?;
                *state = Direction::ShuttingDown(n);
            }
            Direction::ShuttingDown(n) => {
                ready!(w.as_mut().poll_shutdown(cx))?;
                *state = Direction::Done(*n);
            }
            Direction::Done(n) => return Poll::Ready(Ok(*n)),
        }
    }
}
