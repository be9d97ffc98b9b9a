//! [`duplex`]: two connected in-memory streams, each direction a pipe of at most
//! `max_buf_size` bytes (writes wait when it is full, reads when it is empty).
//! Dropping one end (or shutting it down) gives the other EOF on read; writing to an
//! end whose peer is gone is `BrokenPipe`.

use super::{AsyncRead, AsyncWrite, ReadBuf};
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

#[derive(Debug)]
struct Pipe {
    buf: VecDeque<u8>,
    max: usize,
    // invariant: true once the writer shut down or either end dropped.
    closed: bool,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
}

impl Pipe {
    fn close(&mut self) {
        self.closed = true;
        for w in [self.read_waker.take(), self.write_waker.take()]
            .into_iter()
            .flatten()
        {
            w.wake();
        }
    }
}

/// One end of a [`duplex`] pair.
#[derive(Debug)]
pub struct DuplexStream {
    read: Arc<Mutex<Pipe>>,
    write: Arc<Mutex<Pipe>>,
}

/// Two connected in-memory streams with `max_buf_size` bytes of buffer per direction.
pub fn duplex(max_buf_size: usize) -> (DuplexStream, DuplexStream) {
    let pipe = || {
        Arc::new(Mutex::new(Pipe {
            buf: VecDeque::new(),
            max: max_buf_size,
            closed: false,
            read_waker: None,
            write_waker: None,
        }))
    };
    let (one, two) = (pipe(), pipe());
    let a = DuplexStream {
        read: one.clone(),
        write: two.clone(),
    };
    (
        a,
        DuplexStream {
            read: two,
            write: one,
        },
    )
}

fn lock(p: &Mutex<Pipe>) -> MutexGuard<'_, Pipe> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

impl AsyncRead for DuplexStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut p = lock(&self.read);
        if p.buf.is_empty() {
            if p.closed || buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            p.read_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = p.buf.len().min(buf.remaining());
        let (a, b) = p.buf.as_slices();
        let first = a.len().min(n);
        buf.put_slice(&a[..first]);
        buf.put_slice(&b[..n - first]);
        p.buf.drain(..n);
        if let Some(w) = p.write_waker.take() {
            w.wake();
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for DuplexStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut p = lock(&self.write);
        if p.closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let room = p.max - p.buf.len();
        if room == 0 {
            p.write_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = room.min(buf.len());
        p.buf.extend(&buf[..n]);
        if let Some(w) = p.read_waker.take() {
            w.wake();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        lock(&self.write).close();
        Poll::Ready(Ok(()))
    }
}

impl Drop for DuplexStream {
    fn drop(&mut self) {
        lock(&self.write).close();
        lock(&self.read).close();
    }
}
